"""The one early-stopping rule, for DMF and every baseline: keep the weights of the epoch with the best validation
RMSE, and stop once `patience` epochs in a row have not beaten it. Test ratings never enter it."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

MIN_DELTA = 1e-5  # an "improvement" below this is float noise, not a better model


class EarlyStopping:
    def __init__(self, patience: int = 0, *, best: float = math.inf, best_epoch: int = 0,
                 best_state: dict[str, torch.Tensor] | None = None):
        self.patience = patience  # 0: never stop early (the epoch cap or the time budget ends training)
        self.best = best
        self.best_epoch = best_epoch
        self.best_state = best_state
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

    def state(self) -> dict[str, float | int]:
        """Plain numbers for a checkpoint (the best weights are stored beside them)."""
        return {"best": self.best, "best_epoch": self.best_epoch, "stale": self.stale}

    @classmethod
    def resumed(cls, patience: int, state: dict[str, float | int],
                best_state: dict[str, torch.Tensor] | None) -> EarlyStopping:
        """The rule as a checkpoint left it: a resumed run stops and selects exactly as an uninterrupted one."""
        stopper = cls(patience, best=float(state["best"]), best_epoch=int(state["best_epoch"]), best_state=best_state)
        stopper.stale = int(state["stale"])
        return stopper

    def restore(self, module: nn.Module) -> None:
        """Load the best epoch's weights, if any epoch was recorded."""
        if self.best_state is not None:
            module.load_state_dict(self.best_state)
