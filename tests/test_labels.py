"""Every figure with the model that made it (issue 25): the literature benchmark's rows and progress line, the
cold-start chart's reference line, `evaluate`'s training time, `scores_` of a blended model (cross-fitted), the
recommendations' tie-break (training ratings only), a loaded model's settings (`get_params`, `repr`,
`set_params`) and `fit(out=...)` beside an interrupted run. One tiny run with the companion, trained once."""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pandas as pd
import pytest

from dmf_core import DMF
from dmf_core import figures as plots
from dmf_core.data import load_dataset
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs.folder import CHECKPOINT_FILE, METRICS_FILE, evaluate_checkpoint
from dmf_core.training.companion import describe
from studio import runinfo
from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import bench_literature as bench  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one thread, on a busy machine
SETTINGS = {"epochs": 2, "hidden": (16, 8), "dropout": 0.2, "seed": 3, "companion": "i-autorec", "device": "cpu",
            "quiet": True}


@pytest.fixture(scope="module")
def data():
    return load_dataset("demo:200x120x6000")


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """(the fitted model, its run folder): DMF blended with its I-AutoRec companion in area I."""
    out = tmp_path_factory.mktemp("blend")
    model = DMF(**SETTINGS, out=str(out)).fit(data)
    assert model.metrics_["companion"]["trained"], model.metrics_["companion"]
    return model, out


# ----------------------------------------------------------------------------------------- benchmarks, the Areas page

def _metrics(companion: dict | None) -> dict:
    metrics = {"areas": {"I": {"rmse": 0.85}}, "val_rmse": 0.87, "train_seconds": 12.0, "epochs_run": 9,
               "best_epoch": 6, "stop_reason": "early_stopping", "counts": {"I": {"test": 100}},
               "baseline": {"areas": {"I": {"rmse": 0.91}}}}
    return {**metrics, **({"companion": companion} if companion else {})}


def test_the_literature_rows_pair_each_test_rmse_with_the_same_models_validation_rmse():
    blend = {"trained": True, "val_rmse_blend": 0.84, "val_rmse_blend_cross_fitted": 0.845, "seconds": 3.0,
             "epochs_run": 30, "dmf_alone_areas": {"I": 0.86}}
    out = {"seed": 0, **bench.dmf_rows(_metrics(blend))}
    assert out["dmf"]["test_rmse"] == 0.85 and out["dmf"]["val_rmse"] == 0.84  # the blend's, both
    assert out["dmf"]["val_rmse_cross_fitted"] == 0.845
    assert out["dmf_alone"] == {"test_rmse": 0.86, "val_rmse": 0.87}  # DMF alone's, both
    line = bench.seed_line("ml-1m", out)
    assert "DMF + I-AutoRec blend test RMSE 0.8500 (validation 0.8400" in line
    assert "DMF alone test RMSE 0.8600 (validation 0.8700)" in line
    alone = {"seed": 0, **bench.dmf_rows(_metrics(None))}
    assert "dmf_alone" not in alone and alone["dmf"]["val_rmse"] == 0.87
    assert bench.seed_line("ml-1m", alone).startswith("  ml-1m seed 0: DMF test RMSE 0.8500 (validation 0.8700")
    source = inspect.getsource(bench.run_areas_seed)
    assert "(I, III)" not in source and "area I only" in source


def test_the_cold_start_chart_compares_new_users_with_dmf_alone_where_area_i_is_blended():
    blended = {"model": "dmf", "areas": {"I": {"rmse": 0.80}},
               "companion": {"trained": True, "dmf_alone_areas": {"I": 0.83}}}
    labels = runinfo.cold_start_labels(blended)
    assert labels.reference == 0.83 and "DMF alone" in labels.reference_name and "DMF alone" in labels.curve_name
    plain = runinfo.cold_start_labels({"model": "dmf", "areas": {"I": {"rmse": 0.80}}})
    assert plain.reference == 0.80 and plain.reference_name == "area I (seen users), DMF"
    curve = pd.DataFrame({"k": [1, 5, "all"], "seen_ratings": [1, 5, 40], "rmse": [1.0, 0.95, 0.9],
                          "n_users": [10, 10, 10], "n_ratings": [50, 50, 50]})
    figure = plots.cold_start(curve, labels.reference, False, labels.reference_name, labels.curve_name)
    notes = [a.text for a in figure.layout.annotations]
    assert "area I (seen users), DMF alone: 0.830" in notes and figure.data[0].name == labels.curve_name


