"""Rating data: one in-memory shape (`RatingData`) for every source.

Ids are remapped to contiguous indices 0..n-1; `user_ids` / `item_ids` map indices back to the raw ids and
`item_titles` (where the source has them) gives a readable name per item index; `item_genres` and
`user_attributes` (ML-1M's `movies.dat` genres and `users.dat` gender / age / occupation, where present) only
decorate the UI.

Sources: the generated demo (`dmf_core.demo`), MovieLens-1M (folder or ml-1m.zip: `ratings.dat`, `movies.dat`,
`users.dat`), MovieLens-100K (`u.data`, `u.item`) and plain CSV/TSV tables of user, item, rating[, timestamp].
`load_dataset` picks one from a spec string, `load_upload` from an uploaded file's name and bytes. Every problem
with the input is a `DataError` whose one-line message names the file and, where it applies, the line.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

Progress = Callable[[int, int], None]  # progress(done_bytes, total_bytes); total is 0 when unknown
LineOf = Callable[[int], int]  # parsed row index -> 1-based line number in the file

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"  # downloads and unpacked copies; git-ignored (the MovieLens licence forbids sharing)
ML1M_ENV = "DMF_ML1M_DIR"  # where a read-only shared copy of MovieLens-1M lives, if anywhere
SHARED_ML1M_DIR = REPO_ROOT.parent / "shared" / "data" / "ml-1m"  # the team's shared checkout layout
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
MAX_UNPACKED_BYTES = 1 << 31  # ML-1M unpacks to 25 MB; anything near 2 GB is a zip bomb, not ratings

_USER_COLUMNS = {"user", "users", "userid", "uid", "customer", "customerid", "reviewer", "reviewerid"}
_ITEM_COLUMNS = {"item", "items", "itemid", "iid", "movie", "movieid", "product", "productid", "asin", "bookid"}
_RATING_COLUMNS = {"rating", "ratings", "score", "stars", "rate", "value"}


class DataError(ValueError):
    """Bad input data. The message is one line naming the file (and line, where it applies)."""


@dataclass(frozen=True)
class RatingData:
    users: np.ndarray  # int64 user index per rating
    items: np.ndarray  # int64 item index per rating
    ratings: np.ndarray  # float32 rating per rating
    user_ids: np.ndarray  # raw user id per user index
    item_ids: np.ndarray  # raw item id per item index
    name: str = "ratings"
    rating_scale: tuple[float, float] = (1.0, 5.0)
    item_titles: list[str] | None = None
    extra: dict[str, str] = field(default_factory=dict)
    item_genres: list[str] | None = None  # "Animation|Comedy" per item index ("" where unknown)
    user_attributes: dict[str, list[str]] | None = None  # {"gender": [...], "age": [...], ...} per user index

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_ratings(self) -> int:
        return len(self.ratings)

    @property
    def density(self) -> float:
        return self.n_ratings / max(1, self.n_users * self.n_items)

    def title(self, item: int) -> str:
        if self.item_titles is not None:
            return self.item_titles[item]
        return f"item {self.item_ids[item]}"

    def summary(self) -> dict[str, float | int | str]:
        return {
            "name": self.name,
            "users": self.n_users,
            "items": self.n_items,
            "ratings": self.n_ratings,
            "density": self.density,
        }


# ---------------------------------------------------------------------------------------------------------------
# triples -> RatingData


def from_triples(
    raw_users: np.ndarray,
    raw_items: np.ndarray,
    ratings: np.ndarray,
    *,
    name: str,
    rating_scale: tuple[float, float] = (1.0, 5.0),
    titles_by_raw_item: dict[int, str] | None = None,
    source: str = "",
    line_of: LineOf | None = None,
    extra: dict[str, str] | None = None,
    genres_by_raw_item: dict[int, str] | None = None,
    attributes_by_raw_user: dict[int, dict[str, str]] | None = None,
) -> RatingData:
    """Remap raw ids to contiguous indices and check the ratings against the scale and for duplicates.

    `line_of` turns a row index into the file's line number for messages (default: row + 1, no header)."""
    where = source or name
    line_of = line_of or _next_line
    if len(ratings) == 0:
        raise DataError(f"{where}: no ratings found (empty file?)")
    raw_users = np.asarray(raw_users)
    raw_items = np.asarray(raw_items)
    ratings = np.asarray(ratings, dtype=np.float32)
    _check_scale(ratings, rating_scale, where, line_of)
    user_ids, users = _remap_ids(raw_users)
    item_ids, items = _remap_ids(raw_items)
    _check_duplicates(users, items, len(item_ids), raw_users, raw_items, where, line_of)
    titles = None
    if titles_by_raw_item is not None:
        titles = [titles_by_raw_item.get(int(i), f"item {i}") for i in item_ids]
    genres = None if genres_by_raw_item is None else [genres_by_raw_item.get(int(i), "") for i in item_ids]
    attributes = None
    if attributes_by_raw_user:
        names = next(iter(attributes_by_raw_user.values()))
        attributes = {name: [attributes_by_raw_user.get(int(u), {}).get(name, "unknown") for u in user_ids]
                      for name in names}
    return RatingData(
        users=users,
        items=items,
        ratings=ratings,
        user_ids=user_ids,
        item_ids=item_ids,
        name=name,
        rating_scale=rating_scale,
        item_titles=titles,
        extra=dict(extra or {}),
        item_genres=genres,
        user_attributes=attributes,
    )


