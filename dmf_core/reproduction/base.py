"""The one interface of every model the reproduction runs (DMF, DMF-D and the baselines), and what the baselines
share: batched prediction and validation pairs. Their epochs run as a task of the engine's one loop, with batch sizes
that follow the data (`dmf_core/training/epochs.py`, shared with DMF's I-AutoRec companion)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..data import RatingData
from ..data.split import AREAS, TEST, VAL, AreaSplit
from ..scoring.metrics import score
from ..training.epochs import EpochCallback, FitInfo, LoopConfig, steps_batch, train_loop

StepCallback = Callable[[int, int], None]
# What the baselines' modules import from here, though it lives in the engine (`dmf_core/training/epochs.py`).
__all__ = ["EpochCallback", "FitInfo", "LoopConfig", "Model", "StepCallback", "batched", "steps_batch", "train_loop",
           "val_pairs"]


class Model(ABC):
    """A rating predictor fitted on one split. `serves` lists the areas it can score; others get a dash."""

    name: str = "model"
    serves: tuple[str, ...] = AREAS
    config: Any = None  # the model's settings dataclass

    @property
    def max_epochs(self) -> int:
        """The epoch cap, for progress bars."""
        return int(self.config.epochs)

    @abstractmethod
    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None, *,
            on_step: StepCallback | None = None, stop_event: threading.Event | None = None) -> FitInfo: ...

    @abstractmethod
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings (float32, clipped to the rating scale) for (user, item) index pairs in served areas."""

    def evaluate(self, data: RatingData, split: AreaSplit, role: int = TEST) -> dict[str, Any]:
        """Scores shaped like DMF's metrics.json: per area (None where the model cannot serve or the area is
        empty), overall over the served ratings, and the same after rounding to the rating scale."""
        served = np.isin(split.area, [AREAS.index(a) for a in self.serves])
        selected = (split.role == role) & served
        users, items, true = data.users[selected], data.items[selected], data.ratings[selected]
        return {**score(self.predict(users, items), true, split.area[selected], data.rating_scale,
                         data.rating_step),
                "serves": list(self.serves)}


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], users: np.ndarray, items: np.ndarray,
             chunk: int = 1 << 17) -> np.ndarray:
    out = np.empty(len(users), dtype=np.float32)
    for start in range(0, len(users), chunk):
        u = torch.as_tensor(users[start : start + chunk], dtype=torch.long)
        i = torch.as_tensor(items[start : start + chunk], dtype=torch.long)
        out[start : start + chunk] = fn(u, i).numpy()
    return out


def val_pairs(data: RatingData, split: AreaSplit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validation ratings of area I: model selection must not peek at how new users / items are scored."""
    val = split.mask(VAL, "I")
    return data.users[val], data.items[val], data.ratings[val]
