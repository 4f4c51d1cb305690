"""AppTest fixtures: every test gets fresh Streamlit caches, its own runs/data folders, and no leftover jobs.

Streamlit's caches and our job registry live in this pytest process (AppTest runs the scripts in-process), so a
job started by one test would otherwise still be training in the next one.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import dmf_core.data.demo
import studio.playground
from dmf_core.config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig, replace
from dmf_core.data import dataset_fingerprint
from studio import cache
from studio.registry import JobRegistry

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "home": "app.py",
    "data": "pages/1_Data.py",
    "train": "pages/2_Train.py",
    "quantizer": "pages/3_Quantizer.py",
    "areas": "pages/4_Areas.py",
    "new_user": "pages/5_New_user.py",
    "latent_map": "pages/7_Latent_map.py",
    "playground": "pages/8_Playground.py",
}
TIMEOUT = 60  # seconds per script run: generous, the CI machine is shared
TINY_MODEL = ModelConfig(hidden=(16, 8), dropout=0.1)


def tiny_train(model: str = "dmf", epochs: int = 2) -> TrainConfig:
    return TrainConfig(model=model, epochs=epochs, lr=1e-2, block_users=512, block_items=512, patience=0,
                       device="cpu", quantizer=QuantizerConfig(lambda_start=2.0, lambda_growth=2.0, warmup_epochs=0))


# The app's "demo" data in these tests: the demo generator at a small size (the same titles, genres and scale), so
# that pages, fixtures and started runs check behaviour in a fraction of the full demo's time.
SMALL_DEMO_SIZE = {"n_users": 400, "n_items": 300, "n_ratings": 12_000}
_make_demo = dmf_core.data.demo.make_demo  # the real generator, taken before any test patches it


@functools.lru_cache(maxsize=4)
def small_demo(seed: int = 0, n_users: int | None = None, n_items: int | None = None, n_ratings: int | None = None,
               name: str = "demo"):
    """`make_demo` for the app tests: "demo" is small, and generated once although every test clears the caches."""
    size = SMALL_DEMO_SIZE if n_users is None else {"n_users": n_users, "n_items": n_items, "n_ratings": n_ratings}
    return _make_demo(seed, name=name, **size)


_train_playground = studio.playground.train  # the real one, taken before any test patches it


@functools.lru_cache(maxsize=32)
def _playground_run(code: str, settings: studio.playground.Settings) -> studio.playground.PlaygroundRun:
    matrix = studio.playground.decode_matrix(code, len(studio.playground.USERS), len(studio.playground.MOVIES))
    return _train_playground(matrix, settings)


def playground_train_once(matrix, settings: studio.playground.Settings | None = None):
    """The Playground's training, seeded and so deterministic, done once per matrix and settings for all app tests
    (the page caches it too, but every test clears Streamlit's caches)."""
    return _playground_run(studio.playground.encode_matrix(matrix), settings or studio.playground.Settings())


@pytest.fixture(autouse=True)
def demo_is_small(monkeypatch) -> None:
    """Per test, so that no other test in the same process (pytest-xdist runs several files in one) gets it; and the
    Playground trained once per matrix."""
    monkeypatch.setattr(dmf_core.data.demo, "make_demo", small_demo)
    monkeypatch.setattr(studio.playground, "train", playground_train_once)


@pytest.fixture(scope="session")
def saved_runs(tmp_path_factory) -> Path:
    """A tiny DMF and a tiny DMF-D run on the demo data, trained once, as the app would save them."""
    root = tmp_path_factory.mktemp("saved-runs")
    data = small_demo()
    registry = JobRegistry(root)
    meta = {"dataset_spec": "demo", "dataset_label": "Demo (built-in, generated)",
            "dataset_fingerprint": dataset_fingerprint(data)}
    # DMF-D: one warm-up epoch, whose weights are the quantizer's start (DMF + rounding, which each quantizer epoch
    # is compared with), then two quantizer epochs, so its replay has two frames
    for model, epochs in (("dmf", 1), ("dmf-d", 3)):
        train = tiny_train(model, epochs)
        if model == "dmf-d":
            # no selection margin: its quantizer epoch is kept, so the pages show b it learned, not b̃
            train = replace(train, quantizer=replace(train.quantizer, warmup_epochs=1, select_margin=0.0))
        job = registry.submit("fixture", data, SplitConfig(), TINY_MODEL, train, label=f"tiny {model}", meta=meta)
        assert job.join(300) and job.snapshot().status == "finished", job.snapshot().error
    return root


@pytest.fixture(scope="session")
def cosine_runs(tmp_path_factory) -> Path:
    """A tiny DMF run with the paper's output (cosine only), trained once, as the app would save it."""
    root = tmp_path_factory.mktemp("cosine-runs")
    data = small_demo()
    meta = {"dataset_spec": "demo", "dataset_label": "Demo (built-in, generated)",
            "dataset_fingerprint": dataset_fingerprint(data)}
    job = JobRegistry(root).submit("fixture", data, SplitConfig(), replace(TINY_MODEL, output="cosine"),
                                   tiny_train("dmf", 1), label="tiny cosine", meta=meta)
    assert job.join(300) and job.snapshot().status == "finished", job.snapshot().error
    return root


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch) -> Iterator[Path]:
    """Fresh caches, and runs/data/uploads under this test's tmp folder (never in the repository)."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("DMF_RUNS_DIR", str(runs))
    monkeypatch.setenv("DMF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DMF_UPLOAD_DIR", str(tmp_path / "uploads"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield runs
    cache.shutdown_jobs(timeout=30)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def with_runs(saved_runs, isolated) -> Path:
    shutil.copytree(saved_runs, isolated)
    return isolated


@pytest.fixture
def with_cosine_run(cosine_runs, isolated) -> Path:
    shutil.copytree(cosine_runs, isolated, dirs_exist_ok=True)
    return isolated


def open_app(page: str = "app.py", params: dict[str, str] | None = None) -> AppTest:
    """A fresh browser session on `page` (a path under the repository), opened directly as its URL would be: the
    home page is not rendered first (a switch before the first run is what Streamlit does for /Train)."""
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    if page != "app.py":
        at.switch_page(page)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def open_page() -> Callable[[str], AppTest]:
    return lambda name: open_app(PAGES[name])
