"""Epochs of minibatches as a task of the engine's one loop (`loop.py`): what the baselines of the reproduction and
DMF's I-AutoRec companion (`companion.py`) train with. An epoch is one step to the loop, so the stop flag, the time
budget and the divergence guard are checked between epochs (these epochs are ~1 s); early stopping on validation
selects the weights, as it does for DMF."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .loop import AfterStep, Callbacks, Loop, Validation, stream_seed
from .phases import Continuous
from .stopping import EarlyStopping, StopFlag, TimeBudget

EpochCallback = Callable[[dict[str, Any]], None]


@dataclass
class FitInfo:
    """What a model's training did: for the per-seed result files and the progress line."""

    epochs_run: int = 0
    best_epoch: int = 0
    best_val_rmse: float | None = None
    seconds: float = 0.0
    stop_reason: str = "completed"  # completed | early_stopping | time_budget | stopped | diverged
    history: list[dict[str, Any]] = field(default_factory=list)
    device: str = "cpu"
    quantizer_trained: bool | None = None  # DMF-D: whether its quantizer phase ran (None for every other model)


@dataclass(frozen=True)
class LoopConfig:
    epochs: int
    patience: int
    max_seconds: float | None
    seed: int


class EpochTask:
    """A baseline's epoch as the loop's task: `epoch_fn(generator)` trains one epoch and returns its loss; `val_fn`
    the validation RMSE of area I. The shuffle generator is the run's own, reseeded every epoch."""

    def __init__(self, module: nn.Module, epoch_fn: Callable[[torch.Generator], float],
                 val_fn: Callable[[], float | None], seed: int):
        self.module = module
        self.epoch_fn = epoch_fn
        self.val_fn = val_fn
        self.generator = torch.Generator()  # the shuffles, seeded every epoch (`reseed`)

    def reseed(self, seed: int, epoch: int) -> None:
        self.generator.manual_seed(stream_seed(seed, epoch, 0))

    def train_epoch(self, lam: float | None, after_step: AfterStep) -> tuple[list[float], tuple[str, str] | None]:
        self.module.train()
        loss = self.epoch_fn(self.generator)
        self.module.eval()
        return ([loss] if math.isfinite(loss) else []), after_step(loss, 1, 1)

    def validate(self, lam: float | None) -> Validation:
        val_rmse = self.val_fn()
        return Validation({"val_rmse": val_rmse}, val_rmse, finite=val_rmse is None or math.isfinite(val_rmse))

    def end_epoch(self) -> None:
        """The baselines step their own schedulers inside `epoch_fn`."""

    def lr(self) -> float | None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.module.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["model"])


def train_loop(
    module: nn.Module,
    epoch_fn: Callable[[torch.Generator], float],
    val_fn: Callable[[], float | None],
    loop: LoopConfig,
    on_epoch: EpochCallback | None,
    stop_event: threading.Event | None = None,
) -> FitInfo:
    """Run epochs until `epochs`, `patience` epochs without a better validation RMSE, `max_seconds` or a stop
    request; then restore the best weights."""
    runner = Loop(EpochTask(module, epoch_fn, val_fn, loop.seed), epochs=loop.epochs, seed=loop.seed,
                  phases=Continuous(), selection=EarlyStopping(loop.patience), budget=TimeBudget(loop.max_seconds),
                  stop_flag=StopFlag(stop_event), callbacks=Callbacks(on_epoch=on_epoch))
    outcome = runner.run()
    runner.selection.restore(module)
    module.eval()
    return FitInfo(epochs_run=len(runner.history), best_epoch=runner.selection.best_epoch,
                   best_val_rmse=runner.selection.best_rmse, seconds=runner.budget.elapsed,
                   stop_reason=outcome.stop_reason, history=runner.history)


# Minibatch sizes follow the data: at least this many optimizer steps an epoch, so the early-stopping patience and the
# learning-rate decay (in epochs) mean as much on 60k training ratings as on 600k. ML-1M keeps the sizes it was
# measured with (MF 32768 ratings, U-AutoRec 256 users, I-AutoRec 209 items instead of 256). On the demo data (seed 0)
# a fixed 32768 gave MF 2 steps an epoch and area-I RMSE 0.863 after 53 epochs (1.024 with the quick plan's
# 10-epoch cap); 16+ steps gave 0.849 in 15 epochs.
MIN_STEPS_PER_EPOCH = 16


def steps_batch(n: int, largest: int, smallest: int) -> int:
    """A batch size giving an epoch of n examples at least MIN_STEPS_PER_EPOCH steps, within [smallest, largest]."""
    return max(smallest, min(largest, math.ceil(n / MIN_STEPS_PER_EPOCH)))
