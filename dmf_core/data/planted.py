"""The Playground's planted matrix: 12 users and 10 movies in three taste groups (sci-fi, romance, horror), each fan
rating their own group's movies 4-5 and the others 1-2, about a quarter of the cells left blank; its one-character-
per-cell text form (the Playground's share links carry it); and the matrix as `RatingData` with every rating observed.

The Playground page (`studio/playground.py`) and notebook 01 read it from here, so both show the same matrix.
"""

from __future__ import annotations

import re

import numpy as np

from ..config import SplitConfig
from .ratings import RatingData
from .split import OBSERVED, AreaSplit

SCALE = (1.0, 5.0)  # whole stars
GROUPS = ("Sci-fi", "Romance", "Horror")
USERS = ("Ada", "Alan", "Grace", "Linus",  # sci-fi fans
         "Emma", "Darcy", "Jane", "Romeo",  # romance fans
         "Carrie", "Freddy", "Norman", "Wednesday")  # horror fans  # fmt: skip
USER_GROUPS = (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2)
MOVIES = ("Alien Dawn", "Robot Heart", "Mars Colony", "Time Loop",  # sci-fi
          "Paris in Spring", "Love Letters", "Wedding Bells",  # romance
          "The Haunting", "Night Crawler", "Blood Moon")  # horror  # fmt: skip
MOVIE_GROUPS = (0, 0, 0, 0, 1, 1, 1, 2, 2, 2)
# The planted matrix, one line per user (columns in MOVIES' order; "." = not rated): each fan rates their own
# group's movies 4-5 and the others 1-2, with about a quarter of the cells left for the model to fill in.
PLANTED = (
    "545.12.1.2",
    "4.5521.21.",
    "55.4.1221.",
    ".4452.21.1",
    "21.155.1.2",
    "1.2.45412.",
    ".21254.21.",
    "2.1154.2.1",
    "1.2.1.2554",
    "21.2.1.4.5",
    ".1211.255.",
    "1.2.21.454",
)


def planted() -> np.ndarray:
    """The planted 12 × 10 matrix, NaN where unrated."""
    return decode_matrix("-".join(PLANTED), len(USERS), len(MOVIES))



# ----------------------------------------------------------------------------------------------- URL encoding


def encode_vector(values: np.ndarray) -> str:
    """One character per cell: 1-5, or "." when empty (a 12 × 10 matrix is 131 characters with its dashes)."""
    return "".join("." if not np.isfinite(v) else str(int(round(float(v)))) for v in np.asarray(values, float))


def decode_vector(text: str, n: int) -> np.ndarray:
    if len(text) != n or not re.fullmatch(r"[1-5.]*", text):
        raise ValueError(f"expected {n} characters, each 1-5 or '.', got {text!r}")
    return np.array([np.nan if c == "." else float(c) for c in text])


def encode_matrix(matrix: np.ndarray) -> str:
    return "-".join(encode_vector(row) for row in matrix)


def decode_matrix(text: str, n_rows: int, n_cols: int) -> np.ndarray:
    rows = text.split("-")
    if len(rows) != n_rows:
        raise ValueError(f"expected {n_rows} rows separated by '-', got {len(rows)}")
    return np.stack([decode_vector(row, n_cols) for row in rows])



def group_truth() -> np.ndarray:
    """The rule the matrix was planted with, in every cell: 4.5 where the user's group is the movie's, 1.5 elsewhere
    (the middle of 4-5 and of 1-2). Blank cells have no rating; this is what a model that found the groups fills in."""
    same = np.equal.outer(np.asarray(USER_GROUPS), np.asarray(MOVIE_GROUPS))
    return np.where(same, 4.5, 1.5)


def rating_data(matrix: np.ndarray) -> RatingData:
    """The matrix's rated cells as in-memory rating data (user and item indices are the row and column)."""
    users, items = np.nonzero(np.isfinite(matrix))
    if len(users) == 0:
        raise ValueError("the matrix has no rating: type a few stars first")
    return RatingData(users=users.astype(np.int64), items=items.astype(np.int64),
                      ratings=matrix[users, items].astype(np.float32), user_ids=np.arange(matrix.shape[0]),
                      item_ids=np.arange(matrix.shape[1]), name="playground", rating_scale=SCALE,
                      item_titles=list(MOVIES[: matrix.shape[1]]))


def all_observed(data: RatingData) -> AreaSplit:
    """Every rating observed: a training target and a model input. Built directly rather than by `split_areas`,
    which must hold out validation and test shares: on 90 ratings those would be a few cells the model never reads,
    so editing one of them would change nothing, which is the opposite of what the Playground teaches. There is
    then nothing to select an epoch on: training runs every epoch (patience 0) and the last one is the model."""
    n = data.n_ratings
    return AreaSplit(config=SplitConfig(), new_user=np.zeros(data.n_users, bool), new_item=np.zeros(data.n_items, bool),
                     role=np.full(n, OBSERVED, np.int8), area=np.zeros(n, np.int8))

