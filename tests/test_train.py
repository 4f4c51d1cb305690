import threading

import numpy as np
import pytest
import torch

from dmf_core.config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig
from dmf_core.data.split import OBSERVED, TEST, VAL, split_areas
from dmf_core.model.quantizer import hard_quantize
from dmf_core.scoring.metrics import evaluate, rmse
from dmf_core.training.phases import GAP_TOLERANCE, WARMUP_SHARE
from dmf_core.training.step import block_cosines
from dmf_core.training.train import BlockTask, TrainingDiverged, fit

SMALL = ModelConfig(hidden=(32, 16), dropout=0.1)


def quick(**kwargs) -> TrainConfig:
    defaults = {"epochs": 3, "block_users": 64, "block_items": 64, "lr": 5e-3, "patience": 0, "device": "cpu"}
    return TrainConfig(**{**defaults, **kwargs})


def test_dmf_learns_better_than_the_global_mean(tiny_data):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.1, new_item_frac=0.1))
    result = fit(tiny_data, split, SMALL, quick(epochs=25))
    scores = evaluate(result.model, tiny_data, split, result.inputs)
    test = split.role == TEST
    train_mean = tiny_data.ratings[split.role == OBSERVED].mean()
    baseline = rmse(np.full(test.sum(), train_mean), tiny_data.ratings[test])
    assert scores["areas"]["I"]["rmse"] < 0.9 * baseline
    assert result.history[-1]["val_rmse"] < result.history[0]["val_rmse"]
    assert set(result.history[0]) >= {"epoch", "train_loss", "val_rmse", "val_areas", "elapsed", "eta_seconds"}


def test_dmf_d_records_lambda_and_boundaries_and_scores_discretely(tiny_data):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=4, quantizer=QuantizerConfig(lambda_start=2.0, lambda_growth=3.0,
                                                                              warmup_epochs=0))
    result = fit(tiny_data, split, SMALL, config)
    lambdas = [h["lambda"] for h in result.history]
    assert lambdas == pytest.approx([2.0, 6.0, 18.0, 54.0])
    assert all(len(h["boundaries"]) == 4 for h in result.history)
    scores = evaluate(result.model, tiny_data, split, result.inputs)
    discrete = scores["discrete"]["I"]
    assert 0.0 <= discrete["accuracy"] <= 1.0
    predictions = result.model.quantizer.hard(torch.linspace(1, 5, 50))
    assert set(predictions.tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_dmf_d_warm_up_trains_plain_dmf_first(tiny_data):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=4,
                   quantizer=QuantizerConfig(lambda_start=2.0, lambda_growth=2.0, warmup_epochs=2))
    result = fit(tiny_data, split, SMALL, config)
    assert [h["lambda"] for h in result.history] == [None, None, 2.0, 4.0]
    assert result.history[1]["boundaries"] == [1.5, 2.5, 3.5, 4.5]  # untouched while the quantizer is off


def test_training_is_reproducible_with_a_seed(tiny_data):
    split = split_areas(tiny_data)
    first = fit(tiny_data, split, SMALL, quick(seed=5))
    second = fit(tiny_data, split, SMALL, quick(seed=5))
    assert [h["train_loss"] for h in first.history] == [h["train_loss"] for h in second.history]
    assert [h["val_rmse"] for h in first.history] == [h["val_rmse"] for h in second.history]


def test_stop_flag_is_honoured_within_one_step(tiny_data):
    split = split_areas(tiny_data)
    stop = threading.Event()
    steps: list[int] = []

    def on_step(step: int, total: int) -> None:
        steps.append(step)
        if step == 2:
            stop.set()

    result = fit(tiny_data, split, SMALL, quick(epochs=50), on_step=on_step, stop_event=stop)
    assert result.stop_reason == "stopped"
    assert steps == [1, 2]
    assert result.epochs_run == 1 and result.history[0]["partial"]


