"""Real-browser tests: Playwright drives Debian's Chromium against a `streamlit run app.py` server that the
fixtures start on a free port (runs and data in a temporary folder). Skipped cleanly without Chromium.

Set DMF_SHOTS_DIR=/some/folder to keep a screenshot of each page the tests visit.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.helpers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
E2E_DIR = Path(__file__).resolve().parent
# --no-sandbox: CI runs as root. The rest keep Chromium from phoning home on an offline machine. (docs/screenshots.py
# launches with these too.)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def require_chromium() -> None:
    """Every browser fixture's one check: without Chromium, skip, except under CI=true, where it fails
    (tests.conftest.skip_or_fail, the one guard)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    require_chromium()
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1600}}


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free port, runs/data under `folder`; returns once /_stcore/health says ok."""
    require_chromium()
    port = free_port()
    env = {**os.environ, "DMF_RUNS_DIR": str(folder / "runs"), "DMF_DATA_DIR": str(folder / "data"),
           "DMF_UPLOAD_DIR": str(folder / "uploads")}
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats",
         "false"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{(folder / 'server.log').read_text()[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            if response.read().strip() == b"ok":
                return process, url
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError("streamlit did not become healthy in 90 s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture(scope="session")
def trained_run_root(tmp_path_factory) -> Path:
    """A server folder that already holds one tiny DMF-D run on the demo data (for the New-user page)."""
    from dmf_core.config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig
    from dmf_core.data import dataset_fingerprint
    from dmf_core.data.demo import make_demo  # the real demo, as the server loads it (tests/app's is small)
    from studio.registry import JobRegistry

    require_chromium()
    folder = tmp_path_factory.mktemp("e2e-server")
    data = make_demo()
    train = TrainConfig(model="dmf-d", epochs=2, lr=1e-2, block_users=512, block_items=512, patience=0,
                        device="cpu", quantizer=QuantizerConfig(lambda_growth=2.0, warmup_epochs=0))
    job = JobRegistry(folder / "runs").submit(
        "fixture", data, SplitConfig(), ModelConfig(hidden=(16, 8), dropout=0.1), train, label="e2e fixture",
        meta={"dataset_spec": "demo", "dataset_label": "Demo (built-in, generated)",
              "dataset_fingerprint": dataset_fingerprint(data)})
    assert job.join(300) and job.snapshot().status == "finished", job.snapshot().error
    return folder


@pytest.fixture(scope="session")
def app_url(trained_run_root) -> Iterator[str]:
    process, url = start_server(trained_run_root)
    yield url
    stop_server(process)


@pytest.fixture
def fresh_app_url(tmp_path) -> Iterator[str]:
    """A server nobody has visited yet: the first request it gets is the test's."""
    process, url = start_server(tmp_path)
    yield url
    stop_server(process)


@pytest.fixture
def shoot():
    """page -> name -> screenshot into $DMF_SHOTS_DIR (no-op when unset)."""
    folder = os.environ.get("DMF_SHOTS_DIR")

    def take(page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"))

    return take