def _next_line(row: int) -> int:
    return row + 1


def _check_scale(ratings: np.ndarray, scale: tuple[float, float], where: str, line_of: LineOf) -> None:
    low, high = scale
    # Written as a negated range test so NaN (a missing field) counts as bad too.
    bad = np.flatnonzero(~((ratings >= low) & (ratings <= high)))
    if len(bad) == 0:
        return
    row = int(bad[0])
    value = float(ratings[row])
    problem = "missing rating" if np.isnan(value) else f"rating {value:g} is outside the scale {low:g}..{high:g}"
    raise DataError(f"{where}: line {line_of(row)}: {problem}")


def _remap_ids(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique ids and each entry's index among them.

    Small non-negative integer ids (every MovieLens file) go through a lookup table: O(n) instead of np.unique's
    sort, which is ~0.15 s of ML-1M's unsorted item column."""
    if raw.dtype.kind in "iu" and len(raw):
        low, high = int(raw.min()), int(raw.max())
        if low >= 0 and high < 4 * len(raw) + (1 << 20):
            present = np.zeros(high + 1, dtype=bool)
            present[raw] = True
            lookup = np.cumsum(present, dtype=np.int64) - 1
            return np.flatnonzero(present).astype(raw.dtype), lookup[raw]
    ids, index = np.unique(raw, return_inverse=True)
    return ids, index.astype(np.int64).reshape(-1)


def _check_duplicates(
    users: np.ndarray,
    items: np.ndarray,
    n_items: int,
    raw_users: np.ndarray,
    raw_items: np.ndarray,
    where: str,
    line_of: LineOf,
) -> None:
    keys = users * n_items + items
    n_cells = (int(users.max()) + 1) * n_items
    if n_cells <= 1 << 26:
        # A bitmap of the matrix answers "any duplicate?" in O(n); only a failing file pays for the sort below.
        seen = np.zeros(n_cells, dtype=bool)
        seen[keys] = True
        if np.count_nonzero(seen) == len(keys):
            return
    order = np.argsort(keys, kind="stable")
    repeats = order[1:][keys[order[1:]] == keys[order[:-1]]]
    if len(repeats) == 0:
        return
    row = int(repeats.min())  # the earliest line that repeats a pair seen before it
    first = int(np.flatnonzero(keys == keys[row])[0])
    raise DataError(
        f"{where}: line {line_of(row)}: duplicate rating for user {raw_users[row]} and item {raw_items[row]} "
        f"(already rated on line {line_of(first)})"
    )


# ---------------------------------------------------------------------------------------------------------------
# parsing bytes


@dataclass(frozen=True)
class _Layout:
    """How a delimited ratings file is laid out, as found by `_sniff_table` or fixed by the format."""

    sep: str
    n_fields: int
    columns: tuple[int, int, int] = (0, 1, 2)  # user, item, rating
    header_line: int = 0  # 1-based line number of a header row; 0 when there is none


_ML1M = _Layout(sep="::", n_fields=4)
_ML100K = _Layout(sep="\t", n_fields=4)


def parse_ml1m_ratings(raw: bytes, source: str = "ratings.dat") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse `UserID::MovieID::Rating::Timestamp` lines.

    The C parser splits on ':' (a multi-character separator would force pandas' ~15x slower python engine) and
    keeps columns 0, 2, 4. Counting ':' proves every line had exactly three '::', so the shortcut accepts nothing
    the format forbids; on any failure the slow path finds the offending line for the message."""
    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            sep=":",
            header=None,
            usecols=[0, 2, 4],
            dtype={0: np.int64, 2: np.int64, 4: np.float32},
            engine="c",
        )
        if raw.count(b":") != 6 * len(frame) or frame[4].isna().any():
            raise ValueError("field count")
        users, items, ratings = frame[0].to_numpy(), frame[2].to_numpy(), frame[4].to_numpy()
    except (ValueError, KeyError, OverflowError, pd.errors.ParserError, pd.errors.EmptyDataError):
        _raise_first_bad_line(raw, source, _ML1M)
        raise DataError(f"{source}: could not parse as MovieLens-1M ratings") from None
    return users, items, ratings.astype(np.float32)


def parse_ml100k_ratings(raw: bytes, source: str = "u.data") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse MovieLens-100K's tab-separated `user item rating timestamp` lines."""
    return _parse_layout(raw, source, _ML100K)


def parse_ratings_table(raw: bytes, source: str = "ratings.csv") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a CSV/TSV of user, item, rating[, timestamp]; separator (',', ';' or tab) and header are detected."""
    raw = _strip_bom(raw)
    return _parse_layout(raw, source, _sniff_table(raw, source))


def _parse_layout(raw: bytes, source: str, layout: _Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    user_col, item_col, rating_col = layout.columns
    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            sep=layout.sep,
            header=None,
            skiprows=[layout.header_line - 1] if layout.header_line else None,
            dtype={user_col: np.int64, item_col: np.int64, rating_col: np.float64},
            encoding="latin-1",  # any byte decodes; only a header's names are text
            engine="c",
        )
        if frame.shape[1] != layout.n_fields or frame[rating_col].isna().any():
            raise ValueError("field count")
        users, items = frame[user_col].to_numpy(), frame[item_col].to_numpy()
        ratings = frame[rating_col].to_numpy()
    except (ValueError, KeyError, OverflowError, pd.errors.ParserError, pd.errors.EmptyDataError):
        _raise_first_bad_line(raw, source, layout)
        raise DataError(f"{source}: could not parse as ratings separated by {layout.sep!r}") from None
    return users, items, ratings.astype(np.float32)


def _raise_first_bad_line(raw: bytes, source: str, layout: _Layout) -> None:
    """The slow path: walk the lines in Python to name the first bad one. Only runs once the fast parser failed."""
    text = raw.decode("latin-1")
    if not text.strip():
        raise DataError(f"{source}: the file is empty")
    labels = ("user id", "item id", "rating")
    data_lines = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if number == layout.header_line or not line.strip():
            continue
        data_lines += 1
        parts = line.split(layout.sep)
        if len(parts) != layout.n_fields:
            hint = " (wrong separator?)" if len(parts) == 1 else ""
            raise DataError(
                f"{source}: line {number}: expected {layout.n_fields} fields separated by {layout.sep!r}, "
                f"found {len(parts)}{hint}"
            )
        for label, column in zip(labels, layout.columns, strict=True):
            field_text = parts[column].strip()
            if not _is_valid_number(field_text, integer=label != "rating"):
                raise DataError(f"{source}: line {number}: non-numeric {label} {field_text!r}")
    if data_lines == 0:
        raise DataError(f"{source}: no ratings found (only a header?)")


def _is_valid_number(text: str, *, integer: bool) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return bool(np.isfinite(value)) and (not integer or value == int(value))


def _strip_bom(raw: bytes) -> bytes:
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw  # Excel's UTF-8 CSV export starts with a BOM


def _sniff_table(raw: bytes, source: str) -> _Layout:
    """Find the separator and header from the first non-blank line; later lines are checked by the parser."""
    first = next(((n, line) for n, line in enumerate(raw.decode("latin-1").splitlines(), 1) if line.strip()), None)
    if first is None:
        raise DataError(f"{source}: the file is empty")
    number, line = first
    # Tab first: a TSV title may hold commas. ';' before ',' so European "1;2;3,5" is not split at its decimal.
    sep = next((s for s in ("\t", ";", ",") if len(line.split(s)) >= 3), None)
    if sep is None:
        raise DataError(
            f"{source}: line {number}: expected 3 or 4 columns (user, item, rating[, timestamp]) "
            "separated by ',', ';' or tab"
        )
    names = [part.strip().strip("\"'") for part in line.split(sep)]
    if any(_is_valid_number(name, integer=False) for name in names[:3]):
        return _positional_layout(sep, len(names), number, source, header_line=0)
    columns = _named_columns(names)
    if columns is not None:
        return _Layout(sep=sep, n_fields=len(names), columns=columns, header_line=number)
    return _positional_layout(sep, len(names), number, source, header_line=number)


def _positional_layout(sep: str, n_fields: int, number: int, source: str, header_line: int) -> _Layout:
    if n_fields not in (3, 4):
        raise DataError(
            f"{source}: line {number}: expected 3 or 4 columns (user, item, rating[, timestamp]) "
            f"separated by {sep!r}, found {n_fields}"
        )
    return _Layout(sep=sep, n_fields=n_fields, header_line=header_line)


def _named_columns(names: list[str]) -> tuple[int, int, int] | None:
    """Column positions of user, item and rating in a header such as `userId,movieId,rating,timestamp`."""
    keys = [name.lower().replace("_", "").replace(" ", "").replace("-", "") for name in names]
    found = []
    for wanted in (_USER_COLUMNS, _ITEM_COLUMNS, _RATING_COLUMNS):
        position = next((i for i, key in enumerate(keys) if key in wanted), None)
        if position is None:
            return None
        found.append(position)
    return found[0], found[1], found[2]


def _line_mapper(raw: bytes, header_line: int = 0) -> LineOf:
    """Map a parsed row index to its file line, skipping the header and blank lines as pandas does.

    Only called to word an error message, so a linear scan is fine."""

    def line_of(row: int) -> int:
        remaining = row
        for number, line in enumerate(raw.splitlines(), start=1):
            if number == header_line or not line.strip():
                continue
            if remaining == 0:
                return number
            remaining -= 1
        return row + 1

    return line_of


def parse_ml1m_movies(raw: bytes) -> dict[int, str]:
    """`MovieID::Title::Genres` (latin-1) -> {movie id: title}."""
    return _parse_titles(raw, "::")


def parse_ml1m_genres(raw: bytes) -> dict[int, str]:
    """`MovieID::Title::Genres` (latin-1) -> {movie id: "Animation|Children's|Comedy"}."""
    return _parse_titles(raw, "::", column=2)


ML1M_GENDERS = {"F": "female", "M": "male"}
ML1M_AGES = {"1": "Under 18", "18": "18-24", "25": "25-34", "35": "35-44", "45": "45-49", "50": "50-55", "56": "56+"}
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer", "programmer",
    "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer", "tradesman/craftsman",
    "unemployed", "writer",
)  # fmt: skip


def parse_ml1m_users(raw: bytes) -> dict[int, dict[str, str]]:
    """`UserID::Gender::Age::Occupation::Zip-code` -> {user id: {gender, age, occupation}}, codes spelled out as in
    ML-1M's README. Like titles, only decoration: a malformed line is skipped."""
    users: dict[int, dict[str, str]] = {}
    for line in raw.decode("latin-1").splitlines():
        parts = line.split("::")
        if len(parts) >= 4 and parts[0].strip().isdigit():
            gender, age, code = (part.strip() for part in parts[1:4])
            known = code.isdigit() and int(code) < len(ML1M_OCCUPATIONS)
            users[int(parts[0])] = {"gender": ML1M_GENDERS.get(gender, gender), "age": ML1M_AGES.get(age, age),
                                    "occupation": ML1M_OCCUPATIONS[int(code)] if known else code}
    return users


def parse_ml100k_items(raw: bytes) -> dict[int, str]:
    """`u.item`: `id|title|release date|...` (latin-1) -> {item id: title}."""
    return _parse_titles(raw, "|")


def _parse_titles(raw: bytes, sep: str, column: int = 1) -> dict[int, str]:
    # Titles only decorate the UI, so a malformed line is skipped rather than failing the whole load.
    titles: dict[int, str] = {}
    for line in raw.decode("latin-1").splitlines():
        parts = line.split(sep)
        if len(parts) > column and parts[0].strip().isdigit():
            titles[int(parts[0])] = parts[column]
    return titles


# ---------------------------------------------------------------------------------------------------------------
# formats: which parser and which titles file go with a ratings file

_FORMATS = {
    # kind: (dataset name, titles file next to the ratings, ratings parser, titles parser)
    "ml-1m": ("ml-1m", "movies.dat", parse_ml1m_ratings, parse_ml1m_movies),
    "ml-100k": ("ml-100k", "u.item", parse_ml100k_ratings, parse_ml100k_items),
}
# Decoration beside the titles, where a format has it: genres from the titles file, attributes from a users file.
_GENRES = {"ml-1m": parse_ml1m_genres}
_USERS = {"ml-1m": ("users.dat", parse_ml1m_users)}


def _kind_of(filename: str) -> str | None:
    """The format a ratings file's name implies: 'ml-1m', 'ml-100k', 'table' or 'zip'."""
    path = PurePosixPath(filename.replace("\\", "/").lower())
    if path.name == "ratings.dat" or path.suffix == ".dat":
        return "ml-1m"
    if path.name == "u.data" or path.suffix == ".data":
        return "ml-100k"
    if path.suffix in TABLE_SUFFIXES:
        return "table"
    if path.suffix == ".zip":
        return "zip"
    return None


def _sniff_kind(raw: bytes) -> str:
    """For an upload whose name says nothing: zips start with 'PK', ML-1M lines hold '::', the rest is a table."""
    if raw.startswith(b"PK\x03\x04"):
        return "zip"
    return "ml-1m" if b"::" in raw[:200] else "table"


def _build(kind: str, raw: bytes, source: str, titles_raw: bytes | None, users_raw: bytes | None = None) -> RatingData:
    """Parse a ratings file's bytes (and its titles and users files', if any) into RatingData."""
    titles = genres = attributes = None
    header_line = 0
    if kind == "table":
        raw = _strip_bom(raw)
        layout = _sniff_table(raw, source)
        users, items, ratings = _parse_layout(raw, source, layout)
        name = PurePosixPath(source.replace("\\", "/")).stem or "ratings"
        header_line = layout.header_line
    else:
        name, _, parse_ratings, parse_titles = _FORMATS[kind]
        users, items, ratings = parse_ratings(raw, source)
        if titles_raw is not None:
            titles = parse_titles(titles_raw)
            genres = _GENRES[kind](titles_raw) if kind in _GENRES else None
        if users_raw is not None and kind in _USERS:
            attributes = _USERS[kind][1](users_raw)
    return from_triples(
        users,
        items,
        ratings,
        name=name,
        titles_by_raw_item=titles,
        source=source,
        line_of=_line_mapper(raw, header_line),
        extra={"format": kind, "source": source},
        genres_by_raw_item=genres,
        attributes_by_raw_user=attributes,
    )


def _pick_ratings_file(names: list[str]) -> tuple[str, str] | None:
    """Choose the ratings file among a folder's or zip's files: (relative name, kind), or None.

    Preference: ratings.dat, u.data, ratings.csv/tsv/txt, then a lone table file; shallowest path wins a tie."""
    names = sorted(
        (n for n in names if not n.startswith("__MACOSX/") and not PurePosixPath(n).name.startswith("._")),
        key=lambda n: (n.count("/"), n),
    )
    base = {n: PurePosixPath(n).name.lower() for n in names}
    for wanted in ("ratings.dat", "u.data"):
        match = next((n for n in names if base[n] == wanted), None)
        if match is not None:
            return match, _kind_of(wanted) or "table"
    tables = [n for n in names if PurePosixPath(base[n]).suffix in TABLE_SUFFIXES]
    preferred = [n for n in tables if base[n].startswith("ratings")]
    if preferred:
        return preferred[0], "table"
    if len(tables) == 1:
        return tables[0], "table"
    return None


def _sibling(name: str, filename: str) -> str:
    parent = PurePosixPath(name).parent
    return filename if str(parent) == "." else f"{parent}/{filename}"


_NOT_FOUND = "no ratings.dat, u.data, ratings.csv or single .csv/.tsv file"


# ---------------------------------------------------------------------------------------------------------------
# folders and files on disk


def load_ml1m_folder(folder: str | Path) -> RatingData:
    folder = Path(folder)
    ratings_path = folder / "ratings.dat"
    if not ratings_path.is_file():
        raise DataError(f"{folder}: no ratings.dat in this folder")
    return _load_file(ratings_path, "ml-1m", progress=None)


def _load_file(path: Path, kind: str, progress: Progress | None) -> RatingData:
    if kind == "zip":
        return _load_zip(io.BytesIO(_read_file(path, progress)), str(path))
    raw = _read_file(path, progress)
    titles_raw = _read_beside(path, _FORMATS[kind][1]) if kind in _FORMATS else None
    users_raw = _read_beside(path, _USERS[kind][0]) if kind in _USERS else None
    return _build(kind, raw, str(path), titles_raw, users_raw)


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
    picked = _pick_ratings_file(names)
    if picked is None:
        raise DataError(f"{folder}: {_NOT_FOUND} in this folder")
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
        raise DataError(f"{source}: corrupt or not a zip file ({_one_line(error)})") from None


def read_zip_member(archive: zipfile.ZipFile, name: str, source: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        # BadZipFile covers CRC mismatches; RuntimeError an encrypted member; NotImplementedError odd compression.
        raise DataError(f"{source}: corrupt zip member {name} ({_one_line(error)})") from None


def _load_zip(file: str | Path | io.BytesIO, source: str) -> RatingData:
    """Read the ratings (and titles) straight out of a zip: nothing is unpacked to disk."""
    with open_zip(file, source) as archive:
        check_zip_members(archive, source)
        files = [info.filename for info in archive.infolist() if not info.is_dir()]
        picked = _pick_ratings_file(files)
        if picked is None:
            raise DataError(f"{source}: {_NOT_FOUND} inside the zip")
        member, kind = picked
        raw = read_zip_member(archive, member, source)

        def beside(filename: str) -> bytes | None:
            sibling = _sibling(member, filename)
            return read_zip_member(archive, sibling, source) if sibling in files else None

        titles_raw = beside(_FORMATS[kind][1]) if kind in _FORMATS else None
        users_raw = beside(_USERS[kind][0]) if kind in _USERS else None
    return _build(kind, raw, f"{source}:{member}", titles_raw, users_raw)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


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


def load_dataset(spec: str | Path, *, data_dir: Path = DATA_DIR, progress: Progress | None = None) -> RatingData:
    """Load ratings from `spec`: "demo" (generated), "ml-1m" (see `find_ml1m`), or a path to a folder, a .zip,
    a ratings.dat, a u.data, or a .csv/.tsv file. `progress(done_bytes, total_bytes)` follows the file read."""
    if isinstance(spec, str) and (spec.strip() == "demo" or spec.strip().startswith("demo:")):
        from .demo import make_demo  # imported here: demo builds on this module

        try:
            data = make_demo(**_demo_size(spec.strip()))
        except ValueError as error:
            raise DataError(f"{spec.strip()}: {error}") from None
        if progress is not None:
            progress(1, 1)
        return data
    if isinstance(spec, str) and spec.strip() == "ml-1m":
        spec = find_ml1m(data_dir)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(
            f"{path}: no such file or folder (expected 'demo', 'ml-1m' or a path to a folder, .zip, ratings.dat, "
            "u.data, .csv or .tsv file)"
        )
    if path.is_dir():
        path, kind = _find_in_folder(path)
    else:
        kind = _kind_of(path.name) or _sniff_kind(_read_head(path))
    return _load_file(path, kind, progress)


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(200)
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None


def find_ml1m(data_dir: Path = DATA_DIR) -> Path:
    """Where MovieLens-1M is, in order: the downloaded copy in data_dir/ml-1m, an ml-1m.zip put in data_dir by
    hand (the offline route), $DMF_ML1M_DIR, then ../shared/data/ml-1m next to the repository.
    Raises DataError saying how to get it otherwise."""
    cached = Path(data_dir) / "ml-1m"
    if (cached / "ratings.dat").is_file():
        return cached
    if cached.with_suffix(".zip").is_file():
        return cached.with_suffix(".zip")
    configured = os.environ.get(ML1M_ENV)
    if configured:
        # A set variable that points nowhere is a mistake worth reporting, not something to fall back from.
        path = Path(configured).expanduser()
        if not path.exists():
            raise DataError(f"{ML1M_ENV}={configured}: no such file or folder")
        return path
    if (SHARED_ML1M_DIR / "ratings.dat").is_file():
        return SHARED_ML1M_DIR
    raise DataError(
        "MovieLens-1M not found: download it with `python -m dmf_core download`, "
        f"or give the path to its folder or ml-1m.zip (or set {ML1M_ENV})"
    )


def load_upload(name: str, payload: bytes) -> RatingData:
    """Load an uploaded file (zip, ratings.dat, u.data, csv/tsv) from its name and bytes; nothing touches disk."""
    source = PurePosixPath(name.replace("\\", "/")).name or "upload"
    if not payload:
        raise DataError(f"{source}: the file is empty")
    kind = _kind_of(source) or _sniff_kind(payload)
    if kind == "zip":
        return _load_zip(io.BytesIO(payload), source)
    return _build(kind, payload, source, titles_raw=None)


def dataset_fingerprint(data: RatingData) -> str:
    """16 hex digits that identify the ratings (not the name or titles), stable across runs and machines.

    Hashes the whole arrays rather than a sample: ~15 ms on ML-1M, and a sample or sum would miss two swapped
    ratings in an edited upload and serve a stale cache or checkpoint."""
    digest = hashlib.sha256()
    low, high = data.rating_scale
    digest.update(f"{data.n_users},{data.n_items},{data.n_ratings},{low:g},{high:g};".encode())
    for array, dtype in ((data.users, "<i8"), (data.items, "<i8"), (data.ratings, "<f4")):
        digest.update(np.ascontiguousarray(array, dtype=dtype).tobytes())
    for ids in (data.user_ids, data.item_ids):
        digest.update(_ids_bytes(ids))
    return digest.hexdigest()[:16]


def _ids_bytes(ids: np.ndarray) -> bytes:
    if ids.dtype.kind in "iu":
        return np.ascontiguousarray(ids, dtype="<i8").tobytes()
    return "\x1f".join(map(str, ids.tolist())).encode()
