"""The cold-start curve: test error on new users (area II) when the model sees only k of each one's ratings, beside
global mean + biases given the same k ratings. No retraining: a new user is one forward pass of the user branch, and
the baseline folds the user's bias in from the same k ratings.

    curve = cold_start_curve(model.predictor_, model.observed_.data, model.observed_.split)   # a fitted DMF

The Areas page draws it (`studio/analysis.py` hands it a saved run), notebook 02 draws it for a `DMF` it fitted;
`dmf_core.figures.cold_start` is the figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data import RatingData
from ..data.split import AREAS, OBSERVED, TEST, AreaSplit
from ..model.biases import REG_USER, fit_shrunk_biases, shrunk_mean
from .context import rows_of
from .metrics import mae, rmse
from .predict import Predictor

KS = (0, 1, 2, 3, 5, 10, 20, 40)
COLUMNS = ["k", "seen_ratings", "n_users", "n_ratings", "rmse", "mae", "discrete_rmse", "discrete_mae",
           "baseline_rmse"]


def cold_start_curve(predictor: Predictor, data: RatingData, split: AreaSplit, ks: tuple[int, ...] = KS,
                     seed: int = 0) -> pd.DataFrame:
    """One row per k: for every k, each new user with at least k observed ratings (on items seen in training) and at
    least one area-II test rating gets an input row of k of them, drawn at random (nested: the k + 1 ratings hold the
    k); their area-II test ratings are then predicted. The last row ("all") uses every observed rating, as the
    per-area test RMSE does. `baseline_rmse` is global mean + biases on the same ratings, as the per-area table reports it
    (`metrics.baseline_scores`), the user's bias folded in from the same k (0 ratings: mean + item bias). Needs `data` with its test ratings (a fitted model's
    `observed_.data`; a checkpoint's stored inputs hold only the observed ones)."""
    usable = (split.role == OBSERVED) & split.new_user[data.users] & ~split.new_item[data.items]
    target = (split.role == TEST) & (split.area == AREAS.index("II"))
    pool_users, pool_items, pool_ratings = data.users[usable], data.items[usable], data.ratings[usable]
    pool_count = np.bincount(pool_users, minlength=data.n_users)
    has_target = np.bincount(data.users[target], minlength=data.n_users) > 0
    rng = np.random.default_rng(seed)
    # A random rank per observed rating: "the first k by rank" is a uniform sample of k, nested across k.
    order = np.lexsort((rng.random(len(pool_users)), pool_users))
    rank = np.empty(len(order), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(pool_count)])[pool_users[order]]
    rank[order] = np.arange(len(order)) - starts
    # the baseline as reported per area (`metrics.baseline_scores`): new users' biases shrunk, ratings clipped
    biases, weights = fit_shrunk_biases(data, split)

    rows: list[dict[str, Any]] = []
    max_k = int(pool_count.max()) if len(pool_count) else 0
    for k in [k for k in ks if k <= max_k] + [None]:
        eligible = has_target & (pool_count >= (k or 0))
        if k is None:
            eligible = has_target & split.new_user
        if not eligible.any():
            continue
        chosen = eligible[pool_users] & (rank < (k if k is not None else np.iinfo(np.int64).max))
        given = pool_users[chosen], pool_items[chosen], pool_ratings[chosen]
        row = _score_users(predictor, data, eligible, *given, target)
        user_bias = weights["new_user_weight"] * shrunk_mean(given[2] - biases.mu - biases.item[given[1]], given[0],
                                                             data.n_users, REG_USER)
        selected = target & eligible[data.users]
        baseline = np.clip(biases.mu + user_bias[data.users[selected]] + biases.item[data.items[selected]],
                           *data.rating_scale)
        row["baseline_rmse"] = rmse(baseline, data.ratings[selected])
        row["k"] = "all" if k is None else str(k)
        row["seen_ratings"] = k if k is not None else float(pool_count[eligible].mean())
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _score_users(predictor: Predictor, data: RatingData, eligible: np.ndarray, in_users: np.ndarray,
                 in_items: np.ndarray, in_ratings: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """The eligible users' factors from the given ratings, scored on their area-II test ratings against the items the
    predictor already embedded; the model is left in the mode it was found in."""
    model = predictor.model
    users = np.flatnonzero(eligible)
    position = np.full(data.n_users, -1)
    position[users] = np.arange(len(users))
    rows = rows_of(position[in_users], in_items, in_ratings, len(users), data.n_items, data.rating_scale,
                   predictor.user_factors.device)
    # embed_all runs in eval mode and gives the model its own mode back (`model.modes.evaluating`).
    scorer = Predictor(model, model.embed_all(rows, users=True), predictor.item_factors, model.outside_users(rows))
    selected = target & eligible[data.users]
    t_users, t_items, true = data.users[selected], data.items[selected], data.ratings[selected]
    pred = scorer.continuous(position[t_users], t_items)
    row: dict[str, Any] = {"n_users": len(users), "n_ratings": int(len(true)), "rmse": rmse(pred, true),
                           "mae": mae(pred, true), "discrete_rmse": None, "discrete_mae": None}
    if model.discrete:
        hard = predictor.discrete(pred)
        row["discrete_rmse"], row["discrete_mae"] = rmse(hard, true), mae(hard, true)
    return row
