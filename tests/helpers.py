"""Helpers the tests import (fixtures live in conftest.py, which stays light: pytest-xdist's controller process
loads it before it starts the workers, and importing torch there, 2-3 s, would delay them all)."""

from __future__ import annotations

import contextlib
import socket

import numpy as np

from dmf_core.data import RatingData, from_triples


def low_rank_ratings(n_users: int, n_items: int, density: float, seed: int = 0, rank: int = 3) -> RatingData:
    """Ratings 1..5 from a rank-`rank` model plus noise, rounded: learnable structure for tests."""
    rng = np.random.default_rng(seed)
    user_factors = rng.normal(size=(n_users, rank))
    item_factors = rng.normal(size=(n_items, rank))
    mask = rng.random((n_users, n_items)) < density
    users, items = np.nonzero(mask)
    scores = (user_factors[users] * item_factors[items]).sum(1) / np.sqrt(rank)
    ratings = np.clip(np.rint(3 + 1.2 * scores + 0.3 * rng.normal(size=len(users))), 1, 5)
    return from_triples(users + 1, items + 100, ratings, name="tiny")


def free_port() -> int:
    """A TCP port nobody listens on now, for a server a test starts."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
