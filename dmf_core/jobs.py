"""Background training jobs for the app: a run trains in a daemon thread while pages poll a snapshot of it.

`TrainingJob` wraps `runs.train_run` (the same path as the CLI, so a run made in the app looks the same on disk)
in a thread with a `threading.Event` stop flag. The thread never touches the UI: it updates a small state record
under a lock, and readers take `snapshot()` copies. `JobRegistry` is the one process-wide table of jobs (the app
holds it with `st.cache_resource`); it hands out unique run folders `runs/<run-id>/` that are never reused, and
only a job's owner (the browser session that started it) may stop it.

One job trains at a time per process; later ones wait in a FIFO queue ("queued"). Torch's intra-op thread pool is
process-wide, so on a 2-core CPU two concurrent runs would each take twice as long and both finish late, and on a
single GPU they would compete for memory. Queuing keeps every run as fast as the CLI and makes ETAs honest.

Imports no Streamlit: unit-tested with plain pytest.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import ModelConfig, SplitConfig, TrainConfig, to_dict
from .data import RatingData
from .runs import CHECKPOINT_FILE, METRICS_FILE, train_run, write_json

RUN_FILE = "run.json"  # the app's record of a run: label, dataset spec, status (metrics.json is the CLI contract)
QUEUED, RUNNING, FINISHED, STOPPED, FAILED = "queued", "running", "finished", "stopped", "failed"
ACTIVE_STATUSES = (QUEUED, RUNNING)


def one_line(error: BaseException | str) -> str:
    """The first line of an error message, for the UI (never a traceback)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state at one moment; safe to read from any thread."""

    job_id: str
    owner: str
    status: str
    model: str
    dataset: str
    label: str
    epochs: int  # maximum epochs (early stopping may end sooner)
    epoch: int  # epochs finished
    step: int  # step within the current epoch
    steps: int
    progress: float  # 0..1 over the whole run
    history: list[dict[str, Any]]
    elapsed: float  # seconds since training (not queueing) began
    eta_seconds: float | None
    error: str
    message: str
    out_dir: str
    created: float
    metrics: dict[str, Any] | None = None  # the run's metrics.json content once it is written

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def saved(self) -> bool:
        return self.metrics is not None


class TrainingSlot:
    """A FIFO lock: jobs train one at a time in the order they were submitted. Waiting can be abandoned."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: deque[str] = deque()
        self._holder: str | None = None

    def enqueue(self, job_id: str) -> None:
        with self._condition:
            self._queue.append(job_id)

    def acquire(self, job_id: str, cancelled: threading.Event, poll: float = 0.1) -> bool:
        """Block until `job_id` is first in line and the slot is free; False if `cancelled` is set meanwhile."""
        with self._condition:
            while not (self._holder is None and self._queue and self._queue[0] == job_id):
                if cancelled.is_set():
                    self._remove(job_id)
                    return False
                self._condition.wait(poll)
            self._queue.popleft()
            self._holder = job_id
            return True

    def release(self, job_id: str) -> None:
        with self._condition:
            if self._holder == job_id:
                self._holder = None
            self._remove(job_id)
            self._condition.notify_all()

    def position(self, job_id: str) -> int | None:
        """0-based place in the queue, None when not waiting."""
        with self._condition:
            return self._queue.index(job_id) if job_id in self._queue else None

    def _remove(self, job_id: str) -> None:
        if job_id in self._queue:
            self._queue.remove(job_id)
            self._condition.notify_all()


@dataclass
class _State:
    status: str = QUEUED
    epoch: int = 0
    step: int = 0
    steps: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    started: float | None = None
    finished: float | None = None
    error: str = ""
    message: str = ""
    metrics: dict[str, Any] | None = None


