"""AutoRec (Sedhain et al. 2015): a one-hidden-layer autoencoder (sigmoid, 500 units) over user rows (U-AutoRec) or
item columns (I-AutoRec), with a masked loss on observed entries and an l2 penalty on the weights. Its encoder reads
any row, so U-AutoRec serves new users (area II) and I-AutoRec new items (area III); the decoder has one output per
training column, so neither can score a column unseen in training.

It reads sparse data: the encoder is an `nn.EmbeddingBag` weighted by the ratings; in training the decoder is one
dense (batch rows × columns) GEMM of which only the observed entries enter the loss, and predictions are per-pair
dot products.

Rows never trained on (new users for U-AutoRec, new items for I-AutoRec) are read by the same encoder, but their
outputs are trusted only as far as validation says: as DMF's cosine weight for new rows (calibration.py), a
least-squares weight w in [0, 1], fitted on the validation ratings of area II (U-AutoRec) or III (I-AutoRec), scales
their deviation from the base prediction μ + b_column (the global mean + biases prediction of a row with no
ratings): r̂ = base + w · (AutoRec(r) − base). Seen rows are unchanged."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from ..biases import fit_biases, least_squares_weight
from ..data import RatingData
from ..inputs import SparseBatch, SparseRows
from ..metrics import rmse
from ..split import VAL, AreaSplit
from .base import EpochCallback, FitInfo, LoopConfig, Model, StepCallback, batched, steps_batch, train_loop, val_pairs


@dataclass(frozen=True)
class AutoRecConfig:
    side: Literal["user", "item"] = "item"  # item: I-AutoRec (rows are item columns); user: U-AutoRec
    hidden: int = 500
    lr: float = 1e-2
    # λ of the AutoRec objective Σ_observed (r - h(r))² + λ/2 (‖W‖² + ‖V‖²). Chosen on seed 0's area-I validation
    # RMSE on ML-1M: 100 was best among {1, 10, 100, 300, 1000} for I-AutoRec (0.846) and {100, 300} for U-AutoRec.
    reg: float = 100.0
    lr_decay: float = 0.9  # multiplied into lr after every epoch: Adam at 1e-2 is noisy late in training
    batch_size: int | None = None  # rows (items or users) per step; None: steps_batch(training rows, 256, 8)
    epochs: int = 30
    patience: int = 5
    max_seconds: float | None = None
    seed: int = 0


class _AutoRecModule(nn.Module):
    """r ∈ R^n (sparse) → h = sigmoid(W r + b) → r̂_j = V_j·h + c_j, with V_j evaluated only where asked."""

    def __init__(self, n_cols: int, hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        self.encoder = nn.EmbeddingBag(n_cols, hidden, mode="sum")  # W r for a sparse r, never densified
        self.encoder_bias = nn.Parameter(torch.zeros(hidden))
        self.decoder = nn.Embedding(n_cols, hidden)  # row j of V: the output unit of column j
        # Outputs start at 0, not at the mean rating: on ML-1M a mean start converged faster but stopped at a worse
        # validation RMSE (I-AutoRec 0.854-0.855 vs 0.846 at λ 100 or 300), as the early epochs act as regularisation.
        self.decoder_bias = nn.Parameter(torch.zeros(n_cols))
        bound = 1.0 / math.sqrt(hidden)
        nn.init.uniform_(self.encoder.weight, -bound, bound, generator=generator)
        nn.init.uniform_(self.decoder.weight, -bound, bound, generator=generator)

    def encode(self, batch: SparseBatch) -> torch.Tensor:
        hidden = self.encoder(batch.indices, batch.offsets(), per_sample_weights=batch.values)
        return torch.sigmoid(hidden + self.encoder_bias)

    def decode_at(self, hidden: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Outputs of row `rows[k]` (index into `hidden`) at column `cols[k]` only: for scoring arbitrary pairs."""
        return (hidden[rows] * self.decoder(cols)).sum(-1) + self.decoder_bias[cols]

    def decode_batch(self, hidden: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """The same outputs for a training batch, via one dense (batch × columns) GEMM: gathering a 500-wide decoder
        row per observed entry moves ~5x more memory than the GEMM costs on CPU (measured). Only the observed
        entries are then picked, so the loss stays masked."""
        return (hidden @ self.decoder.weight.T + self.decoder_bias)[rows, cols]

    def weight_norm(self) -> torch.Tensor:
        return self.encoder.weight.pow(2).sum() + self.decoder.weight.pow(2).sum()


class AutoRec(Model):
    """U-AutoRec (`side="user"`) or I-AutoRec (`side="item"`)."""

    def __init__(self, config: AutoRecConfig | None = None):
        self.config = config or AutoRecConfig()
        self.module: _AutoRecModule | None = None
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
        module = _AutoRecModule(n_cols, cfg.hidden, torch.Generator().manual_seed(cfg.seed))  # the run's own
        self.module = module
        rows, cols = self._orient(data.users[train], data.items[train])
        train_rows = SparseRows.from_coo(rows, cols, data.ratings[train], n_rows, n_cols)
        active = torch.as_tensor(np.flatnonzero(np.bincount(rows, minlength=n_rows) > 0))
        batch_size = cfg.batch_size or steps_batch(len(active), 256, 8)
        n_observed = max(1, int(train.sum()))
        optimizer = torch.optim.Adam(module.parameters(), lr=cfg.lr)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_decay)
        val_u, val_i, val_r = val_pairs(data, split)

        def epoch_fn(generator: torch.Generator) -> float:
            order = active[torch.randperm(len(active), generator=generator)]
            total = 0.0
            for chunk in torch.split(order, batch_size):
                batch = train_rows.gather(chunk)
                pred = module.decode_batch(module.encode(batch), batch.bags, batch.indices)
                sse = torch.sum((pred - batch.values) ** 2)
                # Per-entry scale: the batch's share of the full objective, so λ keeps the paper's meaning.
                loss = (sse + cfg.reg / 2 * module.weight_norm() * len(batch.values) / n_observed) / len(batch.values)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(sse.detach())
            scheduler.step()
            return total / n_observed

        def val_fn() -> float | None:
            # Model selection scores area-I pairs, whose input rows are exactly the training rows.
            self._encode(train_rows)
            return rmse(self.predict(val_u, val_i), val_r) if len(val_r) else None

        loop = LoopConfig(cfg.epochs, cfg.patience, cfg.max_seconds, cfg.seed)
        info = train_loop(module, epoch_fn, val_fn, loop, on_epoch, stop_event)
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

    @torch.no_grad()
    def _encode(self, inputs: SparseRows, chunk: int = 4096) -> None:
        assert self.module is not None
        parts = [self.module.encode(inputs.gather(torch.arange(start, min(start + chunk, inputs.n_rows))))
                 for start in range(0, inputs.n_rows, chunk)]
        self.hidden = torch.cat(parts)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = self._raw(users, items)
        if self.new_row is not None and self.base is not None and self.new_row_weight != 1.0:
            rows, cols = self._orient(users, items)
            new = self.new_row[rows]
            base = self.base[cols[new]]
            pred[new] = base + self.new_row_weight * (pred[new] - base)
        return np.clip(pred, *self.scale).astype(np.float32)
