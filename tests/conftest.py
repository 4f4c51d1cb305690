"""Shared fixtures: small generated rating matrices, so core tests run in seconds without any download."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dmf_core.data import RatingData

REPO_ROOT = Path(__file__).resolve().parents[1]
# The demo generator at a small size (users 1..400, items 1..300): for tests of behaviour, not accuracy. It keeps
# the demo's titles and genres, so pages and `recommend` show what they show on the full demo data.
SMALL_DEMO = "demo:400x300x12000"
ML1M_DIR = REPO_ROOT.parent / "shared" / "data" / "ml-1m"


@pytest.fixture(scope="session")
def tiny_data() -> RatingData:
    from tests.helpers import low_rank_ratings  # here, not at the top: see tests/helpers.py

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
    import torch  # here, not at the top: see tests/helpers.py

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


# The longest groups (measured on 2 cores: the full suite's, then the fast tier's), handed out first and in this
# order (pyproject's --no-loadscope-reorder; xdist would otherwise order them by their number of tests): each worker
# takes the next group as it finishes one, so the short groups fill the end instead of one long group running alone.
LONGEST_FIRST = ("e2e", "tests/app/test_bad_settings.py", "tests/test_faults.py", "tests/test_gpu_check.py",
                 "tests/test_notebooks.py",
                 "tests/test_reproduce.py", "tests/test_ml1m.py", "tests/app/test_playground.py", "tests/app/test_data.py",
                 "tests/app/test_train.py", "tests/app/test_pages.py", "tests/test_beats_baselines.py",
                 "tests/test_sessions.py", "tests/test_jobs.py", "tests/test_checkpoint.py", "tests/test_baselines.py",
                 "tests/test_train.py", "tests/test_ranking.py", "tests/app/test_quantizer_state.py",
                 "tests/test_companion.py", "tests/app/test_scales.py", "tests/test_surprise.py")


def xdist_group(nodeid: str) -> str:
    """A module's tests stay on one worker, so its module fixtures train once; the browser tests share one worker,
    where they run in order and no two browsers contend for the 2 cores."""
    return "e2e" if nodeid.startswith("tests/e2e/") else nodeid.split("::")[0]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the groups into the test ids
def pytest_collection_modifyitems(config, items):
    """For pytest-xdist's `--dist loadgroup` (pyproject's addopts): each test in its group, the longest groups first
    (a stable sort: every worker collects the same order, which xdist requires)."""
    rank = {group: k for k, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(xdist_group(item.nodeid), len(rank)))
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item.nodeid)))
