"""The Playground's logic: a small planted rating matrix, its compact URL encoding, a 3-d DMF trained on it with the
engine's own `fit`, the positions of every user and movie on the unit sphere after each epoch, and new users and
movies scored with no retraining.

Pure Python, numpy and torch (no Streamlit): `pages/8_Playground.py` gathers the edits and draws, `studio/sphere.py`
draws the sphere, and `benchmarks/bench_playground.py` times `train` on the planted matrix.
"""

from __future__ import annotations

import copy
import math
import re
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.ratings import RatingData
from dmf_core.data.split import OBSERVED, AreaSplit
from dmf_core.model.inputs import single_row
from dmf_core.model.network import DMFNet
from dmf_core.scoring.predict import Predictor
from dmf_core.training.train import fit

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
NEW_USER_NAME = "New user"
NEW_MOVIE_NAME = "New movie"
HIDDEN_CHOICES = ((16, 3), (32, 3), (64, 3))


@dataclass(frozen=True)
class Settings:
    """What the Playground trains with. Chosen on the planted matrix: (32, 3) and 40 epochs of 4 blocks (6 users
    × 5 movies) at a constant lr 0.05 train in about a second on a CPU (benchmarks/bench_playground.py, idle 2-core
    machine, best of 5: 0.94 s with torch's 2 threads, 0.31 s with one; benchmarks/results/playground.json) and separate
    the groups: with seeds 0-11, a new user who gives two of a group's movies five stars gets the
    group's other movies ranked first for all three groups with 10 seeds, against 8 at lr 0.03 (a few seeds end
    in a poorer fit, where two groups share one side of the sphere)."""

    hidden: tuple[int, ...] = (32, 3)
    epochs: int = 40
    lr: float = 0.05
    seed: int = 0
    # The paper's exact output: r̂ = 3 + 2·cos θ, so a rating *is* an angle (0° five stars, 90° three, 180° one).
    output: str = "cosine"

    def model_config(self) -> ModelConfig:
        # No companion: the Playground shows the cosine's geometry on its sphere, and a blend would blur it.
        return ModelConfig(hidden=self.hidden, dropout=0.0, output=self.output,  # type: ignore[arg-type]
                           companion="none")

    def train_config(self, n_users: int, n_items: int) -> TrainConfig:
        # Blocks of half the users × half the movies: 4 steps an epoch. A block is never the whole matrix, whose
        # targets would all be masked out of the inputs. No input dropout: every rating of 12 users counts. A
        # constant learning rate: the default decay (×0.93 an epoch) leaves 40 epochs a twentieth of it at the end.
        return TrainConfig(epochs=self.epochs, lr=self.lr, patience=0, seed=self.seed, device="cpu",
                           block_users=max(2, math.ceil(n_users / 2)), block_items=max(2, math.ceil(n_items / 2)),
                           input_dropout=0.0, lr_decay=1.0)


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


@dataclass(frozen=True)
class Shared:
    """Everything a Playground link carries: the matrix, the new user's row, the new movie's column, the settings
    and the selected (user, movie) pair."""

    matrix: np.ndarray
    new_user: np.ndarray  # (n_movies,) NaN where unrated
    new_movie: np.ndarray  # (n_users,)
    settings: Settings = Settings()
    pair: tuple[str, str] = (USERS[0], MOVIES[0])

    def to_params(self) -> dict[str, str]:
        s = self.settings
        return {"m": encode_matrix(self.matrix), "nu": encode_vector(self.new_user),
                "nm": encode_vector(self.new_movie), "h": ",".join(map(str, s.hidden)), "e": str(s.epochs),
                "lr": f"{s.lr:g}", "seed": str(s.seed), "out": s.output, "pair": f"{self.pair[0]}|{self.pair[1]}"}


def default_shared() -> Shared:
    return Shared(planted(), np.full(len(MOVIES), np.nan), np.full(len(USERS), np.nan))


