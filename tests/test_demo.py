"""The generated demo dataset: deterministic, MovieLens-shaped, fast, and with structure a model can learn."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dmf_core.data import DataError, dataset_fingerprint, load_dataset
from dmf_core.data.demo import DEMO_GENRES, MIN_RATINGS_PER_USER, STAR_SHARES, make_demo


@pytest.fixture(scope="module")
def demo():
    return make_demo()


def test_same_seed_same_data_other_seed_other_data(demo):
    again = make_demo(seed=0)
    assert dataset_fingerprint(again) == dataset_fingerprint(demo)
    assert again.item_titles == demo.item_titles
    assert dataset_fingerprint(make_demo(seed=1)) != dataset_fingerprint(demo)


def test_shape_and_ids(demo):
    assert demo.name == "demo"
    assert (demo.n_users, demo.n_items) == (1500, 1000)
    assert 100_000 <= demo.n_ratings <= 100_050  # a few extra only for items nobody drew
    assert demo.rating_scale == (1.0, 5.0)
    assert demo.user_ids[0] == 1 and demo.item_ids[-1] == 1000  # raw ids count from 1, like MovieLens
    assert len(np.unique(demo.users * demo.n_items + demo.items)) == demo.n_ratings


def test_activity_and_popularity_are_skewed_like_movielens(demo):
    per_user = np.bincount(demo.users, minlength=demo.n_users)
    per_item = np.bincount(demo.items, minlength=demo.n_items)
    assert per_user.min() >= MIN_RATINGS_PER_USER
    assert per_item.min() >= 1
    # Long tails: the busiest tenth of users and of items hold far more than a tenth of the ratings.
    assert np.sort(per_user)[-150:].sum() > 0.3 * demo.n_ratings
    assert np.sort(per_item)[-100:].sum() > 0.3 * demo.n_ratings
    assert per_user.max() > 5 * np.median(per_user)


def test_star_histogram_matches_movielens(demo):
    shares = np.bincount(demo.ratings.astype(np.int64), minlength=6)[1:] / demo.n_ratings
    assert set(np.unique(demo.ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    np.testing.assert_allclose(shares, STAR_SHARES, atol=0.01)


def test_titles_are_readable_and_unique(demo):
    assert demo.item_titles is not None
    assert len(set(demo.item_titles)) == demo.n_items
    assert all(re.fullmatch(r"[A-Z][A-Za-z' ]+( \d+)? \((19[2-9]\d|2000)\)", title) for title in demo.item_titles)


def test_genres_follow_the_hidden_taste_dimensions(demo):
    genres = [g.split("|") for g in demo.item_genres]
    assert all(genres) and len(demo.item_genres) == demo.n_items
    assert {g for gs in genres for g in gs} == set(DEMO_GENRES)
    assert make_demo(seed=0).item_genres == demo.item_genres


def test_load_dataset_demo_reports_progress():
    calls = []
    data = load_dataset("demo", progress=lambda done, total: calls.append((done, total)))
    assert data.name == "demo" and calls[-1][0] == calls[-1][1]


def _split(demo, seed: int = 0):
    test = np.random.default_rng(seed).random(demo.n_ratings) < 0.2
    return ~test, test


def _rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - true) ** 2)))


def _biases(demo, train: np.ndarray, shrink: float = 5.0) -> np.ndarray:
    """Shrunk per-item means, then shrunk per-user offsets from them: a prediction for every rating."""
    mean = demo.ratings[train].mean()
    item_sum = np.bincount(demo.items[train], demo.ratings[train], demo.n_items)
    item_mean = (item_sum + shrink * mean) / (np.bincount(demo.items[train], minlength=demo.n_items) + shrink)
    offset = demo.ratings[train] - item_mean[demo.items[train]]
    user_bias = np.bincount(demo.users[train], offset, demo.n_users) / (
        np.bincount(demo.users[train], minlength=demo.n_users) + shrink
    )
    return item_mean[demo.items] + user_bias[demo.users]


def test_per_item_mean_beats_global_mean(demo):
    train, test = _split(demo)
    global_rmse = _rmse(demo.ratings[train].mean(), demo.ratings[test])
    item_sum = np.bincount(demo.items[train], demo.ratings[train], demo.n_items)
    item_count = np.bincount(demo.items[train], minlength=demo.n_items)
    item_mean = np.where(item_count > 0, item_sum / np.maximum(item_count, 1), demo.ratings[train].mean())
    item_rmse = _rmse(item_mean[demo.items[test]], demo.ratings[test])
    assert global_rmse > 1.0  # about ML-1M's 1.12: the task is not trivial
    assert item_rmse < global_rmse - 0.08


def test_low_rank_structure_is_learnable(demo):
    """A few sweeps of rank-8 ALS on what the biases leave over clearly beat the biases alone."""
    train, test = _split(demo)
    base = _biases(demo, train)
    residual = (demo.ratings - base)[train]
    users, items = demo.users[train], demo.items[train]
    item_factors = np.random.default_rng(0).normal(0.0, 0.1, (demo.n_items, 8))
    for _ in range(3):
        user_factors = _ridge_rows(users, items, demo.n_users, item_factors, residual)
        item_factors = _ridge_rows(items, users, demo.n_items, user_factors, residual)
    low_rank = np.einsum("nk,nk->n", user_factors[demo.users[test]], item_factors[demo.items[test]])
    bias_rmse = _rmse(base[test], demo.ratings[test])
    assert _rmse(base[test] + low_rank, demo.ratings[test]) < bias_rmse - 0.05


def _ridge_rows(rows: np.ndarray, cols: np.ndarray, n_rows: int, fixed: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per row r: argmin_x sum over its ratings (target - <x, fixed[col]>)^2 + 5 |x|^2, all rows at once."""
    rank = fixed.shape[1]
    f = fixed[cols]
    outer = (f[:, :, None] * f[:, None, :]).reshape(len(rows), rank * rank)
    grams = np.stack([np.bincount(rows, outer[:, k], n_rows) for k in range(rank * rank)], 1)
    rhs = np.stack([np.bincount(rows, f[:, k] * target, n_rows) for k in range(rank)], 1)
    system = grams.reshape(n_rows, rank, rank) + 5.0 * np.eye(rank)
    return np.linalg.solve(system, rhs[..., None])[..., 0]


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_ratings"):
        make_demo(n_users=10, n_items=100, n_ratings=50)  # fewer than 20 per user


def test_demo_spec_generates_any_size_for_scaling_benchmarks():
    data = load_dataset("demo:400x300x20000")
    assert (data.n_users, data.n_items) == (400, 300) and abs(data.n_ratings - 20_000) <= 300
    assert data.name == "demo-400x300x20000"


def test_large_sizes_sample_without_a_key_per_cell():
    """Above EXACT_SAMPLING_CELLS the generator draws with replacement and drops repeats: every pair distinct."""
    data = make_demo(0, 12_000, 5_000, 300_000)
    keys = data.users.astype(np.int64) * data.n_items + data.items
    assert len(np.unique(keys)) == data.n_ratings
    assert 0.97 * 300_000 <= data.n_ratings <= 300_000 + 5_000
    assert np.bincount(data.users, minlength=data.n_users).min() >= 1


@pytest.mark.parametrize("spec", ["demo:10x10", "demo:axbxc", "demo:10x10x5"])
def test_bad_demo_sizes_get_one_line(spec):
    with pytest.raises(DataError) as error:
        load_dataset(spec)
    assert spec in str(error.value) and "\n" not in str(error.value)
