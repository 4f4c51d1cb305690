"""A training run as a background job (`studio.jobs.Job`): `runs.train_run` in the job's thread, the same path as
the CLI, so a run made in the app looks the same on disk. Pages read `JobSnapshot` copies of its progress.

Its folder's `run.json` records the job for the app (status, owner-free metadata, the server's process id and the
epochs done); `checkpoint.pt` is rewritten after every epoch (or every few, see `runs.CHECKPOINT_SHARE`). So a run that a crash or a server restart ends is
found at the next start (`studio.recovery`) and resumed from its last epoch (`resume=` its checkpoint)."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig, to_dict
from dmf_core.data import RatingData
from dmf_core.errors import one_line
from dmf_core.files import write_json
from dmf_core.runs.folder import CHECKPOINT_FILE, RUN_FILE, resume_run, train_run
from studio.jobs import ACTIVE_STATUSES, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING, STOPPED, Job, TrainingSlot


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
    # After DMF: the I-AutoRec companion's (epochs done, at most epochs); None before it or without one.
    companion: tuple[int, int] | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def saved(self) -> bool:
        return self.metrics is not None



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
    companion: tuple[int, int] | None = None


class TrainingJob(Job):
    """One training run. Create through `JobRegistry.submit` (which picks the folder)."""

    kind = "train"

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
        resume: dict[str, Any] | None = None,
    ):
        super().__init__(job_id, owner, slot=slot, label=label)
        self.resume = resume  # an interrupted run's checkpoint: go on in its folder from its last epoch
        self.data = data
        self.split_config = split_config
        self.model_config = model_config
        self.train_config = train_config
        self.out_dir = Path(out_dir)
        self.meta = dict(meta or {})
        self._train = train  # injectable so tests can simulate failures without training
        self._state = _State()

    @property
    def active(self) -> bool:
        with self._lock:
            return self._state.status in ACTIVE_STATUSES

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
                companion=state.companion,
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

    def _on_companion(self, epoch: int, epochs: int) -> None:
        with self._lock:
            self._state.companion = (epoch, epochs)

    def _on_epoch(self, report: dict[str, Any]) -> None:
        with self._lock:
            self._state.history.append(report)
            self._state.epoch = int(report["epoch"])
            self._state.step = 0
        self._write_record(RUNNING)  # epochs done, for the list of interrupted runs should the server die now

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self._state, name, value)

    def _queued(self) -> None:
        self._write_record(QUEUED)

    def _cancelled(self) -> None:
        if self.resume is not None:  # it stays what it was: an interrupted run, resumable later
            self._finish(INTERRUPTED, message="not resumed: stopped before it started")
        else:
            self._finish(STOPPED, message="stopped before it started", keep=False)

    def _fail(self, error: str) -> None:
        # This job's own folder: a checkpoint without metrics.json is one of its epochs (no need to load it).
        if self.resume is not None or (self.out_dir / CHECKPOINT_FILE).is_file():
            # Epochs were saved: keep them, resumable, with the error that ended the run.
            self._finish(INTERRUPTED, error=error, message="failed after a saved epoch; resumable")
        else:
            self._finish(FAILED, error=error, keep=False)  # a half-written folder is removed

    def _work(self) -> None:
        done = list((self.resume or {}).get("history", []))
        self._set(status=RUNNING, started=time.time(), history=done, epoch=len(done))
        self._write_record(RUNNING)
        callbacks = {"on_step": self._on_step, "on_epoch": self._on_epoch, "stop_event": self._stop,
                     "on_companion": self._on_companion}
        if self.resume is not None:
            metrics, result = resume_run(self.resume, self.data, self.out_dir, epochs=self.train_config.epochs,
                                         max_seconds=self.train_config.max_seconds, **callbacks)
        else:
            metrics, result = self._train(self.data, self.split_config, self.model_config, self.train_config,
                                          self.out_dir, **callbacks)
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
        if status == INTERRUPTED:
            self._write_record(status, message=error or message)
        elif (not keep or metrics is None) and self.resume is None:
            metrics = None
            # Only this job's own, freshly created folder is ever removed (never a resumed run's).
            shutil.rmtree(self.out_dir, ignore_errors=True)
        elif metrics is None:
            self._write_record(INTERRUPTED, message=error or message)
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
            "pid": os.getpid(),  # a record saying "running" whose process is gone was interrupted
            "epochs_done": self._state.epoch,
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
