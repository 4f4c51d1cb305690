"""What one browser session remembers, under keys defined once here (typos in string keys fail silently).

Session state lives as long as the browser tab's session: page switches keep it, a reload or a typed URL starts a
new one. Training jobs do not live here (they belong to the process-wide registry); the session only keeps the ids
of the jobs it started and a random owner token that proves it started them.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dmf_core.config import SplitConfig
from dmf_core.data import DATA_DIR

REPO_ROOT = Path(__file__).resolve().parents[1]

OWNER = "studio_owner"
DATASET = "studio_dataset"
SPLIT = "studio_split"
JOBS = "studio_jobs"
RUN = "studio_selected_run"
DATA_MESSAGE = "studio_data_message"
NEW_USER = "studio_new_user_ratings"


def runs_root() -> Path:
    """Where runs are written: $DMF_RUNS_DIR (tests point it at a temporary folder) or ./runs."""
    return Path(os.environ.get("DMF_RUNS_DIR") or REPO_ROOT / "runs")


def data_dir() -> Path:
    """Downloads go to $DMF_DATA_DIR or ./data (git-ignored: the MovieLens licence forbids sharing it)."""
    return Path(os.environ.get("DMF_DATA_DIR") or DATA_DIR)


def upload_dir() -> Path:
    """Uploaded files are kept here so a run trained on them can be reopened later."""
    return Path(os.environ.get("DMF_UPLOAD_DIR") or data_dir() / "uploads")


@dataclass(frozen=True)
class DatasetRef:
    """The dataset a session works on: `spec` is what `dmf_core.data.load_dataset` takes."""

    spec: str  # "demo", "ml-1m" or a path
    label: str

    @property
    def key(self) -> str:
        """Cache key: the spec, plus the file's modification time for paths, so an edited file is re-read."""
        if self.spec in ("demo", "ml-1m"):
            return self.spec
        try:
            return f"{self.spec}@{Path(self.spec).stat().st_mtime_ns}"
        except OSError:
            return self.spec


DEMO = DatasetRef("demo", "Demo (built-in, generated)")


def init() -> None:
    """Defaults for a fresh session."""
    st.session_state.setdefault(OWNER, uuid.uuid4().hex)
    st.session_state.setdefault(DATASET, DEMO)
    st.session_state.setdefault(SPLIT, SplitConfig())
    st.session_state.setdefault(JOBS, [])


def owner() -> str:
    init()
    return st.session_state[OWNER]


def dataset() -> DatasetRef:
    init()
    return st.session_state[DATASET]


def set_dataset(ref: DatasetRef) -> None:
    st.session_state[DATASET] = ref


def split_config() -> SplitConfig:
    init()
    return st.session_state[SPLIT]


def set_split(config: SplitConfig) -> None:
    st.session_state[SPLIT] = config


def my_jobs() -> list[str]:
    init()
    return st.session_state[JOBS]


def add_job(job_id: str) -> None:
    st.session_state[JOBS] = [*my_jobs(), job_id]


def selected_run() -> str | None:
    return st.session_state.get(RUN)


def select_run(run_id: str | None) -> None:
    st.session_state[RUN] = run_id
