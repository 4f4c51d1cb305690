"""Tables in, arrays out: the library's (user, item[, rating]) inputs as a pandas DataFrame, an array or a list of
tuples, each checked with a one-line ValueError that names the problem (an empty table, a missing column, a
missing or repeated value)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

RATING_COLUMNS = ("user", "item", "rating")
PAIR_COLUMNS = ("user", "item")


def _frame(table: Any, names: Sequence[str], what: str) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, dict):
        return pd.DataFrame(table)
    try:
        array = np.asarray(table, dtype=object)
    except (TypeError, ValueError):
        array = np.empty((0, 0))
    if array.size == 0:
        raise ValueError(f"{what}: the table is empty")
    if array.ndim != 2 or array.shape[1] < len(names):
        raise ValueError(f"{what}: expected a DataFrame with columns {', '.join(names)} or rows of "
                         f"({', '.join(names)}), got {type(table).__name__}")
    return pd.DataFrame(array[:, : len(names)], columns=list(names))


def columns_of(table: Any, columns: Sequence[str] | None, default: Sequence[str], what: str) -> list[np.ndarray]:
    """The columns `columns` (default names `default`) of `table` as arrays, one per name, checked."""
    names = list(columns) if columns is not None else list(default)
    if len(names) != len(default):
        raise ValueError(f"columns= names the {'/'.join(default)} columns: {len(default)} names, got {len(names)}")
    frame = _frame(table, names if columns is not None else default, what)
    if len(frame) == 0:
        raise ValueError(f"{what}: the table is empty")
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"{what}: no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))}); "
                         f"name the {'/'.join(default)} columns with columns=(...)")
    arrays = []
    for name, role in zip(names, default, strict=True):
        values = frame[name].to_numpy()
        if pd.isna(values).any():
            row = int(np.flatnonzero(pd.isna(values))[0])
            raise ValueError(f"{what}: row {row}: missing {role}")
        if role == "rating":
            try:
                values = values.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{what}: the {name!r} column holds non-numbers") from None
        elif values.dtype == object:
            values = _plain_ids(values)
        arrays.append(values)
    return arrays


def _plain_ids(values: np.ndarray) -> np.ndarray:
    """Object columns of whole numbers (a table built from tuples) as int64, so they match integer ids; mixed ones
    (a new user named by text beside numeric ids) stay as they are, each value matched as itself."""
    try:
        numbers = values.astype(np.int64)
    except (TypeError, ValueError):
        return values
    return numbers if (numbers == values).all() else values


def first_repeat(users: np.ndarray, items: np.ndarray) -> tuple[Any, Any] | None:
    """The first (user, item) pair that occurs twice, or None."""
    keys = pd.MultiIndex.from_arrays([users, items])
    repeated = keys.duplicated()
    if not repeated.any():
        return None
    row = int(np.flatnonzero(repeated)[0])
    return users[row], items[row]


def lookup(index: pd.Index, raw: np.ndarray) -> np.ndarray:
    """Positions of `raw` ids in `index` (-1 where absent). Ids read from text ("42" from a CSV whose column also
    holds names) match whole-number ids, and whole numbers match ids that are text, as a person would expect."""
    found = np.asarray(index.get_indexer(raw))
    missing = found < 0
    if not missing.any():
        return found
    if index.dtype.kind in "iu" and raw.dtype.kind in "OU":
        numbers = pd.to_numeric(pd.Series(raw[missing]), errors="coerce").to_numpy()
        whole = np.isfinite(numbers) & (numbers == np.round(numbers))
        retry = np.flatnonzero(missing)[whole]
        found[retry] = index.get_indexer(numbers[whole].astype(np.int64))
    elif index.dtype.kind == "O" and raw.dtype.kind in "iuO":
        found[missing] = index.get_indexer(np.asarray([str(value) for value in raw[missing]], dtype=object))
    return found