def test_nan_guard_stops_with_a_clear_message(tiny_data):
    split = split_areas(tiny_data)
    result_holder = {}

    def poison(report):  # after the first epoch, break the weights so the next loss is NaN
        model = result_holder["model"]
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(float("nan"))

    # fit builds its own model, so poison via the epoch callback reaching the model through the optimizer's params
    import dmf_core.training.train as train_module

    original = train_module.build_model

    def capture(*args, **kwargs):
        model = original(*args, **kwargs)
        result_holder["model"] = model
        return model

    train_module.build_model = capture
    try:
        result = fit(tiny_data, split, SMALL, quick(epochs=5), on_epoch=poison)
    finally:
        train_module.build_model = original
    assert result.stop_reason == "diverged"
    assert "diverged" in result.message and "learning rate" in result.message
    assert result.epochs_run == 1
    assert all(torch.isfinite(p).all() for p in result.model.parameters())  # the best (pre-NaN) weights


def test_divergence_before_any_epoch_raises(tiny_data):
    split = split_areas(tiny_data)
    with pytest.raises(TrainingDiverged):
        fit(tiny_data, split, SMALL, quick(lr=1e30))  # finite (inf is refused up front), but overflows at once


def test_time_budget_and_early_stopping(tiny_data):
    split = split_areas(tiny_data)
    budget = fit(tiny_data, split, SMALL, quick(epochs=10_000, max_seconds=1.0))
    assert budget.stop_reason == "time_budget"
    assert budget.epochs_run < 10_000
    early = fit(tiny_data, split, SMALL, quick(epochs=500, patience=2, lr=5e-2))
    assert early.stop_reason == "early_stopping"
    assert early.epochs_run < 500


@pytest.mark.parametrize("kwargs", [{"epochs": 0}, {"lr": -1.0}, {"weight_decay": -0.1}, {"block_users": 0}])
def test_absurd_training_settings_are_rejected(tiny_data, kwargs):
    with pytest.raises(ValueError):
        fit(tiny_data, split_areas(tiny_data), SMALL, quick(**kwargs))


def test_dmf_d_automatic_warmup_starts_the_quantizer_once_plain_dmf_stops_improving(tiny_data, one_thread):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=160, patience=2, lr=2e-2,
                   quantizer=QuantizerConfig(lambda_start=2.0, lambda_growth=2.0, warmup_epochs=None,
                                             select_start=False))
    result = fit(tiny_data, split, SMALL, config)
    lambdas = [h["lambda"] for h in result.history]
    warm = lambdas.index(2.0)
    assert 3 <= warm < 120 and all(lam is None for lam in lambdas[:warm])  # before the cap of 3/4 of the epochs
    assert [h["phase"] for h in result.history] == ["warm-up"] * warm + ["quantizer"] * (len(lambdas) - warm)
    assert lambdas[warm:warm + 3] == pytest.approx([2.0, 4.0, 8.0][: len(lambdas) - warm])
    # The warm-up ended because the continuous validation RMSE of area I stopped improving for `patience` epochs.
    assert result.quantizer["warmup_ended_by"].startswith("plain DMF's validation RMSE stopped improving")
    continuous = [h["val_rmse_continuous"] for h in result.history[:warm]]
    assert min(continuous) < min(continuous[-2:])
    # Without the start among the candidates (select_start), a warm-up epoch is never the selected DMF-D model, and
    # what is reported is the selected epoch's discrete RMSE.
    assert result.best_epoch > warm
    assert result.val_rmse == result.history[result.best_epoch - 1]["val_rmse"]
    assert result.val_rmse_kind == "discrete"


