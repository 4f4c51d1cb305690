"""The one process-wide table of background jobs (training runs and reproductions), shared by every browser
session. It checks every setting against the data before queuing, hands out unique run folders that are never
reused, limits how many runs one session may queue, resumes interrupted runs, and owns the server's one
`TrainingSlot`. `JobRegistry.shared(root)` is the one instance per runs folder, whatever Streamlit's caches do."""

from __future__ import annotations

import os
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
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs.folder import check_run, interrupted_checkpoint, train_run
from studio.jobs import Job, TrainingSlot
from studio.recovery import mark_interrupted, read_record
from studio.reproduction_job import ReproductionJob
from studio.training_job import JobSnapshot, TrainingJob

JobT = TypeVar("JobT", bound=Job)

# Runs one session may have queued or running at once. One trains at a time on a server, so a session that queues
# many blocks everyone else's queue; two lets a learner line up a comparison run behind the one that trains.
MAX_ACTIVE_PER_OWNER = 2

# The server's operator may cap every run's time budget (seconds): DMF_MAX_RUN_SECONDS.
MAX_SECONDS_ENV = "DMF_MAX_RUN_SECONDS"

_shared: dict[Path, JobRegistry] = {}
_shared_lock = threading.Lock()


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

    def __init__(self, runs_root: str | Path, *, exclusive: bool = True, keep: int = 50,
                 max_active_per_owner: int = MAX_ACTIVE_PER_OWNER):
        self.runs_root = Path(runs_root)
        self.slot = TrainingSlot() if exclusive else None
        self.keep = keep  # finished jobs remembered in memory (their runs stay on disk regardless)
        self.max_active_per_owner = max_active_per_owner
        self._jobs: dict[str, Job] = {}
        self._requests: dict[str, str] = {}  # request id -> job id: a repeated Start is the same start
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, runs_root: str | Path) -> JobRegistry:
        """The registry of this process for `runs_root`. A second one would hold a second slot and let two runs
        train at once, so it is kept here rather than only in Streamlit's resource cache (which a user may clear).
        Made on first use, after marking the runs that a crash or a restart left unfinished as interrupted."""
        root = Path(runs_root).resolve()
        with _shared_lock:
            if root not in _shared:
                mark_interrupted(root)
                _shared[root] = cls(root)
            return _shared[root]

    @staticmethod
    def all_shared() -> list[JobRegistry]:
        with _shared_lock:
            return list(_shared.values())

    def _check_quota(self, owner: str) -> None:
        with self._lock:
            active = sum(1 for j in self._jobs.values() if j.owner == owner and j.active)
        if active >= self.max_active_per_owner:
            raise ValueError(f"this session already has {active} run(s) queued or running (at most "
                             f"{self.max_active_per_owner}): wait for one to end, or stop it")

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
        request_id: str | None = None,
    ) -> TrainingJob:
        """Check every setting against the data (ValueError with a one-line message; nothing is queued) and queue
        a new run in a new folder. The same `request_id` twice (a double click, a re-sent Start) is one run."""
        with self._lock:
            earlier = self._jobs.get(self._requests.get(request_id or "", ""))
        if isinstance(earlier, TrainingJob):
            return earlier
        check_run(data, split_config, model_config, train_config)
        cap = float(os.environ.get(MAX_SECONDS_ENV) or 0)
        if cap and (train_config.max_seconds is None or train_config.max_seconds > cap):
            raise ValueError(f"this server allows runs of at most {cap:g} s: set a time budget of {cap:g} s or less")
        self._check_quota(owner)
        folder = new_run_folder(self.runs_root, train_config.model, data.name)
        job = TrainingJob(
            folder.name, owner, data, split_config, model_config, train_config, folder,
            slot=self.slot, label=label, meta=meta, train=train,
        )
        if request_id:
            with self._lock:
                self._requests[request_id] = job.job_id
        return self._add(job)

    def resume(self, owner: str, folder: str | Path, data: RatingData) -> TrainingJob:
        """Queue an interrupted run to go on from its last saved epoch, in its own folder, as `owner`'s run."""
        folder = Path(folder)
        checkpoint = interrupted_checkpoint(folder)
        if checkpoint is None:
            raise ValueError(f"{folder.name} has no interrupted run to resume")
        ckpt.check_matches(checkpoint, data, folder.name)
        with self._lock:
            if any(isinstance(j, TrainingJob) and j.active and j.out_dir == folder for j in self._jobs.values()):
                raise ValueError(f"{folder.name} is already being resumed")
        self._check_quota(owner)
        model_config, train_config, split_config = ckpt.configs(checkpoint)
        record = read_record(folder) or {}
        meta = {k: v for k, v in record.items() if k.startswith("dataset_")}
        job = TrainingJob(
            folder.name, owner, data, split_config, model_config, train_config, folder,
            slot=self.slot, label=str(record.get("label") or ""), meta=meta, resume=checkpoint,
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

    def stop(self, job_id: str, requester: str, *, admin: bool = False) -> None:
        job = self.get(job_id)
        if job is None:
            raise KeyError(f"no job {job_id!r}")
        job.stop(requester, admin=admin)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every job and wait for the threads (tests and server shutdown)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.stop(job.owner, admin=True)
        deadline = time.monotonic() + timeout
        for job in jobs:
            job.join(max(0.0, deadline - time.monotonic()))

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if not j.active]
        for job in sorted(done, key=lambda j: j.created)[: max(0, len(done) - self.keep)]:
            del self._jobs[job.job_id]
