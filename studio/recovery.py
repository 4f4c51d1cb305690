"""Runs that a crash, a kill or a server restart ended mid-way: found when the server starts, marked as interrupted
in their folders, and listed on the Train page to be resumed from their last checkpointed epoch.

A run's `run.json` says "queued" or "running" while its job lives; the record also names the server process. If
that process is gone, nobody will finish the run: with an epoch's checkpoint it becomes "interrupted" (resumable),
without one "failed". Runs of a server still alive are left alone, so two servers may share a runs folder.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dmf_core.files import write_json
from dmf_core.runs.folder import CHECKPOINT_FILE, METRICS_FILE, RUN_FILE
from studio.jobs import ACTIVE_STATUSES, FAILED, INTERRUPTED


@dataclass(frozen=True)
class Interrupted:
    """An interrupted run as its folder describes it (cheap: its run.json, not its checkpoint)."""

    folder: Path
    record: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.folder.name

    @property
    def title(self) -> str:
        record = self.record
        label = f" «{record['label']}»" if record.get("label") else ""
        epochs = (record.get("config") or {}).get("train", {}).get("epochs", "?")
        why = f"; {record['message']}" if record.get("message") else ""
        return (f"{self.run_id}{label}: {str(record.get('model', '?')).upper()} on {record.get('dataset', '?')}, "
                f"{record.get('epochs_done', 0)} of {epochs} epochs done{why}")


def read_record(folder: Path) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        record = json.loads((folder / RUN_FILE).read_text())
        return record if isinstance(record, dict) else None
    return None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True  # this server: its own jobs are in its registry
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def mark_interrupted(root: str | Path) -> list[Path]:
    """Mark the runs under `root` whose server process is gone; returns the folders marked interrupted."""
    root = Path(root)
    marked: list[Path] = []
    if not root.is_dir():
        return marked
    for folder in sorted(root.iterdir()):
        record = read_record(folder) if folder.is_dir() else None
        if record is None or record.get("status") not in ACTIVE_STATUSES or _alive(record.get("pid")):
            continue
        if (folder / CHECKPOINT_FILE).is_file() and not (folder / METRICS_FILE).is_file():
            record.update(status=INTERRUPTED, message="the server stopped during the run; resumable")
            marked.append(folder)
        else:
            record.update(status=FAILED, message="the server stopped before the run's first epoch was saved")
        with contextlib.suppress(OSError):
            write_json(record, folder / RUN_FILE)
    return marked


def interrupted_runs(root: str | Path) -> list[Interrupted]:
    """Interrupted runs under `root` with a checkpoint to resume from, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        record = read_record(folder) if folder.is_dir() else None
        if (record is not None and record.get("status") == INTERRUPTED and (folder / CHECKPOINT_FILE).is_file()
                and not (folder / METRICS_FILE).is_file()):
            found.append(Interrupted(folder, record))
    return sorted(found, key=lambda run: float(run.record.get("created") or 0), reverse=True)
