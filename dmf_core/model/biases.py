"""Global mean + regularised user and item biases (Koren's baseline predictor), in closed form.

One concept with two users: the "global mean + biases" baseline that every result is shown beside, and DMF's
"bias+cosine" output, which lets the cosine learn what the biases leave over. Biases are fitted on the observed
area-I ratings by a few alternating shrunk means. A user or item unseen in training gets a bias *folded in* from its
observed ratings (the row or column DMF reads as input), with the training biases held fixed: nothing is retrained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import RatingData
from ..data.split import VAL, AreaSplit

# Shrink the bias of a user / item with few ratings towards 0. Chosen on seed 0's area-I validation RMSE on ML-1M
# from {2, 5, 10, 20} × {5, 10, 25, 50}; the surface is flat (0.9112 here vs 0.9148 at 10 / 25).
REG_USER = 5.0
REG_ITEM = 5.0
PASSES = 10  # alternating updates; converges in a handful


@dataclass(frozen=True)
class Biases:
    mu: float
    user: np.ndarray  # float64 per user index (folded in for new users)
    item: np.ndarray  # float64 per item index (folded in for new items)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.mu + self.user[users] + self.item[items]


def shrunk_mean(residual: np.ndarray, index: np.ndarray, n: int, reg: float) -> np.ndarray:
    """argmin_b Σ (residual - b[index])² + reg·Σ b² in closed form: a shrunk mean per index."""
    sums = np.bincount(index, weights=residual, minlength=n)
    counts = np.bincount(index, minlength=n)
    return sums / (counts + reg)


def fit_biases(
    data: RatingData, split: AreaSplit, reg_user: float = REG_USER, reg_item: float = REG_ITEM, passes: int = PASSES
) -> Biases:
    train = split.train_mask()
    users, items, ratings = data.users[train], data.items[train], data.ratings[train].astype(np.float64)
    mu = float(ratings.mean()) if len(ratings) else float(np.mean(data.rating_scale))
    user_bias = np.zeros(data.n_users)
    item_bias = np.zeros(data.n_items)
    for _ in range(passes):
        item_bias = shrunk_mean(ratings - mu - user_bias[users], items, data.n_items, reg_item)
        user_bias = shrunk_mean(ratings - mu - item_bias[items], users, data.n_users, reg_user)

    rows = split.user_input_mask(data) & split.new_user[data.users]
    folded_users = shrunk_mean(
        data.ratings[rows] - mu - item_bias[data.items[rows]], data.users[rows], data.n_users, reg_user
    )
    user_bias = np.where(split.new_user, folded_users, user_bias)
    cols = split.item_input_mask(data) & split.new_item[data.items]
    folded_items = shrunk_mean(
        data.ratings[cols] - mu - user_bias[data.users[cols]], data.items[cols], data.n_items, reg_item
    )
    item_bias = np.where(split.new_item, folded_items, item_bias)
    return Biases(mu, user_bias, item_bias)


def least_squares_weight(target: np.ndarray, term: np.ndarray) -> float:
    """argmin_w Σ (target − w·term)², clipped to [0, 1]; 1 where there is nothing to fit on (no rating, or a term
    that is zero everywhere). How far to trust the part of a prediction that depends on a row never trained on."""
    target, term = np.asarray(target, np.float64), np.asarray(term, np.float64)
    power = float(term @ term)
    if len(term) == 0 or power <= 0.0:
        return 1.0
    return float(np.clip(float(term @ target) / power, 0.0, 1.0))


def new_row_weights(biases: Biases, data: RatingData, split: AreaSplit) -> dict[str, float]:
    """The weights of the folded-in biases of new users and new items, fitted as calibration.py fits DMF's cosine
    weight: by least squares on the *validation* ratings of area II (new users × seen items: the new user's bias is
    the part that depends on the new row) and of area III (seen users × new items: the new item's bias), each clipped
    to [0, 1]. No test rating is read. A folded-in bias rests on the row's few observed ratings, so it is noisier
    than a trained one, and shrinking it towards 0 (the global mean) can only help where validation says so."""
    weights: dict[str, float] = {}
    for area, name in ((1, "new_user_weight"), (2, "new_item_weight")):
        selected = (split.role == VAL) & (split.area == area)
        users, items = data.users[selected], data.items[selected]
        ratings = data.ratings[selected].astype(np.float64)
        if area == 1:
            term, target = biases.user[users], ratings - biases.mu - biases.item[items]
        else:
            term, target = biases.item[items], ratings - biases.mu - biases.user[users]
        weights[name] = least_squares_weight(target, term)
    return weights


def shrink_new_rows(biases: Biases, split: AreaSplit, weights: dict[str, float]) -> Biases:
    """`biases` with every new user's bias times weights["new_user_weight"] and every new item's times
    weights["new_item_weight"] (a new × new pair gets both); seen rows unchanged."""
    return Biases(
        biases.mu,
        np.where(split.new_user, biases.user * weights["new_user_weight"], biases.user),
        np.where(split.new_item, biases.item * weights["new_item_weight"], biases.item),
    )


def fit_shrunk_biases(data: RatingData, split: AreaSplit, reg_user: float = REG_USER, reg_item: float = REG_ITEM,
                      passes: int = PASSES) -> tuple[Biases, dict[str, float]]:
    """The global mean + biases baseline as reported: `fit_biases`, then the new rows' biases shrunk by weights
    fitted on validation (`new_row_weights`). Returns the biases and the weights."""
    biases = fit_biases(data, split, reg_user, reg_item, passes)
    weights = new_row_weights(biases, data, split)
    return shrink_new_rows(biases, split, weights), weights


__all__ = ["Biases", "fit_biases", "fit_shrunk_biases", "least_squares_weight", "new_row_weights", "shrink_new_rows",
           "shrunk_mean", "REG_USER", "REG_ITEM", "PASSES"]
