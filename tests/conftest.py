"""Shared fixtures: small generated rating matrices, so core tests run in seconds without any download."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from dmf_core.data import RatingData, from_triples

REPO_ROOT = Path(__file__).resolve().parents[1]
# The demo generator at a small size (users 1..400, items 1..300): for tests of behaviour, not accuracy. It keeps
# the demo's titles and genres, so pages and `recommend` show what they show on the full demo data.
SMALL_DEMO = "demo:400x300x12000"
ML1M_DIR = REPO_ROOT.parent / "shared" / "data" / "ml-1m"


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


@pytest.fixture(scope="session")
def tiny_data() -> RatingData:
    return low_rank_ratings(150, 90, 0.3)


def skip_or_fail(reason: str) -> None:
    """Skip a test whose prerequisite is missing, except under CI (CI=true), where a skip would let CI pass without
    checking what it claims to check: there it fails."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing prerequisite is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def ml1m_dir() -> Path:
    if not (ML1M_DIR / "ratings.dat").is_file():
        skip_or_fail("MovieLens-1M not found at ../shared/data/ml-1m")
    return ML1M_DIR


def make_zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive in memory, with member names taken literally (so tests can build hostile ones)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: a second intra-op thread only adds synchronisation, and on a busy machine a lot of it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def pytest_collection_modifyitems(config, items):
    """For pytest-xdist's `--dist loadgroup` (pyproject's addopts): a module's tests stay on one worker, so its
    fixtures train once, and the browser tests all run on one worker, in order (measured on 2 cores: 6.6 min for the
    suite so, 7.1 min with the browser modules spread over the workers, whose two browsers then contend)."""
    for item in items:
        group = "e2e" if item.nodeid.startswith("tests/e2e/") else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
