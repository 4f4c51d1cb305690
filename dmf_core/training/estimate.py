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

The I-AutoRec companion (`companion.py`) is estimated apart, as it is what grows with the users: its encoder and
decoder hold a 500-wide row per user, and every step multiplies a batch of items by all users' decoder rows. Its
memory is counted from those sizes; its epoch is timed by a few real steps of a companion over a slice of the users
and scaled to all of them, since a step's cost is linear in the users. `check_companion_fits` refuses a run whose
companion needs more memory than is free, or an epoch longer than the time budget, before anything trains.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..config import AutoRecConfig, ModelConfig, TrainConfig, replace
from ..data import RatingData
from ..data.split import AreaSplit
from ..device import pick_device
from ..model.autorec import AutoRecNet
from ..model.biases import fit_biases
from ..model.inputs import MatrixInputs, SparseRows
from .autorec import autorec_batch, autorec_step
from .derive import DataShape, derive
from .loop import Callbacks
from .phases import WARMUP_SHARE
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


# Users of the companion whose steps are timed. Its 500-wide weight matrices then pass 32 MiB, glibc's largest
# threshold for memory it maps fresh for each allocation (page faults every step), as at scale: timed on 16,384
# users, a step of 30,000 users came out 1.6x too fast (benchmarks/bench_companion_cost.py).
SLICE_USERS = 32768
FLOAT_BYTES = 4
# Peak resident memory with the companion, less without it, over the tensors counted in `companion_peak_bytes`:
# 1.1 at 20,000 users x 4,000 items (1M ratings), 2.2 at 30,000 x 8,000 (5M; benchmarks/bench_companion_cost.py).
# The rest is the encoder's per-rating gradient rows, the allocator's and DMF's state kept beside it; 2 is
# counted so that a run that passes the memory check does not take the machine's last memory.
MEMORY_OVERHEAD = 2.0


def size(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


@dataclass(frozen=True)
class CompanionCost:
    """What the I-AutoRec companion of a run costs: peak memory on its device, and an epoch's time (None: not
    measured) with the most epochs it trains (early stopping often ends it sooner)."""

    users: int
    peak_bytes: int
    epoch_seconds: float | None
    epochs: int

    def describe(self) -> str:
        text = f"about {size(self.peak_bytes)} of memory"
        if self.epoch_seconds is not None:
            text += (f" and {self.epoch_seconds:.0f} s an epoch (up to {self.epochs} epochs, "
                     f"{self.epoch_seconds * self.epochs / 60:.0f} min)")
        return text + f" for {self.users:,} users"


def _companion_rows(data: RatingData, split: AreaSplit, users: int, device: torch.device) -> SparseRows:
    """The companion's training rows (item columns of the observed ratings), keeping the first `users` users."""
    keep = split.train_mask() & (data.users < users)
    return SparseRows.from_coo(data.items[keep], data.users[keep], data.ratings[keep], data.n_items, users, device)


def companion_peak_bytes(n_users: int, batch_items: int, hidden: int | None = None) -> int:
    """Peak memory of training the companion: its weights (encoder and decoder, 2 x users x hidden), their gradients,
    Adam's two moments and up to two copies of the best epoch's weights (the new one is made before the old one is
    freed), plus the dense (batch items x users) product with its bias-added copy and their gradients; times
    MEMORY_OVERHEAD for what these tensors leave out."""
    hidden = hidden or AutoRecConfig().hidden
    params = 2 * n_users * hidden + n_users + hidden
    return int(MEMORY_OVERHEAD * FLOAT_BYTES * (6 * params + 4 * batch_items * n_users))


def estimate_companion(data: RatingData, split: AreaSplit, device: torch.device, time_it: bool = True) -> CompanionCost:
    """The companion's cost for `data` and `split` on `device`: memory counted, an epoch's training steps timed on
    SLICE_USERS users (when `time_it`) and scaled by the users' share. Allocates only the slice's companion."""
    config = AutoRecConfig()
    train = split.train_mask()
    n_items = len(np.unique(data.items[train]))  # items with a rating to reconstruct: the companion's training rows
    batch = autorec_batch(n_items, config)
    cost = CompanionCost(data.n_users, companion_peak_bytes(data.n_users, batch), None, config.epochs)
    if not time_it or not n_items:
        return cost
    users = min(data.n_users, SLICE_USERS)
    rows = _companion_rows(data, split, users, device)
    generator = torch.Generator().manual_seed(0)
    net = AutoRecNet(users, config.hidden, generator).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    active = torch.nonzero(torch.diff(rows.indptr) > 0).flatten()
    order = active[torch.randperm(len(active), generator=generator).to(device)]
    marks = [time.perf_counter()]
    for chunk in torch.split(order, batch):  # the first step allocates Adam's state: it is not timed
        autorec_step(net, rows.gather(chunk), optimizer, config.reg, max(1, len(rows.values)))
        _sync(device)
        marks.append(time.perf_counter())
        timed = np.diff(marks[1:])
        if len(timed) >= MIN_STEPS and timed.sum() >= MIN_SECONDS:
            break
    steps = np.diff(marks)
    step = float(steps[1:].mean() if len(steps) > 1 else steps[0])
    return replace(cost, epoch_seconds=step * math.ceil(n_items / batch) * data.n_users / users)


def available_bytes(device: torch.device) -> int | None:
    """Memory free for a new allocation on `device` (None where it cannot be read): the GPU's free memory, or the
    system's available memory (Linux's MemAvailable, which counts reclaimable caches; else free pages)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_companion_fits(data: RatingData, split: AreaSplit, model_config: ModelConfig,
                         train_config: TrainConfig) -> CompanionCost | None:
    """A run blended with the I-AutoRec companion must have memory for it and, with a time budget, time for an
    epoch of it; else a one-line ValueError says what it would cost. Returns the cost (None without a companion);
    its epoch is timed only where a time budget asks for it."""
    if model_config.companion == "none" or train_config.model != "dmf":
        return None
    device = pick_device(train_config.device)
    free = available_bytes(device)
    cost = estimate_companion(data, split, device, time_it=train_config.max_seconds is not None)
    if free is not None and cost.peak_bytes > free:
        raise ValueError(f"the I-AutoRec companion would need {cost.describe()}, but {size(free)} is free on "
                         f"{device}: train with --companion none (DMF alone)")
    if cost.epoch_seconds is not None and cost.epoch_seconds > (train_config.max_seconds or math.inf):
        raise ValueError(f"the I-AutoRec companion would need {cost.describe()}, more than the time budget of "
                         f"{train_config.max_seconds:g} s: train with --companion none (DMF alone), or give a "
                         "larger --max-seconds")
    return cost


__all__ = ["CompanionCost", "available_bytes", "check_companion_fits", "check_quantizer_budget",
           "companion_peak_bytes", "estimate_companion", "estimate_epoch_seconds"]
