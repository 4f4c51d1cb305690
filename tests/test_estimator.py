"""`DMF().fit` as an estimator: it trains on every rating it is given but a validation share (no user, item or test
share held out), every user and item is known afterwards, and `scores_` says what it was measured on; the area
experiment is `split="areas"`. And `recommend` on a planted matrix: rows in the order of their `score`, the
predicted rating beside it, rated items left out, and the planted taste found, for a new person's ratings and for a
user the model knows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmf_core import DMF
from dmf_core.config import FIT_SPLIT, VAL_FRAC, SplitConfig
from dmf_core.data.split import OBSERVED, VAL
from dmf_core.model.modes import evaluating
from tests.conftest import SMALL_DEMO

TINY = {"epochs": 2, "hidden": (32, 16), "verbose": 0, "device": "cpu"}


def test_fit_trains_on_every_rating_but_the_validation_share():
    model = DMF(**TINY).fit(SMALL_DEMO)
    params = model.get_params()
    assert (params["split"], params["new_users"], params["new_items"], params["test_frac"]) == ("fit", 0.0, 0.0, 0.0)
    assert params["val_frac"] == VAL_FRAC
    data, split = model.observed_.data, model.observed_.split
    assert not split.new_user.any() and not split.new_item.any()
    assert set(np.unique(split.role)) == {OBSERVED, VAL}
    assert (split.role == VAL).sum() == round(VAL_FRAC * data.n_ratings)
    # Every user and item of the data is known: predicted without context.
    pairs = pd.DataFrame({"user": data.user_ids[data.users], "item": data.item_ids[data.items]})
    assert np.isfinite(model.predict(pairs)).all()
    assert (model.scores_["measured_on"] == "validation").all() and model.scores_.attrs["measured_on"] == "validation"
    assert model.scores_.loc["I", "n"] == (split.role == VAL).sum() and np.isnan(model.scores_.loc["II", "rmse"])
    # The baseline beside it, on the same validation ratings: global mean + biases fitted on the training ratings.
    assert 0.5 < model.scores_.loc["I", "baseline_rmse"] < 1.5
    assert model.metrics_["areas"]["I"] is None  # no test share: nothing measured on test ratings


def test_the_area_experiment_is_one_argument_away_and_given_shares_win():
    areas = DMF(split="areas").get_params()
    default = SplitConfig()
    assert (areas["new_users"], areas["new_items"], areas["test_frac"]) == (
        default.new_user_frac, default.new_item_frac, default.test_frac)
    mixed = DMF(new_users=0.2)
    assert mixed.get_params()["new_users"] == 0.2 and mixed.get_params()["test_frac"] == FIT_SPLIT.test_frac
    assert mixed.set_params(split="areas").get_params()["new_users"] == 0.2  # given, so it stays
    assert mixed.get_params()["test_frac"] == default.test_frac
    with pytest.raises(ValueError, match="split must be one of 'fit', 'areas'"):
        DMF(split="everything")


def _planted(seed: int = 0) -> pd.DataFrame:
    """Two tastes: users 0..59 like items 0..29 (rate them 4-5, often) and dislike 30..59 (1-2, rarely); users 60..119
    the other way round."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(120):
        group = user // 60
        for item in range(60):
            liked = item // 30 == group
            if rng.random() < (0.5 if liked else 0.15):
                rows.append((user, item, float(rng.choice([4, 5]) if liked else rng.choice([1, 2]))))
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


@pytest.fixture(scope="module")
def planted():
    frame = _planted()
    return frame, DMF(epochs=30, hidden=(32, 16), verbose=0, device="cpu", seed=0).fit(frame)


def _check_order(recs: pd.DataFrame, rated: set) -> None:
    assert list(recs.columns) == ["item", "score", "predicted_rating", "n_ratings"]
    assert list(recs["score"]) == sorted(recs["score"], reverse=True)
    assert not set(recs["item"]) & rated


def test_recommend_a_new_persons_ratings_on_a_planted_matrix(planted):
    _, model = planted
    mine = {0: 5, 1: 5, 2: 4, 3: 5, 30: 1, 31: 2}  # the first taste
    for by in ("relevance", "rating"):
        recs = model.recommend(mine, k=8, by=by)
        _check_order(recs, set(mine))
        assert (recs["item"] < 30).mean() >= 0.75, recs  # the planted taste: items of the first half
        assert recs["predicted_rating"].mean() > 3.5


def test_recommend_a_known_user_leaves_out_what_they_rated(planted):
    frame, model = planted
    for user, liked in ((5, lambda i: i < 30), (100, lambda i: i >= 30)):
        rated = set(frame.loc[frame["user"] == user, "item"])
        observed = model.observed_
        index = observed.user_index().get_loc(user)
        read = set(observed.data.item_ids[observed.data.items[(observed.data.users == index) &
                                                              (observed.split.role == OBSERVED)]])
        recs = model.recommend(user=user, k=8)
        _check_order(recs, read)
        assert read <= rated and len(rated - read) <= 0.2 * len(rated) + 2  # only the validation share comes back
        assert np.mean([liked(i) for i in recs["item"]]) >= 0.75, recs
    with pytest.raises(ValueError, match="user 'nobody' is not known to the model"):
        model.recommend(user="nobody")
    with pytest.raises(ValueError, match="give one of ratings"):
        model.recommend({0: 5}, user=5)


def test_reading_a_model_leaves_its_mode_as_it_found_it(planted):
    _, model = planted
    net = model.model_
    for mode in (True, False):
        net.train(mode)
        model.recommend({0: 5, 1: 4}, k=3)
        model.recommend(user=5, k=3)
        model.predict(pd.DataFrame({"user": ["me"], "item": [2]}), context=pd.DataFrame(
            {"user": ["me"], "item": [0], "rating": [5.0]}))
        net.embed_all(model.observed_.inputs().user_rows, users=True)
        assert net.training is mode
    net.train(True)
    with pytest.raises(RuntimeError), evaluating(net):
        assert not net.training
        raise RuntimeError("inside")
    assert net.training  # given back even when the block raises
    net.eval()


def test_a_dmf_d_fit_without_test_ratings_writes_its_run(tmp_path):
    """The library's split holds no test ratings: DMF-D's discrete test scores are absent (None, not NaN), so the
    run folder gets its metrics.json beside the checkpoint."""
    import json

    model = DMF(model="dmf-d", epochs=3, warmup_epochs=1, hidden="16,8", verbose=0, device="cpu",
                out=str(tmp_path / "run")).fit(SMALL_DEMO)
    assert model.metrics_["quantizer"]["trained"] and model.metrics_["discrete_overall"] is None
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written["discrete_overall"] is None and (tmp_path / "run" / "checkpoint.pt").exists()


def test_most_popular_counts_training_ratings_and_leaves_out_the_rated(planted):
    """`Observed.most_popular`: the New user page's and notebook 04's baseline, one definition."""
    observed = planted[1].observed_
    order = np.argsort(-observed.popularity, kind="stable")
    assert observed.most_popular(k=3).tolist() == order[:3].tolist()
    assert observed.most_popular({int(order[0])}, k=3).tolist() == order[1:4].tolist()
