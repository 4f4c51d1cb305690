"""Helpers for the AppTest suite (imported by the tests; fixtures live in conftest.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from streamlit.testing.v1 import AppTest


def wait_until(at: AppTest, predicate: Callable[[AppTest], bool], timeout: float = 240.0,
               interval: float = 0.5) -> AppTest:
    """Rerun the page until `predicate(at)` holds: AppTest does not tick `run_every` fragments by itself."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if predicate(at):
            return at
        if time.monotonic() > deadline:
            raise AssertionError("the page never reached the expected state")
        time.sleep(interval)


def texts(at: AppTest) -> str:
    """Every piece of visible text of a page, for substring checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error",
                 "toast"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [e.text for e in at.progress]
    return "\n".join(parts)


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


# The New user page's tables, in the order the page draws them (AppTest gives a dataframe no key): yours beside the
# form, the two top-10s below at full width, then the nearest movies beside the map.
NEW_USER_TABLES = ("mine", "recs", "popular", "nearest")


def new_user_tables(at: AppTest) -> dict:
    """The New user page's tables by name (`NEW_USER_TABLES`), as DataFrames."""
    return dict(zip(NEW_USER_TABLES, (frame.value for frame in at.dataframe), strict=False))
