"""Descriptive statistics of a rating matrix for the Data page: the rating histogram, how active users and how
popular items are, a small sampled window of the matrix, and the sizes of the paper's four areas for a split.
Pure numpy; every function is O(#ratings) or less, so it stays fast on MovieLens-1M."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dmf_core.data import RatingData
from dmf_core.data.split import AREAS, AreaSplit


def rating_histogram(data: RatingData) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rating values, how many times each occurs)."""
    values, counts = np.unique(data.ratings, return_counts=True)
    return values.astype(np.float64), counts


def user_activity(data: RatingData) -> np.ndarray:
    """Ratings per user index (the row lengths of the matrix)."""
    return np.bincount(data.users, minlength=data.n_users)


def item_popularity(data: RatingData) -> np.ndarray:
    """Ratings per item index (the column lengths of the matrix)."""
    return np.bincount(data.items, minlength=data.n_items)


@dataclass(frozen=True)
class MatrixWindow:
    """A small dense window of the rating matrix: NaN where a rating is missing."""

    values: np.ndarray  # rows × cols, float
    users: np.ndarray  # user indices of the rows
    items: np.ndarray  # item indices of the columns

    @property
    def density(self) -> float:
        return float(np.isfinite(self.values).mean()) if self.values.size else 0.0


def sample_matrix(data: RatingData, n_users: int = 60, n_items: int = 90, how: str = "random",
                  seed: int = 0) -> MatrixWindow:
    """A window of the matrix. "random": uniformly sampled users and items, which shows how sparse the matrix
    really is; "dense": the most active users × the most popular items, where the structure is visible."""
    n_users, n_items = min(n_users, data.n_users), min(n_items, data.n_items)
    if how == "dense":
        users = np.sort(np.argsort(-user_activity(data), kind="stable")[:n_users])
        items = np.sort(np.argsort(-item_popularity(data), kind="stable")[:n_items])
    elif how == "random":
        rng = np.random.default_rng(seed)
        users = np.sort(rng.choice(data.n_users, n_users, replace=False))
        items = np.sort(rng.choice(data.n_items, n_items, replace=False))
    else:
        raise ValueError(f"how must be 'random' or 'dense', got {how!r}")
    row_of = np.full(data.n_users, -1)
    row_of[users] = np.arange(len(users))
    col_of = np.full(data.n_items, -1)
    col_of[items] = np.arange(len(items))
    inside = (row_of[data.users] >= 0) & (col_of[data.items] >= 0)
    values = np.full((len(users), len(items)), np.nan)
    values[row_of[data.users[inside]], col_of[data.items[inside]]] = data.ratings[inside]
    return MatrixWindow(values=values, users=users, items=items)


@dataclass(frozen=True)
class AreaSizes:
    """Seen/new users and items, and ratings per area: what the block picture of areas I–IV shows."""

    seen_users: int
    new_users: int
    seen_items: int
    new_items: int
    ratings: dict[str, int]  # area -> all ratings in it
    roles: dict[str, dict[str, int]]  # area -> {observed, val, test}


def area_sizes(split: AreaSplit) -> AreaSizes:
    counts = split.counts()
    return AreaSizes(
        seen_users=counts["users"]["seen"],
        new_users=counts["users"]["new"],
        seen_items=counts["items"]["seen"],
        new_items=counts["items"]["new"],
        ratings={area: counts[area]["total"] for area in AREAS},
        roles={area: {k: counts[area][k] for k in ("observed", "val", "test")} for area in AREAS},
    )
