"""What one browser session remembers, under keys defined once here (typos in string keys fail silently).

Session state lives as long as the browser tab's session: page switches keep it, a reload or a typed URL starts a
new one. Training jobs do not live here (they belong to the process-wide registry). What makes a run yours is a
random owner token, kept in the session *and in the URL* (`?session=...`): a reload, or the same link opened again,
is the same owner, so it keeps the right to stop its runs. The person running the server can stop any run: they
start it with DMF_ADMIN_TOKEN set and open the app with `?admin=<that token>`.
"""

from __future__ import annotations

import hmac
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dmf_core.config import SplitConfig
from dmf_core.data import DATA_DIR, RELEASES

REPO_ROOT = Path(__file__).resolve().parents[1]

OWNER = "studio_owner"
DATASET = "studio_dataset"
SPLIT = "studio_split"
RUN = "studio_selected_run"
DATA_MESSAGE = "studio_data_message"
NEW_USER = "studio_new_user_ratings"
ADMIN = "studio_admin"

OWNER_PARAM = "session"  # the URL's query parameter carrying the owner token
ADMIN_PARAM = "admin"
ADMIN_ENV = "DMF_ADMIN_TOKEN"
_TOKEN = re.compile(r"[0-9a-f]{32}")


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

    spec: str  # "demo", a MovieLens release's name ("ml-1m", "ml-100k", ...) or a path
    label: str

    @property
    def key(self) -> str:
        """Cache key: the spec, plus the file's modification time for paths, so an edited file is re-read."""
        if self.spec == "demo" or self.spec in RELEASES:
            return self.spec
        try:
            return f"{self.spec}@{Path(self.spec).stat().st_mtime_ns}"
        except OSError:
            return self.spec


DEMO = DatasetRef("demo", "Demo (built-in, generated)")


def init() -> None:
    """Defaults for a fresh session; the owner token comes from the URL when it carries one (a reload)."""
    if OWNER not in st.session_state:
        token = st.query_params.get(OWNER_PARAM, "")
        st.session_state[OWNER] = token if _TOKEN.fullmatch(token) else uuid.uuid4().hex
    if ADMIN not in st.session_state:
        expected = os.environ.get(ADMIN_ENV, "")
        given = st.query_params.get(ADMIN_PARAM, "")
        st.session_state[ADMIN] = bool(expected) and hmac.compare_digest(given, expected)
    st.session_state.setdefault(DATASET, DEMO)
    st.session_state.setdefault(SPLIT, SplitConfig())


def url_params() -> dict[str, str]:
    """What every page's URL carries (page links pass it on; Streamlit clears query parameters between pages)."""
    init()
    params = {OWNER_PARAM: st.session_state[OWNER]}
    if st.session_state[ADMIN]:
        params[ADMIN_PARAM] = os.environ.get(ADMIN_ENV, "")
    return params


def keep_in_url() -> None:
    """Put the owner token (and the admin token) back into this page's URL, so that a reload keeps them."""
    for key, value in url_params().items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def owner() -> str:
    init()
    return st.session_state[OWNER]


def is_admin() -> bool:
    """The server's operator (DMF_ADMIN_TOKEN given in the URL): may stop any run."""
    init()
    return bool(st.session_state[ADMIN])


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


def selected_run() -> str | None:
    return st.session_state.get(RUN)


def select_run(run_id: str | None) -> None:
    st.session_state[RUN] = run_id
