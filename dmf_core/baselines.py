"""Baselines for the paper's tables, trained on the same seeded splits as DMF.

- `GlobalBias`: global mean + regularised user and item biases (Koren's baseline predictor), fitted by a few
  alternating closed-form passes. New users / items get a bias *folded in* from their observed ratings, the same
  information DMF receives as its input row / column, so it serves all four areas.
- `BiasedMF`: mean + biases + P·Qᵀ, trained with Adam on minibatches of observed area-I ratings. A plain MF has no
  factors for rows or columns unseen in training, so it serves area I only (a dash elsewhere, as in the paper).
- `AutoRec` (Sedhain et al. 2015): a one-hidden-layer autoencoder (sigmoid, 500 units) over user rows (U-AutoRec)
  or item columns (I-AutoRec), with a masked loss on observed entries and an l2 penalty on the weights. Its
  encoder reads any row, so U-AutoRec serves new users (area II) and I-AutoRec new items (area III); the decoder has
  one output per training column, so neither can score a column unseen in training.

All of them read sparse data: the AutoRec encoder is an `nn.EmbeddingBag` weighted by the ratings; in training the
decoder is one dense (batch rows × columns) GEMM of which only the observed entries enter the loss, and predictions
are per-pair dot products.
"""

from __future__ import annotations

import copy
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .biases import PASSES, REG_ITEM, REG_USER, fit_biases
from .data import RatingData
from .inputs import SparseBatch, SparseRows
from .metrics import rmse, score
from .split import AREAS, TEST, VAL, AreaSplit

EpochCallback = Callable[[dict[str, Any]], None]


@dataclass
class FitInfo:
    """What a baseline's training did: for the per-seed result files and the progress line."""

    epochs_run: int = 0
    best_epoch: int = 0
    best_val_rmse: float | None = None
    seconds: float = 0.0
    stop_reason: str = "completed"  # completed | early_stopping | time_budget
    history: list[dict[str, Any]] = field(default_factory=list)


class Baseline(ABC):
    """A rating predictor fitted on one split. `serves` lists the areas it can score; others get a dash."""

    name: str = "baseline"
    serves: tuple[str, ...] = AREAS

    @abstractmethod
    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None) -> FitInfo: ...

    @abstractmethod
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings (float32, clipped to the rating scale) for (user, item) index pairs in served areas."""


# ---------------------------------------------------------------------------------------------------------------
# Global mean + biases


@dataclass(frozen=True)
class BiasConfig:
    reg_user: float = REG_USER  # see biases.py for how these were chosen
    reg_item: float = REG_ITEM
    passes: int = PASSES


class GlobalBias(Baseline):
    name = "bias"
    serves = AREAS

    def __init__(self, config: BiasConfig | None = None):
        self.config = config or BiasConfig()
        self.mu = 0.0
        self.user_bias = np.zeros(0)
        self.item_bias = np.zeros(0)
        self.scale = (1.0, 5.0)

    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None) -> FitInfo:
        started = time.perf_counter()
        cfg = self.config
        self.scale = data.rating_scale
        biases = fit_biases(data, split, cfg.reg_user, cfg.reg_item, cfg.passes)
        self.mu, self.user_bias, self.item_bias = biases.mu, biases.user, biases.item
        val = split.mask(VAL, "I")
        val_rmse = rmse(self.predict(data.users[val], data.items[val]), data.ratings[val]) if val.any() else None
        info = FitInfo(epochs_run=cfg.passes, best_epoch=cfg.passes, best_val_rmse=val_rmse,
                       seconds=time.perf_counter() - started)
        if on_epoch is not None:
            on_epoch({"epoch": cfg.passes, "epochs": cfg.passes, "val_rmse": val_rmse, "elapsed": info.seconds})
        return info

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = self.mu + self.user_bias[users] + self.item_bias[items]
        return np.clip(pred, *self.scale).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# Shared minibatch loop with early stopping on validation RMSE (area I)


@dataclass(frozen=True)
class LoopConfig:
    epochs: int
    patience: int
    max_seconds: float | None
    seed: int


def _train_loop(
    module: nn.Module,
    epoch_fn: Callable[[torch.Generator], float],
    val_fn: Callable[[], float | None],
    loop: LoopConfig,
    on_epoch: EpochCallback | None,
) -> FitInfo:
    """Run epochs until `epochs`, `patience` epochs without a better validation RMSE, or `max_seconds`; then restore
    the best weights. The time check sits between epochs: baseline epochs are ~1 s, so the overshoot is small."""
    generator = torch.Generator().manual_seed(loop.seed)
    info = FitInfo()
    best_state = copy.deepcopy(module.state_dict())
    best = math.inf
    stale = 0
    started = time.perf_counter()
    for epoch in range(1, loop.epochs + 1):
        module.train()
        loss = epoch_fn(generator)
        module.eval()
        val_rmse = val_fn()
        elapsed = time.perf_counter() - started
        report = {"epoch": epoch, "epochs": loop.epochs, "train_loss": loss, "val_rmse": val_rmse, "elapsed": elapsed}
        info.history.append(report)
        info.epochs_run = epoch
        if on_epoch is not None:
            on_epoch(report)
        if not math.isfinite(loss):
            info.stop_reason = "diverged"
            break
        if val_rmse is None or val_rmse < best - 1e-5:
            best, info.best_epoch, stale = (val_rmse if val_rmse is not None else best), epoch, 0
            best_state = copy.deepcopy(module.state_dict())
        else:
            stale += 1
            if loop.patience and stale >= loop.patience:
                info.stop_reason = "early_stopping"
                break
        if loop.max_seconds is not None and elapsed >= loop.max_seconds:
            info.stop_reason = "time_budget"
            break
    module.load_state_dict(best_state)
    module.eval()
    info.best_val_rmse = best if math.isfinite(best) else None
    info.seconds = time.perf_counter() - started
    return info


@torch.no_grad()
def _batched(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], users: np.ndarray, items: np.ndarray,
             chunk: int = 1 << 17) -> np.ndarray:
    out = np.empty(len(users), dtype=np.float32)
    for start in range(0, len(users), chunk):
        u = torch.as_tensor(users[start : start + chunk], dtype=torch.long)
        i = torch.as_tensor(items[start : start + chunk], dtype=torch.long)
        out[start : start + chunk] = fn(u, i).numpy()
    return out


def _val_pairs(data: RatingData, split: AreaSplit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validation ratings of area I: model selection must not peek at how new users / items are scored."""
    val = split.mask(VAL, "I")
    return data.users[val], data.items[val], data.ratings[val]


