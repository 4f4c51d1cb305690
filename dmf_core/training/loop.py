"""The one training loop, for DMF, DMF-D and every baseline: epochs of a task, with named parts that each own their
state and a `state_dict`, so a resumed run restores the objects instead of rescanning its history:

- the task (`Task`): what an epoch trains and how it is validated (DMF's blocks in `train.BlockTask`, a baseline's
  minibatches in `reproduction.base.EpochTask`); it owns the model, the optimizer and the run's random generators;
- the phases (`phases.py`): continuous, or DMF-D's warm-up and quantizer; what may be selected;
- the stoppers (`stopping.py`): early stopping (which is also the selection), the time budget, the stop flag and
  the divergence guard;
- checkpointing: after every finished epoch `on_checkpoint` is handed `Loop.state_dict` (a function: the caller,
  `runs.train_run`, decides whether to pay for copying and writing it).

Every epoch reseeds the task's generators from (seed, epoch), so a run resumed at an epoch draws the same numbers as
one that never stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import numpy as np
from torch import nn

from .phases import Continuous, Discrete
from .stopping import DivergenceGuard, EarlyStopping, StopFlag, TimeBudget

StepCallback = Callable[[int, int], None]  # (step within epoch, steps per epoch)
EpochCallback = Callable[[dict[str, Any]], None]
# After every finished epoch, a function returning what an exact resume needs (`Loop.state_dict`).
CheckpointCallback = Callable[[Callable[[], dict[str, Any]]], None]
# A step's report to the loop: its loss (None: the step had no target), the step and the steps of the epoch. The loop
# answers (stop reason, message) to end the epoch there, or None.
AfterStep = Callable[[float | None, int, int], "tuple[str, str] | None"]


def stream_seed(seed: int, epoch: int, stream: int) -> int:
    """A seed for one random stream of one epoch of a run: its initialisation (-1), its shuffles (0), its input and
    dropout masks (1). Mixed, so that no two streams, epochs or runs share or overlap their draws (seed + epoch would
    give run s epoch e + 1 the numbers of run s + 1 epoch e, and the first epoch's shuffles the initialisation's)."""
    return int(np.random.SeedSequence([seed, epoch + 1, stream + 1]).generate_state(1, np.uint64)[0] >> 1)


@dataclass
class Validation:
    """An epoch's validation: the fields it adds to the history record, the value the selection compares in a
    selectable epoch, plain DMF's continuous validation RMSE of area I (what DMF-D's warm-up watches), and
    whether the outputs were finite."""

    record: dict[str, Any]
    selection: float | None
    continuous: float | None = None
    finite: bool = True
    errors: Any = None  # squared errors on the ratings the selection compares (numpy; DMF-D pairs its start with them)


class Task(Protocol):
    module: nn.Module

    def reseed(self, seed: int, epoch: int) -> None:
        """Reseed the task's generators for this epoch of the run with this seed (`stream_seed`)."""

    def train_epoch(self, lam: float | None, after_step: AfterStep) -> tuple[list[float], tuple[str, str] | None]:
        """Train one epoch; stop early when `after_step` answers a reason. Returns the finite losses and the reason."""

    def validate(self, lam: float | None) -> Validation: ...

    def end_epoch(self) -> None: ...

    def lr(self) -> float | None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass
class Outcome:
    stop_reason: str = "completed"  # completed | early_stopping | time_budget | stopped | diverged
    message: str = ""


@dataclass
class Callbacks:
    on_step: StepCallback | None = None
    on_epoch: EpochCallback | None = None
    on_checkpoint: CheckpointCallback | None = None
    monitor: Callable[[], dict[str, Any]] | None = None  # extra per-epoch measurement; its time is not training


