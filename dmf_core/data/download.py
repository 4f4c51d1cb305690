"""Download a MovieLens release (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m) from GroupLens into data/<name>, all or
nothing.

The zip streams into a temp file next to the target, is checked against the md5 GroupLens publishes beside it
(`<name>.zip.md5`), unpacked into a temp folder (ML-1M's ratings.dat also checked against a sha256) before one
rename puts data/<name> in place. Any failure removes the temp files, so a later `load_dataset("<name>")` never
sees half a download. The command line's `python -m dmf_core download [--dataset NAME]` runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import one_line
from .ratings import DataError
from .sources import DATA_DIR, ZIP_ERRORS, Progress, check_zip_members, open_zip

ML1M_URL = "https://files.grouplens.org/datasets/movielens/ml-1m.zip"
ML1M_ZIP_MD5 = "c4d9eecfca2ab87c1945afe126590906"  # published by GroupLens next to the zip
# Of the unpacked ratings.dat: checks the data itself, whatever zip it came in.
ML1M_RATINGS_SHA256 = "506d64ca44484487c11dc2d9a28de5c54948213e6b96285e298afe28d6ea4e0f"
TIMEOUT_S = 10.0  # per connect and per read: offline fails at once instead of hanging the app
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Release:
    """A MovieLens zip on files.grouplens.org: its URL, the md5 GroupLens publishes in `<name>.zip.md5`, and the
    ratings file inside (whose folder becomes data/<name>)."""

    url: str
    zip_md5: str
    ratings: str
    ratings_sha256: str = ""


# No network here to read the .md5 files themselves: each value is the one GroupLens publishes, as copied into
# public loaders, e.g. eli-osherovich/papers_with_code, datasets/movielens/dl_config.py (its ml-1m value is ours
# above), and found identical in several independent loaders (ML10M / ML20M classes of recommendation-dataset
# packages, ml-25m download scripts quoting `MD5 (ml-25m.zip) = ...` from GroupLens' ml-25m.zip.md5).
_GROUPLENS = "https://files.grouplens.org/datasets/movielens"
RELEASES = {
    # ml-100k's value also appears in public test suites and READMEs that check `md5 ml-100k.zip` against GroupLens'
    # ml-100k.zip.md5 (one of them records the zip's size too: 4,924,029 bytes).
    "ml-100k": Release(f"{_GROUPLENS}/ml-100k.zip", "0e33842e24a9c977be4e0107933c0723", "u.data"),  # ml-100k/
    "ml-10m": Release(f"{_GROUPLENS}/ml-10m.zip", "ce571fd55effeba0271552578f2648bd", "ratings.dat"),  # ml-10M100K/
    "ml-20m": Release(f"{_GROUPLENS}/ml-20m.zip", "cd245b17a1ae2cc31bb14903e1204af3", "ratings.csv"),
    "ml-25m": Release(f"{_GROUPLENS}/ml-25m.zip", "6b51fb2759a8657d3bfcbfc42b592ada", "ratings.csv"),
}
NAMES = ("ml-1m", *RELEASES)  # ml-1m first: the default


class DownloadError(DataError):
    """The download failed: network, HTTP status or checksum. One-line message; nothing is left on disk."""


def release(name: str) -> Release:
    """The release called `name`; ML-1M's from the module constants, read at call time so tests can patch them."""
    if name == "ml-1m":
        return Release(ML1M_URL, ML1M_ZIP_MD5, "ratings.dat", ML1M_RATINGS_SHA256)
    if name not in RELEASES:
        raise DataError(f"{name!r}: unknown MovieLens release (expected one of {', '.join(NAMES)})")
    return RELEASES[name]


def download_ml1m(data_dir: Path = DATA_DIR, **options) -> Path:
    """`download_movielens("ml-1m", ...)`: fetch ml-1m.zip and unpack it to data_dir/ml-1m."""
    return download_movielens("ml-1m", data_dir, **options)


