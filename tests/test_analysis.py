"""studio.analysis, stats and plots: what the Quantizer, Areas, Data and New-user pages draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dmf_core import figures as plots
from dmf_core.config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig
from dmf_core.data.demo import make_demo
from dmf_core.data.split import OBSERVED, split_areas
from dmf_core.model.quantizer import hard_quantize, smooth_quantize, uniform_boundaries
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs.folder import train_run
from studio import stats
from studio.analysis import (
    PAPER_TABLE1,
    RunAnalysis,
    boundary_moves,
    calibration_curve,
    cold_start_curve,
    confusion_matrix,
    most_popular,
    recommend,
    score_new_user,
    search_titles,
)


@pytest.fixture(scope="module")
def demo():
    return make_demo(0, 400, 300, 12_000)  # the demo generator, small: behaviour, not accuracy


@pytest.fixture(scope="module")
def run(demo, tmp_path_factory):
    """One tiny DMF-D run on the demo data, reopened the way the app reopens it."""
    out = tmp_path_factory.mktemp("run")
    train = TrainConfig(model="dmf-d", epochs=2, lr=1e-2, block_users=512, block_items=512, patience=0,
                        device="cpu", quantizer=QuantizerConfig(lambda_start=2.0, lambda_growth=2.0, warmup_epochs=0))
    metrics, _ = train_run(demo, SplitConfig(), ModelConfig(hidden=(16, 8), dropout=0.1), train, out)
    return metrics, RunAnalysis.build(ckpt.load(out / "checkpoint.pt"), demo)


def test_analysis_reproduces_the_saved_test_scores(run):
    metrics, analysis = run
    assert analysis.discrete and analysis.test_discrete is not None
    for index, area in enumerate(("I", "II", "III", "IV")):
        selected = analysis.test_area == index
        error = np.sqrt(np.mean((analysis.test_pred[selected] - analysis.test_true[selected]) ** 2))
        assert error == pytest.approx(metrics["areas"][area]["rmse"], abs=1e-4)
    assert set(analysis.errors_by_area()) == {"I", "II", "III", "IV"}
    matrix = analysis.confusion()
    assert matrix.shape == (5, 5) and matrix.sum() == len(analysis.test_true)


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix(np.array([1.0, 2.0, 2.0, 5.0]), np.array([1.0, 1.0, 2.0, 4.0]), [1, 2, 3, 4, 5])
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1 and matrix[3, 4] == 1
    assert matrix.sum() == 4


def test_cold_start_curve_covers_k_and_all(run):
    _, analysis = run
    curve = cold_start_curve(analysis, ks=(0, 1, 5, 10))
    assert list(curve["k"]) == ["0", "1", "5", "10", "all"]
    assert (curve["n_ratings"] > 0).all() and curve["rmse"].notna().all()
    assert curve["discrete_rmse"].notna().all()  # DMF-D: the hard quantizer's error too
    # Nested samples: users with fewer ratings than k drop out, never the other way round.
    assert list(curve["n_users"][:4]) == sorted(curve["n_users"][:4], reverse=True)
    # "all" uses every observed rating, exactly what the per-area table scores for area II.
    area_ii = analysis.test_area == 1
    full = np.sqrt(np.mean((analysis.test_pred[area_ii] - analysis.test_true[area_ii]) ** 2))
    assert float(curve["rmse"].iloc[-1]) == pytest.approx(full, abs=1e-4)
    # Global mean + biases beside every k, the user's bias folded in from the same k ratings: at k = 0 it knows
    # nothing of the user, so more ratings cannot leave it worse on these (the same) users.
    assert curve["baseline_rmse"].notna().all()
    assert float(curve["baseline_rmse"].iloc[-1]) < float(curve["baseline_rmse"].iloc[0])
    # ... and at "all" it is the very baseline the per-area table reports for area II (one definition)
    metrics, _ = run
    assert float(curve["baseline_rmse"].iloc[-1]) == pytest.approx(metrics["baseline"]["areas"]["II"]["rmse"])


def test_the_cold_start_curve_leaves_the_model_in_its_mode(run):
    _, analysis = run
    for training in (True, False):
        analysis.model.train(training)
        cold_start_curve(analysis, ks=(0, 1))
        assert analysis.model.training is training
    analysis.model.eval()


def test_a_new_user_is_scored_without_retraining(run):
    _, analysis = run
    before = {k: v.clone() for k, v in analysis.model.state_dict().items()}
    seen = [int(i) for i in np.flatnonzero(~analysis.split.new_item)[:4]]
    held_out = int(np.flatnonzero(analysis.split.new_item)[0])
    result = score_new_user(analysis, [*seen, held_out], [5, 4, 1, 2, 3])
    assert result.scores.shape == (analysis.data.n_items,)
    assert result.used == seen and result.ignored == [held_out]
    discrete = analysis.predictor.discrete(result.scores)
    assert set(np.unique(discrete)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert all(torch.equal(before[k], v) for k, v in analysis.model.state_dict().items())
    recs = recommend(analysis, [*seen, held_out], [5, 4, 1, 2, 3], k=7)
    assert len(recs) == 7 and not set(recs["index"]) & {*seen, held_out}
    assert list(recs["score"]) == sorted(recs["score"], reverse=True)
    # The library's own recommend, by the data's ids: the page adds its index column, nothing else.
    ids = analysis.data.item_ids
    mine = dict(zip(ids[[*seen, held_out]].tolist(), [5, 4, 1, 2, 3], strict=True))
    pd.testing.assert_frame_equal(recs.drop(columns="index"), analysis.dmf.recommend(mine, k=7))
    np.testing.assert_allclose(recs["predicted_rating"], result.unclamped[recs["index"]], rtol=1e-6)
    popular = most_popular(analysis, result, [*seen, held_out], k=5)
    assert list(popular["n_ratings"]) == sorted(analysis.popularity[~np.isin(
        np.arange(analysis.data.n_items), [*seen, held_out])], reverse=True)[:5]


def test_the_run_is_read_through_the_library(run):
    """The analysis is `DMF.from_checkpoint`'s model, predictor and popularity, not a second copy of them."""
    _, analysis = run
    assert analysis.model is analysis.dmf.model_ and analysis.predictor is analysis.dmf.predictor_
    assert analysis.popularity is analysis.dmf.observed_.popularity
    training = (analysis.split.role == OBSERVED) & ~analysis.split.new_user[analysis.data.users]
    assert np.array_equal(analysis.popularity, np.bincount(analysis.data.items[training],
                                                           minlength=analysis.data.n_items))