class TrainingJob:
    """One training run in a daemon thread. Create through `JobRegistry.submit` (which picks the folder)."""

    def __init__(
        self,
        job_id: str,
        owner: str,
        data: RatingData,
        split_config: SplitConfig,
        model_config: ModelConfig,
        train_config: TrainConfig,
        out_dir: str | Path,
        *,
        slot: TrainingSlot | None = None,
        label: str = "",
        meta: dict[str, Any] | None = None,
        train: Callable[..., tuple[dict[str, Any], Any]] = train_run,
    ):
        self.job_id = job_id
        self.owner = owner
        self.data = data
        self.split_config = split_config
        self.model_config = model_config
        self.train_config = train_config
        self.out_dir = Path(out_dir)
        self.label = label
        self.meta = dict(meta or {})
        self.created = time.time()
        self._slot = slot
        self._train = train  # injectable so tests can simulate failures without training
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = _State()
        self._thread = threading.Thread(target=self._run, name=f"dmf-train-{job_id}", daemon=True)

    # ----------------------------------------------------------------- control
    def start(self) -> TrainingJob:
        if self._slot is not None:
            self._slot.enqueue(self.job_id)
        self._write_record(QUEUED)
        self._thread.start()
        return self

    def stop(self, requester: str) -> None:
        """Ask the run to stop (honoured within one training step). Only the owner may do this."""
        if requester != self.owner:
            raise PermissionError("only the session that started this run can stop it")
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # ----------------------------------------------------------------- reading
    def snapshot(self) -> JobSnapshot:
        with self._lock:
            state = self._state
            history = [dict(h) for h in state.history]
            epochs = self.train_config.epochs
            within = state.step / state.steps if state.steps else 0.0
            progress = 1.0 if state.status == FINISHED else min(1.0, (state.epoch + within) / epochs)
            now = state.finished or time.time()
            elapsed = now - state.started if state.started is not None else 0.0
            eta = None
            if state.status == RUNNING and progress > 0:
                # Wall-clock rate so far, extrapolated; includes validation time, unlike a per-step estimate.
                eta = elapsed * (1.0 - progress) / progress
            return JobSnapshot(
                job_id=self.job_id,
                owner=self.owner,
                status=state.status,
                model=self.train_config.model,
                dataset=self.data.name,
                label=self.label,
                epochs=epochs,
                epoch=state.epoch,
                step=state.step,
                steps=state.steps,
                progress=progress,
                history=history,
                elapsed=elapsed,
                eta_seconds=eta,
                error=state.error,
                message=state.message,
                out_dir=str(self.out_dir),
                created=self.created,
                metrics=state.metrics,
            )

    # ----------------------------------------------------------------- thread
    def _on_step(self, step: int, steps: int) -> None:
        with self._lock:
            self._state.step, self._state.steps = step, steps

    def _on_epoch(self, report: dict[str, Any]) -> None:
        with self._lock:
            self._state.history.append(report)
            self._state.epoch = int(report["epoch"])
            self._state.step = 0

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self._state, name, value)

    def _run(self) -> None:
        if self._slot is not None and not self._slot.acquire(self.job_id, self._stop):
            self._finish(STOPPED, message="stopped before it started", keep=False)
            return
        try:
            self._set(status=RUNNING, started=time.time())
            self._write_record(RUNNING)
            metrics, result = self._train(
                self.data,
                self.split_config,
                self.model_config,
                self.train_config,
                self.out_dir,
                on_step=self._on_step,
                on_epoch=self._on_epoch,
                stop_event=self._stop,
            )
        except Exception as error:  # the UI shows one line; a half-written folder is removed below
            self._finish(FAILED, error=one_line(error), keep=False)
            return
        finally:
            if self._slot is not None:
                self._slot.release(self.job_id)
        if not result.history:
            # Stopped before one epoch finished: the "model" is its random initialisation, not worth keeping.
            self._finish(STOPPED, message="stopped before the first epoch finished; nothing was saved", keep=False)
        elif result.stop_reason == "stopped":
            self._finish(STOPPED, message=f"stopped after {len(result.history)} epochs; saved", metrics=metrics)
        elif result.stop_reason == "diverged":
            self._finish(FAILED, error=one_line(result.message), metrics=metrics)
        else:
            self._finish(FINISHED, message=result.message, metrics=metrics)

    def _finish(self, status: str, *, error: str = "", message: str = "", metrics: dict | None = None,
                keep: bool = True) -> None:
        if not keep or metrics is None:
            metrics = None
            # Only this job's own, freshly created folder is ever removed.
            shutil.rmtree(self.out_dir, ignore_errors=True)
        else:
            self._write_record(status, stop_reason=metrics.get("stop_reason", ""), message=error or message)
        self._set(status=status, error=error, message=message, metrics=metrics, finished=time.time())

    def _write_record(self, status: str, **extra: Any) -> None:
        record = {
            "run_id": self.job_id,
            "label": self.label,
            "status": status,
            "created": self.created,
            "model": self.train_config.model,
            "dataset": self.data.name,
            "config": {
                "model": to_dict(self.model_config),
                "train": to_dict(self.train_config),
                "split": to_dict(self.split_config),
            },
            **self.meta,
            **extra,
        }
        # The record is a convenience; metrics.json and checkpoint.pt are what matter.
        with contextlib.suppress(OSError):
            write_json(record, self.out_dir / RUN_FILE)


def _slug(text: str, limit: int = 24) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:limit] or "data"


