"""How long a training epoch will take, measured before training starts (the Train page shows it beside Start), and
the check that a DMF-D run's time budget leaves room for its quantizer.

A throwaway model with the run's settings runs the training loop itself (`loop.Loop` over `train.BlockTask`, on
blocks cut by the same rule, with its own generators: nothing of the caller's or of another run's randomness is
touched) for a few steps of its first epoch, which its stop flag then ends; the time to the first step (the epoch's
gathers), plus the mean step time after it times the other steps of an epoch, plus the epoch's end (validation and
selection), is the estimate. The first step of a model also
allocates the optimizer's state, which is small beside the gathers it is counted with.

Steps differ little in cost (the chunks are even), so a few of them give the epoch within tens of percent when the
machine is steady; on a machine shared with other processes the estimate is only as steady as the machine
(`benchmarks/bench_estimate.py` compares it with real epochs). The call takes about 0.5 s on the demo data and 2 s on
ML-1M (a third of an epoch) on a 2-core CPU.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import torch

from .biases import fit_biases
from .config import ModelConfig, TrainConfig, replace
from .data import RatingData
from .derive import DataShape, derive
from .device import pick_device
from .inputs import MatrixInputs
from .loop import Callbacks
from .phases import WARMUP_SHARE
from .split import AreaSplit
from .train import BlockTask, build_model, make_loop

MIN_STEPS = 3  # timed steps at least (after the first one, which also pays the epoch's gathers)
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
    model = build_model(data, model_config, config)
    model.set_biases(fit_biases(data, split))
    model = model.to(device)
    task = BlockTask(model, MatrixInputs.from_split(data, split, device), data, split, config, device)
    marks: list[float] = []
    steps_per_epoch = [0]
    enough = threading.Event()  # the loop's stop flag: set once enough steps are timed

    def on_step(step: int, steps: int) -> None:
        _sync(device)
        marks.append(time.perf_counter())
        steps_per_epoch[0] = steps
        timed = np.diff(marks)
        if len(timed) >= MIN_STEPS and timed.sum() >= MIN_SECONDS:
            enough.set()

    # The loop itself, for one (partial) epoch: the same steps, validation and selection as a real run.
    loop = make_loop(task, replace(config, epochs=1), Callbacks(on_step=on_step), enough)
    _sync(device)
    started = time.perf_counter()
    loop.run()
    ended = time.perf_counter()
    if not marks:
        return 0.0
    first = marks[0] - started  # the epoch's gathers and its first step
    later = np.diff(marks)
    step_seconds = float(later.mean()) if len(later) else first
    return first + step_seconds * max(0, steps_per_epoch[0] - 1) + (ended - marks[-1])  # + validation


def check_quantizer_budget(data: RatingData, split: AreaSplit, model_config: ModelConfig,
                           train_config: TrainConfig) -> None:
    """A DMF-D run with a time budget must have time for a warm-up epoch and a quantizer epoch; else a one-line
    ValueError says how much it needs (the warm-up gets at most WARMUP_SHARE of the budget, `phases.py`)."""
    if train_config.model != "dmf-d" or train_config.max_seconds is None:
        return
    epoch = estimate_epoch_seconds(data, split, model_config, train_config)
    needed = 2 * epoch if train_config.quantizer.warmup_epochs != 0 else epoch
    if train_config.max_seconds < needed:
        raise ValueError(
            f"a time budget of {train_config.max_seconds:g} s is too short for DMF-D to train its quantizer: an epoch "
            f"takes about {epoch:.1f} s here, and the warm-up takes up to {WARMUP_SHARE:.0%} of the budget; give "
            f"--max-seconds {max(1, round(needed * 1.5))} or more, or train --model dmf")


__all__ = ["estimate_epoch_seconds", "check_quantizer_budget"]