@pytest.mark.parametrize(
    ("items", "ratings", "message"),
    [([0], [6.0], "outside the scale"), ([0], [0.0], "outside the scale"), ([0, 0], [3, 4], "only once"),
     ([10**6], [3], "unknown item")],
)
def test_bad_new_user_ratings_get_a_clear_message(run, items, ratings, message):
    _, analysis = run
    with pytest.raises(ValueError, match=message):
        score_new_user(analysis, items, ratings)


def test_title_search_matches_all_words_most_rated_first(demo):
    popularity = np.random.default_rng(0).integers(0, 100, demo.n_items)
    hits = search_titles(demo, popularity, "THE harbor")
    assert hits and all("the" in demo.title(i).lower() and "harbor" in demo.title(i).lower() for i in hits)
    assert list(popularity[hits]) == sorted(popularity[hits], reverse=True)
    assert search_titles(demo, popularity, "   ") == [] and search_titles(demo, popularity, "zzzz qqqq") == []


def test_data_statistics(demo):
    values, counts = stats.rating_histogram(demo)
    assert list(values) == [1, 2, 3, 4, 5] and counts.sum() == demo.n_ratings
    assert stats.user_activity(demo).sum() == demo.n_ratings == stats.item_popularity(demo).sum()
    window = stats.sample_matrix(demo, 40, 50, how="dense")
    assert window.values.shape == (40, 50) and window.density > demo.density
    random = stats.sample_matrix(demo, 40, 50, how="random", seed=1)
    assert np.nanmin(random.values) >= 1 and np.isnan(random.values).any()
    with pytest.raises(ValueError):
        stats.sample_matrix(demo, how="diagonal")
    sizes = stats.area_sizes(split_areas(demo, SplitConfig()))
    assert sizes.seen_users + sizes.new_users == demo.n_users and sum(sizes.ratings.values()) == demo.n_ratings