# ----------------------------------------------------------------------------------------------- the engine

def test_evaluate_reports_the_training_time_train_reported(run, data):
    model, out = run
    metrics = model.metrics_
    assert metrics["train_seconds"] > metrics["history"][-1]["elapsed"]  # the companion's seconds are in
    checkpoint = ckpt.load(out / CHECKPOINT_FILE)
    assert evaluate_checkpoint(checkpoint, data, "cpu")["train_seconds"] == pytest.approx(metrics["train_seconds"])
    older = {k: v for k, v in checkpoint.items() if k != "train_seconds"}  # written before it was stored
    assert evaluate_checkpoint(older, data, "cpu")["train_seconds"] == pytest.approx(
        metrics["history"][-1]["elapsed"] + metrics["companion"]["seconds"])


def test_the_blends_validation_score_is_cross_fitted(run):
    model, _ = run
    companion = model.metrics_["companion"]
    assert model.scores_.loc["I", "rmse"] == pytest.approx(companion["val_rmse_blend_cross_fitted"], abs=1e-4)
    assert model.scores_.loc["I", "rmse"] != pytest.approx(companion["val_rmse_blend"], abs=1e-6)  # not in-sample
    assert f"blend cross-fitted on halves {companion['val_rmse_blend_cross_fitted']:.4f}" in describe(companion)


def test_ties_are_broken_by_training_ratings_only(run):
    model, _ = run
    observed = model.observed_
    data, split = observed.data, observed.split
    trained = np.bincount(data.items[split.item_input_mask(data)], minlength=data.n_items)
    assert np.array_equal(observed.popularity, trained)
    assert not np.array_equal(observed.popularity, np.bincount(data.items, minlength=data.n_items))
    loaded = DMF.load(run[1])
    assert np.array_equal(loaded.observed_.popularity, trained)


def test_a_loaded_model_shows_its_runs_settings_and_set_params_changes_them(run):
    model, out = run
    loaded = DMF.load(out)
    params = loaded.get_params()
    for name in ("epochs", "hidden", "dropout", "seed", "companion"):
        assert params[name] == SETTINGS[name], name
    assert "seed=3" in repr(loaded) and "hidden=(16, 8)" in repr(loaded) and "dropout=0.2" in repr(loaded)
    assert loaded.set_params(seed=5, epochs=1) is loaded
    assert loaded.get_params()["seed"] == 5 and loaded._configs[2].epochs == 1
    for bad, message in (({"epoch": 1}, "unknown setting 'epoch'"), ({"dropout": 2.0}, "dropout")):
        with pytest.raises(ValueError, match=message) as error:
            loaded.set_params(**bad)
        assert "\n" not in str(error.value)
    assert loaded.get_params()["seed"] == 5 and loaded.get_params()["dropout"] == 0.2  # nothing changed


def test_fit_out_refuses_a_folder_holding_an_interrupted_run(run, data, tmp_path):
    model, out = run
    checkpoint = ckpt.load(out / CHECKPOINT_FILE)
    ckpt.save({**checkpoint, "in_progress": True}, tmp_path / CHECKPOINT_FILE)  # metrics.json never written
    with pytest.raises(ValueError, match="holds an interrupted run .*--resume") as error:
        DMF(**SETTINGS, out=str(tmp_path)).fit(data)
    assert "choose another out=" in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / METRICS_FILE).exists() and ckpt.load(tmp_path / CHECKPOINT_FILE)["in_progress"]