@pytest.mark.parametrize("epochs", [1, 2, 4, 9])
def test_dmf_d_warm_up_takes_at_most_its_share_of_the_epoch_cap(tiny_data, one_thread, epochs):
    """However short the epoch cap, a DMF-D run trains its quantizer: the warm-up gets at most WARMUP_SHARE of the
    epochs (rounded down), the quantizer the rest."""
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=epochs, lr=2e-2)  # automatic warm-up, which on its own would run longer
    result = fit(tiny_data, split, SMALL, config)
    warm = {1: 0, 2: 1, 4: 3, 9: 6}[epochs]  # floor(0.75 × epochs)
    assert WARMUP_SHARE == 0.75
    assert [h["phase"] for h in result.history] == ["warm-up"] * warm + ["quantizer"] * (epochs - warm)
    assert result.quantizer["trained"] and result.quantizer["epochs"] == epochs - warm
    assert result.quantizer["lambda"] == result.history[-1]["lambda"] is not None
    # The selection: a quantizer epoch, or the quantizer's start (DMF + rounding, numbered as the last warm-up epoch).
    assert result.best_epoch > warm or (result.quantizer["selected_start"] and result.best_epoch == warm >= 1)
    assert result.val_rmse_kind == "discrete"


def test_dmf_d_that_never_reaches_its_quantizer_reports_plain_dmf_as_such(tiny_data, one_thread):
    """Stopped during the warm-up: the run returns plain DMF's best warm-up epoch, says so, and reports no DMF-D
    figure (no discrete validation RMSE, no quantizer epochs, no λ)."""
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    stop = threading.Event()
    result = fit(tiny_data, split, SMALL, quick(model="dmf-d", epochs=10), stop_event=stop,
                 on_epoch=lambda record: stop.set() if record["epoch"] == 2 else None)
    assert [h["phase"] for h in result.history] == ["warm-up", "warm-up", "warm-up"]
    assert result.quantizer["trained"] is False and result.quantizer["epochs"] == 0
    assert result.quantizer["lambda"] is None and "quantizer never trained" in result.quantizer["note"]
    assert result.val_rmse_kind == "continuous"
    # With no new rows every validation rating is in area I: the selection is plain DMF's continuous RMSE there.
    chosen = result.history[result.best_epoch - 1]
    assert result.val_rmse == chosen["val_rmse_continuous"] == min(h["val_rmse_continuous"] for h in result.history)


def test_block_cosines_are_the_same_dense_or_gathered():
    """Dense blocks take one product U·Vᵀ, sparse ones gather each target's rows: the same numbers either way."""
    generator = torch.Generator().manual_seed(0)
    users = torch.nn.functional.normalize(torch.randn(40, 8, generator=generator), dim=1)
    items = torch.nn.functional.normalize(torch.randn(30, 8, generator=generator), dim=1)
    gathered = (users[:, None, :] * items[None, :, :]).sum(-1)
    for share in (0.5, 0.005):  # dense enough for the product, then too sparse for it
        n = max(1, int(share * 40 * 30))
        cells = torch.randperm(40 * 30, generator=generator)[:n]
        rows, cols = cells // 30, cells % 30
        assert torch.allclose(block_cosines(users, items, rows, cols), gathered[rows, cols], atol=1e-6)


def test_dmf_d_quantizer_phase_lasts_until_g_is_indistinguishable_from_q(tiny_data, one_thread):
    """Early stopping counts no quantizer epoch while G_λ,b still differs from Q_b on validation: with patience 1 a
    run still trains until λ has settled G, then stops after one epoch without a better discrete validation RMSE."""
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=200, patience=1, lr=2e-2,
                   quantizer=QuantizerConfig(lambda_start=2.0, lambda_growth=1.5, warmup_epochs=2))
    result = fit(tiny_data, split, SMALL, config)
    gaps = [h["quantizer_gap"] for h in result.history if h["phase"] == "quantizer"]
    assert result.stop_reason == "early_stopping"
    settled = [gap < GAP_TOLERANCE for gap in gaps]
    first = settled.index(True)
    assert first >= 2 and not any(settled[:first])  # it was not settled at the start
    assert len(gaps) - first in (1, 2)  # stopped within patience + 1 epochs of settling
    assert result.quantizer["gap"] == gaps[-1] < GAP_TOLERANCE


