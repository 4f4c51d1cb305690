"""DMF-D runs whose quantizer never trained are labelled so on every page and never shown with DMF-D figures; a
trained one's Quantizer page gives the λ reached and its number of quantizer epochs. The runs are copies of the
tiny DMF-D fixture run with hand-made metrics.json in the shapes the app must read: the `quantizer` record, and
older files with only `lambda`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studio import runinfo
from tests.app.helpers import chart_specs, new_user_tables, texts

NOTE = "quantizer never trained: the run ended during the warm-up"


def variant(root: Path, name: str, edit) -> str:
    """A copy of the fixture's DMF-D run named `name`, its metrics.json changed by `edit`; its run id."""
    source = next(f for f in sorted(root.iterdir())
                  if json.loads((f / "run.json").read_text()).get("label") == "tiny dmf-d")  # the fixture's own
    folder = root / f"{name}-run"
    shutil.copytree(source, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    edit(metrics)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    meta_path = folder / "run.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    meta["label"] = name
    meta_path.write_text(json.dumps(meta))
    return folder.name


def untrained(metrics: dict) -> None:
    metrics["quantizer"] = {"trained": False, "epochs": 0, "lambda": None, "warmup_epochs": 2, "note": NOTE}
    metrics["lambda"] = None
    metrics.pop("discrete", None)
    metrics.pop("discrete_overall", None)
    metrics["val_rmse_kind"] = "continuous"


def trained(metrics: dict) -> None:
    metrics["quantizer"] = {"trained": True, "epochs": 7, "lambda": 512.0, "warmup_epochs": 3, "note": ""}
    metrics["val_rmse_kind"] = "discrete"


def start_kept(metrics: dict) -> None:
    """The quantizer trained, but validation kept its start (DMF + rounding)."""
    trained(metrics)
    metrics["quantizer"]["selected_start"] = True


def old_untrained(metrics: dict) -> None:
    """A metrics.json from before the `quantizer` record: λ null, discrete tables still written (= rounding)."""
    metrics.pop("quantizer", None)
    metrics["lambda"] = None
    for row in metrics["history"]:
        row["lambda"] = None


@pytest.fixture
def runs(with_runs) -> dict[str, str]:
    return {"untrained": variant(with_runs, "untrained", untrained), "trained": variant(with_runs, "trained", trained),
            "old": variant(with_runs, "old", old_untrained), "start": variant(with_runs, "start", start_kept)}


def test_the_record_is_read_and_older_files_are_derived_from_lambda():
    metrics = {"model": "dmf-d", "lambda": 3.0}
    untrained(metrics)
    assert runinfo.quantizer_state(metrics).note == NOTE and not runinfo.quantizer_trained(metrics)
    trained(metrics)
    state = runinfo.quantizer_state(metrics)
    assert state.trained and state.lam == 512.0 and state.epochs == 7 and state.warmup_epochs == 3
    assert not state.selected_start and "not kept" not in state.summary()
    start_kept(metrics)
    assert runinfo.quantizer_state(metrics).selected_start and "not kept" in runinfo.quantizer_state(metrics).summary()
    assert runinfo.quantizer_state(metrics).kept_start_reason() == ""  # no margin recorded: no reason given
    metrics["quantizer"]["select_margin"] = 2.0
    assert "by more than 2 standard error(s)" in runinfo.quantizer_state(metrics).kept_start_reason()
    metrics["quantizer"]["finish"] = "fitted"
    assert runinfo.quantizer_state(metrics).refitted
    assert "refitted on validation" in runinfo.quantizer_state(metrics).kept_start_reason()
    old = {"model": "dmf-d", "lambda": None, "history": [{"lambda": None}, {"lambda": None}]}
    assert runinfo.quantizer_state(old) == runinfo.QuantizerState(
        trained=False, epochs=0, lam=None, warmup_epochs=2, note=runinfo.quantizer_state(old).note)
    assert runinfo.NEVER_TRAINED in runinfo.model_label(old)
    grown = {"model": "dmf-d", "lambda": 8.0, "history": [{"lambda": None}, {"lambda": 2.0}, {"lambda": 8.0}]}
    assert runinfo.quantizer_state(grown).epochs == 2 and runinfo.model_label(grown) == "DMF-D"
    assert runinfo.quantizer_state({"model": "dmf"}) is None and runinfo.model_label({"model": "dmf"}) == "DMF"


def test_quantizer_page(open_page, runs):
    at = open_page("quantizer")
    picker = at.selectbox(key="quant-run")
    titles = {run_id: next(o for o in picker.options if o.startswith(run_id)) for run_id in runs.values()}
    assert all(runinfo.NEVER_TRAINED in titles[runs[k]] for k in ("untrained", "old"))
    assert runinfo.NEVER_TRAINED not in titles[runs["trained"]]

    at.selectbox(key="quant-run").set_value(runs["trained"]).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["λ reached"] == "512" and metrics["quantizer epochs"] == "7"
    titles = [spec["layout"]["title"]["text"] for spec in chart_specs(at)]
    assert "test ratings" in metrics and any(t.startswith("Test scores of each way to stars") for t in titles)
    assert "Validation kept the quantizer's start" not in texts(at)

    # A run whose selection kept the quantizer's start says so: its DMF-D is DMF + rounding.
    at.selectbox(key="quant-run").set_value(runs["start"]).run()
    assert not at.exception and "Validation kept the quantizer's start" in texts(at)

    for kind in ("untrained", "old"):
        at.selectbox(key="quant-run").set_value(runs[kind]).run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics == {"quantizer": runinfo.NEVER_TRAINED}, metrics  # no DMF-D figure at all
        assert runinfo.NEVER_TRAINED in texts(at)
        if kind == "untrained":
            assert NOTE in texts(at)


def test_areas_page(open_page, runs):
    at = open_page("areas")
    at.selectbox(key="areas-run").set_value(runs["untrained"]).run()
    assert not at.exception
    assert NOTE in texts(at) and "learned quantizer Q_b" not in texts(at)
    assert len(at.dataframe) >= 1 and not any(t.key == "areas-discrete" for t in at.toggle)
    at.selectbox(key="areas-run").set_value(runs["old"]).run()
    assert runinfo.NEVER_TRAINED in texts(at) and "learned quantizer Q_b" not in texts(at)
    at.selectbox(key="areas-run").set_value(runs["trained"]).run()
    assert "learned quantizer Q_b" in texts(at) and runinfo.NEVER_TRAINED not in texts(at)
    assert "Validation kept the quantizer's start" not in texts(at)
    at.selectbox(key="areas-run").set_value(runs["start"]).run()  # its two tables are the same: the page says why
    assert "Validation kept the quantizer's start" in texts(at) and "learned quantizer Q_b" in texts(at)


def test_train_pages_saved_runs_and_comparison(open_page, runs):
    at = open_page("train")
    table = next(d.value for d in at.dataframe if "model" in d.value.columns)
    models = dict(zip(table["run"], table["model"], strict=True))
    assert models[runs["untrained"]] == models[runs["old"]] == f"DMF-D ({runinfo.NEVER_TRAINED})"
    assert models[runs["trained"]] == "DMF-D"
    kinds = dict(zip(table["run"], table["val kind"], strict=True))
    assert kinds[runs["trained"]] == "discrete" and kinds[runs["untrained"]] == "continuous"
    titles = at.multiselect(key="train-compare").options
    assert runinfo.NEVER_TRAINED in next(t for t in titles if t.startswith(runs["untrained"]))
    assert runinfo.NEVER_TRAINED not in next(t for t in titles if t.startswith(runs["trained"]))


def test_new_user_and_latent_map_pages(open_page, runs):
    at = open_page("new_user")
    for kind, shows_discrete in (("trained", True), ("untrained", False)):
        at.selectbox(key="newuser-run").set_value(runs[kind]).run()
        at.button(key="nu-random").click().run()
        assert not at.exception
        tables = new_user_tables(at)
        recs, mine = tables["recs"], tables["mine"]
        assert "your rating" in mine.columns
        assert ("discrete" in recs.columns) == shows_discrete and ("discrete" in mine.columns) == shows_discrete
        assert (NOTE in texts(at)) == (not shows_discrete)
        assert "Validation kept the quantizer's start" not in texts(at)
    at.selectbox(key="newuser-run").set_value(runs["start"]).run()
    assert not at.exception and "Validation kept the quantizer's start" in texts(at)
    at = open_page("latent_map")
    at.selectbox(key="latent-run").set_value(runs["untrained"]).run()
    assert NOTE in texts(at) and "The quantizer" not in texts(at)
