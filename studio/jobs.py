"""Background jobs for the app, one mechanism for training runs and reproductions: a job works in a daemon thread
while pages poll a snapshot of it.

`Job` is the mechanism: a thread, a `threading.Event` stop flag that only the job's owner (the browser session that
started it) may set, a state record under a lock, and the server's one `TrainingSlot`. A job waits for the slot,
works, records its outcome, and only then frees the slot, so the next job never starts before the last is saved.
The kinds: `training_job.TrainingJob` wraps `runs.train_run` (the same path as the CLI, so a run made in the app
looks the same on disk); `reproduction_job.ReproductionJob` runs the paper's tables (`dmf_core.reproduction`).
`registry.JobRegistry` is the one process-wide table of jobs (the app holds it with `st.cache_resource`).

One job works at a time per process; later ones wait in a FIFO queue ("queued"). Torch's intra-op thread pool is
process-wide, so on a 2-core CPU two concurrent runs would each take twice as long and both finish late, and on a
single GPU they would compete for memory. Queuing keeps every run as fast as the CLI and makes ETAs honest.

Imports no Streamlit: unit-tested with plain pytest.
"""


from __future__ import annotations

import threading
import time
from collections import deque

from dmf_core.errors import one_line

QUEUED, RUNNING, FINISHED, STOPPED, FAILED = "queued", "running", "finished", "stopped", "failed"
INTERRUPTED = "interrupted"  # a crash, a kill or a server restart ended it mid-way: its checkpoint can be resumed
ACTIVE_STATUSES = (QUEUED, RUNNING)


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


class Job:
    """The one job mechanism: a daemon thread that waits for the slot, works, records, then frees the slot.
    Subclasses implement `_work()` (runs in the thread; returns nothing, raises on failure) and `_fail(error)`."""

    kind = "job"

    def __init__(self, job_id: str, owner: str, *, slot: TrainingSlot | None = None, label: str = ""):
        self.job_id = job_id
        self.owner = owner
        self.label = label
        self.created = time.time()
        self._slot = slot
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"dmf-{self.kind}-{job_id}", daemon=True)

    def start(self) -> Job:
        if self._slot is not None:
            self._slot.enqueue(self.job_id)
        self._queued()
        self._thread.start()
        return self

    def stop(self, requester: str, *, admin: bool = False) -> None:
        """Ask the job to stop (honoured within one training step). Only the owner, or the server's operator
        (`admin`), may do this."""
        if requester != self.owner and not admin:
            raise PermissionError("only the session that started this job can stop it")
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def active(self) -> bool:
        raise NotImplementedError

    def _run(self) -> None:
        if self._slot is not None and not self._slot.acquire(self.job_id, self._stop):
            self._cancelled()
            return
        try:
            self._work()
        except Exception as error:  # the UI shows one line; what was saved stays saved
            self._fail(one_line(error))
        finally:
            # Freed only now, after the job recorded its outcome: the next job never starts before this one is saved.
            if self._slot is not None:
                self._slot.release(self.job_id)

    # Hooks
    def _queued(self) -> None:
        pass

    def _cancelled(self) -> None:
        raise NotImplementedError

    def _work(self) -> None:
        raise NotImplementedError

    def _fail(self, error: str) -> None:
        raise NotImplementedError