def from_params(params: dict[str, str]) -> tuple[Shared, list[str]]:
    """A Playground state from a link's query parameters; each unreadable parameter falls back to its default and
    is named in the returned messages."""
    base = default_shared()
    problems: list[str] = []

    def read(key, parse, default):
        if key not in params:
            return default
        try:
            return parse(params[key])
        except (ValueError, TypeError) as error:
            problems.append(f"{key}: {error}")
            return default

    matrix = read("m", lambda t: decode_matrix(t, len(USERS), len(MOVIES)), base.matrix)
    new_user = read("nu", lambda t: decode_vector(t, len(MOVIES)), base.new_user)
    new_movie = read("nm", lambda t: decode_vector(t, len(USERS)), base.new_movie)
    settings = Settings(
        hidden=read("h", _hidden, base.settings.hidden), epochs=read("e", _bounded(int, 1, 200), base.settings.epochs),
        lr=read("lr", _bounded(float, 1e-4, 1.0), base.settings.lr),
        seed=read("seed", _bounded(int, 0, 2**31), base.settings.seed),
        output=read("out", _output, base.settings.output))
    pair = read("pair", _pair, base.pair)
    return Shared(matrix, new_user, new_movie, settings, pair), problems


def _hidden(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in text.split(","))
    if sizes not in HIDDEN_CHOICES:
        raise ValueError(f"hidden sizes must be one of {', '.join(','.join(map(str, h)) for h in HIDDEN_CHOICES)}")
    return sizes


def _bounded(kind, low, high):
    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value
    return parse


def _output(text: str) -> str:
    if text not in ("cosine", "bias+cosine"):
        raise ValueError(f"output must be cosine or bias+cosine, got {text!r}")
    return text


def _pair(text: str) -> tuple[str, str]:
    user, _, movie = text.partition("|")
    if user not in (*USERS, NEW_USER_NAME) or movie not in (*MOVIES, NEW_MOVIE_NAME):
        raise ValueError(f"unknown user or movie in {text!r}")
    return user, movie


# ------------------------------------------------------------------------------------------------- training


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


@dataclass(frozen=True)
class Epoch:
    """The model after one epoch: its predictor (for new rows) and every seen point on the sphere."""

    number: int
    predictor: Predictor
    users: np.ndarray  # (n_users, 3) unit vectors U_i
    items: np.ndarray  # (n_items, 3) unit vectors V_j
    predictions: np.ndarray  # (n_users, n_items) r̂


@dataclass(frozen=True)
class PlaygroundRun:
    matrix: np.ndarray
    settings: Settings
    epochs: list[Epoch]
    seconds: float  # training time as `fit` counts it (the per-epoch recording excluded)
    wall_seconds: float  # everything, recording included
    losses: list[float]

    @property
    def final(self) -> Epoch:
        return self.epochs[-1]


def train(matrix: np.ndarray, settings: Settings = Settings()) -> PlaygroundRun:
    """Train the Playground's DMF on `matrix` with `dmf_core.training.train.fit`, recording every epoch's model and points."""
    data = rating_data(matrix)
    split = all_observed(data)
    grid_users = np.repeat(np.arange(data.n_users), data.n_items)
    grid_items = np.tile(np.arange(data.n_items), data.n_users)
    epochs: list[Epoch] = []

    def record(model: DMFNet, inputs) -> dict:
        frozen = copy.deepcopy(model).eval()
        predictor = Predictor.build(frozen, inputs)
        predictions = predictor.continuous(grid_users, grid_items).reshape(data.n_users, data.n_items)
        epochs.append(Epoch(len(epochs) + 1, predictor, predictor.user_factors.numpy().astype(np.float64),
                            predictor.item_factors.numpy().astype(np.float64), predictions.astype(np.float64)))
        return {}

    started = time.perf_counter()
    with warnings.catch_warnings():
        # No validation ratings (see `all_observed`): the validation RMSE of an empty set is NaN, by design.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = fit(data, split, settings.model_config(),
                     settings.train_config(data.n_users, data.n_items), monitor=record)
    wall = time.perf_counter() - started
    if not epochs:
        raise ValueError("no epoch could train on these ratings: type a few more")
    return PlaygroundRun(matrix.copy(), settings, epochs, result.train_seconds, wall,
                         [h["train_loss"] for h in result.history])


