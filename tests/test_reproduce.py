"""`reproduce`: per-seed results, resuming, the aggregated tables (mean ± std beside the paper), the CLI wiring and
the time budgets. Training runs use a tiny plan on small generated data; the real quick mode on MovieLens-1M is
opt-in (it takes about 4 minutes)."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from dmf_core.cli import main as cli
from dmf_core.config import ModelConfig, QuantizerConfig, TrainConfig
from dmf_core.data import find_ml1m
from dmf_core.files import write_json
from dmf_core.paper import TABLE1 as PAPER_TABLE1
from dmf_core.reproduction import runner, tables
from dmf_core.reproduction.plans import FULL_PLAN, QUICK_PLAN, TABLE_ENTRIES, Plan
from dmf_core.reproduction.runner import reproduce_table
from dmf_core.reproduction.tables import aggregate, seed_path, to_markdown
from studio.reproduction_job import ReproductionJob
from tests.conftest import skip_or_fail
from tests.helpers import low_rank_ratings

TINY = Plan(
    name="tiny",
    seeds=2,
    budgets={1: {"dmf": 30.0, "u-autorec": 10.0, "i-autorec": 10.0, "mf": 10.0, "bias": 1.0},
             2: {"dmf-d": 30.0, "dmf": 30.0, "mf": 10.0, "bias": 1.0}},
    baseline_overrides={"u-autorec": {"hidden": 16, "epochs": 2, "batch_size": 64},
                        "i-autorec": {"hidden": 16, "epochs": 2, "batch_size": 64},
                        "mf": {"dim": 4, "epochs": 2, "batch_size": 1024}},
    dmf_model=ModelConfig(hidden=(16, 8), dropout=0.1),
    dmf_train=TrainConfig(epochs=2, lr=1e-2, block_users=512, block_items=512, patience=0,
                          quantizer=QuantizerConfig(warmup_epochs=0)),
)


@pytest.fixture(scope="module", autouse=True)
def _single_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def data():
    return low_rank_ratings(120, 80, 0.3, seed=1)


@pytest.fixture(scope="module")
def table1(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("results")
    log = io.StringIO()
    summary = reproduce_table(1, data, out, TINY, log=log)
    return out, summary, log.getvalue()


def test_table1_writes_every_seed_and_the_aggregate(table1):
    out, summary, log = table1
    for entry in TABLE_ENTRIES[1]:
        for seed in range(TINY.seeds):
            record = json.loads(seed_path(out, 1, entry.key, seed).read_text())
            assert record["model"] == entry.key and record["seed"] == seed and record["seconds"] > 0
            assert record["split"]["new_user_frac"] == 0.1 and record["split"]["seed"] == seed
    assert (out / "table1.json").is_file() and (out / "table1.md").is_file()
    assert "[1/10] DMF, seed 0" in log and "epoch" in log  # progress on the log stream

    rows = {row["key"]: row for row in summary["rows"]}
    assert rows["dmf"]["seeds"] == [0, 1]
    assert all(rows["dmf"]["cells"][area]["n"] == 2 for area in ("I", "II", "III", "IV"))
    served = {"u-autorec": {"I", "II"}, "i-autorec": {"I", "III"}, "mf": {"I"}, "bias": {"I", "II", "III", "IV"}}
    for key, areas in served.items():
        assert {a for a, cell in rows[key]["cells"].items() if cell is not None} == areas
    assert rows["dmf"]["paper"] == PAPER_TABLE1["DMF"] and rows["mf"]["paper"] is None
    assert summary["paper_only"] == ["Deep U-AutoRec"]


def test_rerun_reuses_finished_seeds_and_redoes_changed_settings(table1, data, monkeypatch):
    out, _, _ = table1
    trained: list[str] = []
    real_run_entry = runner.run_entry

    def counting(table, key, *args, **kwargs):
        trained.append(key)
        return real_run_entry(table, key, *args, **kwargs)

    monkeypatch.setattr(runner, "run_entry", counting)
    log = io.StringIO()
    reproduce_table(1, data, out, TINY, log=log)
    assert trained == [] and log.getvalue().count("reusing") == 10

    changed = replace(TINY, baseline_overrides={**TINY.baseline_overrides, "mf": {"dim": 2, "epochs": 2}})
    summary = reproduce_table(1, data, out, changed, log=io.StringIO())
    assert trained == ["mf", "mf"]  # only the model whose settings changed, for both seeds
    assert {row["key"]: len(row["seeds"]) for row in summary["rows"]}["mf"] == 2


def test_table2_reports_discrete_scores_next_to_the_paper(tmp_path, data):
    summary = reproduce_table(2, data, tmp_path, replace(TINY, seeds=1), log=io.StringIO())
    rows = {row["key"]: row for row in summary["rows"]}
    assert set(rows) == {"dmf-d", "dmf", "mf", "bias", "dmf-fitted"}
    # DMF with boundaries fitted on validation: the same DMF run, quantized otherwise; the same continuous output.
    fitted, rounded = rows["dmf-fitted"]["cells"], rows["dmf"]["cells"]
    assert fitted["continuous_rmse"] == rounded["continuous_rmse"] and rows["dmf-fitted"]["seeds"] == [0]
    assert fitted["mae"]["mean"] != rounded["mae"]["mean"] or fitted["accuracy"] == rounded["accuracy"]
    for row in rows.values():
        cells = row["cells"]
        assert 0 < cells["accuracy"]["mean"] < 1 and cells["rmse"]["std"] is None  # one seed: no spread
        assert cells["continuous_rmse"]["mean"] > 0
    text = to_markdown(summary)
    assert "| DMF-D | paper | 0.898 | 0.625 | n/r | n/r |" in text
    assert "| ODMC | paper only (not run) | 0.937 | 0.658 | n/r | n/r |" in text
    assert "DMF + rounding" in text and "Biased MF + rounding" in text
    assert "DMF + boundaries fitted on validation" in text
    # Each DMF-D seed records whether its quantizer trained; the tables flag the seeds where it did not.
    assert json.loads(tables.seed_path(tmp_path, 2, "dmf-d", 0).read_text())["fit"]["quantizer_trained"] is True
    assert rows["dmf-d"]["quantizer_never_trained"] == []
    assert "gap:" not in text and "reference only" in text  # generated data: no gaps against ML-1M numbers
    # The paired difference DMF-D − (DMF + rounding), seed by seed on the same split, beside the means.
    (pair,) = summary["paired"]
    assert (pair["key"], pair["base"], pair["seeds"]) == ("dmf-d", "dmf", [0])
    for column in ("rmse", "mae", "accuracy"):
        difference = rows["dmf-d"]["cells"][column]["mean"] - rows["dmf"]["cells"][column]["mean"]
        assert pair["cells"][column]["values"] == [pytest.approx(difference)]
    assert f"| DMF-D − (DMF + rounding) | paired difference (1 seed) | {pair['cells']['rmse']['mean']:+.4f} |" in text


def _fake_record(data, plan: Plan, key: str, seed: int, rmse_i: float | None, seconds: float = 10.0) -> dict:
    areas = {"I": rmse_i, "II": rmse_i, "III": None, "IV": None}
    return {
        "table": 1, "model": key, "seed": seed, "plan": plan.name, "dataset": tables.dataset_record(data),
        "settings": plan.settings(1, key),
        "scores": {a: ({"rmse": v, "mae": v / 2, "n": 10} if v is not None else None) for a, v in areas.items()},
        "fit": {"epochs_run": 3, "best_epoch": 2, "stop_reason": "completed"},
        "seconds": seconds, "hardware": {"cpu": "test cpu", "cpu_count": 2, "torch_threads": 1, "dmf_device": "cpu",
                                         "torch": "x", "python": "3", "platform": "test"},
    }


def test_table_writer_mean_std_gaps_and_dashes(tmp_path, data):
    data = replace(data, name="ml-1m")  # gaps to the paper are only computed on the paper's dataset
    for seed, value in enumerate([0.84, 0.86]):
        write_json(_fake_record(data, TINY, "dmf", seed, value), seed_path(tmp_path, 1, "dmf", seed))
        write_json(_fake_record(data, TINY, "u-autorec", seed, 0.95 + seed * 0.002),
                   seed_path(tmp_path, 1, "u-autorec", seed))
    # A result made with other settings is not mixed in.
    stale = _fake_record(data, TINY, "i-autorec", 0, 0.5)
    stale["settings"] = {"baseline": {"epochs": 999}}
    write_json(stale, seed_path(tmp_path, 1, "i-autorec", 0))

    summary = aggregate(1, tmp_path, 2, data, TINY, command="python -m dmf_core reproduce --table 1")
    rows = {row["key"]: row for row in summary["rows"]}
    assert rows["dmf"]["cells"]["I"]["mean"] == pytest.approx(0.85)
    assert rows["dmf"]["cells"]["I"]["std"] == pytest.approx(0.0141421, abs=1e-6)
    assert rows["i-autorec"]["seeds"] == [] and all(c is None for c in rows["i-autorec"]["cells"].values())
    assert summary["compute_seconds"] == pytest.approx(40.0)

    text = to_markdown(summary)
    assert "| DMF | measured (2 seeds) | 0.8500 ± 0.0141 | 0.8500 ± 0.0141 | – | – |" in text
    assert "| DMF | paper | 0.850 | 0.883 | 0.864 | 0.904 |" in text
    # gap within the seed spread: no star; U-AutoRec is far from the paper: starred
    assert "| DMF | gap: measured − paper | +0.000 | -0.033* | – | – |" in text
    assert "| U-AutoRec | gap: measured − paper | +0.045* | -0.025* | – | – |" in text
    assert "| Deep U-AutoRec | paper only (not run) | 0.889 | 0.969 | – | – |" in text
    assert "Command: `python -m dmf_core reproduce --table 1`" in text and "test cpu" in text


def test_cli_quick_mode_on_demo_data(tmp_path, monkeypatch, data):
    """`python -m dmf_core reproduce --quick --data demo` goes through cli.main to reproduction.runner.run (CI-sized plan)."""
    monkeypatch.setattr(runner, "QUICK_PLAN", replace(TINY, name="quick", seeds=1))
    monkeypatch.setattr(runner, "load_dataset", lambda spec: replace(data, name=spec))
    code = cli.main(["reproduce", "--table", "2", "--quick", "--data", "demo", "--out", str(tmp_path), "--threads",
                     "1"])
    assert code == 0
    assert (tmp_path / "table2.md").is_file() and not (tmp_path / "table1.md").exists()
    summary = json.loads((tmp_path / "table2.json").read_text())
    assert summary["plan"] == "quick" and summary["dataset"]["name"] == "demo"
    assert cli.main(["reproduce", "--seeds", "0"]) == 2  # a bad value is one error line, not a traceback


def test_default_output_folders_keep_scratch_runs_out_of_the_committed_results(monkeypatch, tmp_path):
    monkeypatch.setenv(tables.RESULTS_ENV, str(tmp_path))
    assert tables.default_out("ml-1m", quick=False) == tmp_path
    assert tables.default_out("ml-1m", quick=True) == tmp_path / "tmp" / "quick-ml-1m"
    assert tables.default_out("demo", quick=False) == tmp_path / "tmp" / "demo"


def test_budgets_fit_the_issue_limits():
    """Planned training time, a cap: DMF and DMF-D stop early (the full run takes about a third of it on the idle
    machine); DMF-D's loose budget lets its warm-up replay DMF's run on a loaded machine. Quick: before ~40 s of
    evaluation and loading overhead."""
    for plan in (FULL_PLAN, QUICK_PLAN):
        for table, entries in TABLE_ENTRIES.items():
            assert {e.key for e in entries} == set(plan.budgets[table])
    full = sum(FULL_PLAN.planned_seconds(t, FULL_PLAN.seeds) for t in (1, 2))
    quick = sum(QUICK_PLAN.planned_seconds(t, QUICK_PLAN.seeds) for t in (1, 2))
    assert full <= 81 * 60 and quick <= 4 * 60
    assert FULL_PLAN.seeds == 5 and QUICK_PLAN.seeds <= 2


def test_reproduction_job_runs_in_the_background_and_can_be_stopped(tmp_path, data):
    plan = replace(TINY, seeds=1)
    job = ReproductionJob("r1", "me", data, tmp_path, plan, tables=(1,)).start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap["status"] == "finished" and snap["done"] == snap["total"] == 5 and not snap["active"]
    assert (tmp_path / "table1.md").is_file()

    stopped = ReproductionJob("r2", "me", data, tmp_path / "other", plan, tables=(2,))
    with pytest.raises(PermissionError):
        stopped.stop("someone else")
    stopped.stop("me")
    assert stopped.start().join(60) and stopped.snapshot()["status"] == "stopped"
    assert not list((tmp_path / "other").glob("table2/*.json"))


def _ml1m_available() -> bool:
    try:
        find_ml1m()
    except ValueError:
        return False
    return True


@pytest.mark.slow
def test_the_quick_and_full_plans_fit_ml1m(tmp_path, capsys):
    """The real plans checked against MovieLens-1M (`reproduce --check`: every setting, no training). Running them is
    the reproduction's job (`python -m dmf_core reproduce [--quick]`, REPRODUCTION.md), not a test's: the code path
    they take is the one the tiny plan above runs end to end."""
    if not _ml1m_available():
        skip_or_fail("needs MovieLens-1M (../shared/data/ml-1m)")
    for quick in ([], ["--quick"]):
        assert cli.main(["reproduce", *quick, "--check", "--out", str(tmp_path)]) == 0
    assert "ml-1m" in capsys.readouterr().out.lower()
    assert not list(tmp_path.glob("table*/*.json"))  # nothing trained


def test_quantizer_settings_never_retrain_dmf_but_do_retrain_dmf_d(tmp_path, data):
    """DMF never reads the quantizer's settings: a saved DMF seed is reused whatever they say (files written before
    they were left out included); a DMF-D seed saved with other quantizer settings is not."""
    dataset = tables.dataset_record(data)
    for key, reused in (("dmf", True), ("dmf-d", False)):
        record = {**_fake_record(data, TINY, "dmf", 0, 0.9), "model": key}
        record["settings"] = TINY.settings(2, key)
        record["settings"]["train"]["quantizer"] = {"lambda_start": 123.0}
        path = tables.seed_path(tmp_path, 2, key, 0)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
        assert (tables.saved_result(path, dataset, TINY, 2, key) is not None) is reused
    assert "quantizer" not in TINY.settings(2, "dmf")["train"] and "quantizer" in TINY.settings(2, "dmf-d")["train"]


def test_the_paired_row_leaves_out_seeds_whose_difference_is_not_the_one_it_names():
    """DMF-D − (DMF + rounding) pairs a seed only where DMF-D's quantizer trained (else its figures are plain DMF's)
    and DMF ended by its own stopping rule (a DMF cut by its budget is not the DMF that DMF-D's warm-up replays);
    and a DMF-D whose quantizer never trained is scored by its rounded figures, not a crash."""
    def record(key: str, seed: int, rmse: float, stop: str = "early_stopping", trained: bool | None = None) -> dict:
        fit = {"stop_reason": stop, **({} if trained is None else {"quantizer_trained": trained})}
        return {"seed": seed, "scores": {"rmse": rmse, "mae": rmse / 2, "accuracy": 0.4, "continuous_rmse": rmse},
                "fit": fit}

    records_of = {
        "dmf-d": [record("dmf-d", 0, 0.90, trained=True), record("dmf-d", 1, 0.91, trained=False),
                  record("dmf-d", 2, 0.92, trained=True)],
        "dmf": [record("dmf", 0, 0.89), record("dmf", 1, 0.91), record("dmf", 2, 0.90, stop="time_budget")],
    }
    pair = tables._paired(2, "dmf-d", "dmf", "DMF-D − (DMF + rounding)", records_of)
    assert pair["seeds"] == [0] and pair["cells"]["rmse"]["values"] == [pytest.approx(0.01)]
    untrained = {"overall": {"rmse": 0.84, "mae": 0.66}, "rounded_overall": {"rmse": 0.9, "mae": 0.6, "accuracy": 0.4,
                                                                          "n": 5}, "quantizer": {"trained": False}}
    assert runner.scores_from_metrics(2, "dmf-d", untrained)["rmse"] == 0.9
