"""DMF and DMF-D behind the reproduction's one model interface: training is the engine's (`train.fit`), and the
scores are the run's `metrics.json` (`runs.result_metrics`), so a reproduced DMF is scored exactly like a `train`
run."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch

from ..config import ModelConfig, TrainConfig
from ..data import RatingData
from ..data.split import AREAS, TEST, VAL, AreaSplit
from ..model.quantizer import fit_boundaries, hard_quantize
from ..runs.folder import result_metrics
from ..scoring.metrics import overall
from ..training.train import TrainResult, fit
from .base import EpochCallback, FitInfo, Model, StepCallback

DMF_KEYS = ("dmf", "dmf-d")


class DMFModel(Model):
    serves = AREAS

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig):
        self.model_config = model_config
        self.train_config = train_config
        self.name = train_config.model
        self.result: TrainResult | None = None

    @property
    def max_epochs(self) -> int:
        return self.train_config.epochs

    def fit(self, data: RatingData, split: AreaSplit, on_epoch: EpochCallback | None = None, *,
            on_step: StepCallback | None = None, stop_event: threading.Event | None = None) -> FitInfo:
        result = fit(data, split, self.model_config, self.train_config, on_step=on_step, on_epoch=on_epoch,
                     stop_event=stop_event)
        self.result = result
        return FitInfo(epochs_run=result.epochs_run, best_epoch=result.best_epoch,
                       best_val_rmse=result.val_rmse, seconds=result.train_seconds,
                       stop_reason=result.stop_reason, history=result.history, device=result.device,
                       quantizer_trained=None if result.quantizer is None else result.quantizer["trained"])

    def _trained(self) -> TrainResult:
        if self.result is None:
            raise RuntimeError("fit the model first")
        return self.result

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._trained().predictor.continuous(users, items)

    def evaluate(self, data: RatingData, split: AreaSplit, role: int = TEST) -> dict[str, Any]:
        """The run's metrics.json; for DMF also `fitted`: its continuous output quantized with boundaries fitted on
        the validation ratings (`quantizer.fit_boundaries`), scored on the test ratings (Table 2's third way to
        discrete ratings, beside rounding and DMF-D's learned quantizer)."""
        if role != TEST:
            raise ValueError("DMF runs are scored on their test ratings")
        result = self._trained()
        metrics = result_metrics(result, data, split, self.model_config)
        if result.model.quantizer is None:
            val, test = split.role == VAL, split.role == TEST
            boundaries = fit_boundaries(self.predict(data.users[val], data.items[val]), data.ratings[val],
                                        data.rating_scale, data.rating_step)
            continuous = self.predict(data.users[test], data.items[test])
            quantized = hard_quantize(torch.as_tensor(continuous, dtype=torch.float64),
                                      torch.as_tensor(boundaries, dtype=torch.float64), data.rating_scale[0],
                                      data.rating_step).numpy()
            metrics["fitted"] = {"boundaries": boundaries, "overall": overall(quantized, data.ratings[test], True)}
        return metrics
