"""Several sessions on one server, and runs a restart left unfinished: quotas, a repeated Start, the operator's
stop, one registry per runs folder, 20 real runs from 3 sessions each recorded once, and an interrupted run found,
marked and resumed through the registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from dmf_core.config import SplitConfig
from dmf_core.data.demo import make_demo
from dmf_core.runs.folder import RUN_FILE, list_runs
from studio import recovery
from studio.jobs import FINISHED, INTERRUPTED, STOPPED
from studio.registry import JobRegistry
from tests.conftest import REPO_ROOT
from tests.helpers import low_rank_ratings
from tests.test_jobs import TINY_MODEL, fake_train, tiny_train, wait_for


@pytest.fixture(scope="module")
def small():
    return low_rank_ratings(120, 80, 0.3, seed=3)


def test_a_session_may_queue_only_a_few_runs_and_a_repeated_start_is_one_run(tmp_path, small):
    registry = JobRegistry(tmp_path, max_active_per_owner=2)
    first = registry.submit("alice", small, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=50),
                            request_id="click-1")
    again = registry.submit("alice", small, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=50),
                            request_id="click-1")
    assert again is first  # a double click, or a callback sent twice, starts one run
    registry.submit("alice", small, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=50))
    with pytest.raises(ValueError, match="already has 2 run"):
        registry.submit("alice", small, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=50))
    bob = registry.submit("bob", small, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=1))
    assert bob.active  # another session is not blocked by alice's quota
    assert len(list(tmp_path.iterdir())) == 3
    registry.shutdown(30)


def test_only_the_owner_or_the_operator_stops_a_run(tmp_path, small):
    registry = JobRegistry(tmp_path)
    job = registry.submit("alice", small, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=200))
    with pytest.raises(PermissionError):
        registry.stop(job.job_id, "bob")
    assert not job.stop_requested
    registry.stop(job.job_id, "operator", admin=True)
    assert job.join(30) and job.snapshot().status == STOPPED


def test_settings_are_checked_against_the_data_before_anything_is_queued(tmp_path, small):
    registry = JobRegistry(tmp_path)
    with pytest.raises(ValueError, match="validation"):
        registry.submit("alice", small, SplitConfig(val_frac=0.0), TINY_MODEL, tiny_train())
    with pytest.raises(ValueError, match="seen users"):
        registry.submit("alice", small, SplitConfig(new_user_frac=0.999), TINY_MODEL, tiny_train())
    with pytest.raises(ValueError, match="CUDA|device"):
        registry.submit("alice", small, SplitConfig(), TINY_MODEL, tiny_train(device="cuda:7"))
    assert not list(tmp_path.iterdir())  # no folder, no job


def test_one_registry_per_runs_folder_even_if_the_cache_is_cleared(tmp_path):
    assert JobRegistry.shared(tmp_path) is JobRegistry.shared(tmp_path / "." )
    assert JobRegistry.shared(tmp_path / "other") is not JobRegistry.shared(tmp_path)


def test_twenty_runs_from_three_sessions_all_finish_each_recorded_once(tmp_path, small):
    """Real (tiny) training runs. Each session submits as fast as its quota lets it, until 20 are started."""
    registry = JobRegistry(tmp_path, max_active_per_owner=2)
    started: list[str] = []
    lock = threading.Lock()
    config = tiny_train(epochs=1)

    def session(owner: str) -> None:
        while True:
            with lock:
                if len(started) >= 20:
                    return
            try:
                job = registry.submit(owner, small, SplitConfig(), TINY_MODEL, config, label=owner)
            except ValueError:  # this session's quota is full: wait for one of its runs to end
                time.sleep(0.05)
                continue
            with lock:
                if len(started) >= 20:
                    registry.stop(job.job_id, owner)
                    return
                started.append(job.job_id)

    threads = [threading.Thread(target=session, args=(f"session-{k}",)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    wait_for(lambda: not registry.snapshots(active_only=True), timeout=600)
    assert len(started) == len(set(started)) == 20
    snaps = {s.job_id: s for s in registry.snapshots()}
    assert all(snaps[job_id].status == FINISHED for job_id in started), [snaps[j].error for j in started]
    runs = list_runs(tmp_path)
    assert sorted(r.run_id for r in runs) == sorted(started)  # each recorded once, none lost, none doubled
    owners = {r.meta["label"] for r in runs}
    assert owners == {"session-0", "session-1", "session-2"}
    assert all(r.meta["status"] == FINISHED for r in runs)


@pytest.mark.slow  # a server process started, killed and resumed: about 6 s
def test_a_run_whose_server_died_is_marked_interrupted_and_resumed_through_the_registry(tmp_path):
    """A server process is killed mid-run; the next registry on that folder finds the run and resumes it."""
    data = make_demo()
    script = (
        "import sys, time\n"
        "from dmf_core.config import ModelConfig, SplitConfig, TrainConfig\n"
        "from dmf_core.data.demo import make_demo\n"
        "from studio.registry import JobRegistry\n"
        f"registry = JobRegistry({str(tmp_path)!r})\n"
        "job = registry.submit('alice', make_demo(), SplitConfig(), ModelConfig(hidden=(32, 16)),\n"
        "                      TrainConfig(epochs=6, patience=0, device='cpu'), label='doomed',\n"
        "                      meta={'dataset_spec': 'demo', 'dataset_label': 'Demo'})\n"
        "job.join()\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        def epochs_recorded() -> int:
            records = [recovery.read_record(f) or {} for f in tmp_path.iterdir()] if tmp_path.is_dir() else []
            return max((int(r.get("epochs_done") or 0) for r in records), default=0)

        wait_for(lambda: epochs_recorded() >= 2, timeout=300)
    finally:
        server.kill()
        server.wait()
    (folder,) = list(tmp_path.iterdir())
    assert json.loads((folder / RUN_FILE).read_text())["status"] == "running"  # nobody said otherwise

    registry = JobRegistry.shared(tmp_path)  # a new server on the same folder
    assert json.loads((folder / RUN_FILE).read_text())["status"] == INTERRUPTED
    (found,) = recovery.interrupted_runs(tmp_path)
    assert found.folder == folder and "doomed" in found.title

    job = registry.resume("bob", folder, data)
    assert job.join(600) and job.snapshot().status == FINISHED, job.snapshot().error
    assert job.snapshot().epoch == 6 and len(job.snapshot().history) == 6
    assert recovery.interrupted_runs(tmp_path) == []
    (run,) = list_runs(tmp_path)
    assert run.run_id == folder.name and run.metrics["epochs_run"] == 6 and run.meta["status"] == FINISHED
    with pytest.raises(ValueError, match="no interrupted run"):
        registry.resume("bob", folder, data)
