"""Where ratings come from: a spec string ("demo", "ml-1m", "ml-25m", a path), a folder, a zip, or an upload's bytes.

`load_dataset` picks one from a spec string, `load_upload` from an uploaded file's name and bytes; `find_movielens`
says where a MovieLens release (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m) is. Either takes an explicit rating scale;
without one the scale is read from the data. The parsing itself is `formats`; the generated demo is `demo`.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ..errors import one_line
from ..files import project_root
from . import demo
from .formats import FORMATS, NOT_FOUND, USERS, build, kind_of, pick_ratings_file, sibling, sniff_kind
from .ratings import DataError, RatingData, ScaleRequest

Progress = Callable[[int, int], None]  # progress(done_bytes, total_bytes); total is 0 when unknown

REPO_ROOT = project_root()  # the checkout, or the current directory for an installed package
DATA_DIR = REPO_ROOT / "data"  # downloads and unpacked copies; git-ignored (the MovieLens licence forbids sharing)
ML1M_ENV = "DMF_ML1M_DIR"  # where a read-only shared copy of MovieLens-1M lives, if anywhere
SHARED_DATA_DIR = REPO_ROOT.parent / "shared" / "data"  # the team's shared checkout layout
SHARED_ML1M_DIR = SHARED_DATA_DIR / "ml-1m"
RELEASES = ("ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m")  # the MovieLens names `load_dataset` resolves
RATINGS_FILES = ("ratings.dat", "ratings.csv", "u.data")  # ML-1M and ML-10M; ML-20M and ML-25M; ML-100K
MAX_UNPACKED_BYTES = 1 << 31  # ML-25M unpacks to 1.2 GB; far beyond that is a zip bomb, not ratings

# ---------------------------------------------------------------------------------------------------------------
# folders and files on disk


def load_ml1m_folder(folder: str | Path) -> RatingData:
    folder = Path(folder)
    ratings_path = folder / "ratings.dat"
    if not ratings_path.is_file():
        raise DataError(f"{folder}: no ratings.dat in this folder")
    return _load_file(ratings_path, "ml-1m", progress=None)


def _load_file(path: Path, kind: str, progress: Progress | None, scale: ScaleRequest | None = None) -> RatingData:
    if kind == "zip":
        return _load_zip(io.BytesIO(_read_file(path, progress)), str(path), scale)
    raw = _read_file(path, progress)
    titles_raw = _read_beside(path, FORMATS[kind][1]) if kind in FORMATS else None
    users_raw = _read_beside(path, USERS[kind][0]) if kind in USERS else None
    return build(kind, raw, str(path), titles_raw, users_raw, scale)


def _read_beside(path: Path, filename: str) -> bytes | None:
    sibling = path.with_name(filename)
    return _read_file(sibling, None) if sibling.is_file() else None


def _read_file(path: Path, progress: Progress | None) -> bytes:
    """Read a whole file, reporting bytes read so a UI can show a bar for big files."""
    try:
        if progress is None:
            return path.read_bytes()
        total = path.stat().st_size
        progress(0, total)
        chunks: list[bytes] = []
        done = 0
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                chunks.append(chunk)
                done += len(chunk)
                progress(done, total)
        return b"".join(chunks)
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None


def _find_in_folder(folder: Path) -> tuple[Path, str]:
    """The ratings file in a folder or one level below it (an unpacked zip usually adds one folder)."""
    try:
        names = [p.name for p in folder.iterdir() if p.is_file()]
        names += [f"{d.name}/{p.name}" for d in folder.iterdir() if d.is_dir() for p in d.iterdir() if p.is_file()]
    except OSError as error:
        raise DataError(f"{folder}: cannot list the folder ({error.strerror or error})") from None
    picked = pick_ratings_file(names)
    if picked is None:
        raise DataError(f"{folder}: {NOT_FOUND} in this folder")
    return folder / picked[0], picked[1]


# ---------------------------------------------------------------------------------------------------------------
# zips


def check_zip_members(archive: zipfile.ZipFile, source: str, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Reject members that would land outside the folder they are unpacked into ('../', absolute paths, drive
    letters) and archives that unpack to more than `max_bytes`, before anything is read or written."""
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in PurePosixPath(name).parts:
            raise DataError(f"{source}: zip member {info.filename!r} would escape the target folder")
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max_bytes:
        raise DataError(
            f"{source}: zip would unpack to {unpacked / 1e9:.1f} GB, over the {max_bytes / 1e9:.1f} GB limit"
        )


def open_zip(file: str | Path | io.BytesIO, source: str) -> zipfile.ZipFile:
    """Open a zip, turning "not a zip" / truncated archives into a one-line DataError."""
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        raise DataError(f"{source}: corrupt or not a zip file ({one_line(error)})") from None


# BadZipFile covers CRC mismatches; RuntimeError an encrypted member; NotImplementedError odd compression.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def read_zip_member(archive: zipfile.ZipFile, name: str, source: str) -> bytes:
    try:
        return archive.read(name)
    except (*ZIP_ERRORS, OSError) as error:
        raise DataError(f"{source}: corrupt zip member {name} ({one_line(error)})") from None


