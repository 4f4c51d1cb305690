"""scoring.quantized: learned b, rounding and b fitted on validation on the same test ratings, and what each
boundary's move did; and the figures drawn from them."""

from __future__ import annotations

import numpy as np
import pytest

from dmf_core import DMF, figures
from dmf_core.data.split import TEST, VAL
from dmf_core.model.quantizer import fit_boundaries
from dmf_core.scoring.metrics import accuracy, paired_rmse_difference, round_to_scale
from dmf_core.scoring.quantized import (
    BASELINE,
    FITTED,
    LEARNED,
    ROUNDING,
    boundary_effects,
    compare_quantizers,
    quantize,
)
from tests.conftest import SMALL_DEMO

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one thread, on a busy machine
SCALE = (1.0, 5.0)


def test_boundary_effects_count_by_hand():
    # b2 moved up to 2.7: outputs 2.55 and 2.65 go from 3 to 2 stars (one truly 2: right; one truly 3: wrong);
    # 2.75 stays 3. b3 moved down to 3.3: 3.4 goes from 3 to 4 (truly 5: wrong either way).
    outputs = np.array([2.55, 2.65, 2.75, 3.4, 1.2])
    true = np.array([2.0, 3.0, 3.0, 5.0, 1.0])
    effects = boundary_effects(outputs, true, [1.5, 2.7, 3.3, 4.5], SCALE).set_index("boundary")
    assert effects.loc["b2", ["changed", "became_right", "became_wrong", "net_right"]].tolist() == [2, 1, 1, 0]
    assert (effects.loc["b2", "from_star"], effects.loc["b2", "to_star"]) == (3.0, 2.0)
    assert effects.loc["b2", "moved"] == pytest.approx(0.2)
    assert effects.loc["b3", ["changed", "became_right", "became_wrong"]].tolist() == [1, 0, 0]
    assert (effects.loc["b3", "from_star"], effects.loc["b3", "to_star"]) == (3.0, 4.0)
    assert effects.loc[["b1", "b4"], "changed"].tolist() == [0, 0]


def test_the_nets_add_up_to_the_exact_stars_difference():
    rng = np.random.default_rng(0)
    true = rng.integers(1, 6, 5000).astype(float)
    outputs = np.clip(true + rng.normal(0.2, 0.8, len(true)), *SCALE)
    boundaries = [1.4, 2.7, 3.45, 4.62]
    effects = boundary_effects(outputs, true, boundaries, SCALE)
    difference = accuracy(quantize(outputs, boundaries, SCALE), true) - accuracy(round_to_scale(outputs, SCALE), true)
    assert effects["net_right"].sum() == round(difference * len(true)) != 0
    assert (effects["changed"] >= effects["became_right"] + effects["became_wrong"]).all()


@pytest.fixture(scope="module")
def dmf_d() -> DMF:
    """A tiny DMF-D on the small demo, its quantizer on for two epochs (the warm-up set, so λ surely grew), selected
    without a margin so that a quantizer epoch, with the b it learned, is the model (not the start's b̃)."""
    model = DMF(model="dmf-d", epochs=3, warmup_epochs=1, lambda_start=2.0, lambda_growth=2.0, hidden="16,8",
                select_margin=0.0, seed=0, verbose=0, device="cpu", split="areas").fit(SMALL_DEMO)
    assert not model.metrics_["quantizer"]["selected_start"]
    return model


def test_compare_quantizers_scores_a_run_as_its_metrics_did(dmf_d):
    data, split = dmf_d.observed_.data, dmf_d.observed_.split
    comparison = compare_quantizers(dmf_d.predictor_, data, split)
    metrics = dmf_d.metrics_
    assert list(comparison.table.index) == [LEARNED, ROUNDING, FITTED, BASELINE]
    assert comparison.learned == pytest.approx(metrics["boundaries"])
    for name, recorded in ((LEARNED, metrics["discrete_overall"]), (ROUNDING, metrics["rounded_overall"]),
                           (BASELINE, metrics["baseline"]["rounded_overall"])):
        row = comparison.table.loc[name]
        assert (row["rmse"], row["mae"], row["exact_stars"]) == pytest.approx(
            (recorded["rmse"], recorded["mae"], recorded["accuracy"]))
        assert row["n"] == recorded["n"] == int((split.role == TEST).sum())
    val = split.role == VAL
    assert comparison.fitted == fit_boundaries(dmf_d.predict(
        {"user": data.user_ids[data.users[val]], "item": data.item_ids[data.items[val]]}), data.ratings[val],
        data.rating_scale)
    assert sum(len(v) for v in comparison.outputs_by_star().values()) == len(comparison.true)
    assert comparison.effects["moved"].tolist() == pytest.approx(
        [b - u for b, u in zip(comparison.learned, comparison.uniform, strict=True)])