# ---------------------------------------------------------------------------------------------------------------
# Biased matrix factorisation


# Minibatch sizes follow the data: at least this many optimizer steps an epoch, so the early-stopping patience and the
# learning-rate decay (in epochs) mean as much on 60k training ratings as on 600k. ML-1M keeps the sizes it was
# measured with (MF 32768 ratings, U-AutoRec 256 users, I-AutoRec 209 items instead of 256). On the demo data (seed 0)
# a fixed 32768 gave MF 2 steps an epoch and area-I RMSE 0.863 after 53 epochs (1.024 with the quick plan's
# 10-epoch cap); 16+ steps gave 0.849 in 15 epochs.
MIN_STEPS_PER_EPOCH = 16


def steps_batch(n: int, largest: int, smallest: int) -> int:
    """A batch size giving an epoch of n examples at least MIN_STEPS_PER_EPOCH steps, within [smallest, largest]."""
    return max(smallest, min(largest, math.ceil(n / MIN_STEPS_PER_EPOCH)))


@dataclass(frozen=True)
class MFConfig:
    dim: int = 64
    lr: float = 5e-3
    reg: float = 0.05  # l2 on the factors and biases a batch touches (the SGD-MF convention)
    batch_size: int | None = None  # ratings per step; None: steps_batch(training ratings, 32768, 256)
    epochs: int = 40
    patience: int = 3
    max_seconds: float | None = None
    seed: int = 0


class _MFModule(nn.Module):
    def __init__(self, n_users: int, n_items: int, dim: int, mu: float):
        super().__init__()
        self.mu = mu
        self.user_factors = nn.Embedding(n_users, dim)
        self.item_factors = nn.Embedding(n_items, dim)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        for table in (self.user_factors, self.item_factors):
            nn.init.normal_(table.weight, std=0.01)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p, q = self.user_factors(users), self.item_factors(items)
        bu, bi = self.user_bias(users).squeeze(-1), self.item_bias(items).squeeze(-1)
        pred = self.mu + bu + bi + (p * q).sum(-1)
        penalty = (p.pow(2).sum(-1) + q.pow(2).sum(-1) + bu.pow(2) + bi.pow(2)).mean()
        return pred, penalty


class BiasedMF(Baseline):
    name = "mf"
    serves = ("I",)

    def __init__(self, config: MFConfig | None = None):
        self.config = config or MFConfig()
        self.module: _MFModule | None = None
        self.scale = (1.0, 5.0)

    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None) -> FitInfo:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.scale = data.rating_scale
        train = split.train_mask()
        users = torch.as_tensor(data.users[train])
        items = torch.as_tensor(data.items[train])
        ratings = torch.as_tensor(data.ratings[train])
        module = _MFModule(data.n_users, data.n_items, cfg.dim, float(ratings.mean()))
        self.module = module
        optimizer = torch.optim.Adam(module.parameters(), lr=cfg.lr)
        val_u, val_i, val_r = _val_pairs(data, split)
        batch_size = cfg.batch_size or steps_batch(len(ratings), 32768, 256)

        def epoch_fn(generator: torch.Generator) -> float:
            order = torch.randperm(len(ratings), generator=generator)
            total = 0.0
            for batch in torch.split(order, batch_size):
                pred, penalty = module(users[batch], items[batch])
                mse = torch.mean((pred - ratings[batch]) ** 2)
                optimizer.zero_grad(set_to_none=True)
                (mse + cfg.reg * penalty).backward()
                optimizer.step()
                total += float(mse.detach()) * len(batch)
            return total / max(1, len(ratings))

        def val_fn() -> float | None:
            return rmse(self.predict(val_u, val_i), val_r) if len(val_r) else None

        loop = LoopConfig(cfg.epochs, cfg.patience, cfg.max_seconds, cfg.seed)
        return _train_loop(module, epoch_fn, val_fn, loop, on_epoch)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self.module is None:
            raise RuntimeError("fit the model first")
        module = self.module
        pred = _batched(lambda u, i: module(u, i)[0], users, items)
        return np.clip(pred, *self.scale)


