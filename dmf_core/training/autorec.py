"""AutoRec's training (the network is `model/autorec.py`): batches of rows, a masked squared error with an l2 penalty
on the weights, run through the engine's one loop (`epochs.py`) and selected on validation RMSE."""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from ..config import AutoRecConfig
from ..model.autorec import AutoRecNet
from ..model.inputs import SparseBatch, SparseRows
from .epochs import EpochCallback, FitInfo, LoopConfig, steps_batch, train_loop


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
