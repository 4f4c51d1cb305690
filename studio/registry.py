"""The one process-wide table of background jobs (training runs and reproductions), shared by every browser
session through `st.cache_resource`. It validates settings before queuing, hands out unique run folders that are
never reused, and owns the server's one `TrainingSlot`."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data import RatingData
from dmf_core.reproduction.plans import Plan
from dmf_core.runs import train_run
from studio.jobs import Job, TrainingSlot
from studio.reproduction_job import ReproductionJob
from studio.training_job import JobSnapshot, TrainingJob

JobT = TypeVar("JobT", bound=Job)


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
    """Every job of this process, training runs and reproductions alike. Thread-safe; one instance is shared by all
    browser sessions, and its one slot makes them take turns."""

    def __init__(self, runs_root: str | Path, *, exclusive: bool = True, keep: int = 50):
        self.runs_root = Path(runs_root)
        self.slot = TrainingSlot() if exclusive else None
        self.keep = keep  # finished jobs remembered in memory (their runs stay on disk regardless)
        self._jobs: dict[str, Job] = {}
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
        return self._add(job)

    def submit_reproduction(self, owner: str, data: RatingData, out_dir: str | Path, plan: Plan, *,
                            seeds: int | None = None) -> ReproductionJob:
        """Queue a reproduction writing to `out_dir`; refused (ValueError) while another one writes there."""
        with self._lock:
            busy = [j for j in self._jobs.values() if isinstance(j, ReproductionJob) and j.active
                    and j.out_dir == Path(out_dir)]
        if busy:
            raise ValueError("a reproduction into this folder is already queued or running")
        job = ReproductionJob(f"reproduce-{secrets.token_hex(4)}", owner, data, out_dir, plan, seeds=seeds,
                              slot=self.slot)
        return self._add(job)

    def reproduction(self, out_dir: str | Path) -> ReproductionJob | None:
        """The latest reproduction writing to `out_dir`, running or ended (while it is remembered)."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if isinstance(j, ReproductionJob) and j.out_dir == Path(out_dir)]
        return max(jobs, key=lambda j: j.created, default=None)

    def _add(self, job: JobT) -> JobT:
        with self._lock:
            self._jobs[job.job_id] = job
            self._forget_old()
        job.start()
        return job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def snapshots(self, owner: str | None = None, active_only: bool = False) -> list[JobSnapshot]:
        """Newest first; filtered by owner and/or to queued and running jobs."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if isinstance(job, TrainingJob)]
        snaps = [job.snapshot() for job in jobs if owner is None or job.owner == owner]
        if active_only:
            snaps = [s for s in snaps if s.active]
        return sorted(snaps, key=lambda s: s.created, reverse=True)

    def queue_position(self, job_id: str) -> int | None:
        return self.slot.position(job_id) if self.slot is not None else None

    def stop(self, job_id: str, requester: str) -> None:
        job = self.get(job_id)
        if job is None:
            raise KeyError(f"no job {job_id!r}")
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
        done = [j for j in self._jobs.values() if not j.active]
        for job in sorted(done, key=lambda j: j.created)[: max(0, len(done) - self.keep)]:
            del self._jobs[job.job_id]
