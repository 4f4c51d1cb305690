"""The baselines learn on small generated data (clearly below the global-mean predictor), serve only the areas
they can, and score through the same per-area metrics as DMF."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from dmf_core.config import SplitConfig
from dmf_core.data import from_triples
from dmf_core.data.demo import make_demo
from dmf_core.data.split import AREAS, TEST, VAL, split_areas
from dmf_core.model.autorec import AutoRecNet
from dmf_core.model.biases import fit_biases
from dmf_core.model.inputs import SparseRows
from dmf_core.reproduction.autorec import AutoRec, AutoRecConfig
from dmf_core.reproduction.means import GlobalBias
from dmf_core.reproduction.models import make_baseline
from dmf_core.scoring.metrics import rmse

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


def test_rounded_scores_are_those_of_the_nearest_star(data, split):
    model = make_baseline("mf", seed=0, **SMALL["mf"])
    model.fit(data, split)
    assert model.config.dim == 8
    test = split.mask(TEST, "I")
    pred = model.predict(data.users[test], data.items[test])
    assert pred.dtype == np.float32
    scores = model.evaluate(data, split)
    stars = np.clip(1 + np.rint(pred.astype(np.float64) - 1), 1, 5)  # the nearest whole star
    assert scores["rounded"]["I"]["rmse"] == pytest.approx(rmse(stars, data.ratings[test]), abs=1e-6)
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
    module = AutoRecNet(5, 16)
    batch = rows.gather(torch.arange(3))
    hidden = module.encode(batch)
    dense = module.decode_batch(hidden, batch.bags, batch.indices)
    pairwise = module.decode_at(hidden, batch.bags, batch.indices)
    assert torch.allclose(dense, pairwise, atol=1e-6)
    assert AutoRec(AutoRecConfig(side="user")).name == "u-autorec"


def test_unknown_baseline_is_a_value_error():
    with pytest.raises(ValueError, match="unknown baseline"):
        make_baseline("svd++")


# ---------------------------------------------------------------------------------------------------------------
# New rows' shrinkage: a weight in [0, 1] on the part of a prediction that depends on a row never trained on,
# fitted on validation ratings of area II (III), as DMF's cosine weight is (calibration.py)

SHRINKING = {"bias": ("new_user_weight", "new_item_weight"), "u-autorec": ("new_row_weight",),
             "i-autorec": ("new_row_weight",)}


def weights_of(model) -> dict[str, float]:
    return dict(model.weights) if isinstance(model, GlobalBias) else {"new_row_weight": model.new_row_weight}


@pytest.mark.parametrize("name", list(SHRINKING))
def test_new_row_weights_are_fitted_on_validation_only(name, data, split):
    """Changing every test rating changes nothing that was fitted: the weights read no test rating."""
    model = make_baseline(name, seed=0, **SMALL[name])
    model.fit(data, split)
    test = split.role == TEST
    flipped = replace(data, ratings=np.where(test, 6.0 - data.ratings, data.ratings).astype(np.float32))
    other = make_baseline(name, seed=0, **SMALL[name])
    other.fit(flipped, split)
    assert weights_of(model) == weights_of(other)
    # ... while the validation ratings of the new rows do move them.
    val_new = (split.role == VAL) & (split.area > 0)
    noisy = np.where(val_new, np.random.default_rng(1).integers(1, 6, size=len(data.ratings)), data.ratings)
    moved = make_baseline(name, seed=0, **SMALL[name])
    moved.fit(replace(data, ratings=noisy.astype(np.float32)), split)
    assert weights_of(moved) != weights_of(model)


def val_rmse_by_area(model, data, split, area: str) -> float:
    selected = split.mask(VAL, area)
    return rmse(model.predict(data.users[selected], data.items[selected]), data.ratings[selected])


def test_the_biases_shrinkage_lowers_validation_rmse_of_new_rows_on_the_demo_data():
    data = make_demo()
    lowered = 0
    for seed in range(3):
        split = split_areas(data, SplitConfig(seed=seed))
        model = GlobalBias()
        model.fit(data, split)
        plain = fit_biases(data, split)
        for area, weight in (("II", "new_user_weight"), ("III", "new_item_weight")):
            selected = split.mask(VAL, area)
            before = rmse(np.clip(plain.predict(data.users[selected], data.items[selected]), 1, 5),
                          data.ratings[selected])
            after = val_rmse_by_area(model, data, split, area)
            assert after <= before + 1e-6, (seed, area)  # float32 predictions
            lowered += model.weights[weight] < 1.0 and after < before
    assert lowered >= 1  # somewhere on the demo data, validation asks for less than the full folded-in bias


@pytest.mark.parametrize(("side", "area"), [("user", "II"), ("item", "III")])
def test_the_autorec_shrinkage_lowers_validation_rmse_of_new_rows_on_the_demo_data(side, area):
    data = make_demo()
    split = split_areas(data, SplitConfig(seed=0))
    model = AutoRec(AutoRecConfig(side=side, hidden=64, epochs=8, seed=0))
    model.fit(data, split)
    weight = model.new_row_weight
    after = val_rmse_by_area(model, data, split, area)
    model.new_row_weight = 1.0
    before = val_rmse_by_area(model, data, split, area)
    assert weight < 1.0 and after < before, (weight, before, after)
    seen = split.mask(VAL, "I")  # seen rows are never shrunk
    model.new_row_weight = weight
    kept = model.predict(data.users[seen], data.items[seen])
    model.new_row_weight = 1.0
    assert np.array_equal(kept, model.predict(data.users[seen], data.items[seen]))
