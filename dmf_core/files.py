"""Files: the one atomic write (a file appears whole or not at all, so a reader polling it, the app, or a crash
mid-write never leaves half a document, and a run's folder always holds its last complete checkpoint), and the
folder that data/ and results/ hang from."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def project_root() -> Path:
    """The checkout the package runs from (where `data/` and `results/` live beside `dmf_core/`); for a package
    installed with `pip install .`, whose folder is site-packages, the current directory instead."""
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """`write(tmp_name)` fills a temporary file beside `path`, which then replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(handle)
    try:
        write(tmp_name)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return path


def write_json(payload: dict[str, Any], path: str | Path) -> Path:
    """JSON, atomically; NaN is refused (not JSON), numpy scalars are written as floats."""

    def write(name: str) -> None:
        with open(name, "w") as stream:
            json.dump(payload, stream, indent=1, allow_nan=False, default=float)

    return atomic_write(path, write)