def new_run_folder(root: str | Path, model: str, dataset: str) -> Path:
    """A fresh, unique `root/<time>-<model>-<dataset>-<random>` folder; `mkdir(exist_ok=False)` is the guarantee
    that no two runs (from any session or process) ever share, and so overwrite, a folder."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(20):
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{model}-{_slug(dataset)}-{secrets.token_hex(3)}"
        folder = root / run_id
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a unique run folder under {root}")


class JobRegistry:
    """Every training job of this process. Thread-safe; one instance is shared by all browser sessions."""

    def __init__(self, runs_root: str | Path, *, exclusive: bool = True, keep: int = 50):
        self.runs_root = Path(runs_root)
        self.slot = TrainingSlot() if exclusive else None
        self.keep = keep  # finished jobs remembered in memory (their runs stay on disk regardless)
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        owner: str,
        data: RatingData,
        split_config: SplitConfig,
        model_config: ModelConfig,
        train_config: TrainConfig,
        *,
        label: str = "",
        meta: dict[str, Any] | None = None,
        train: Callable[..., tuple[dict[str, Any], Any]] = train_run,
    ) -> TrainingJob:
        """Validate the settings (ValueError with a clear message) and queue a new run in a new folder."""
        for config in (split_config, model_config, train_config):
            config.validate()
        folder = new_run_folder(self.runs_root, train_config.model, data.name)
        job = TrainingJob(
            folder.name, owner, data, split_config, model_config, train_config, folder,
            slot=self.slot, label=label, meta=meta, train=train,
        )
        with self._lock:
            self._jobs[job.job_id] = job
            self._forget_old()
        return job.start()

    def get(self, job_id: str | None) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def snapshots(self, owner: str | None = None, active_only: bool = False) -> list[JobSnapshot]:
        """Newest first; filtered by owner and/or to queued and running jobs."""
        with self._lock:
            jobs = list(self._jobs.values())
        snaps = [job.snapshot() for job in jobs if owner is None or job.owner == owner]
        if active_only:
            snaps = [s for s in snaps if s.active]
        return sorted(snaps, key=lambda s: s.created, reverse=True)

    def queue_position(self, job_id: str) -> int | None:
        return self.slot.position(job_id) if self.slot is not None else None

    def stop(self, job_id: str, requester: str) -> None:
        job = self.get(job_id)
        if job is None:
            raise KeyError(f"no training job {job_id!r}")
        job.stop(requester)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every job and wait for the threads (tests and server shutdown)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.stop(job.owner)
        deadline = time.monotonic() + timeout
        for job in jobs:
            job.join(max(0.0, deadline - time.monotonic()))

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if j.snapshot().status not in ACTIVE_STATUSES]
        for job in sorted(done, key=lambda j: j.created)[: max(0, len(done) - self.keep)]:
            del self._jobs[job.job_id]


@dataclass(frozen=True)
class RunRecord:
    """A finished run as found on disk."""

    run_id: str
    path: Path
    metrics: dict[str, Any]
    meta: dict[str, Any]
    created: float

    @property
    def model(self) -> str:
        return str(self.metrics.get("model", "?"))

    @property
    def dataset(self) -> str:
        return str(self.metrics.get("dataset", "?"))

    @property
    def discrete(self) -> bool:
        return self.model == "dmf-d"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def label(self) -> str:
        return str(self.meta.get("label") or "")

    def title(self) -> str:
        test = (self.metrics.get("overall") or {}).get("rmse")
        score = f", test RMSE {test:.3f}" if isinstance(test, (int, float)) else ""
        label = f" «{self.label}»" if self.label else ""
        return f"{self.run_id}{label} ({self.model.upper()} on {self.dataset}, {self.metrics.get('epochs_run', 0)} ep{score})"


def read_run(folder: str | Path) -> RunRecord | None:
    """A run folder with a readable metrics.json and a checkpoint, else None (in progress, crashed or foreign)."""
    folder = Path(folder)
    metrics_path = folder / METRICS_FILE
    if not metrics_path.is_file() or not (folder / CHECKPOINT_FILE).is_file():
        return None
    try:
        metrics = json.loads(metrics_path.read_text())
    except (OSError, ValueError):
        return None
    meta: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):  # a CLI run has no run.json
        meta = json.loads((folder / RUN_FILE).read_text())
    if not isinstance(metrics, dict) or "areas" not in metrics:
        return None
    created = float(meta.get("created") or metrics_path.stat().st_mtime)
    return RunRecord(run_id=folder.name, path=folder, metrics=metrics, meta=meta, created=created)


def list_runs(root: str | Path) -> list[RunRecord]:
    """Finished runs under `root` (CLI runs included), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    records = [read_run(folder) for folder in root.iterdir() if folder.is_dir()]
    return sorted((r for r in records if r is not None), key=lambda r: r.created, reverse=True)
