"""A reproduction of the paper's tables as a background job (`studio.jobs.Job`), for the Results page."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from dmf_core.data import RatingData
from dmf_core.reproduction.plans import TABLE_ENTRIES, TABLES, Plan
from dmf_core.reproduction.runner import reproduce_table
from studio.jobs import ACTIVE_STATUSES, FAILED, FINISHED, QUEUED, RUNNING, STOPPED, Job, TrainingSlot


class _LastLine:
    """A text stream that keeps only its latest line (progress bars redraw with \\r): what the app shows live."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._line = ""
        self._partial = ""

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            pieces = self._partial.replace("\r", "\n").split("\n")
            self._partial = pieces[-1]
            complete = [p.strip() for p in pieces[:-1] if p.strip()]
            if self._partial.strip():
                self._line = self._partial.strip()
            elif complete:
                self._line = complete[-1]
        return len(text)

    def flush(self) -> None:
        pass

    @property
    def line(self) -> str:
        with self._lock:
            return self._line


class ReproductionJob(Job):
    """A reproduction of the paper's tables: they run in order, progress is read via `snapshot()` (a dict). It waits
    for the slot like a training run, so it never competes with one for the same CPU cores. Stopping is honoured
    between runs and within a training step; finished seeds stay saved."""

    kind = "reproduce"

    def __init__(self, job_id: str, owner: str, data: RatingData, out_dir: str | Path, plan: Plan, *,
                 tables: tuple[int, ...] = TABLES, seeds: int | None = None, slot: TrainingSlot | None = None):
        super().__init__(job_id, owner, slot=slot, label=f"reproduction ({plan.name}) on {data.name}")
        self.data = data
        self.out_dir = Path(out_dir)
        self.plan = plan
        self.tables = tables
        self.seeds = plan.seeds if seeds is None else seeds
        self._log = _LastLine()
        self._state: dict[str, Any] = {"status": QUEUED, "done": 0, "current": "", "error": "",
                                       "started": None, "finished": None}
        self.total = sum(self.seeds * len(TABLE_ENTRIES[t]) for t in tables)

    @property
    def active(self) -> bool:
        with self._lock:
            return self._state["status"] in ACTIVE_STATUSES

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            state = dict(self._state)
        state.update(total=self.total, line=self._log.line, active=state["status"] in ACTIVE_STATUSES,
                     stop_requested=self._stop.is_set(), owner=self.owner, job_id=self.job_id)
        started = state["started"]
        state["elapsed"] = ((state["finished"] or time.time()) - started) if started else 0.0
        return state

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._state.update(changes)

    def _cancelled(self) -> None:
        self._set(status=STOPPED, finished=time.time())

    def _fail(self, error: str) -> None:
        self._set(status=FAILED, error=error, finished=time.time())

    def _work(self) -> None:
        self._set(status=RUNNING, started=time.time())
        offset = 0
        for table in self.tables:
            def progress(event: dict[str, Any], offset: int = offset) -> None:
                self._set(done=offset + event["done"], current=f"Table {event['table']}: {event['model']}, "
                          f"seed {event['seed']}")

            reproduce_table(table, self.data, self.out_dir, self.plan, seeds=self.seeds, log=self._log,
                            on_progress=progress, stop_event=self._stop)
            offset += self.seeds * len(TABLE_ENTRIES[table])
            self._set(done=offset)
            if self._stop.is_set():
                break
        self._set(status=STOPPED if self._stop.is_set() else FINISHED, finished=time.time(), current="")