def test_quantizer_animation_frames_and_fixed_axes():
    uniform = uniform_boundaries((1.0, 5.0))
    assert uniform == [1.5, 2.5, 3.5, 4.5]
    fig = plots.quantizer_animation([1.4, 2.6, 3.5, 4.4], uniform, (1.0, 5.0), n_frames=80)
    assert len(fig.frames) == 80
    assert fig.layout.xaxis.autorange is False and fig.layout.yaxis.autorange is False
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    assert len(plots.quantizer_animation(uniform, uniform, (1.0, 5.0), n_frames=10).frames) == 50
    assert len(plots.quantizer_animation(uniform, uniform, (1.0, 5.0), n_frames=5000).frames) == 200
    # The last frame (largest λ) is the hard quantizer, computed by the model's own functions.
    x = np.asarray(fig.data[0].x)
    last = np.asarray(fig.frames[-1].data[0].y)
    hard = hard_quantize(torch.as_tensor(x), torch.tensor([1.4, 2.6, 3.5, 4.4], dtype=torch.float64), 1.0, 1.0)
    far = np.abs(x[:, None] - np.array([1.4, 2.6, 3.5, 4.4])[None]).min(1) > 0.05
    assert np.allclose(last[far], hard.numpy()[far], atol=1e-3)
    first = smooth_quantize(torch.as_tensor(x), torch.tensor([1.4, 2.6, 3.5, 4.4], dtype=torch.float64),
                            0.3, 1.0, 1.0)
    assert np.allclose(np.asarray(fig.data[1].y), first.numpy())


def test_replay_has_one_frame_per_recorded_epoch(run):
    metrics, analysis = run
    fig = plots.quantizer_replay(metrics["history"], analysis.test_pred, [1.5, 2.5, 3.5, 4.5], (1.0, 5.0))
    assert len(fig.frames) == len(metrics["history"]) == 2
    assert fig.frames[0].name.startswith("1 (λ = 2)") and fig.frames[1].name.startswith("2 (λ = 4)")


def test_area_scores_marks_the_paper_values_by_name(run):
    metrics, _ = run
    fig = plots.area_scores(metrics["areas"], PAPER_TABLE1)
    names = [trace.name for trace in fig.data]
    assert "DMF (paper)" in names and "I-AutoRec (paper)" in names
    dmf = next(t for t in fig.data if t.name == "DMF (paper)")
    assert sorted(dmf.y) == sorted(PAPER_TABLE1["DMF (paper)"].values())


def test_live_figures_follow_the_model_kind(run):
    metrics, _ = run
    assert len(plots.live_figures(metrics["history"], discrete=True)) == 3
    assert len(plots.live_figures(metrics["history"], discrete=False)) == 2
    assert len(plots.live_figures(metrics["history"], discrete=True, compact=True)) == 1


def test_calibration_curve_and_boundary_moves_read_a_biased_output():
    """Outputs 0.4 stars above the truth: every bin's mean true rating lies below its mean output, and a boundary
    that moved up is explained by outputs above their true ratings."""
    rng = np.random.default_rng(0)
    true = rng.integers(1, 6, 20000).astype(float)
    pred = np.clip(true + 0.4 + rng.normal(0, 0.3, len(true)), 1, 5)
    curve = calibration_curve(pred, true, (1.0, 5.0))
    inner = curve[(curve["output"] > 1.6) & (curve["output"] < 4.4)]
    assert len(inner) > 10 and (inner["true"] < inner["output"]).all()
    lines = boundary_moves([1.5, 2.9, 3.5, 4.5], [1.5, 2.5, 3.5, 4.5], curve)
    assert lines[1].startswith("b2 moved up by 0.400 (to 2.900)") and "above their true ratings" in lines[1]
    assert lines[0].startswith("b1 moved nowhere")