def test_a_dmf_run_compares_rounding_with_fitted_b():
    plain = DMF(epochs=1, hidden="16,8", seed=0, verbose=0, device="cpu", split="areas").fit(SMALL_DEMO)
    comparison = compare_quantizers(plain.predictor_, plain.observed_.data, plain.observed_.split)
    assert comparison.learned is None and LEARNED not in comparison.table.index
    assert comparison.effects["position"].tolist() == comparison.fitted


def test_no_test_ratings_is_a_one_line_error(dmf_d):
    data, split = dmf_d.observed_.data, dmf_d.observed_.split
    no_test = type(split)(split.config, split.new_user, split.new_item, np.where(split.role == TEST, VAL, split.role),
                          split.area)
    with pytest.raises(ValueError, match="no test ratings"):
        compare_quantizers(dmf_d.predictor_, data, no_test)


def test_the_figures_draw_the_comparisons_numbers(dmf_d):
    c = compare_quantizers(dmf_d.predictor_, dmf_d.observed_.data, dmf_d.observed_.split)
    histogram = figures.star_histogram(c.outputs, c.true, c.levels, c.scale, c.learned, c.uniform, c.fitted)
    bars = [t for t in histogram.data if t.type == "bar"]
    assert [sum(t.y) for t in bars] == [int(np.isclose(c.true, s).sum()) for s in c.levels]
    scores = figures.quantizer_scores(c.table, c.continuous)
    assert list(scores.data[0].x) == c.table["rmse"].tolist() and list(scores.data[0].y) == list(c.table.index)
    effects = figures.boundary_effects(c.effects)
    assert list(effects.data[1].y) == c.effects["became_right"].tolist()
    panels = figures.quantizer_small_multiples(c.learned, c.uniform, c.scale, lams=(1.0, 1e4))
    smooth, sharp = panels.data[1].y, panels.data[3].y
    hard = panels.data[0].y
    assert np.abs(sharp - hard).max() < np.abs(smooth - hard).max()  # G approaches Q_b as λ grows


def test_paired_rmse_difference_by_hand():
    """RMSE(a) − RMSE(b) and its standard error from the rating-by-rating differences of squared errors."""
    diff, se = paired_rmse_difference(np.array([1.0, 0, 0, 0]), np.zeros(4))
    # RMSE 0.5 against 0; the differences (1, 0, 0, 0) have sd 0.5, so SE of ΔMSE 0.25, over 0.5 + 0 in RMSE
    assert (diff, se) == pytest.approx((0.5, 0.5))
    assert paired_rmse_difference(np.array([4.0, 1, 0]), np.array([4.0, 1, 0])) == (0.0, 0.0)


def test_each_way_is_paired_with_rounding_on_the_same_ratings(dmf_d):
    """The table's RMSE − rounding and its standard error are the paired difference on the same test ratings."""
    data, split = dmf_d.observed_.data, dmf_d.observed_.split
    comparison = compare_quantizers(dmf_d.predictor_, data, split)
    table, y = comparison.table, comparison.true
    rounded = np.clip(np.floor(comparison.outputs + 0.5), 1, 5)
    assert table.loc[ROUNDING, ["rmse_minus_rounding", "rmse_minus_rounding_se"]].tolist() == [0.0, 0.0]
    assert np.isnan(table.loc[BASELINE, "rmse_minus_rounding"])
    for name, b in ((LEARNED, comparison.learned), (FITTED, comparison.fitted)):
        pred = 1 + np.searchsorted(np.asarray(b), comparison.outputs, side="right")
        diff = (pred - y) ** 2 - (rounded - y) ** 2
        a, r = np.sqrt(np.mean((pred - y) ** 2)), np.sqrt(np.mean((rounded - y) ** 2))
        assert table.loc[name, "rmse_minus_rounding"] == pytest.approx(a - r, abs=1e-12)
        se = diff.std(ddof=1) / np.sqrt(len(diff)) / (a + r) if a + r else 0.0
        assert table.loc[name, "rmse_minus_rounding_se"] == pytest.approx(se, abs=1e-12)


def test_the_quantizer_pages_table_shows_each_way_against_rounding(dmf_d):
    from studio.quantizer_view import score_table

    comparison = compare_quantizers(dmf_d.predictor_, dmf_d.observed_.data, dmf_d.observed_.split)
    column = score_table(comparison).set_index("way to stars")["test RMSE − rounding (± SE)"]
    table = comparison.table
    assert column[ROUNDING] == "0 (the reference)" and column[BASELINE] == "–"
    assert column[LEARNED] == (f"{table.loc[LEARNED, 'rmse_minus_rounding']:+.4f} ± "
                               f"{table.loc[LEARNED, 'rmse_minus_rounding_se']:.4f}")
    assert column[FITTED] == (f"{table.loc[FITTED, 'rmse_minus_rounding']:+.4f} ± "
                              f"{table.loc[FITTED, 'rmse_minus_rounding_se']:.4f}")
