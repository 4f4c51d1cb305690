"""File formats: bytes of a ratings file (and its titles file) -> RatingData.

MovieLens `ratings.dat` (`::`: ML-1M, ML-10M), MovieLens-100K `u.data` (tabs), and plain CSV/TSV tables of user,
item, rating[, timestamp] whose separator and columns are sniffed (ML-20M/25M's `ratings.csv`, with titles and
genres from the `movies.csv` beside it). `formats.build` parses one file; `pick_ratings_file` chooses the ratings
file among a folder's or zip's names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from .movielens import (
    parse_ml1m_genres,
    parse_ml1m_movies,
    parse_ml1m_users,
    parse_ml100k_genres,
    parse_ml100k_items,
    parse_ml100k_users,
    parse_movies_csv,
    parse_movies_csv_genres,
    strip_bom,
)
from .ratings import MOVIELENS_SCALES, STAR_SCALES, DataError, LineOf, RatingData, ScaleRequest, from_triples

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")

_USER_COLUMNS = {"user", "users", "userid", "uid", "customer", "customerid", "reviewer", "reviewerid"}
_ITEM_COLUMNS = {"item", "items", "itemid", "iid", "movie", "movieid", "product", "productid", "asin", "bookid"}
_RATING_COLUMNS = {"rating", "ratings", "score", "stars", "rate", "value"}


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
    raw = strip_bom(raw)
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


def _sniff_table(raw: bytes, source: str) -> _Layout:
    """Find the separator and header from the first non-blank line; later lines are checked by the parser.
    Only the head is decoded (the whole of a 650 MB ratings.csv took seconds), unless it is all blank."""
    text = raw[: 1 << 16].decode("latin-1")
    if len(raw) > 1 << 16 and "\n" not in text.lstrip():  # the first line does not end in the head
        text = raw.decode("latin-1")
    first = next(((n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()), None)
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


# ---------------------------------------------------------------------------------------------------------------
# formats: which parser and which titles file go with a ratings file

FORMATS = {
    # kind: (dataset name, titles file next to the ratings, ratings parser, titles parser)
    "ml-1m": ("ml-1m", "movies.dat", parse_ml1m_ratings, parse_ml1m_movies),  # ML-10M's ratings.dat too
    "ml-100k": ("ml-100k", "u.item", parse_ml100k_ratings, parse_ml100k_items),
    "table": ("", "movies.csv", parse_ratings_table, parse_movies_csv),  # named after the file; ML-20M/25M
}
# Decoration beside the titles, where a format has it: genres from the titles file, attributes from a users file.
GENRES = {"ml-1m": parse_ml1m_genres, "ml-100k": parse_ml100k_genres, "table": parse_movies_csv_genres}
USERS = {"ml-1m": ("users.dat", parse_ml1m_users), "ml-100k": ("u.user", parse_ml100k_users)}
MOVIELENS = ("ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-latest-small", "ml-latest")
_RELEASE_FOLDERS = {"ml-10m100k": "ml-10m"}  # ml-10m.zip unpacks to ml-10M100K/


def movielens_name(source: str) -> str | None:
    """The MovieLens release a path names (its folder or zip: `data/ml-25m/ratings.csv`, `ml-10m.zip:...`)."""
    for part in reversed(PurePosixPath(source.replace("\\", "/").lower().replace(".zip:", "/")).parts):
        name = _RELEASE_FOLDERS.get(part, part.removesuffix(".zip"))
        if name in MOVIELENS:
            return name
    return None


def kind_of(filename: str) -> str | None:
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


def sniff_kind(raw: bytes) -> str:
    """For an upload whose name says nothing: zips start with 'PK', ML-1M lines hold '::', the rest is a table."""
    if raw.startswith(b"PK\x03\x04"):
        return "zip"
    return "ml-1m" if b"::" in raw[:200] else "table"


def build(
    kind: str, raw: bytes, source: str, titles_raw: bytes | None, users_raw: bytes | None = None,
    rating_scale: ScaleRequest | None = None,
) -> RatingData:
    """Parse a ratings file's bytes (and its titles and users files', if any) into RatingData. The scale is
    `rating_scale` or read from the ratings; a MovieLens `::` or u.data file is on whole or half stars."""
    header_line = 0
    if kind == "table":
        raw = strip_bom(raw)
        layout = _sniff_table(raw, source)
        users, items, ratings = _parse_layout(raw, source, layout)
        header_line = layout.header_line
    else:
        users, items, ratings = FORMATS[kind][2](raw, source)
    default_name = FORMATS[kind][0] or PurePosixPath(source.replace("\\", "/")).stem or "ratings"
    titles = genres = attributes = None
    if titles_raw is not None:
        titles = FORMATS[kind][3](titles_raw) or None  # a movies.csv that is not MovieLens' gives no titles
        genres = (GENRES[kind](titles_raw) or None) if kind in GENRES else None
    if users_raw is not None and kind in USERS:
        attributes = USERS[kind][1](users_raw)
    return from_triples(
        users,
        items,
        ratings,
        name=movielens_name(source) or default_name,
        rating_scale=rating_scale,
        titles_by_raw_item=titles,
        source=source,
        line_of=_line_mapper(raw, header_line),
        extra={"format": kind, "source": source},
        genres_by_raw_item=genres,
        attributes_by_raw_user=attributes,
        scales=STAR_SCALES if kind == "table" else MOVIELENS_SCALES,
        open_scale=kind == "table",
    )


def pick_ratings_file(names: list[str]) -> tuple[str, str] | None:
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
            return match, kind_of(wanted) or "table"
    tables = [n for n in names if PurePosixPath(base[n]).suffix in TABLE_SUFFIXES]
    preferred = [n for n in tables if base[n].startswith("ratings")]
    if preferred:
        return preferred[0], "table"
    if len(tables) == 1:
        return tables[0], "table"
    return None


def sibling(name: str, filename: str) -> str:
    parent = PurePosixPath(name).parent
    return filename if str(parent) == "." else f"{parent}/{filename}"


NOT_FOUND = "no ratings.dat, u.data, ratings.csv or single .csv/.tsv file"


