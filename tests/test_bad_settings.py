"""Bad settings, table-driven: every flag of every command, each with zero, negative, huge, NaN and wrong-type
values. Each case's outcome is stated (ACCEPTED lists the few accepted values, with the reason; every other one must
be refused with exit status 2 and one `error: ...` line), and none gets a traceback.
Nothing trains: `train` and `reproduce` run with `--check`, which checks everything against the data and stops."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from dmf_core.cli import main as cli
from tests.helpers import low_rank_ratings

BAD_VALUES = ("0", "-1", "1000000000000", "nan", "abc")
# Flags whose every value must be tried, by command; the command's fixed arguments come from `base` below.
SKIP = {"--help", "-h"}


def _flags(command: str) -> list[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return [option for action in sub._actions if action.nargs != 0 and not isinstance(action, argparse._HelpAction)
            for option in action.option_strings[:1] if option not in SKIP]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    """A tiny ratings table and a checkpoint trained on it (for `evaluate`)."""
    folder = tmp_path_factory.mktemp("bad-settings")
    data = low_rank_ratings(60, 40, 0.4, seed=5)
    table = folder / "ratings.csv"
    table.write_text("user,item,rating\n" + "".join(
        f"{u},{i},{r:g}\n" for u, i, r in zip(data.users, data.items, data.ratings, strict=True)))
    run = folder / "run"
    assert cli.main(["train", "--data", str(table), "--hidden", "8,4", "--epochs", "1", "--out", str(run),
                     "--quiet"]) == 0
    return {"data": str(table), "checkpoint": str(run / "checkpoint.pt"), "folder": str(folder)}


def base(command: str, tiny: dict[str, str]) -> list[str]:
    return {
        "train": ["train", "--check", "--data", tiny["data"]],
        "evaluate": ["evaluate", tiny["checkpoint"], "--data", tiny["data"]],
        "info": ["info", "--data", tiny["data"]],
        "reproduce": ["reproduce", "--check", "--data", tiny["data"]],
        # Never the network: a refused local port unless --url itself is the flag under test.
        "download": ["download", "--url", "http://127.0.0.1:9/ml-1m.zip", "--data-dir", tiny["folder"]],
    }[command]


CASES = [(command, flag, value) for command in ("train", "evaluate", "info", "reproduce", "download")
         for flag in _flags(command) for value in BAD_VALUES]

HUGE = "1000000000000"
# The values that are accepted, each for a reason; every other case of the table must be refused with exit status 2.
ACCEPTED = {
    # 0 is a meaningful value: no new users / items (Table 2's protocol), seed 0, no dropout, no weight decay, no
    # early stopping (patience 0), no warm-up, no boundary penalty, a frozen network in DMF-D's quantizer phase,
    # DMF-D selected on its lowest validation RMSE (no margin over the start).
    **{("train", flag, "0"): "zero is meaningful" for flag in (
        "--new-users", "--new-items", "--seed", "--dropout", "--weight-decay", "--input-dropout", "--patience",
        "--warmup-epochs", "--gamma2", "--network-lr-scale", "--select-margin")},
    **{("info", flag, "0"): "zero is meaningful" for flag in ("--new-users", "--new-items", "--seed")},
    # No test share: every rating but the validation share trains (the library's `fit`); the scores print as "-".
    ("train", "--test-frac", "0"): "zero is meaningful",
    # Upper bounds that do not exist: a long cap or budget, a block larger than the data (capped by the data), a
    # large learning rate (it diverges, and the divergence guard says so), a large penalty or λ growth or cap.
    **{("train", flag, HUGE): "no upper bound" for flag in (
        "--epochs", "--max-seconds", "--lr", "--weight-decay", "--block-users", "--block-items", "--patience",
        "--lambda-growth", "--lambda-max", "--warmup-epochs", "--gamma2", "--select-margin")},
    # An output folder may have any name.
    **{(command, "--out", value): "any folder name" for command in ("train", "evaluate", "reproduce")
       for value in BAD_VALUES},
}


def expected_code(command: str, flag: str, value: str) -> int:
    return 0 if (command, flag, value) in ACCEPTED else 2


def test_the_table_covers_every_flag():
    flags = {flag for _, flag, _ in CASES}
    assert {"--lr", "--epochs", "--hidden", "--block-users", "--new-users", "--device", "--lambda-growth",
            "--max-seconds", "--seeds", "--threads", "--resume", "--url"} <= flags
    assert len(CASES) > 150
    assert set(ACCEPTED) <= set(CASES), set(ACCEPTED) - set(CASES)  # no stale entry


@pytest.mark.parametrize(("command", "flag", "value"), CASES, ids=[f"{c} {f} {v}" for c, f, v in CASES])
def test_every_flag_and_bad_value_gets_a_message_not_a_traceback(command, flag, value, tiny, capsys, tmp_path):
    expected = expected_code(command, flag, value)
    argv = base(command, tiny)
    if flag in argv:  # replace the fixed value of this flag
        argv = argv[: argv.index(flag)] + argv[argv.index(flag) + 2:]
    if flag in ("--out", "--data-dir"):
        value = str(tmp_path / value)  # never inside the repository
    try:
        code = cli.main([*argv, flag, value])
    except SystemExit as exit_:  # argparse: "usage: ..." and one "error: ..." line
        code = exit_.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == expected, (code, err)
    if code == 0:
        assert out.strip(), "accepted, but said nothing"
    else:
        errors = [line for line in err.splitlines() if "error:" in line]
        assert len(errors) == 1 and len(errors[0]) < 400, err
        assert not Path(tiny["folder"], "ml-1m").exists()  # a failed download leaves nothing
