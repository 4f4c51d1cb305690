"""AutoRec (Sedhain et al. 2015): a one-hidden-layer autoencoder (sigmoid, 500 units) over user rows (U-AutoRec) or
item columns (I-AutoRec), with a masked loss on observed entries and an l2 penalty on the weights. The reproduction
runs it as a baseline (`reproduction/autorec.py`); DMF blends an I-AutoRec with its own output by default
(`companion.py`).

It reads sparse data: the encoder is an `nn.EmbeddingBag` weighted by the ratings; in training the decoder is one
dense (batch rows × columns) GEMM of which only the observed entries enter the loss, and predictions are per-pair
dot products: row k's code h_k against column j's output row V_j, plus its bias c_j."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from .config import AutoRecConfig
from .epochs import EpochCallback, FitInfo, LoopConfig, steps_batch, train_loop
from .inputs import SparseBatch, SparseRows


class AutoRecNet(nn.Module):
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
        """Codes of a batch of rows whose values are ratings on the data's own scale (not the scaled inputs)."""
        hidden = self.encoder(batch.indices, batch.offsets(), per_sample_weights=batch.values)
        return torch.sigmoid(hidden + self.encoder_bias)

    @torch.no_grad()
    def encode_all(self, rows: SparseRows, chunk: int = 4096,
                   values: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Codes of every row of `rows`; `values` maps the stored values to ratings first (DMF's inputs are scaled)."""
        parts = []
        for start in range(0, rows.n_rows, chunk):
            batch = rows.gather(torch.arange(start, min(start + chunk, rows.n_rows), device=rows.indptr.device))
            if values is not None:
                batch = replace(batch, values=values(batch.values))
            parts.append(self.encode(batch))
        return torch.cat(parts) if parts else torch.zeros(0, self.decoder.weight.shape[1])

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


def autorec_batch(n_rows: int, config: AutoRecConfig) -> int:
    """Rows (items, for I-AutoRec) per optimizer step, for `n_rows` training rows with a rating."""
    return config.batch_size or steps_batch(n_rows, 256, 8)


def autorec_step(net: AutoRecNet, batch: SparseBatch, optimizer: torch.optim.Optimizer, reg: float,
                 n_observed: int) -> float:
    """One optimizer step on a batch of training rows; returns the batch's squared error."""
    pred = net.decode_batch(net.encode(batch), batch.bags, batch.indices)
    sse = torch.sum((pred - batch.values) ** 2)
    # Per-entry scale: the batch's share of the full objective, so λ keeps the paper's meaning.
    loss = (sse + reg / 2 * net.weight_norm() * len(batch.values) / n_observed) / len(batch.values)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(sse.detach())


def train_autorec(net: AutoRecNet, rows: SparseRows, config: AutoRecConfig, val_fn: Callable[[], float | None],
                  on_epoch: EpochCallback | None = None, stop_event: threading.Event | None = None) -> FitInfo:
    """Train `net` on `rows` (the training rows, holding the observed ratings: input and target at once, as in
    AutoRec) through the engine's one loop, selecting the epoch of the best `val_fn` (validation RMSE)."""
    active = torch.nonzero(torch.diff(rows.indptr) > 0).flatten()  # rows with a rating to reconstruct
    batch_size = autorec_batch(len(active), config)
    n_observed = max(1, len(rows.values))
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)

    def epoch_fn(generator: torch.Generator) -> float:
        order = active[torch.randperm(len(active), generator=generator).to(active.device)]
        total = sum(autorec_step(net, rows.gather(chunk), optimizer, config.reg, n_observed)
                    for chunk in torch.split(order, batch_size))
        scheduler.step()
        return total / n_observed

    loop = LoopConfig(config.epochs, config.patience, config.max_seconds, config.seed)
    return train_loop(net, epoch_fn, val_fn, loop, on_epoch, stop_event)