# --------------------------------------------------------------------------------------- new rows, the pair


def new_user(epoch: Epoch, row: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(U_t, predicted rating of every movie) for a user typed in as `row` (NaN = unrated), or None when empty.
    One forward pass of the user branch: nothing is retrained."""
    rated = np.flatnonzero(np.isfinite(row))
    if len(rated) == 0:
        return None
    sparse = single_row(rated, row[rated], len(row), SCALE)
    factor = epoch.predictor.new_user_factor(sparse)
    scores = epoch.predictor.new_user_scores(sparse, factor)
    return factor[0].numpy().astype(np.float64), scores.astype(np.float64)


def new_movie(epoch: Epoch, column: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(V_t, predicted rating by every user) for a movie typed in as `column`, through the item branch."""
    rated = np.flatnonzero(np.isfinite(column))
    if len(rated) == 0:
        return None
    sparse = single_row(rated, column[rated], len(column), SCALE)
    factor = epoch.predictor.new_item_factor(sparse)
    scores = epoch.predictor.new_item_scores(sparse, factor)
    return factor[0].numpy().astype(np.float64), scores.astype(np.float64)


@dataclass(frozen=True)
class Pair:
    user: str
    movie: str
    u: np.ndarray  # unit vector of the user
    v: np.ndarray  # unit vector of the movie
    cosine: float
    angle: float  # degrees
    rating: float  # the model's r̂ for the pair
    observed: float  # the typed rating, NaN when none


def pair(epoch: Epoch, shared: Shared, user: str, movie: str) -> Pair | None:
    """The selected (user, movie): their two vectors, the angle between them and the rating it gives. None when a
    new user or movie is selected but not typed in."""
    matrix = shared.matrix
    user_point = movie_point = None
    observed = np.nan
    if user == NEW_USER_NAME:
        found = new_user(epoch, shared.new_user)
        if found is None:
            return None
        user_point, user_scores = found
    else:
        u_index = USERS.index(user)
        user_point = epoch.users[u_index]
    if movie == NEW_MOVIE_NAME:
        found = new_movie(epoch, shared.new_movie)
        if found is None:
            return None
        movie_point, movie_scores = found
    else:
        m_index = MOVIES.index(movie)
        movie_point = epoch.items[m_index]
    if user != NEW_USER_NAME and movie != NEW_MOVIE_NAME:
        rating = float(epoch.predictions[u_index, m_index])
        observed = float(matrix[u_index, m_index])
    elif user == NEW_USER_NAME and movie != NEW_MOVIE_NAME:
        rating = float(user_scores[m_index])
        observed = float(shared.new_user[m_index])
    elif movie == NEW_MOVIE_NAME and user != NEW_USER_NAME:
        rating = float(movie_scores[u_index])
        observed = float(shared.new_movie[u_index])
    else:  # a new user and a new movie: the cosine alone, on the base the output adds it to
        rating = _cosine_rating(epoch, float(user_point @ movie_point))
    cosine = float(np.clip(user_point @ movie_point, -1.0, 1.0))
    return Pair(user, movie, user_point, movie_point, cosine, math.degrees(math.acos(cosine)), rating, observed)


def _cosine_rating(epoch: Epoch, cosine: float) -> float:
    model = epoch.predictor.model
    low, high = SCALE
    base = float(model.mu) if model.uses_biases else (low + high) / 2
    return float(np.clip(base + cosine * (high - low) / 2, low, high))


def ranked_for_new_user(epoch: Epoch, row: np.ndarray) -> list[str]:
    """The movies the new user has not rated, best predicted first (what the page recommends)."""
    found = new_user(epoch, row)
    if found is None:
        return []
    scores = found[1]
    unrated = [j for j in range(len(row)) if not np.isfinite(row[j])]
    return [MOVIES[j] for j in sorted(unrated, key=lambda j: -scores[j])]


def with_settings(shared: Shared, **changes) -> Shared:
    return replace(shared, settings=replace(shared.settings, **changes))
