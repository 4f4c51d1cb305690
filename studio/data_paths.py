"""Which server folders the Data page's Path field may read, for an app served to a class.

Anyone who opens the page can type a path; without a limit they could probe the server's file system (whether a
path exists, a file's first line quoted back by a parse error). By default the field reads only the data folder
($DMF_DATA_DIR or `data/`), the MovieLens copies named by $DMF_<NAME>_DIR and their shared location next to the
repository (where `dmf_core.data.find_movielens` looks), and the upload folder. The operator adds folders with
DMF_DATA_PATHS (separated by the OS path separator or commas), or opens everything with DMF_DATA_PATHS=* (a
single-user laptop). A path outside gets one line, the same whether or not it exists. The library and the CLI read
any path they are given: this limit is the app's (docs/serving.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dmf_core.data import RELEASES
from dmf_core.data.sources import SHARED_DATA_DIR, movielens_env

from . import state

PATHS_ENV = "DMF_DATA_PATHS"
EVERYTHING = "*"


class OutsideDataPaths(ValueError):
    """A path the Path field may not read; its message is the same for every such path."""


def _resolved(path: str | Path) -> Path:
    # strict=False: a path that does not exist resolves too, so the answer cannot tell whether it exists.
    return Path(path).expanduser().resolve(strict=False)


def allowed_roots() -> list[Path] | None:
    """The folders (or files) the Path field may read, resolved; None when DMF_DATA_PATHS=* opens everything."""
    extra = [part.strip() for part in re.split(rf"[,{re.escape(os.pathsep)}]", os.environ.get(PATHS_ENV, ""))]
    if EVERYTHING in extra:
        return None
    roots = [state.data_dir(), state.upload_dir(), SHARED_DATA_DIR]
    roots += [os.environ[name] for name in map(movielens_env, RELEASES) if os.environ.get(name)]
    roots += [part for part in extra if part]
    return list(dict.fromkeys(_resolved(root) for root in roots))


def refusal(roots: list[Path]) -> str:
    return "this server only reads datasets under " + ", ".join(str(root) for root in roots) + \
        f" (its operator can add folders with {PATHS_ENV})"


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _readable_files(path: Path, roots: list[Path]) -> list[Path]:
    """What loading `path` may open: a folder's files and those one level below (the ratings file is looked for
    there); a file and the files beside it (titles, user attributes), unless the file is itself an allowed root (a
    $DMF_ML1M_DIR naming a zip: what lies beside it is not offered)."""
    if path.is_dir():
        folders = [path, *(child for child in path.iterdir() if child.is_dir())]
    else:
        folders = [path.parent] if _inside(path.parent, roots) else []
    return [entry for folder in folders for entry in folder.iterdir()]


def check(text: str) -> Path:
    """The path typed into the Path field, resolved (symlinks and `..` followed), if the server may read it; else
    OutsideDataPaths with one line that does not say whether the path exists. A symlink inside an allowed folder
    that points out of them is refused like the path it points to."""
    roots = allowed_roots()
    path = _resolved(text.strip())
    if roots is None:
        return path
    if not _inside(path, roots):
        raise OutsideDataPaths(refusal(roots))
    try:
        files = _readable_files(path, roots) if path.exists() else []
    except OSError:
        files = []  # unreadable: the loader says so, about a path inside the allowed folders
    if any(not _inside(_resolved(entry), roots) for entry in files):
        raise OutsideDataPaths(refusal(roots))
    return path
