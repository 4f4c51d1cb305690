"""The baselines learn on small generated data (clearly below the global-mean predictor), serve only the areas
they can, and score through the same per-area metrics as DMF."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from dmf_core.config import SplitConfig
from dmf_core.data import from_triples
from dmf_core.inputs import SparseRows
from dmf_core.metrics import rmse
from dmf_core.reproduction.autorec import AutoRec, AutoRecConfig, _AutoRecModule
from dmf_core.reproduction.means import GlobalBias
from dmf_core.reproduction.models import make_baseline
from dmf_core.split import AREAS, TEST, split_areas

# Small-data settings: the ML-1M defaults (batch 32768 ratings, 256 rows, 500 hidden) take one or two steps per
# epoch on 18k ratings.
SMALL = {
    "bias": {},
    "mf": {"dim": 8, "batch_size": 2048, "epochs": 40, "lr": 5e-2},
    "u-autorec": {"hidden": 100, "batch_size": 64, "epochs": 30},
    "i-autorec": {"hidden": 100, "batch_size": 64, "epochs": 30},
}
SERVES = {"bias": AREAS, "mf": ("I",), "u-autorec": ("I", "II"), "i-autorec": ("I", "III")}


@pytest.fixture(scope="module", autouse=True)
def _single_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def data():
    """Like ML-1M in miniature: global mean + user and item biases + a rank-4 interaction + noise, rounded to 1..5.
    (conftest's `low_rank_ratings` has no biases and saturates at 1 and 5, so a bias model has nothing to learn.)"""
    n_users, n_items, rank = 300, 200, 4
    rng = np.random.default_rng(0)
    pairs = rng.choice(n_users * n_items, size=int(0.3 * n_users * n_items), replace=False)
    users, items = pairs // n_items, pairs % n_items
    user_f, item_f = rng.normal(size=(n_users, rank)) / 2, rng.normal(size=(n_items, rank)) / 2
    score = (3.5 + 0.5 * rng.normal(size=n_users)[users] + 0.5 * rng.normal(size=n_items)[items]
             + (user_f[users] * item_f[items]).sum(1) + 0.3 * rng.normal(size=len(pairs)))
    return from_triples(users, items, np.clip(np.rint(score), 1, 5), name="biased-low-rank")


@pytest.fixture(scope="module")
def split(data):
    return split_areas(data, SplitConfig(seed=0))


def global_mean_rmse(data, split, area: str) -> float:
    mean = data.ratings[split.train_mask()].mean()
    selected = split.mask(TEST, area)
    return rmse(np.full(selected.sum(), mean), data.ratings[selected])


@pytest.mark.parametrize("name", list(SMALL))
def test_baseline_learns_and_serves_only_its_areas(name, data, split):
    torch.manual_seed(0)
    model = make_baseline(name, seed=0, **SMALL[name])
    info = model.fit(data, split)
    scores = model.evaluate(data, split)

    assert tuple(model.serves) == SERVES[name]
    assert info.epochs_run >= 1 and info.best_val_rmse is not None
    for area in AREAS:
        if area not in model.serves:
            assert scores["areas"][area] is None and scores["rounded"][area] is None
    # Area IV holds a few dozen test ratings here: too few for a stable comparison. New rows (II, III) are scored
    # from ~40 observed ratings each with no training on them, so their margin is smaller.
    for area in (a for a in model.serves if a != "IV"):
        baseline = global_mean_rmse(data, split, area)
        factor = 0.85 if area == "I" else 0.9
        assert scores["areas"][area]["rmse"] < factor * baseline, (name, area, scores["areas"][area], baseline)
        assert scores["areas"][area]["n"] == split.mask(TEST, area).sum()


def test_predictions_are_clipped_and_rounding_lands_on_the_grid(data, split):
    model = make_baseline("mf", seed=0, **SMALL["mf"])
    model.fit(data, split)
    assert model.config.dim == 8
    test = split.mask(TEST, "I")
    pred = model.predict(data.users[test], data.items[test])
    assert pred.dtype == np.float32 and pred.min() >= 1.0 and pred.max() <= 5.0
    scores = model.evaluate(data, split)
    assert set(scores["rounded"]["I"]) >= {"rmse", "mae", "accuracy", "n"}
    assert 0.0 < scores["rounded_overall"]["accuracy"] < 1.0


def test_global_bias_folds_in_new_users_from_their_own_ratings_only(data, split):
    model = GlobalBias()
    model.fit(data, split)
    # Every rating of a new user becomes a 5: the fitted (seen) biases must not move, the folded-in ones must rise.
    altered = replace(data, ratings=np.where(split.new_user[data.users], 5.0, data.ratings).astype(np.float32))
    other = GlobalBias()
    other.fit(altered, split)
    seen_users, seen_items = ~split.new_user, ~split.new_item
    assert np.allclose(model.user_bias[seen_users], other.user_bias[seen_users])
    assert np.allclose(model.item_bias[seen_items], other.item_bias[seen_items])
    assert np.all(other.user_bias[split.new_user] >= model.user_bias[split.new_user])
    assert np.mean(other.user_bias[split.new_user] > model.user_bias[split.new_user]) > 0.9


def test_autorec_training_decoder_matches_pairwise_decoder():
    """The dense batch decoder (fast on CPU) and the per-pair decoder (for scoring) are the same function."""
    torch.manual_seed(0)
    rows = SparseRows.from_coo(np.array([0, 0, 1, 2]), np.array([1, 3, 0, 2]), np.array([4.0, 2.0, 5.0, 3.0]), 3, 5)
    module = _AutoRecModule(5, 16)
    batch = rows.gather(torch.arange(3))
    hidden = module.encode(batch)
    dense = module.decode_batch(hidden, batch.bags, batch.indices)
    pairwise = module.decode_at(hidden, batch.bags, batch.indices)
    assert torch.allclose(dense, pairwise, atol=1e-6)
    assert AutoRec(AutoRecConfig(side="user")).name == "u-autorec"


def test_unknown_baseline_is_a_value_error():
    with pytest.raises(ValueError, match="unknown baseline"):
        make_baseline("svd++")
