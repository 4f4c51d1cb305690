"""How long a training epoch will take, measured before training starts (the Train page shows it beside Start).

A throwaway model with the run's settings takes a few real training steps on the chosen device (the same
`_train_step` that `fit` runs, on blocks cut by the same rule); the mean step time, times the steps an epoch has,
plus the gathers of the epoch's sparse batches and one validation pass (the Predictor build and the scoring of the
validation ratings that end every epoch), is the estimate. Nothing of the caller's is touched: the model is new, and
the random number generators are restored afterwards.

The first step of a model allocates the optimizer's state and warms caches, so it is run but not counted. Steps
differ little in cost (the chunks are even), so a few of them give the epoch within tens of percent when the machine
is steady (measured: 0.8-1.3× the epoch on the demo data, 1.2× on ML-1M); on a machine shared with other processes
the estimate is only as steady as the machine. The call takes about 0.5 s on the demo data and 2 s on ML-1M (a
third of an epoch) on a 2-core CPU, plus, the first time in a process, torch's one-off imports when the first
optimizer is built (a few seconds, which the first `fit` would otherwise pay).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from .config import ModelConfig, TrainConfig
from .data import RatingData
from .derive import DataShape, derive
from .device import pick_device
from .inputs import MatrixInputs
from .metrics import per_area
from .predict import Predictor
from .split import VAL, AreaSplit
from .train import _adam, _chunks, _train_step, build_model

MIN_STEPS = 3  # timed steps at least (after the uncounted first one)
MIN_SECONDS = 0.3  # ...and more, up to an epoch's worth, until this much time is measured


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def estimate_epoch_seconds(
    data: RatingData, split: AreaSplit, model_config: ModelConfig, train_config: TrainConfig
) -> float:
    """Seconds one epoch of `fit(data, split, model_config, train_config)` should take on its device, validation
    included (the per-epoch checkpoint a run may write is not). Raises ValueError for settings `fit` would refuse."""
    train_config.validate()
    model_config.validate()
    config, _ = derive(train_config, DataShape.of(split))
    device = pick_device(config.device)
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(config.seed)
        model = build_model(data, model_config, config).to(device)
        model.train()
        inputs = MatrixInputs.from_split(data, split, device)
        optimizer = _adam(model, config, device)
        seen_users = torch.as_tensor(np.flatnonzero(~split.new_user), device=device)
        seen_items = torch.as_tensor(np.flatnonzero(~split.new_item), device=device)
        user_chunks = _chunks(seen_users[torch.randperm(len(seen_users)).to(device)], config.block_users)
        item_chunks = _chunks(seen_items[torch.randperm(len(seen_items)).to(device)], config.block_items)
        steps_per_epoch = len(user_chunks) * len(item_chunks)
        if steps_per_epoch == 0:
            return 0.0

        # An epoch gathers every user chunk's rows once and every item chunk's columns once.
        _sync(device)
        started = time.perf_counter()
        item_batches = {0: inputs.item_cols.gather(item_chunks[0])}
        user_batches = {0: inputs.user_rows.gather(user_chunks[0])}
        _sync(device)
        gather_seconds = (time.perf_counter() - started) * (len(user_chunks) + len(item_chunks)) / 2

        timed: list[float] = []
        blocks = [(u, i) for u in range(len(user_chunks)) for i in range(len(item_chunks))]
        for count, (u, i) in enumerate(blocks):
            if len(timed) >= MIN_STEPS and sum(timed) >= MIN_SECONDS:
                break
            if u not in user_batches:
                user_batches = {u: inputs.user_rows.gather(user_chunks[u])}
            if i not in item_batches:
                item_batches[i] = inputs.item_cols.gather(item_chunks[i])
            in_block_user = torch.zeros(data.n_users, dtype=torch.bool, device=device)
            in_block_user[user_chunks[u]] = True
            _sync(device)
            started = time.perf_counter()
            _train_step(model, optimizer, user_chunks[u], user_batches[u], in_block_user, item_chunks[i],
                        item_batches[i], config, None)
            _sync(device)
            if count:  # the first step allocates the optimizer's state: not counted
                timed.append(time.perf_counter() - started)
        step_seconds = float(np.mean(timed)) if timed else 0.0

        val = split.role == VAL
        started = time.perf_counter()
        predictor = Predictor.build(model, inputs)
        per_area(predictor.continuous(data.users[val], data.items[val]), data.ratings[val], split.area[val])
        validation_seconds = time.perf_counter() - started
    return steps_per_epoch * step_seconds + gather_seconds + validation_seconds


__all__ = ["estimate_epoch_seconds"]
