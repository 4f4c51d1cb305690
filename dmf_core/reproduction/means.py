"""Global mean + regularised user and item biases (Koren's baseline predictor), fitted in closed form by
`dmf_core.model.biases`. New users / items get a bias folded in from their observed ratings, the same information DMF
receives as its input row / column, so it serves all four areas. As DMF's cosine weight for new rows
(calibration.py), the new rows' folded-in biases are then shrunk by least-squares weights in [0, 1] fitted on the
validation ratings of areas II and III (`biases.new_row_weights`), so that Table 1 compares like with like."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from ..data import RatingData
from ..data.split import AREAS, VAL, AreaSplit
from ..model.biases import PASSES, REG_ITEM, REG_USER, fit_shrunk_biases
from ..scoring.metrics import rmse
from .base import EpochCallback, FitInfo, Model, StepCallback


@dataclass(frozen=True)
class BiasConfig:
    reg_user: float = REG_USER  # see biases.py for how these were chosen
    reg_item: float = REG_ITEM
    passes: int = PASSES


class GlobalBias(Model):
    name = "bias"
    serves = AREAS

    def __init__(self, config: BiasConfig | None = None):
        self.config = config or BiasConfig()
        self.mu = 0.0
        self.user_bias = np.zeros(0)
        self.item_bias = np.zeros(0)
        self.scale = (1.0, 5.0)
        self.weights: dict[str, float] = {}  # new_user_weight / new_item_weight, fitted on validation

    @property
    def max_epochs(self) -> int:
        return self.config.passes

    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None, *,
            on_step: StepCallback | None = None, stop_event: threading.Event | None = None) -> FitInfo:
        started = time.perf_counter()
        cfg = self.config
        self.scale = data.rating_scale
        biases, self.weights = fit_shrunk_biases(data, split, cfg.reg_user, cfg.reg_item, cfg.passes)
        self.mu, self.user_bias, self.item_bias = biases.mu, biases.user, biases.item
        val = split.mask(VAL, "I")
        val_rmse = rmse(self.predict(data.users[val], data.items[val]), data.ratings[val]) if val.any() else None
        info = FitInfo(epochs_run=cfg.passes, best_epoch=cfg.passes, best_val_rmse=val_rmse,
                       seconds=time.perf_counter() - started)
        if on_epoch is not None:
            on_epoch({"epoch": cfg.passes, "epochs": cfg.passes, "val_rmse": val_rmse, "elapsed": info.seconds})
        return info

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = self.mu + self.user_bias[users] + self.item_bias[items]
        return np.clip(pred, *self.scale).astype(np.float32)
