"""Download MovieLens-1M from GroupLens into data/ml-1m, all or nothing.

The zip streams into a temp file next to the target, is checked against GroupLens' md5, unpacked into a temp
folder, and its ratings.dat checked against a sha256 before one rename puts data/ml-1m in place. Any failure
removes the temp files, so a later `load_dataset("ml-1m")` never sees half a download. The command line's
`python -m dmf_core download` runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from ..errors import one_line
from .ratings import DataError
from .sources import DATA_DIR, Progress, check_zip_members, open_zip, read_zip_member

ML1M_URL = "https://files.grouplens.org/datasets/movielens/ml-1m.zip"
ML1M_ZIP_MD5 = "c4d9eecfca2ab87c1945afe126590906"  # published by GroupLens next to the zip
# Of the unpacked ratings.dat: checks the data itself, whatever zip it came in.
ML1M_RATINGS_SHA256 = "506d64ca44484487c11dc2d9a28de5c54948213e6b96285e298afe28d6ea4e0f"
TIMEOUT_S = 10.0  # per connect and per read: offline fails at once instead of hanging the app
CHUNK_BYTES = 1 << 20


class DownloadError(DataError):
    """The download failed: network, HTTP status or checksum. One-line message; nothing is left on disk."""


def download_ml1m(
    data_dir: Path = DATA_DIR,
    *,
    progress: Progress | None = None,
    url: str | None = None,
    zip_md5: str | None = None,
    ratings_sha256: str | None = None,
    timeout: float = TIMEOUT_S,
    force: bool = False,
) -> Path:
    """Fetch ml-1m.zip and unpack it to data_dir/ml-1m; returns that folder (at once if it is already there).

    url / zip_md5 / ratings_sha256 default to the module constants, read at call time so tests can patch them;
    pass "" as a checksum to skip that check. `progress(done_bytes, total_bytes)` follows the download
    (total 0 if the server sends no length)."""
    url = ML1M_URL if url is None else url
    zip_md5 = ML1M_ZIP_MD5 if zip_md5 is None else zip_md5
    ratings_sha256 = ML1M_RATINGS_SHA256 if ratings_sha256 is None else ratings_sha256
    data_dir = Path(data_dir)
    target = data_dir / "ml-1m"
    if not force and (target / "ratings.dat").is_file():
        return target
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Temp names start with '.' and live in data_dir itself: same filesystem, so the final rename is atomic.
        handle, part_name = tempfile.mkstemp(dir=data_dir, prefix=".ml-1m-", suffix=".zip.part")
        os.close(handle)
        staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".ml-1m-", suffix=".staging"))
    except OSError as error:
        raise DataError(f"{data_dir}: cannot write to the data folder ({error.strerror or error})") from None
    part = Path(part_name)
    try:
        _fetch(url, part, zip_md5, timeout, progress)
        extract_zip_safely(part, staging / "unpacked")
        folder = _folder_with_ratings(staging / "unpacked", url)
        if ratings_sha256:
            _verify(folder / "ratings.dat", "sha256", ratings_sha256)
        _install(folder, target, staging)
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
        raise DownloadError(f"{url}: cannot connect ({reason}); offline? put ml-1m.zip in data/ by hand") from None
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


def _folder_with_ratings(root: Path, url: str) -> Path:
    """ml-1m.zip holds ml-1m/ratings.dat; accept ratings.dat at the top too."""
    for candidate in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        if (candidate / "ratings.dat").is_file():
            return candidate
    raise DownloadError(f"{url}: the zip has no ratings.dat")


def _install(folder: Path, target: Path, staging: Path) -> None:
    """Move the verified folder to target in one rename. An existing target (force) is swapped out first and put
    back if the rename fails."""
    previous = staging / "previous"
    try:
        if target.exists():
            os.replace(target, previous)
        os.replace(folder, target)
    except OSError as error:
        if (target / "ratings.dat").is_file():
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
    # Read whole members through read_zip_member so CRC errors become DataErrors; ML-1M's largest is 25 MB.
    destination.write_bytes(read_zip_member(archive, info.filename, str(zip_path)))
    return destination
