"""Biased matrix factorisation: mean + biases + P·Qᵀ, trained with Adam on minibatches of observed area-I ratings.
A plain MF has no factors for rows or columns unseen in training, so it serves area I only (a dash elsewhere, as in
the paper)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data import RatingData
from ..data.split import AreaSplit
from ..scoring.metrics import rmse
from .base import EpochCallback, FitInfo, LoopConfig, Model, StepCallback, batched, steps_batch, train_loop, val_pairs


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
    def __init__(self, n_users: int, n_items: int, dim: int, mu: float, generator: torch.Generator | None = None):
        super().__init__()
        self.mu = mu
        self.user_factors = nn.Embedding(n_users, dim)
        self.item_factors = nn.Embedding(n_items, dim)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        for table in (self.user_factors, self.item_factors):
            nn.init.normal_(table.weight, std=0.01, generator=generator)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p, q = self.user_factors(users), self.item_factors(items)
        bu, bi = self.user_bias(users).squeeze(-1), self.item_bias(items).squeeze(-1)
        pred = self.mu + bu + bi + (p * q).sum(-1)
        penalty = (p.pow(2).sum(-1) + q.pow(2).sum(-1) + bu.pow(2) + bi.pow(2)).mean()
        return pred, penalty


class BiasedMF(Model):
    name = "mf"
    serves = ("I",)

    def __init__(self, config: MFConfig | None = None):
        self.config = config or MFConfig()
        self.module: _MFModule | None = None
        self.scale = (1.0, 5.0)

    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None, *,
            on_step: StepCallback | None = None, stop_event: threading.Event | None = None) -> FitInfo:
        cfg = self.config
        self.scale = data.rating_scale
        train = split.train_mask()
        users = torch.as_tensor(data.users[train])
        items = torch.as_tensor(data.items[train])
        ratings = torch.as_tensor(data.ratings[train])
        module = _MFModule(data.n_users, data.n_items, cfg.dim, float(ratings.mean()),
                           torch.Generator().manual_seed(cfg.seed))  # the run's own: no global random state
        self.module = module
        optimizer = torch.optim.Adam(module.parameters(), lr=cfg.lr)
        val_u, val_i, val_r = val_pairs(data, split)
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
        return train_loop(module, epoch_fn, val_fn, loop, on_epoch, stop_event)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self.module is None:
            raise RuntimeError("fit the model first")
        module = self.module
        pred = batched(lambda u, i: module(u, i)[0], users, items)
        return np.clip(pred, *self.scale)