def _validation_rmse(result, data, split, discrete) -> float:
    val = split.role == VAL
    continuous = result.predictor.continuous(data.users[val], data.items[val])
    x = torch.as_tensor(continuous, dtype=torch.float64)
    rounded = hard_quantize(x, torch.tensor([1.5, 2.5, 3.5, 4.5], dtype=torch.float64), 1.0, 1.0)
    return rmse((rounded if discrete is None else discrete(x.float())).numpy(), data.ratings[val])


def _harm(monkeypatch) -> None:
    """A quantizer phase that can only hurt: after each of its steps the network's weights are scrambled."""
    step, noise = BlockTask.step, torch.Generator().manual_seed(0)

    def harmful(self, *args):
        loss = step(self, *args)
        if args[-1] is not None:  # λ: a quantizer step
            with torch.no_grad():
                for weights in self.module.dmf_parameters():
                    weights.add_(torch.randn(weights.shape, generator=noise) * 0.3)
        return loss

    monkeypatch.setattr(BlockTask, "step", harmful)


@pytest.mark.parametrize("harmful", [False, True], ids=["default", "harmful-phase"])
def test_default_dmf_d_ends_no_worse_than_rounding_plain_dmf_on_validation(tiny_data, one_thread, harmful,
                                                                          monkeypatch):
    """DMF-D's default is a fine-tune of the converged DMF: its warm-up is plain DMF's run (the same seed, the same
    stopping rule), and the quantizer's starting point (DMF's best weights, b at the midpoints: DMF + rounding) is a
    candidate of the selection. So on validation the returned DMF-D, through its learned Q_b, scores no worse than
    rounding the output of a plain DMF run with the same settings, and starts from the very same DMF, however badly
    its quantizer phase goes (without the start among the candidates, the harmful phase fails this)."""
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    settings = {"epochs": 40, "patience": 2, "lr": 2e-2}
    dmf = fit(tiny_data, split, SMALL, quick(**settings))
    if harmful:
        _harm(monkeypatch)
    dmf_d = fit(tiny_data, split, SMALL, quick(model="dmf-d", **settings))
    rounding = _validation_rmse(dmf, tiny_data, split, None)
    learned = _validation_rmse(dmf_d, tiny_data, split, dmf_d.model.quantizer.hard)
    warm = [h for h in dmf_d.history if h["phase"] == "warm-up"]
    assert [h["val_rmse_continuous"] for h in warm] == [h["val_rmse"] for h in dmf.history][: len(warm)]
    start = next(h["start_val_rmse"] for h in dmf_d.history if "start_val_rmse" in h)
    assert start == pytest.approx(rounding, abs=1e-9)  # the quantizer starts from DMF + rounding
    assert learned <= rounding + 1e-9
    assert dmf_d.val_rmse == pytest.approx(learned, abs=1e-6) and dmf_d.val_rmse_kind == "discrete"


def test_dmf_d_frozen_network_and_fitted_finish(tiny_data, one_thread):
    """`network_lr_scale=0` freezes the network's learning rate from the quantizer's start (b keeps the run's), and
    the "fitted" finish refits b on the validation ratings by least squares after selection, keeping the trained b in
    the run's quantizer record."""
    from dmf_core.model.quantizer import fit_boundaries

    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    quantizer = QuantizerConfig(warmup_epochs=2, network_lr_scale=0.0, finish="fitted")
    result = fit(tiny_data, split, SMALL, quick(model="dmf-d", epochs=4, quantizer=quantizer))
    network, boundaries = result.optimizer_state["param_groups"]
    assert network["lr"] == 0.0 and boundaries["lr"] > 0.0
    record = result.quantizer
    assert record["finish"] == "fitted" and len(record["learned_boundaries"]) == 4
    val = split.role == VAL
    continuous = result.predictor.continuous(tiny_data.users[val], tiny_data.items[val])
    expected = fit_boundaries(continuous, tiny_data.ratings[val], tiny_data.rating_scale, squared=True)
    assert record["fitted_boundaries"] == pytest.approx(expected)
    assert result.model.quantizer.boundaries.tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("margin", [0.0, 1.0, 1e9])
