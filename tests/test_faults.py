"""Fault injection with real processes: a training run killed with SIGKILL mid-epoch and resumed from its folder ends
where an uninterrupted run with the same seed ends, and a folder holding an interrupted run is never overwritten."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dmf_core.runs.folder import interrupted_checkpoint
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # real processes, killed and resumed: about 30 s on 2 cores

# Small enough for a few seconds an epoch on a busy 2-core machine; one thread, so both runs do the same arithmetic.
ARGS = ["--data", "demo", "--hidden", "32,16", "--epochs", "5", "--patience", "0", "--quiet"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dmf_core", "train", *args], cwd=REPO_ROOT, env=ENV,
                          capture_output=True, text=True, timeout=600)


def epochs_saved(folder: Path) -> int:
    """Epochs in the checkpoint of the run in progress (0 before the first, or once the run has finished)."""
    try:
        checkpoint = torch.load(folder / "checkpoint.pt", weights_only=True, map_location="cpu")
    except (OSError, RuntimeError, EOFError, KeyError):
        return 0
    return len(checkpoint["history"]) if checkpoint.get("in_progress") else 0


def kill_after(folder: Path, epochs: int) -> None:
    """Start a run and SIGKILL it once `epochs` epochs are checkpointed, while the next one is under way."""
    process = subprocess.Popen([sys.executable, "-m", "dmf_core", "train", *ARGS, "--out", str(folder)],
                               cwd=REPO_ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while epochs_saved(folder) < epochs:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.05)
        # Killed at once: the run is inside the next epoch. (On a loaded machine a checkpoint can cost over 5% of
        # an epoch, and the next ones then come only every few epochs: waiting for a second could outlast the run.)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("whole")
    result = train(*ARGS, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return json.loads((out / "metrics.json").read_text())


def test_a_killed_run_resumes_to_the_same_result(tmp_path, uninterrupted):
    folder = tmp_path / "killed"
    kill_after(folder, epochs=1)
    assert not (folder / "metrics.json").exists()
    checkpoint = interrupted_checkpoint(folder)
    assert checkpoint is not None and 1 <= len(checkpoint["history"]) < 5

    # The folder is not overwritten by a new run: the command offers to resume it instead.
    refused = train(*ARGS, "--out", str(folder))
    assert refused.returncode == 2 and "interrupted run" in refused.stderr and "--resume" in refused.stderr
    assert "Traceback" not in refused.stderr

    resumed = train("--resume", str(folder), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs_run"] == uninterrupted["epochs_run"] == 5
    assert metrics["val_rmse"] == pytest.approx(uninterrupted["val_rmse"], abs=1e-4)
    for area, row in uninterrupted["areas"].items():
        assert metrics["areas"][area]["rmse"] == pytest.approx(row["rmse"], abs=1e-4), area
    assert interrupted_checkpoint(folder) is None  # finished: nothing left to resume


def test_resume_refuses_other_ratings_and_finished_runs_with_one_line(tmp_path, uninterrupted):
    folder = tmp_path / "run"
    kill_after(folder, epochs=1)
    other = train("--resume", str(folder), "--data", "demo:1500x1000x90000")  # the demo's shape, other ratings
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert "error:" in other.stderr and "fingerprint" in other.stderr
    # A finished run holds its selected weights, not its last epoch's: it cannot go on exactly, and says so.
    done = tmp_path / "done"
    assert train(*ARGS, "--epochs", "1", "--out", str(done)).returncode == 0
    again = train("--resume", str(done))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert [line for line in again.stderr.splitlines() if line.strip()] == [
        line for line in again.stderr.splitlines() if "this run finished" in line]
