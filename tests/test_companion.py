"""DMF's I-AutoRec companion (companion.py): it trains after DMF without touching DMF's weights, its blend is fitted
on validation only and never loses to DMF alone there, new users stay DMF's, what did not happen is said, and a
checkpoint with it loads with weights_only=True."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.split import TEST, VAL, split_areas
from dmf_core.flags import configs_from_flags
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs.folder import final_checkpoint, result_metrics, train_run
from dmf_core.scoring.predict import Predictor
from dmf_core.training.companion import describe, fit_companion
from dmf_core.training.train import fit

SPLIT = SplitConfig(new_user_frac=0.15, new_item_frac=0.15, seed=0)
BLEND = ModelConfig(hidden=(32, 16), companion="i-autorec")  # the default is DMF alone


def quick(**kwargs) -> TrainConfig:
    return TrainConfig(**{"epochs": 6, "patience": 0, "block_users": 64, "block_items": 64, **kwargs})


@pytest.fixture(scope="module")
def run(tiny_data, one_thread):
    split = split_areas(tiny_data, SPLIT)
    return split, fit(tiny_data, split, BLEND, quick())


def test_the_blend_is_fitted_on_validation_and_never_loses_to_dmf_alone_there(tiny_data, run):
    split, result = run
    record = result.companion
    assert record["trained"] and record["epochs_run"] >= 1 and record["seconds"] > 0
    # (1, 0, 0) is one of the least-squares candidates, so the fitted blend cannot be worse on the ratings it fits.
    assert record["val_rmse_blend"] <= record["val_rmse_dmf_alone"] + 1e-9
    weights = result.model.blend[torch.as_tensor(~split.new_item)].unique(dim=0)
    assert len(weights) == 1 and weights[0, 1] != 0  # one blend for the seen items, using the companion
    # Rebuilt from the validation ratings alone: the same weights (no test rating is read).
    val = split.mask(VAL, "I")
    alone = Predictor(result.model, result.predictor.user_factors, result.predictor.item_factors)
    dmf = alone.continuous(tiny_data.users[val], tiny_data.items[val]).astype(np.float64)
    codes = result.predictor.companion_codes
    companion = result.model.companion.decode_at(codes, torch.as_tensor(tiny_data.items[val]),
                                                 torch.as_tensor(tiny_data.users[val])).clamp(1, 5).detach().numpy()
    design = np.column_stack([dmf, companion, np.ones(len(dmf))])
    expected = np.linalg.lstsq(design, tiny_data.ratings[val].astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(weights[0].numpy(), expected, rtol=1e-4, atol=1e-5)


def test_new_users_and_items_are_scored_by_dmf_alone_and_area_i_by_the_blend(tiny_data, run):
    split, result = run
    blended = result.predictor
    alone = replace(blended, companion_codes=None)
    test = split.role == TEST
    users, items = tiny_data.users[test], tiny_data.items[test]
    new = split.new_user[users] | split.new_item[items]  # areas II-IV
    assert split.new_user[users].any() and split.new_item[items[~split.new_user[users]]].any() and (~new).any()
    np.testing.assert_array_equal(blended.continuous(users[new], items[new]), alone.continuous(users[new], items[new]))
    assert not np.allclose(blended.continuous(users[~new], items[~new]), alone.continuous(users[~new], items[~new]))
    assert result.companion["blend"] == {"I": result.companion["blend"]["I"]}  # fitted for area I only


def test_metrics_name_the_blend_and_dmf_alone_beside_it(tiny_data, run):
    split, result = run
    metrics = result_metrics(result, tiny_data, split, BLEND)
    record = metrics["companion"]
    assert set(record["dmf_alone_areas"]) == {"I", "II", "III", "IV"}
    for area in ("II", "III", "IV"):  # new users and items: DMF's
        assert record["dmf_alone_areas"][area] == pytest.approx(metrics["areas"][area]["rmse"])
    assert record["dmf_alone_areas"]["I"] != pytest.approx(metrics["areas"]["I"]["rmse"])
    assert "blend" in describe(record) and f"{record['val_rmse_blend']:.4f}" in describe(record)


def test_the_companion_leaves_dmf_s_weights_as_selected(tiny_data, one_thread):
    split = split_areas(tiny_data, SPLIT)
    result = fit(tiny_data, split, BLEND, quick())
    before = {k: v.clone() for k, v in result.model.state_dict().items() if not k.startswith(("companion", "blend"))}
    factors = result.predictor.user_factors.clone()
    fit_companion(result.model, tiny_data, split, result.inputs, result.predictor, seed=1)
    after = result.model.state_dict()
    assert all(torch.equal(value, after[key]) for key, value in before.items())
    torch.testing.assert_close(Predictor.build(result.model, result.inputs).user_factors, factors)


def test_a_stopped_run_or_a_spent_budget_keeps_dmf_alone_and_says_so(tiny_data, one_thread):
    split = split_areas(tiny_data, SPLIT)
    stop = threading.Event()
    stop.set()
    stopped = fit(tiny_data, split, BLEND, quick(), stop_event=stop)
    assert stopped.companion["trained"] is False and "stopped" in stopped.companion["note"]
    assert stopped.predictor.companion_codes is None
    spent = fit(tiny_data, split, BLEND, quick(max_seconds=1e-6))
    assert spent.companion["trained"] is False and "time budget" in spent.companion["note"]
    assert "not trained" in describe(spent.companion)


def test_none_is_dmf_alone_and_dmf_d_never_gets_a_companion(tiny_data, one_thread):
    split = split_areas(tiny_data, SPLIT)
    plain = fit(tiny_data, split, ModelConfig(hidden=(32, 16), companion="none"), quick(epochs=2))
    assert plain.model.companion is None and plain.companion is None
    _, model_config, _ = configs_from_flags(model="dmf-d")
    assert model_config.companion == "none"
    # Given a config that asks for the companion, a DMF-D run trains and records none.
    metrics, result = train_run(tiny_data, SPLIT, BLEND, quick(model="dmf-d", epochs=3))
    assert result.model.companion is None and "companion" not in metrics
    assert metrics["config"]["model"]["companion"] == "none"
    with pytest.raises(ValueError, match="companion 'i-autorec' blends DMF's"):
        configs_from_flags(model="dmf-d", companion="i-autorec")
    with pytest.raises(ValueError, match="companion must be one of"):
        configs_from_flags(companion="svd")


def test_a_checkpoint_with_the_companion_loads_weights_only_and_predicts_the_same(tiny_data, run, tmp_path):
    split, result = run
    model_config = BLEND
    path = ckpt.save(final_checkpoint(result, tiny_data, split, model_config, SPLIT), tmp_path / "checkpoint.pt")
    loaded = torch.load(path, weights_only=True, map_location="cpu")
    model = ckpt.restore_model(loaded)
    predictor = Predictor.build(model, result.inputs)
    test = split.role == TEST
    np.testing.assert_allclose(predictor.continuous(tiny_data.users[test], tiny_data.items[test]),
                               result.predictor.continuous(tiny_data.users[test], tiny_data.items[test]), atol=1e-5)
    assert loaded["companion"]["trained"] is True


def test_a_checkpoint_from_before_the_companion_loads_as_dmf_alone(tiny_data, one_thread, tmp_path):
    split = split_areas(tiny_data, SPLIT)
    result = fit(tiny_data, split, ModelConfig(hidden=(32, 16), companion="none"), quick(epochs=2))
    checkpoint = final_checkpoint(result, tiny_data, split, ModelConfig(hidden=(32, 16), companion="none"), SPLIT)
    del checkpoint["model_config"]["companion"]  # as written before the setting existed
    assert ckpt.restore_model(checkpoint).companion is None


def test_train_run_writes_the_companion_into_metrics(tiny_data, one_thread, tmp_path):
    metrics, _ = train_run(tiny_data, SPLIT, BLEND, quick(epochs=2), tmp_path)
    assert metrics["companion"]["trained"] is True
    assert metrics["train_seconds"] >= metrics["companion"]["seconds"]


def test_the_app_names_the_blend_and_shows_dmf_alone_beside_it(tiny_data, run):
    from studio import literature, runinfo, ui

    split, result = run
    metrics = result_metrics(result, tiny_data, split, BLEND)
    assert runinfo.model_label(metrics) == "DMF + I-AutoRec"
    assert "a = " in runinfo.blend_notes(metrics) and "DMF alone" in runinfo.blend_notes(metrics)
    table = ui.area_table(metrics)
    assert table.loc["I", ui.DMF_ALONE_COLUMN] == round(metrics["companion"]["dmf_alone_areas"]["I"], 4)
    untrained = {**metrics, "companion": {"kind": "i-autorec", "trained": False, "note": "not trained: stopped"}}
    assert runinfo.model_label(untrained) == "DMF" and runinfo.blend_notes(untrained) == ""
    assert ui.DMF_ALONE_COLUMN not in ui.area_table(untrained).columns
    assert literature.dmf_label({"companion": True}) == "DMF + I-AutoRec blend (ours, --companion i-autorec)"
    assert literature.dmf_label({}) == "DMF (ours, default flags)"


def test_the_companion_reports_its_progress(tiny_data, one_thread):
    import io

    from dmf_core.progress import ProgressBar

    split = split_areas(tiny_data, SPLIT)
    seen: list[tuple[int, int]] = []
    result = fit(tiny_data, split, BLEND, quick(epochs=2), on_companion=lambda e, n: seen.append((e, n)))
    assert seen[0] == (0, 30) and seen[-1] == (result.companion["epochs_run"], 30)
    assert [epoch for epoch, _ in seen] == list(range(result.companion["epochs_run"] + 1))
    stream = io.StringIO()
    bar = ProgressBar(2, stream=stream)
    bar.companion(30, 30)
    bar.end_line()
    assert "I-AutoRec companion" in stream.getvalue() and stream.getvalue().endswith("\n")


def test_too_few_validation_ratings_leave_dmf_alone(tiny_data, one_thread):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.15, new_item_frac=0.15, val_frac=0.01, seed=0))
    assert 0 < split.mask(VAL, "I").sum() < 50  # under companion.MIN_BLEND_RATINGS
    result = fit(tiny_data, split, BLEND, quick(epochs=2))
    assert result.companion["trained"] and result.companion["blend"] == {"I": None}
    assert "val_rmse_blend" not in result.companion
    test = split.role == TEST
    users, items = tiny_data.users[test], tiny_data.items[test]
    np.testing.assert_array_equal(result.predictor.continuous(users, items),
                                  replace(result.predictor, companion_codes=None).continuous(users, items))
