"""studio.jobs: background training runs, ownership, the one-at-a-time queue, and runs on disk."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig, replace
from dmf_core.data.demo import make_demo
from dmf_core.data.split import split_areas
from dmf_core.runs.folder import RUN_FILE, list_runs
from dmf_core.training.estimate import estimate_epoch_seconds
from studio.jobs import FAILED, FINISHED, QUEUED, RUNNING, STOPPED, TrainingSlot
from studio.registry import JobRegistry, new_run_folder

TINY_MODEL = ModelConfig(hidden=(16, 8), dropout=0.1)


def tiny_train(**kwargs) -> TrainConfig:
    return TrainConfig(**{"epochs": 2, "lr": 1e-2, "block_users": 512, "block_items": 512, "patience": 0,
                          "device": "cpu", **kwargs})


@pytest.fixture(scope="module")
def demo():
    return make_demo(0, 400, 300, 12_000)  # the demo generator, small: behaviour, not accuracy


def fake_train(epochs: int = 3, step_seconds: float = 0.02, steps: int = 5, fail: str | None = None):
    """Stands in for runs.train_run: reports steps and epochs, honours the stop event, trains nothing."""

    def train(data, split_config, model_config, train_config, out_dir, *, on_step, on_epoch, stop_event,
              on_companion=None):
        history = []
        for epoch in range(epochs):
            for step in range(1, steps + 1):
                time.sleep(step_seconds)
                on_step(step, steps)
                if stop_event.is_set():
                    return {"stop_reason": "stopped"}, SimpleNamespace(history=history, stop_reason="stopped",
                                                                       message="stopped by request")
            if fail:
                raise RuntimeError(f"{fail}\nsecond line of a traceback")
            report = {"epoch": epoch + 1, "train_loss": 1.0, "val_rmse": 1.0}
            history.append(report)
            on_epoch(report)
        (Path(out_dir) / "metrics.json").write_text(json.dumps({"areas": {}, "stop_reason": "completed"}))
        (Path(out_dir) / "checkpoint.pt").write_bytes(b"")
        return {"stop_reason": "completed"}, SimpleNamespace(history=history, stop_reason="completed", message="")

    return train


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_a_real_run_finishes_and_is_saved(tmp_path, demo):
    registry = JobRegistry(tmp_path)
    # With the I-AutoRec companion (`--companion i-autorec`), so that the job's progress covers both models.
    job = registry.submit("alice", demo, SplitConfig(), replace(TINY_MODEL, companion="i-autorec"), tiny_train(),
                          label="tiny", meta={"dataset_spec": "demo"})
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == FINISHED, snap.error
    assert snap.progress == 1.0 and snap.epoch == 2 and len(snap.history) == 2
    assert snap.metrics is not None and set(snap.metrics["areas"]) == {"I", "II", "III", "IV"}
    # After DMF, the page followed the I-AutoRec companion's epochs (its last report: epochs run, of the cap).
    assert snap.metrics["companion"]["trained"] and snap.companion == (snap.metrics["companion"]["epochs_run"], 30)
    folder = Path(snap.out_dir)
    assert (folder / "metrics.json").is_file() and (folder / "checkpoint.pt").is_file()
    record = json.loads((folder / RUN_FILE).read_text())
    assert record["status"] == FINISHED and record["dataset_spec"] == "demo" and record["label"] == "tiny"
    runs = list_runs(tmp_path)
    assert [r.run_id for r in runs] == [job.job_id]
    assert runs[0].label == "tiny" and runs[0].model == "dmf" and runs[0].metrics["epochs_run"] == 2


def test_snapshot_is_a_copy_with_progress_and_eta(tmp_path, demo):
    registry = JobRegistry(tmp_path)
    job = registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(epochs=4),
                          train=fake_train(epochs=4, step_seconds=0.03))
    wait_for(lambda: job.snapshot().epoch >= 1)
    snap = job.snapshot()
    assert snap.status == RUNNING and 0.25 <= snap.progress < 1.0
    assert snap.eta_seconds is not None and snap.eta_seconds > 0
    snap.history.append({"epoch": 99})  # a reader's copy: never the job's own list
    assert all(h["epoch"] != 99 for h in job.snapshot().history)
    job.join(30)
    assert job.snapshot().status == FINISHED


def test_only_the_owner_can_stop_a_run(tmp_path, demo):
    registry = JobRegistry(tmp_path)
    job = registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(epochs=50),
                          train=fake_train(epochs=50))
    wait_for(lambda: job.snapshot().status == RUNNING)
    with pytest.raises(PermissionError):
        registry.stop(job.job_id, "mallory")
    assert job.snapshot().active
    registry.stop(job.job_id, "alice")
    assert job.join(10)
    assert job.snapshot().status == STOPPED


def test_stopping_a_real_run_keeps_the_epochs_done(tmp_path, demo):
    registry = JobRegistry(tmp_path)
    job = registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(epochs=200))
    wait_for(lambda: job.snapshot().epoch >= 1, timeout=120)
    registry.stop(job.job_id, "alice")
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == STOPPED and snap.metrics["stop_reason"] == "stopped"
    assert [r.run_id for r in list_runs(tmp_path)] == [job.job_id]


def test_a_run_stopped_before_its_first_epoch_leaves_nothing(tmp_path, demo):
    registry = JobRegistry(tmp_path)
    job = registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(),
                          train=fake_train(epochs=3, step_seconds=0.05, steps=100))
    wait_for(lambda: job.snapshot().step >= 1)
    job.stop("alice")
    assert job.join(10)
    assert job.snapshot().status == STOPPED
    assert not Path(job.snapshot().out_dir).exists()
    assert list_runs(tmp_path) == []


def test_jobs_train_one_at_a_time_in_order(tmp_path, demo):
    registry = JobRegistry(tmp_path)
    first = registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=50))
    second = registry.submit("bob", demo, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=1))
    third = registry.submit("carol", demo, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=1))
    wait_for(lambda: first.snapshot().status == RUNNING)
    time.sleep(0.2)
    assert second.snapshot().status == QUEUED and third.snapshot().status == QUEUED
    assert registry.queue_position(second.job_id) == 0 and registry.queue_position(third.job_id) == 1
    third.stop("carol")  # leaving the queue is allowed; it never trains
    assert third.join(10) and third.snapshot().status == STOPPED
    first.stop("alice")
    assert second.join(30)
    assert second.snapshot().status == FINISHED
    assert second.snapshot().history and not third.snapshot().history


def test_a_failing_run_reports_one_line_and_removes_its_folder(tmp_path, demo):
    registry = JobRegistry(tmp_path)
    job = registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(),
                          train=fake_train(epochs=2, fail="out of memory"))
    assert job.join(10)
    snap = job.snapshot()
    assert snap.status == FAILED and snap.error == "out of memory"
    assert not Path(snap.out_dir).exists()
    # The slot was released: the next job runs.
    nxt = registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(), train=fake_train(epochs=1))
    assert nxt.join(10) and nxt.snapshot().status == FINISHED


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"epochs": 0}, "epochs must be >= 1"), ({"lr": -0.01}, "learning rate must be > 0")],
)
def test_bad_settings_are_refused_before_anything_starts(tmp_path, demo, changes, message):
    registry = JobRegistry(tmp_path)
    with pytest.raises(ValueError, match=message):
        registry.submit("alice", demo, SplitConfig(), TINY_MODEL, tiny_train(**changes))
    assert registry.snapshots() == [] and list(tmp_path.iterdir()) == []


def test_run_folders_are_unique_and_never_reused(tmp_path):
    folders = {new_run_folder(tmp_path, "dmf", "demo data!") for _ in range(50)}
    assert len(folders) == 50 and all(f.is_dir() and f.parent == tmp_path for f in folders)
    assert all("-dmf-demo-data-" in f.name for f in folders)


def test_list_runs_skips_incomplete_and_foreign_folders(tmp_path):
    (tmp_path / "in-progress").mkdir()
    (tmp_path / "in-progress" / RUN_FILE).write_text("{}")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metrics.json").write_text("{not json")
    (tmp_path / "broken" / "checkpoint.pt").write_bytes(b"")
    (tmp_path / "cli-run").mkdir()
    (tmp_path / "cli-run" / "metrics.json").write_text(json.dumps({"areas": {}, "model": "dmf-d"}))
    (tmp_path / "cli-run" / "checkpoint.pt").write_bytes(b"")
    runs = list_runs(tmp_path)
    assert [r.run_id for r in runs] == ["cli-run"] and runs[0].discrete and runs[0].meta == {}
    assert list_runs(tmp_path / "missing") == []


def test_training_slot_gives_up_when_cancelled():
    slot = TrainingSlot()
    slot.enqueue("a")
    slot.enqueue("b")
    assert slot.acquire("a", threading.Event())
    cancelled = threading.Event()
    cancelled.set()
    assert not slot.acquire("b", cancelled, poll=0.01)
    assert slot.position("b") is None
    slot.release("a")


def test_app_runs_with_one_seed_are_identical_whatever_runs_beside_them(tmp_path, demo):
    """Two app jobs with the same settings, one training alone and one while another job (another seed) trains at
    the same time and the Train page's estimate runs on a third thread, give identical figures: each run draws
    only from its own generators."""
    settings = {"epochs": 3, "seed": 11, "input_dropout": 0.25}
    alone = JobRegistry(tmp_path / "alone").submit("alice", demo, SplitConfig(seed=4), TINY_MODEL,
                                                   tiny_train(**settings))
    assert alone.join(300) and alone.snapshot().status == FINISHED

    busy = JobRegistry(tmp_path / "busy", exclusive=False)
    stop = threading.Event()

    def estimate_repeatedly() -> None:
        split = split_areas(demo, SplitConfig(seed=4))
        while not stop.is_set():
            estimate_epoch_seconds(demo, split, TINY_MODEL, tiny_train(**settings))

    estimating = threading.Thread(target=estimate_repeatedly)
    estimating.start()
    try:
        other = busy.submit("bob", demo, SplitConfig(seed=4), TINY_MODEL, tiny_train(epochs=3, seed=12))
        same = busy.submit("carol", demo, SplitConfig(seed=4), TINY_MODEL, tiny_train(**settings))
        assert same.join(300) and other.join(300)
    finally:
        stop.set()
        estimating.join()
    first, second = alone.snapshot().metrics, same.snapshot().metrics
    assert same.snapshot().status == FINISHED and second is not None and first is not None
    assert [h["train_loss"] for h in second["history"]] == [h["train_loss"] for h in first["history"]]
    assert second["val_rmse"] == first["val_rmse"]
    assert second["areas"] == first["areas"]
    assert other.snapshot().metrics["areas"] != first["areas"]  # another seed: other numbers