def _load_zip(file: str | Path | io.BytesIO, source: str, scale: ScaleRequest | None = None) -> RatingData:
    """Read the ratings (and titles) straight out of a zip: nothing is unpacked to disk."""
    with open_zip(file, source) as archive:
        check_zip_members(archive, source)
        files = [info.filename for info in archive.infolist() if not info.is_dir()]
        picked = pick_ratings_file(files)
        if picked is None:
            raise DataError(f"{source}: {NOT_FOUND} inside the zip")
        member, kind = picked
        raw = read_zip_member(archive, member, source)

        def beside(filename: str) -> bytes | None:
            name = sibling(member, filename)
            return read_zip_member(archive, name, source) if name in files else None

        titles_raw = beside(FORMATS[kind][1]) if kind in FORMATS else None
        users_raw = beside(USERS[kind][0]) if kind in USERS else None
    return build(kind, raw, f"{source}:{member}", titles_raw, users_raw, scale)



# ---------------------------------------------------------------------------------------------------------------
# public entry points


def _demo_size(spec: str) -> dict[str, int]:
    """ "demo" or "demo:USERSxITEMSxRATINGS" (e.g. demo:162000x59000x25000000, ML-25M's size) as make_demo's sizes."""
    if spec == "demo":
        return {}
    parts = spec.removeprefix("demo:").lower().replace("_", "").split("x")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise DataError(f"{spec!r}: expected demo:USERSxITEMSxRATINGS, e.g. demo:6040x3706x1000000")
    n_users, n_items, n_ratings = (int(part) for part in parts)
    return {"n_users": n_users, "n_items": n_items, "n_ratings": n_ratings, "name": f"demo-{n_users}x{n_items}x{n_ratings}"}


def load_dataset(
    spec: str | Path, *, data_dir: Path = DATA_DIR, progress: Progress | None = None,
    rating_scale: ScaleRequest | None = None,
) -> RatingData:
    """Load ratings from `spec`: "demo" (generated), "ml-100k" / "ml-1m" / "ml-10m" / "ml-20m" / "ml-25m" (see
    `find_movielens`), or a path to a folder, a .zip, a ratings.dat, a u.data, or a .csv/.tsv file.
    `progress(done_bytes, total_bytes)` follows the file read. `rating_scale` (low, high[, step]; see
    `ratings.parse_rating_scale`) overrides the scale read from the data."""
    if isinstance(spec, str) and (spec.strip() == "demo" or spec.strip().startswith("demo:")):
        try:
            data = demo.make_demo(**_demo_size(spec.strip()))
        except ValueError as error:
            raise DataError(f"{spec.strip()}: {error}") from None
        if progress is not None:
            progress(1, 1)
        return data
    if isinstance(spec, str) and spec.strip() in RELEASES:
        spec = find_movielens(spec.strip(), data_dir)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(
            f"{path}: no such file or folder (expected 'demo', 'ml-100k', 'ml-1m', 'ml-10m', 'ml-20m', 'ml-25m' or a "
            "path to a folder, .zip, ratings.dat, u.data, .csv or .tsv file)"
        )
    if path.is_dir():
        path, kind = _find_in_folder(path)
    else:
        kind = kind_of(path.name) or sniff_kind(_read_head(path))
    return _load_file(path, kind, progress, rating_scale)


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(200)
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None


def movielens_env(name: str) -> str:
    """The variable naming an existing copy of a release: DMF_ML100K_DIR, DMF_ML1M_DIR, DMF_ML10M_DIR, ..."""
    return f"DMF_{name.replace('-', '').upper()}_DIR"


def find_movielens(name: str, data_dir: Path = DATA_DIR) -> Path:
    """Where the MovieLens release `name` (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m) is, in order: the downloaded copy
    in data_dir/<name>, a <name>.zip put in data_dir by hand (the offline route), $DMF_<NAME>_DIR, then
    ../shared/data/<name> next to the repository. Raises DataError saying how to get it otherwise."""
    cached = Path(data_dir) / name
    if any((cached / f).is_file() for f in RATINGS_FILES):
        return cached
    if (Path(data_dir) / f"{name}.zip").is_file():
        return Path(data_dir) / f"{name}.zip"
    variable = movielens_env(name)
    configured = os.environ.get(variable)
    if configured:
        # A set variable that points nowhere is a mistake worth reporting, not something to fall back from.
        path = Path(configured).expanduser()
        if not path.exists():
            raise DataError(f"{variable}={configured}: no such file or folder")
        return path
    shared = SHARED_ML1M_DIR if name == "ml-1m" else SHARED_DATA_DIR / name
    if any((shared / f).is_file() for f in RATINGS_FILES):
        return shared
    label = release_label(name)
    download = "" if name == "ml-1m" else f" --dataset {name}"
    raise DataError(
        f"{label} not found: download it with `python -m dmf_core download{download}`, "
        f"or give the path to its folder or {name}.zip (or set {variable})"
    )


def release_label(name: str) -> str:
    """ "ml-100k" -> "MovieLens-100K"."""
    return "MovieLens-" + name.removeprefix("ml-").upper()


def find_ml1m(data_dir: Path = DATA_DIR) -> Path:
    """`find_movielens("ml-1m")`: data_dir/ml-1m, data_dir/ml-1m.zip, $DMF_ML1M_DIR, ../shared/data/ml-1m."""
    return find_movielens("ml-1m", data_dir)


def load_upload(name: str, payload: bytes, rating_scale: ScaleRequest | None = None) -> RatingData:
    """Load an uploaded file (zip, ratings.dat, u.data, csv/tsv) from its name and bytes; nothing touches disk."""
    source = PurePosixPath(name.replace("\\", "/")).name or "upload"
    if not payload:
        raise DataError(f"{source}: the file is empty")
    kind = kind_of(source) or sniff_kind(payload)
    if kind == "zip":
        return _load_zip(io.BytesIO(payload), source, rating_scale)
    return build(kind, payload, source, titles_raw=None, rating_scale=rating_scale)


