"""AutoRec (Sedhain et al. 2015) as a baseline of the reproduction: the network and its training are the engine's
(`dmf_core/model/autorec.py`, which DMF's companion uses too). Its encoder reads any row, so U-AutoRec serves new users (area II) and I-AutoRec new items (area III); the decoder has one output per
training column, so neither can score a column unseen in training.

Rows never trained on (new users for U-AutoRec, new items for I-AutoRec) are read by the same encoder, but their
outputs are trusted only as far as validation says: as DMF's cosine weight for new rows (calibration.py), a
least-squares weight w in [0, 1], fitted on the validation ratings of area II (U-AutoRec) or III (I-AutoRec), scales
their deviation from the base prediction μ + b_column (the global mean + biases prediction of a row with no
ratings): r̂ = base + w · (AutoRec(r) − base). Seen rows are unchanged."""

from __future__ import annotations

import threading

import numpy as np
import torch

from ..config import AutoRecConfig
from ..data import RatingData
from ..data.split import VAL, AreaSplit
from ..model.autorec import AutoRecNet
from ..model.biases import fit_biases, least_squares_weight
from ..model.inputs import SparseRows
from ..scoring.metrics import rmse
from ..training.autorec import train_autorec
from .base import EpochCallback, FitInfo, Model, StepCallback, batched, val_pairs

__all__ = ["AutoRec", "AutoRecConfig"]


class AutoRec(Model):
    """U-AutoRec (`side="user"`) or I-AutoRec (`side="item"`)."""

    def __init__(self, config: AutoRecConfig | None = None):
        self.config = config or AutoRecConfig()
        self.module: AutoRecNet | None = None
        self.hidden: torch.Tensor | None = None  # code of every row, from the evaluation inputs
        self.scale = (1.0, 5.0)
        # New rows: their outputs' weight around the base μ + b_column, fitted on validation (see the module's text)
        self.new_row: np.ndarray | None = None  # bool per autoencoder row: never trained on
        self.base: np.ndarray | None = None  # float64 per autoencoder column: μ + its bias
        self.new_row_weight = 1.0

    @property
    def name(self) -> str:  # type: ignore[override]
        return "u-autorec" if self.config.side == "user" else "i-autorec"

    @property
    def serves(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("I", "II") if self.config.side == "user" else ("I", "III")

    def _orient(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the autoencoder for (user, item) pairs."""
        return (users, items) if self.config.side == "user" else (items, users)

    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None, *,
            on_step: StepCallback | None = None, stop_event: threading.Event | None = None) -> FitInfo:
        cfg = self.config
        self.scale = data.rating_scale
        self.new_row, self.base, self.new_row_weight = None, None, 1.0  # fitted again after training
        n_rows, n_cols = (data.n_users, data.n_items) if cfg.side == "user" else (data.n_items, data.n_users)
        # The training rows hold the observed area-I ratings: input and target at once, as in AutoRec.
        train = split.train_mask()
        module = AutoRecNet(n_cols, cfg.hidden, torch.Generator().manual_seed(cfg.seed))  # the run's own
        self.module = module
        rows, cols = self._orient(data.users[train], data.items[train])
        train_rows = SparseRows.from_coo(rows, cols, data.ratings[train], n_rows, n_cols)
        val_u, val_i, val_r = val_pairs(data, split)

        def val_fn() -> float | None:
            # Model selection scores area-I pairs, whose input rows are exactly the training rows.
            self._encode(train_rows)
            return rmse(self.predict(val_u, val_i), val_r) if len(val_r) else None

        info = train_autorec(module, train_rows, cfg, val_fn, on_epoch, stop_event)
        self._encode(self._input_rows(data, split))
        self._fit_new_row_weight(data, split)
        return info

    def _fit_new_row_weight(self, data: RatingData, split: AreaSplit) -> None:
        """The weight of new rows' deviation from the base, by least squares on area II's (U-AutoRec) or III's
        (I-AutoRec) validation ratings; no test rating is read."""
        biases = fit_biases(data, split)
        user_side = self.config.side == "user"
        self.base = biases.mu + (biases.item if user_side else biases.user)
        self.new_row = np.asarray(split.new_user if user_side else split.new_item, dtype=bool)
        self.new_row_weight = 1.0
        selected = (split.role == VAL) & (split.area == (1 if user_side else 2))
        users, items = data.users[selected], data.items[selected]
        _, cols = self._orient(users, items)
        base = self.base[cols]
        self.new_row_weight = least_squares_weight(data.ratings[selected] - base, self._raw(users, items) - base)

    def _raw(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The autoencoder's own outputs, unclipped and unweighted."""
        if self.module is None or self.hidden is None:
            raise RuntimeError("fit the model first")
        module, hidden = self.module, self.hidden
        rows, cols = self._orient(users, items)
        return np.asarray(batched(lambda r, c: module.decode_at(hidden, r, c), rows, cols), dtype=np.float64)

    def _input_rows(self, data: RatingData, split: AreaSplit) -> SparseRows:
        """Every row's input after training: its observed ratings on training columns. New rows (new users for
        U-AutoRec, new items for I-AutoRec) are included, so they are scored with no retraining."""
        if self.config.side == "user":
            mask, n_rows, n_cols = split.user_input_mask(data), data.n_users, data.n_items
        else:
            mask, n_rows, n_cols = split.item_input_mask(data), data.n_items, data.n_users
        rows, cols = self._orient(data.users[mask], data.items[mask])
        return SparseRows.from_coo(rows, cols, data.ratings[mask], n_rows, n_cols)

    def _encode(self, inputs: SparseRows) -> None:
        assert self.module is not None
        self.hidden = self.module.encode_all(inputs)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = self._raw(users, items)
        if self.new_row is not None and self.base is not None and self.new_row_weight != 1.0:
            rows, cols = self._orient(users, items)
            new = self.new_row[rows]
            base = self.base[cols[new]]
            pred[new] = base + self.new_row_weight * (pred[new] - base)
        return np.clip(pred, *self.scale).astype(np.float32)