def test_dmf_d_leaves_its_start_only_by_more_than_select_margin_standard_errors(tiny_data, one_thread, margin):
    """Every quantizer epoch is compared with the quantizer's start rating by rating on validation (its RMSE
    difference and that difference's standard error are recorded), and the selection compares RMSE + margin × SE: 0
    keeps the lowest validation RMSE, a huge margin always keeps the start (DMF + rounding). The run reports the
    selected epoch's own validation RMSE, not the margin-weighted value."""
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=10, lr=2e-2,
                   quantizer=QuantizerConfig(warmup_epochs=3, lambda_start=4.0, select_margin=margin))
    result = fit(tiny_data, split, SMALL, config)
    start_record = next(h for h in result.history if h.get("start_val_rmse") is not None)
    start = start_record["start_val_rmse"]
    quantizer = [h for h in result.history if h["phase"] == "quantizer"]
    assert len(quantizer) == 7
    best, chosen = start, start_record["epoch"]
    for h in quantizer:
        assert h["val_rmse_vs_start"] == pytest.approx(h["val_rmse"] - start, abs=1e-6)
        assert h["val_rmse_vs_start_se"] >= 0
        if h["val_rmse"] + margin * h["val_rmse_vs_start_se"] < best - 1e-5:
            best, chosen = h["val_rmse"] + margin * h["val_rmse_vs_start_se"], h["epoch"]
    assert result.best_epoch == chosen
    assert result.quantizer["selected_start"] == (chosen == start_record["epoch"])
    assert result.quantizer["select_margin"] == margin
    selected = start if chosen == start_record["epoch"] else result.history[chosen - 1]["val_rmse"]
    assert result.val_rmse == pytest.approx(selected)
    if margin == 0.0:  # on this matrix a quantizer epoch beats the start: the margin is what keeps it out
        assert not result.quantizer["selected_start"]
    if margin == 1e9:
        assert result.quantizer["selected_start"]
        assert result.model.quantizer.boundaries.tolist() == pytest.approx([1.5, 2.5, 3.5, 4.5])


def test_without_the_start_among_the_candidates_the_margin_does_not_apply(tiny_data, one_thread):
    """`select_start=False`: the quantizer's epochs are still compared with the start (recorded), but the lowest
    validation RMSE among them wins, whatever the margin."""
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=6, lr=2e-2, quantizer=QuantizerConfig(
        warmup_epochs=2, lambda_start=4.0, select_start=False, select_margin=1e9))
    result = fit(tiny_data, split, SMALL, config)
    quantizer = [h for h in result.history if h["phase"] == "quantizer"]
    assert all("val_rmse_vs_start_se" in h for h in quantizer)
    best = min(quantizer, key=lambda h: h["val_rmse"])
    assert result.val_rmse == pytest.approx(best["val_rmse"]) and not result.quantizer["selected_start"]


@pytest.mark.parametrize("settings", [{"warmup_epochs": 0, "select_settled": True}, {"select_start": False}],
                         ids=["no-warm-up", "start-not-a-candidate"])
def test_a_start_that_was_no_candidate_is_never_reported_kept(tiny_data, one_thread, settings):
    """Without a warm-up there is no start, and with `select_start=False` it is no candidate: the run never says
    validation kept it, and records no margin, as none was applied."""
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    config = quick(model="dmf-d", epochs=3, lr=2e-2, quantizer=QuantizerConfig(lambda_start=4.0, **settings))
    result = fit(tiny_data, split, SMALL, config)
    assert result.quantizer["trained"]
    assert not result.quantizer["selected_start"] and result.quantizer["select_margin"] == 0.0
