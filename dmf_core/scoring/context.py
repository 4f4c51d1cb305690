"""Scoring users and items a model never trained on, from their ratings given as inputs (areas II, III and IV):
no retraining, one forward pass of a branch per new row.

- `score_new_user`: every item's predicted rating for one person from a handful of ratings (the app's New user
  page and `DMF.recommend`);
- `extended_predictor`: any (user, item) pairs where users and/or items may be new, each new one described by its
  ratings (a new user's row over the model's items, a new item's column over the model's users); `DMF.predict`
  with `context=`.

A new row gets its bias folded in from its ratings with the model's biases held fixed (as `biases.fit_biases` does
for held-out users and items) and the cosine weight calibrated for new users / new items (`calibration.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..model.inputs import SparseRows, scale_ratings, single_row
from ..model.modes import evaluating
from ..model.network import DMFNet, Outside
from .predict import Predictor


def check_ratings(values: np.ndarray, scale: tuple[float, float], what: str = "rating") -> None:
    """Every value finite and within the scale, else a one-line ValueError naming the first bad one."""
    low, high = scale
    values = np.asarray(values, dtype=np.float64)
    bad = ~((values >= low) & (values <= high))
    if bad.any():
        value = values[np.flatnonzero(bad)[0]]
        raise ValueError(f"{what} {value:g} is outside the scale {low:g}..{high:g}")


@dataclass(frozen=True)
class NewUserScores:
    scores: np.ndarray  # predicted rating for every item (continuous)
    used: list[int]  # item indices whose ratings went into the input row
    ignored: list[int]  # items rated but left out: held out of training, so their input weights are untrained
    factor: torch.Tensor  # U_t: the unit latent vector (1, d) the user branch gives these ratings
    unclamped: np.ndarray | None = None  # `scores` before they are clamped to the scale (what a ranking reads)


def score_new_user(predictor: Predictor, new_item: np.ndarray, items: list[int], ratings: list[float],
                   scale: tuple[float, float]) -> NewUserScores:
    """Predict every item for a person the model has never seen, from their ratings alone (area II; area IV for
    items held out of training, `new_item`). Raises a one-line ValueError for an unknown item index, a rating off
    the scale or a repeated item."""
    n_items = len(new_item)
    if len(items) != len(ratings):
        raise ValueError("items and ratings must have the same length")
    if len(set(items)) != len(items):
        raise ValueError("each item can be rated only once")
    for item in items:
        if not 0 <= int(item) < n_items:
            raise ValueError(f"unknown item index {item}")
    check_ratings(np.asarray(ratings, dtype=np.float64), scale)
    pairs = [(int(i), float(r)) for i, r in zip(items, ratings, strict=True)]
    used = [i for i, _ in pairs if not new_item[i]]
    ignored = [i for i, _ in pairs if new_item[i]]
    row = single_row(used, [r for i, r in pairs if not new_item[i]], n_items, scale)
    factor = predictor.new_user_factor(row)
    unclamped = predictor.new_user_scores(row, factor, clamp=False)
    scores = np.clip(unclamped, *predictor.model.rating_scale).astype(np.float32)
    return NewUserScores(scores, used, ignored, factor, unclamped)


def rows_of(owners: np.ndarray, others: np.ndarray, ratings: np.ndarray, n_rows: int, n_cols: int,
            scale: tuple[float, float], device: torch.device) -> SparseRows:
    """Input rows (one per new user or item, `owners` 0..n_rows-1) over the model's `n_cols` columns."""
    scaled = scale_ratings(np.asarray(ratings, np.float32), scale).astype(np.float32)
    return SparseRows.from_coo(owners.astype(np.int64), others.astype(np.int64), scaled, n_rows, n_cols, device)



@torch.no_grad()
def extended_predictor(predictor: Predictor, user_rows: SparseRows | None = None,
                       item_cols: SparseRows | None = None) -> Predictor:
    """The model's users and items followed by new ones: user index n_users + k is the k-th new user's row, item
    index n_items + k the k-th new item's column. A `Predictor` over these extended indices, whose biases and cosine
    weights for the new ones are folded in from their rows (`Outside`), so it scores as the model does."""
    model = predictor.model
    with evaluating(model):
        users, outside = _extended(model, predictor.user_factors, user_rows, users=True)
        items, outside_items = _extended(model, predictor.item_factors, item_cols, users=False)
    return Predictor(model, users, items, outside=outside, outside_items=outside_items,
                     companion_codes=predictor.companion_codes)


def _extended(model: DMFNet, factors: torch.Tensor, rows: SparseRows | None,
              users: bool) -> tuple[torch.Tensor, Outside]:
    """One side of `extended_predictor`: the model's own factors, biases and cosine weights (none and 1 for the
    paper's cosine output), followed by those of `rows`, the new users (`users`) or items folded in."""
    n, device = len(factors), factors.device
    own = (model.user_bias, model.user_weight) if users else (model.item_bias, model.item_weight)
    bias, weight = own if model.uses_biases else (torch.zeros(n, device=device), torch.ones(n, device=device))
    if rows is None or not rows.n_rows:
        return factors, Outside(bias, weight)
    rows = rows.to(device)
    new = model.outside_users(rows) if users else model.outside_items(rows)
    return (torch.cat([factors, model.embed_all(rows, users=users)]),
            Outside(torch.cat([bias, new.bias]), torch.cat([weight, new.weight])))
