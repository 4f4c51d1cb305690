"""Training phases: what each epoch of the one loop (`loop.py`) trains, and whether it may be selected.

- `Continuous`: DMF (and every baseline): one phase; every epoch trains the continuous output and may be selected.
- `Discrete`: DMF-D: a warm-up of plain continuous DMF, then the quantizer phase, which owns λ and its own start.
  Warm-up epochs are plain DMF + rounding, not DMF-D: they are never selected and never count towards early stopping.
  The quantizer phase lasts until λ makes G_λ,b indistinguishable from Q_b on the validation outputs
  (GAP_TOLERANCE): only then do its epochs count towards early stopping (the epoch cap and the budget still bind).

The warm-up ends at the first of:
- its own rule: a fixed number of epochs (`QuantizerConfig.warmup_epochs`), or (None, the default) when plain DMF's
  validation RMSE of area I stops improving for `patience` epochs; the quantizer then starts from DMF's best weights;
- WARMUP_SHARE of the epoch cap, and the epoch after which the next one would pass WARMUP_SHARE of the time budget.
So every DMF-D run that trains at all has quantizer epochs; `runs.check_run` refuses a budget too short for one.

When the warm-up ends, the quantizer's starting point (the warm-up's weights, b at the uniform midpoints, so DMF +
rounding) is validated and, with `QuantizerConfig.select_start` (the default), becomes a candidate of the selection:
on validation DMF-D then ends no worse than rounding its own warm-up, which with the automatic warm-up is plain DMF's
run (`loop.Loop._start_quantizer`; the network's learning rate is scaled there too, `network_lr_scale`). A quantizer
epoch is compared with the start rating by rating and wins only by `QuantizerConfig.select_margin` standard errors
(`train.BlockTask._selection_value`).

Why WARMUP_SHARE = 0.75 (chosen on validation only; `python benchmarks/bench_choices.py warmup-share`, demo data,
0/0 split, seeds 0-1, mean discrete validation RMSE of the selected epoch, at epoch caps where the share binds;
`benchmarks/results/choices-warmup-share.log`): 8 epochs: 0.25: 0.8759, 0.5: 0.8775, 0.75: 0.8758; 16 epochs: 0.25:
0.8742, 0.5: 0.8701, 0.75: 0.8689. The differences are within a seed's noise (±0.003); 0.75 is best or tied in both.
At the default 60-epoch cap the automatic rule ends the warm-up first, so the share does not bind there.
"""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from ..config import QuantizerConfig
from ..model.quantizer import lambda_after
from .stopping import EarlyStopping

# The quantizer phase lasts until G_λ,b is indistinguishable from Q_b on the validation outputs: early stopping counts
# no quantizer epoch whose mean |G - Q| is above this share of a rating step (0.02 stars on whole stars). Before that
# the model trains through a G that is not the Q it predicts with. On the demo data (0/0 split, seed 0, λ ×1.2 an
# epoch from 2) patience alone stopped the phase at λ = 14.9 with a gap of 0.095 stars, having selected λ = 5 (gap 0.24).
GAP_TOLERANCE = 0.02
WARMUP_SHARE = 0.75  # of the epoch cap and of the time budget, at most, for DMF-D's warm-up
AUTO_WARMUP_PATIENCE = 6  # with patience 0 (no early stopping), how long an automatic warm-up waits

CONTINUOUS, WARM_UP, QUANTIZER = "continuous", "warm-up", "quantizer"