class Loop:
    """Runs `task` for up to `epochs` epochs. After `run()`, `history` holds one record per epoch and `selection`
    the selected (best validation) weights."""

    def __init__(self, task: Task, *, epochs: int, seed: int, phases: Continuous | Discrete,
                 selection: EarlyStopping, budget: TimeBudget, stop_flag: StopFlag,
                 callbacks: Callbacks | None = None):
        self.task = task
        self.epochs = epochs
        self.seed = seed
        self.phases = phases
        self.selection = selection
        self.budget = budget
        self.stop_flag = stop_flag
        self.guard = DivergenceGuard()
        self.callbacks = callbacks or Callbacks()
        self.history: list[dict[str, Any]] = []
        self.epoch = 0  # epochs finished
        self._position = (0, 0)  # the last step reported, and the epoch's steps

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "history": list(self.history),
            "task": self.task.state_dict(),
            "selection": self.selection.state_dict(),
            "phases": self.phases.state_dict(),
            "budget": self.budget.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        self.task.load_state_dict(state["task"])
        self.selection.load_state_dict(state["selection"])
        self.phases.load_state_dict(state["phases"])
        self.budget.load_state_dict(state["budget"])

    def run(self) -> Outcome:
        while self.epoch < self.epochs:
            ended = self._run_epoch()
            if ended is not None:
                return Outcome(*ended)
        return Outcome()

    def _after_step(self, epoch: int, loss: float | None, step: int, steps: int) -> tuple[str, str] | None:
        self._position = (step, steps)
        if loss is not None and (diverged := self.guard.check_loss(loss, epoch, step)):
            return diverged
        if self.callbacks.on_step is not None:
            self.callbacks.on_step(step, steps)
        return self.stop_flag.check_step() or self.budget.check_step()

    def _run_epoch(self) -> tuple[str, str] | None:
        """One epoch: train, validate, record, select, checkpoint. Returns (reason, message) when the run ends."""
        epoch, started = self.epoch, time.perf_counter()
        self.task.reseed(self.seed, epoch)
        lam = self.phases.lam(epoch)
        self._position = (0, 0)
        losses, ended = self.task.train_epoch(lam, partial(self._after_step, epoch))
        if ended is not None and ended[0] == "diverged":
            return ended
        if not losses:  # nothing trained (no target in any block, or stopped before the first step)
            return ended or ("completed", "")
        validation = self.task.validate(lam)
        if diverged := self.guard.check_outputs(validation.finite, epoch):
            return diverged
        record = self._record(epoch, lam, losses, validation, ended is not None, time.perf_counter() - started)
        self.history.append(record)
        selectable = self.phases.selectable(epoch, record)
        self.phases.after_epoch(epoch, validation.continuous, self.task.module, record["elapsed"],
                                record["epoch_seconds"])
        if selectable:
            self.selection.update(epoch + 1, validation.selection, self.task.module)
        if not (selectable and self.phases.settled(epoch, record)):
            self.selection.hold()  # counts no epoch towards early stopping (DMF-D's warm-up, an unsettled G)
        if self.phases.starts_after(epoch):
            self._start_quantizer(epoch, record)
        if self.callbacks.on_epoch is not None:
            self.callbacks.on_epoch(record)
        self.task.end_epoch()
        self.epoch += 1
        if ended is not None:
            return ended
        if self.callbacks.on_checkpoint is not None:
            self.callbacks.on_checkpoint(self.state_dict)
        if self.selection.should_stop:
            return "early_stopping", f"no better validation RMSE for {self.selection.patience} epochs"
        return None

    def _start_quantizer(self, epoch: int, record: dict[str, Any]) -> None:
        """DMF-D's warm-up has ended after this epoch: the task starts its quantizer phase; with `select_start` its
        starting point (DMF + rounding on validation) becomes a candidate of the selection, recorded in the history."""
        start = self.task.start_quantizer()  # type: ignore[attr-defined]
        record["start_val_rmse"] = start.selection
        if self.phases.select_start:
            self.selection.update(epoch + 1, start.selection, self.task.module)
            self.selection.hold()

    def _record(self, epoch: int, lam: float | None, losses: list[float], validation: Validation, interrupted: bool,
                epoch_seconds: float) -> dict[str, Any]:
        elapsed = self.budget.elapsed
        eta = (self.epochs - epoch - 1) * epoch_seconds
        if (remaining := self.budget.remaining()) is not None:
            eta = min(eta, remaining)
        step, steps = self._position
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "phase": self.phases.name(epoch),
            "train_loss": float(np.mean(losses)),
            **validation.record,
            "lr": self.task.lr(),
            "lambda": lam,
            "elapsed": elapsed,
            "epoch_seconds": epoch_seconds,
            "eta_seconds": eta,
            "partial": interrupted and step < steps,  # stopped inside the epoch, before its last step
        }
        if self.callbacks.monitor is not None:
            monitor_started = time.perf_counter()
            record["monitor"] = self.callbacks.monitor()
            self.budget.exclude(time.perf_counter() - monitor_started)
        return record