# ---------------------------------------------------------------------------------------------------------------
# AutoRec


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

    def __init__(self, n_cols: int, hidden: int):
        super().__init__()
        self.encoder = nn.EmbeddingBag(n_cols, hidden, mode="sum")  # W r for a sparse r, never densified
        self.encoder_bias = nn.Parameter(torch.zeros(hidden))
        self.decoder = nn.Embedding(n_cols, hidden)  # row j of V: the output unit of column j
        # Outputs start at 0, not at the mean rating: on ML-1M a mean start converged faster but stopped at a worse
        # validation RMSE (I-AutoRec 0.854-0.855 vs 0.846 at λ 100 or 300), as the early epochs act as regularisation.
        self.decoder_bias = nn.Parameter(torch.zeros(n_cols))
        bound = 1.0 / math.sqrt(hidden)
        nn.init.uniform_(self.encoder.weight, -bound, bound)
        nn.init.uniform_(self.decoder.weight, -bound, bound)

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


class AutoRec(Baseline):
    """U-AutoRec (`side="user"`) or I-AutoRec (`side="item"`)."""

    def __init__(self, config: AutoRecConfig | None = None):
        self.config = config or AutoRecConfig()
        self.module: _AutoRecModule | None = None
        self.hidden: torch.Tensor | None = None  # code of every row, from the evaluation inputs
        self.scale = (1.0, 5.0)

    @property
    def name(self) -> str:  # type: ignore[override]
        return "u-autorec" if self.config.side == "user" else "i-autorec"

    @property
    def serves(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("I", "II") if self.config.side == "user" else ("I", "III")

    def _orient(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the autoencoder for (user, item) pairs."""
        return (users, items) if self.config.side == "user" else (items, users)

    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None) -> FitInfo:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.scale = data.rating_scale
        n_rows, n_cols = (data.n_users, data.n_items) if cfg.side == "user" else (data.n_items, data.n_users)
        # The training rows hold the observed area-I ratings: input and target at once, as in AutoRec.
        train = split.train_mask()
        module = _AutoRecModule(n_cols, cfg.hidden)
        self.module = module
        rows, cols = self._orient(data.users[train], data.items[train])
        train_rows = SparseRows.from_coo(rows, cols, data.ratings[train], n_rows, n_cols)
        active = torch.as_tensor(np.flatnonzero(np.bincount(rows, minlength=n_rows) > 0))
        batch_size = cfg.batch_size or steps_batch(len(active), 256, 8)
        n_observed = max(1, int(train.sum()))
        optimizer = torch.optim.Adam(module.parameters(), lr=cfg.lr)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_decay)
        val_u, val_i, val_r = _val_pairs(data, split)

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
        info = _train_loop(module, epoch_fn, val_fn, loop, on_epoch)
        self._encode(self._input_rows(data, split))
        return info

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
        if self.module is None or self.hidden is None:
            raise RuntimeError("fit the model first")
        module, hidden = self.module, self.hidden
        rows, cols = self._orient(users, items)
        pred = _batched(lambda r, c: module.decode_at(hidden, r, c), rows, cols)
        return np.clip(pred, *self.scale)


# ---------------------------------------------------------------------------------------------------------------
# Scoring


def make_baseline(name: str, seed: int = 0, **overrides: Any) -> Baseline:
    """A baseline by its results-file name: bias, mf, u-autorec, i-autorec."""
    if name == "bias":
        return GlobalBias(BiasConfig(**overrides))
    if name == "mf":
        return BiasedMF(MFConfig(seed=seed, **overrides))
    if name in ("u-autorec", "i-autorec"):
        return AutoRec(AutoRecConfig(side="user" if name == "u-autorec" else "item", seed=seed, **overrides))
    raise ValueError(f"unknown baseline {name!r} (bias, mf, u-autorec, i-autorec)")


def evaluate_baseline(model: Baseline, data: RatingData, split: AreaSplit, role: int = TEST) -> dict[str, Any]:
    """Test scores shaped like DMF's metrics: per area (None where the model cannot serve or the area is empty),
    overall over the served ratings, and the same after rounding to the rating scale."""
    served = np.isin(split.area, [AREAS.index(a) for a in model.serves])
    selected = (split.role == role) & served
    users, items, true = data.users[selected], data.items[selected], data.ratings[selected]
    area = split.area[selected]
    return {**score(model.predict(users, items), true, area, data.rating_scale), "serves": list(model.serves)}


__all__ = [
    "AutoRec",
    "AutoRecConfig",
    "Baseline",
    "BiasConfig",
    "BiasedMF",
    "FitInfo",
    "GlobalBias",
    "MFConfig",
    "evaluate_baseline",
    "make_baseline",
]