def download_movielens(
    name: str = "ml-1m",
    data_dir: Path = DATA_DIR,
    *,
    progress: Progress | None = None,
    url: str | None = None,
    zip_md5: str | None = None,
    ratings_sha256: str | None = None,
    timeout: float = TIMEOUT_S,
    force: bool = False,
) -> Path:
    """Fetch <name>.zip and unpack it to data_dir/<name>; returns that folder (at once if it is already there).

    url / zip_md5 / ratings_sha256 default to the release's (`release(name)`); a mirror's URL is still checked
    against the published md5. Pass "" as a checksum to skip that check; a release without a published md5 is
    refused unless so told. `progress(done_bytes, total_bytes)` follows the download (total 0 without a length)."""
    known = release(name)
    url = known.url if url is None else url
    if zip_md5 is None and not known.zip_md5:
        raise DownloadError(f"{name}: no published checksum to verify the download against")
    zip_md5 = known.zip_md5 if zip_md5 is None else zip_md5
    ratings_sha256 = known.ratings_sha256 if ratings_sha256 is None else ratings_sha256
    data_dir = Path(data_dir)
    target = data_dir / name
    if not force and (target / known.ratings).is_file():
        return target
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Temp names start with '.' and live in data_dir itself: same filesystem, so the final rename is atomic.
        handle, part_name = tempfile.mkstemp(dir=data_dir, prefix=f".{name}-", suffix=".zip.part")
        os.close(handle)
        staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=f".{name}-", suffix=".staging"))
    except OSError as error:
        raise DataError(f"{data_dir}: cannot write to the data folder ({error.strerror or error})") from None
    part = Path(part_name)
    try:
        _fetch(url, part, zip_md5, timeout, progress)
        extract_zip_safely(part, staging / "unpacked")
        folder = _folder_with_ratings(staging / "unpacked", url, known.ratings)
        if ratings_sha256:
            _verify(folder / known.ratings, "sha256", ratings_sha256)
        _install(folder, target, staging, known.ratings)
    finally:
        part.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _fetch(url: str, dest: Path, md5: str, timeout: float, progress: Progress | None) -> None:
    """Stream url into dest, hashing as it goes, and check the md5 (if given) and the length."""
    digest = hashlib.md5(usedforsecurity=False)
    done = total = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, dest.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            if progress is not None:
                progress(0, total)
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        reason = error.reason if isinstance(error.reason, str) else one_line(error.reason)
        name = url.rstrip("/").rsplit("/", 1)[-1] or "the zip"
        raise DownloadError(f"{url}: cannot connect ({reason}); offline? put {name} in data/ by hand") from None
    except (TimeoutError, OSError) as error:
        raise DownloadError(f"{url}: download failed after {done} bytes ({one_line(error)})") from None
    if total and done != total:
        raise DownloadError(f"{url}: download cut short ({done} of {total} bytes)")
    if md5 and digest.hexdigest() != md5.lower():
        raise DownloadError(f"{url}: md5 checksum mismatch (got {digest.hexdigest()}, expected {md5})")


def _verify(path: Path, algorithm: str, expected: str) -> None:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        raise DownloadError(
            f"{path.name}: {algorithm} checksum mismatch (got {digest.hexdigest()}, expected {expected})"
        )


def _folder_with_ratings(root: Path, url: str, ratings: str) -> Path:
    """ml-1m.zip holds ml-1m/ratings.dat (ml-10m.zip ml-10M100K/ratings.dat, ml-100k.zip ml-100k/u.data); accept the
    file at the top too."""
    for candidate in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        if (candidate / ratings).is_file():
            return candidate
    raise DownloadError(f"{url}: the zip has no {ratings}")


def _install(folder: Path, target: Path, staging: Path, ratings: str) -> None:
    """Move the verified folder to target in one rename. An existing target (force) is swapped out first and put
    back if the rename fails."""
    previous = staging / "previous"
    try:
        if target.exists():
            os.replace(target, previous)
        os.replace(folder, target)
    except OSError as error:
        if (target / ratings).is_file():
            return  # another download finished first: keep its equally verified copy
        if previous.exists():
            os.replace(previous, target)
        raise DataError(f"{target}: cannot move the download into place ({error.strerror or error})") from None


def extract_zip_safely(zip_path: str | Path, target: str | Path) -> list[Path]:
    """Unpack zip_path into target (which must be missing or empty) and return the files written.

    Member names are all checked first (no '../', absolute paths or drive letters), then everything is unpacked
    into a temp folder beside target and renamed into place, so a corrupt member leaves nothing behind."""
    zip_path, target = Path(zip_path), Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DataError(f"{target}: extraction target exists and is not an empty folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-", suffix=".unzip"))
    except OSError as error:
        raise DataError(f"{target.parent}: cannot write there ({error.strerror or error})") from None
    try:
        with open_zip(zip_path, str(zip_path)) as archive:
            check_zip_members(archive, str(zip_path))
            written = [_extract_member(archive, info, scratch, zip_path) for info in archive.infolist()]
        if target.exists():
            target.rmdir()  # empty (checked above); rename cannot replace a folder on every OS
        os.replace(scratch, target)
    except OSError as error:  # disk full, permissions: still one line, still nothing left behind
        raise DataError(f"{zip_path}: cannot unpack into {target} ({error.strerror or error})") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [target / path.relative_to(scratch) for path in written if path is not None]


def _extract_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, scratch: Path, zip_path: Path) -> Path | None:
    destination = (scratch / info.filename.replace("\\", "/")).resolve()
    # Second line of defence after check_zip_members: whatever the name, the resolved path must stay inside.
    if not destination.is_relative_to(scratch.resolve()):
        raise DataError(f"{zip_path}: zip member {info.filename!r} would escape the target folder")
    if info.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
        return None
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Streamed: ML-25M's ratings.csv is 650 MB. The CRC is checked as the member's end is read.
    try:
        with archive.open(info) as source, destination.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK_BYTES)
    except ZIP_ERRORS as error:
        raise DataError(f"{zip_path}: corrupt zip member {info.filename} ({one_line(error)})") from None
    return destination