class Continuous:
    """DMF's only phase."""

    discrete = False
    select_start = False

    def name(self, epoch: int) -> str:
        return CONTINUOUS

    def lam(self, epoch: int) -> float | None:
        return None

    def selectable(self, epoch: int, record: dict[str, Any] | None = None) -> bool:
        return True

    def starts_after(self, epoch: int) -> bool:
        """Whether the quantizer phase starts after this epoch (never, in DMF)."""
        return False

    def settled(self, epoch: int, record: dict[str, Any]) -> bool:
        """Whether this epoch counts towards early stopping."""
        return True

    def after_epoch(self, epoch: int, continuous_rmse: float | None, module: nn.Module, elapsed: float,
                    epoch_seconds: float) -> None:
        """Nothing changes phase."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""


class Discrete:
    """DMF-D: warm-up, then the quantizer with λ growing from its own start."""

    discrete = True

    def __init__(self, config: QuantizerConfig, epochs: int, max_seconds: float | None, patience: int,
                 rating_step: float = 1.0):
        self.config = config
        self.rating_step = rating_step
        self.cap_epochs = math.floor(WARMUP_SHARE * epochs)
        self.cap_seconds = None if max_seconds is None else WARMUP_SHARE * max_seconds
        # Plain DMF's own selection during the warm-up (continuous validation RMSE of area I): the automatic rule's
        # stopper, and the model a run returns if it never reached the quantizer.
        self.warm_up = EarlyStopping(patience or AUTO_WARMUP_PATIENCE)
        self.start: int | None = None  # the quantizer's first epoch (0-based)
        self.ended_by = ""
        fixed = config.warmup_epochs
        if self.cap_epochs == 0 or fixed == 0:
            self._end(0, "no warm-up" if fixed == 0 else "the epoch cap leaves no room for a warm-up")

    def _end(self, epoch: int, why: str) -> None:
        self.start, self.ended_by = epoch, why

    def name(self, epoch: int) -> str:
        return WARM_UP if self.start is None or epoch < self.start else QUANTIZER

    def lam(self, epoch: int) -> float | None:
        if self.start is None or epoch < self.start:
            return None
        return lambda_after(epoch - self.start, self.config)

    @property
    def select_start(self) -> bool:
        return self.config.select_start

    def selectable(self, epoch: int, record: dict[str, Any] | None = None) -> bool:
        """A quantizer epoch; with `select_settled`, only one whose G is indistinguishable from Q_b on validation."""
        if self.config.select_settled and record is not None:
            return self.settled(epoch, record)
        return self.name(epoch) == QUANTIZER

    def starts_after(self, epoch: int) -> bool:
        """Whether the quantizer phase starts right after this epoch (the warm-up has just ended)."""
        return self.start == epoch + 1

    def settled(self, epoch: int, record: dict[str, Any]) -> bool:
        """A quantizer epoch counts towards early stopping once G is indistinguishable from Q on validation."""
        gap = record.get("quantizer_gap")
        return self.name(epoch) == QUANTIZER and gap is not None and gap < GAP_TOLERANCE * self.rating_step

    def after_epoch(self, epoch: int, continuous_rmse: float | None, module: nn.Module, elapsed: float,
                    epoch_seconds: float) -> None:
        """After a warm-up epoch: record plain DMF's validation RMSE, and end the warm-up when a rule says so."""
        if self.name(epoch) != WARM_UP:
            return
        done = epoch + 1
        self.warm_up.update(done, continuous_rmse, module)
        fixed = self.config.warmup_epochs
        if fixed is None and self.warm_up.should_stop:
            why = f"plain DMF's validation RMSE stopped improving ({self.warm_up.patience} epochs)"
        elif fixed is not None and done >= fixed:
            why = f"{fixed} warm-up epochs, as set"
        elif done >= self.cap_epochs:
            why = f"{WARMUP_SHARE:.0%} of the epoch cap"
        elif self.cap_seconds is not None and elapsed + epoch_seconds > self.cap_seconds:
            why = f"{WARMUP_SHARE:.0%} of the time budget"
        else:
            return
        if fixed is None:  # the automatic warm-up hands the quantizer plain DMF's best weights
            self.warm_up.restore(module)
        self._end(done, why)

    def state_dict(self) -> dict[str, Any]:
        return {"start": self.start, "ended_by": self.ended_by, "warm_up": self.warm_up.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.start, self.ended_by = state["start"], state["ended_by"]
        self.warm_up.load_state_dict(state["warm_up"])


def make_phases(discrete: bool, config: QuantizerConfig, epochs: int, max_seconds: float | None,
                patience: int, rating_step: float = 1.0) -> Continuous | Discrete:
    return Discrete(config, epochs, max_seconds, patience, rating_step) if discrete else Continuous()


def _phase(record: dict[str, Any]) -> str:
    """A history record's phase; records from before phases were stored: a DMF-D epoch without λ was warm-up."""
    return record.get("phase") or (WARM_UP if record.get("lambda") is None else QUANTIZER)


def quantizer_summary(history: list[dict[str, Any]], phases: Continuous | Discrete | None) -> dict[str, Any]:
    """What DMF-D's quantizer phase did, for metrics.json: whether it trained, its epochs, the λ reached."""
    epochs = [h for h in history if _phase(h) == QUANTIZER]
    warm = sum(1 for h in history if _phase(h) == WARM_UP)
    trained = bool(epochs)
    note = "" if trained else (
        f"quantizer never trained: the run ended during the warm-up (after {warm} epoch(s) of plain DMF); "
        "these are plain DMF's results, not DMF-D's")
    return {
        "trained": trained,
        "epochs": len(epochs),
        "lambda": epochs[-1]["lambda"] if trained else None,
        # mean |G_λ,b - Q_b| on the validation outputs at the last quantizer epoch (stars): ~0 once λ has settled G
        "gap": epochs[-1].get("quantizer_gap") if trained else None,
        "warmup_epochs": warm,
        "warmup_ended_by": getattr(phases, "ended_by", ""),
        # discrete validation RMSE of the quantizer's start (the warm-up's weights, b at the midpoints: rounding)
        "start_val_rmse": next((h["start_val_rmse"] for h in history if h.get("start_val_rmse") is not None), None),
        "note": note,
    }


def kept_start_reason(quantizer: dict[str, Any]) -> str:
    """Why validation kept the quantizer's start, from a run's quantizer record (`metrics.json`'s `quantizer`):
    the margin its epochs had to clear, and a fitted finish after it; "" where the record says neither."""
    parts = []
    if quantizer.get("select_margin"):
        parts.append(f"no quantizer epoch beat it by more than {quantizer['select_margin']:g} standard error(s) of "
                     "their paired difference on validation")
    if quantizer.get("finish") == "fitted":
        parts.append("its b were then refitted on validation (the fitted finish)")
    return "; ".join(parts)
