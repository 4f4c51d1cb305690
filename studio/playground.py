"""The Playground's page logic: its share-link state (the matrix, a new user's row, a new movie's column, the
settings and the selected pair, as URL parameters) and the selected pair's angle and rating.

The planted matrix and its text form are `dmf_core.data.planted`'s, the training and the new rows
`dmf_core.training.playground`'s (re-exported here, so the page and its tests have one place to import from); notebook
01 uses the same two modules. Pure Python, numpy and torch (no Streamlit): `pages/8_Playground.py` gathers the edits
and draws, `studio/playground_view.py` builds what it draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from dmf_core.data.planted import (
    GROUPS,
    MOVIE_GROUPS,
    MOVIES,
    PLANTED,
    SCALE,
    USER_GROUPS,
    USERS,
    all_observed,
    decode_matrix,
    decode_vector,
    encode_matrix,
    encode_vector,
    planted,
    rating_data,
)
from dmf_core.training.playground import Epoch, PlaygroundRun, Settings, new_movie, new_user, train

__all__ = ["GROUPS", "MOVIE_GROUPS", "MOVIES", "PLANTED", "SCALE", "USER_GROUPS", "USERS", "Epoch", "PlaygroundRun",
           "Settings", "all_observed", "decode_matrix", "decode_vector", "encode_matrix", "encode_vector", "new_movie",
           "new_user", "planted", "rating_data", "train"]

NEW_USER_NAME = "New user"
NEW_MOVIE_NAME = "New movie"
HIDDEN_CHOICES = ((16, 3), (32, 3), (64, 3))


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
