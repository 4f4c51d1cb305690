"""The CLI end to end on the built-in demo data (at a small size), through `cli.main`, which `python -m dmf_core`
runs (tests/test_faults.py runs the script itself, in the full suite)."""

import contextlib
import io
import json
from types import SimpleNamespace

import pytest
import torch

from dmf_core.cli import main as cli
from tests.conftest import SMALL_DEMO

# cuda:7 is refused either way: without CUDA at all, or (on a GPU machine) as an index beyond its devices.
CUDA_7_REFUSED = "CUDA is not available" if not torch.cuda.is_available() else "CUDA device"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """`train` through `cli.main`, its stderr kept."""
    out = tmp_path_factory.mktemp("run")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(["train", "--data", SMALL_DEMO, "--model", "dmf-d", "--epochs", "3", "--hidden", "64,32",
                         "--block-users", "512", "--block-items", "512", "--seed", "1", "--device", "cpu",
                         "--out", str(out)])
    assert code == 0, err.getvalue()
    return out, SimpleNamespace(stderr=err.getvalue())


def test_train_writes_the_metrics_contract(trained_run):
    out, result = trained_run
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("model", "device", "epochs_run", "train_seconds", "val_rmse", "areas", "history", "discrete",
                "boundaries", "lambda"):
        assert key in metrics, key
    assert metrics["model"] == "dmf-d" and metrics["device"] == "cpu" and metrics["epochs_run"] == 3
    assert set(metrics["areas"]) == {"I", "II", "III", "IV"}
    for area in ("I", "II", "III", "IV"):
        row = metrics["areas"][area]
        assert row["n"] > 0 and 0 < row["rmse"] < 2 and 0 < row["mae"] < 2
        assert set(metrics["discrete"][area]) >= {"rmse", "mae", "accuracy"}
    assert len(metrics["history"]) == 3 and len(metrics["boundaries"]) == 4
    assert (out / "checkpoint.pt").is_file()
    assert "epoch 3/3" in result.stderr  # the progress bar


def test_evaluate_rescores_the_checkpoint(trained_run, tmp_path):
    out, _ = trained_run
    target = tmp_path / "again.json"
    assert cli.main(["evaluate", str(out / "checkpoint.pt"), "--data", SMALL_DEMO, "--device", "cpu", "--out",
                     str(target)]) == 0
    original = json.loads((out / "metrics.json").read_text())
    again = json.loads(target.read_text())
    assert again["areas"]["II"]["rmse"] == pytest.approx(original["areas"]["II"]["rmse"], rel=1e-5)


def test_zero_fractions_leave_areas_two_to_four_empty(tmp_path):
    assert cli.main(["train", "--data", SMALL_DEMO, "--epochs", "1", "--hidden", "16,8", "--new-users", "0",
                     "--new-items", "0", "--device", "cpu", "--out", str(tmp_path), "--quiet"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["areas"]["II"] is None and metrics["areas"]["IV"] is None and metrics["areas"]["I"]["n"] > 0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["train", "--epochs", "0"], "epochs must be >= 1"),
        (["train", "--lr", "-1"], "learning rate must be > 0"),
        (["train", "--model", "dmf-d", "--lambda-growth", "0.5"], "lambda growth must be >= 1"),
        (["train", "--data", "/nonexistent/ratings.dat"], "/nonexistent/ratings.dat"),
        (["evaluate", "/nonexistent/checkpoint.pt"], "no such checkpoint"),
        (["train", "--device", "cuda:7"], CUDA_7_REFUSED),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(args, fragment, tmp_path, capsys):
    """In this process: `python -m dmf_core` is `cli.main` (test_help_explains_every_flag runs it as a script)."""
    code = cli.main([*args, "--out", str(tmp_path)] if args[0] == "train" else args)
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], err


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["train", "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    for flag in ("--data", "--model", "--epochs", "--new-users", "--new-items", "--seed", "--device",
                 "--max-seconds", "--out", "--resume"):
        assert flag in help_text


def test_the_report_says_when_validation_kept_the_quantizers_start():
    """A DMF-D whose selection kept the quantizer's start is DMF + rounding: the report says so instead of letting
    the λ reached stand for the model."""
    metrics = {"areas": {}, "quantizer": {"trained": True, "epochs": 15, "warmup_epochs": 45, "lambda": 25.7}}
    assert "kept the quantizer's start" not in cli.format_areas(metrics)
    metrics["quantizer"]["selected_start"] = True
    assert "this model is DMF + rounding" in cli.format_areas(metrics)
    assert "standard error" not in cli.format_areas(metrics)  # a run from before the margin: no reason given
    metrics["quantizer"]["select_margin"] = 2.0
    assert "no quantizer epoch beat it by more than 2 standard error(s)" in cli.format_areas(metrics)
    metrics["quantizer"]["finish"] = "fitted"  # b refitted after the selection: no longer DMF + rounding
    report = cli.format_areas(metrics)
    assert "refitted on validation" in report and "DMF + rounding" not in report
