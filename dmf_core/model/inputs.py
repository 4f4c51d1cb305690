"""Sparse rating rows as model inputs.

Rows of ML-1M are ~95% empty, so inputs are kept in CSR form on the device and a batch of rows is gathered into
the flat (index, value, bag) triplets that `nn.EmbeddingBag` consumes. No dense per-pair input is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import RatingData
from ..data.split import AreaSplit


@dataclass(frozen=True)
class SparseBatch:
    """Flat entries of a batch of rows: entry k belongs to bag `bags[k]`, column `indices[k]`, value `values[k]`."""

    indices: torch.Tensor  # long
    values: torch.Tensor  # float, ratings scaled to [-1, 1]
    bags: torch.Tensor  # long, row position within the batch
    n_bags: int

    def keep(self, selected: torch.Tensor) -> SparseBatch:
        """Only the entries flagged in `selected` (bool per entry); bags keep their positions."""
        positions = selected.nonzero().squeeze(1)  # found once for the three arrays
        return SparseBatch(self.indices.index_select(0, positions), self.values.index_select(0, positions),
                           self.bags.index_select(0, positions), self.n_bags)

    def counts(self) -> torch.Tensor:
        return torch.bincount(self.bags, minlength=self.n_bags)

    def offsets(self) -> torch.Tensor:
        counts = self.counts()
        return torch.cumsum(counts, 0) - counts


@dataclass(frozen=True)
class SparseRows:
    """A CSR matrix of scaled ratings on a device: rows are users (or items), columns the other side."""

    indptr: torch.Tensor  # long, n_rows + 1
    indices: torch.Tensor  # long
    values: torch.Tensor  # float32
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def from_coo(
        cls,
        rows: np.ndarray,
        cols: np.ndarray,
        values: np.ndarray,
        n_rows: int,
        n_cols: int,
        device: torch.device | str = "cpu",
    ) -> SparseRows:
        order = np.lexsort((cols, rows))
        counts = np.bincount(rows, minlength=n_rows)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return cls(
            indptr=torch.as_tensor(indptr, dtype=torch.long, device=device),
            indices=torch.as_tensor(cols[order], dtype=torch.long, device=device),
            values=torch.as_tensor(values[order], dtype=torch.float32, device=device),
            n_cols=n_cols,
        )

    def to(self, device: torch.device | str) -> SparseRows:
        return SparseRows(self.indptr.to(device), self.indices.to(device), self.values.to(device), self.n_cols)

    def gather(self, rows: torch.Tensor) -> SparseBatch:
        """The entries of `rows` (a long tensor of row ids), in batch order."""
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        bags = torch.repeat_interleave(torch.arange(len(rows), device=rows.device), lengths)
        first_of_bag = torch.cumsum(lengths, 0) - lengths
        positions = starts[bags] + (torch.arange(len(bags), device=rows.device) - first_of_bag[bags])
        return SparseBatch(self.indices[positions], self.values[positions], bags, len(rows))


def scale_ratings(ratings: np.ndarray | torch.Tensor, scale: tuple[float, float]) -> np.ndarray | torch.Tensor:
    """Map [low, high] linearly onto [-1, 1] (the paper's footnote 1)."""
    low, high = scale
    mid = (low + high) / 2
    return (ratings - mid) / (mid - low)


def unscale_ratings(values: np.ndarray | torch.Tensor, scale: tuple[float, float]) -> np.ndarray | torch.Tensor:
    low, high = scale
    mid = (low + high) / 2
    return values * (mid - low) + mid


@dataclass(frozen=True)
class MatrixInputs:
    """Every user's input row and every item's input column, as the split allows them (see `split.py`)."""

    user_rows: SparseRows  # n_users × n_items
    item_cols: SparseRows  # n_items × n_users
    rating_scale: tuple[float, float]

    @classmethod
    def from_split(cls, data: RatingData, split: AreaSplit, device: torch.device | str = "cpu") -> MatrixInputs:
        scaled = scale_ratings(data.ratings, data.rating_scale).astype(np.float32)
        user_mask = split.user_input_mask(data)
        item_mask = split.item_input_mask(data)
        user_rows = SparseRows.from_coo(
            data.users[user_mask], data.items[user_mask], scaled[user_mask], data.n_users, data.n_items, device
        )
        item_cols = SparseRows.from_coo(
            data.items[item_mask], data.users[item_mask], scaled[item_mask], data.n_items, data.n_users, device
        )
        return cls(user_rows=user_rows, item_cols=item_cols, rating_scale=data.rating_scale)

    def to(self, device: torch.device | str) -> MatrixInputs:
        return MatrixInputs(self.user_rows.to(device), self.item_cols.to(device), self.rating_scale)


def single_row(
    columns: np.ndarray | list[int], ratings: np.ndarray | list[float], n_cols: int, scale: tuple[float, float]
) -> SparseRows:
    """One new row (a new user's handful of ratings, say) as a 1-row CSR matrix."""
    cols = np.asarray(columns, dtype=np.int64)
    values = scale_ratings(np.asarray(ratings, dtype=np.float32), scale).astype(np.float32)
    return SparseRows.from_coo(np.zeros(len(cols), dtype=np.int64), cols, values, 1, n_cols)
