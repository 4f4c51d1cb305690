"""The stoppers of the one training loop (`loop.py`), each an object that owns its state and a `state_dict` for an
exact resume:

- `EarlyStopping`: keeps the weights of the epoch with the best validation RMSE and stops once `patience` epochs in
  a row have not beaten it (also the selection rule: what it keeps is what a run returns). Test ratings never enter it;
- `TimeBudget`: the run's clock, counted over every session of a resumed run, and its budget;
- `StopFlag`: a `threading.Event` a caller sets (the app's Stop button, Ctrl-C handlers);
- `DivergenceGuard`: a NaN or infinite loss, or validation outputs that overflowed.

Step-level stoppers answer `check_step()` after every optimizer step (honoured within one step); the loop asks the
early-stopping rule after every epoch.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from typing import Any

import torch
from torch import nn

MIN_DELTA = 1e-5  # an "improvement" below this is float noise, not a better model


def cpu_copy(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """A state dict's tensors copied to the CPU (what a checkpoint stores: the training state may live on a GPU and
    keep changing); other values as they are."""
    if state is None:
        return None
    return {k: v.detach().cpu().clone() if isinstance(v, torch.Tensor) else v for k, v in state.items()}


class EarlyStopping:
    """Selection on validation RMSE, and patience. `hold()` marks an epoch that may neither be selected nor count
    towards stopping (DMF-D's warm-up)."""

    def __init__(self, patience: int = 0):
        self.patience = patience  # 0: never stop early (the epoch cap or the time budget ends training)
        self.best = math.inf
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.stale = 0

    def update(self, epoch: int, val_rmse: float | None, module: nn.Module) -> bool:
        """Record an epoch's validation RMSE; True (and its weights kept) when it is the best so far. Without
        validation ratings (None) every epoch counts as the best, so the last one is kept."""
        if val_rmse is None or val_rmse < self.best - MIN_DELTA:
            self.best = val_rmse if val_rmse is not None else self.best
            self.best_epoch, self.stale = epoch, 0
            self.best_state = copy.deepcopy(module.state_dict())
            return True
        self.stale += 1
        return False

    def hold(self) -> None:
        """An epoch that must not count towards stopping (DMF-D's warm-up)."""
        self.stale = 0

    @property
    def should_stop(self) -> bool:
        return bool(self.patience) and self.stale >= self.patience

    @property
    def best_rmse(self) -> float | None:
        return self.best if math.isfinite(self.best) else None

    @property
    def selected(self) -> bool:
        """Whether any epoch has been selected yet."""
        return self.best_state is not None

    def state_dict(self) -> dict[str, Any]:
        """Plain numbers and the best weights (on the CPU), for a checkpoint."""
        return {"best": self.best, "best_epoch": self.best_epoch, "stale": self.stale,
                "best_state": cpu_copy(self.best_state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.stale = int(state["stale"])
        self.best_state = state.get("best_state")

    def restore(self, module: nn.Module) -> None:
        """Load the best epoch's weights, if any epoch was recorded."""
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


class TimeBudget:
    """The run's training clock (seconds spent training, over every session of a resumed run) and its budget.
    Time a caller spends in a monitor (benchmarks) is taken off with `exclude`."""

    def __init__(self, max_seconds: float | None):
        self.max_seconds = max_seconds
        self.before = 0.0  # seconds trained in earlier sessions of this run
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return self.before + time.perf_counter() - self.started

    def exclude(self, seconds: float) -> None:
        self.started += seconds

    def remaining(self) -> float | None:
        return None if self.max_seconds is None else max(0.0, self.max_seconds - self.elapsed)

    def check_step(self) -> tuple[str, str] | None:
        if self.max_seconds is not None and self.elapsed >= self.max_seconds:
            return "time_budget", f"time budget of {self.max_seconds:g} s reached"
        return None

    def state_dict(self) -> dict[str, float]:
        return {"elapsed": self.elapsed}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.before = float(state["elapsed"])
        self.started = time.perf_counter()


class StopFlag:
    """A stop request from outside (another thread), honoured within one step. Nothing to resume."""

    def __init__(self, event: threading.Event | None):
        self.event = event

    def check_step(self) -> tuple[str, str] | None:
        if self.event is not None and self.event.is_set():
            return "stopped", "stopped by request"
        return None


class DivergenceGuard:
    """A loss that is NaN or infinite ends the run at once; so do validation outputs that are not finite (finite
    losses, but weights that overflowed: a huge learning rate, say). The best epoch so far is still returned."""

    def check_loss(self, loss: float, epoch: int, step: int) -> tuple[str, str] | None:
        if math.isfinite(loss):
            return None
        return "diverged", (f"training diverged at epoch {epoch + 1}, step {step}: loss is {loss}; "
                            "try a lower learning rate")

    def check_outputs(self, finite: bool, epoch: int) -> tuple[str, str] | None:
        if finite:
            return None
        return "diverged", (f"training diverged at epoch {epoch + 1}: the outputs are not finite; "
                            "try a lower learning rate")
