"""A run: split the data, train, score every area, write `metrics.json` and `checkpoint.pt` to a folder.

The CLI and the app's background jobs both go through `train_run`, so a run made in either looks the same on disk.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import torch

from . import checkpoint as ckpt
from .biases import Biases
from .config import ModelConfig, SplitConfig, TrainConfig, to_dict
from .data import RatingData
from .device import pick_device
from .inputs import MatrixInputs
from .metrics import Predictor, baseline_scores, evaluate
from .model import DMF
from .split import AreaSplit, split_areas
from .train import EpochCallback, StepCallback, TrainResult, fit

METRICS_FILE = "metrics.json"
CHECKPOINT_FILE = "checkpoint.pt"


def build_metrics(
    model: DMF,
    data: RatingData,
    split: AreaSplit,
    inputs: MatrixInputs,
    train_config: TrainConfig,
    model_config: ModelConfig,
    *,
    history: list[dict[str, Any]],
    device: str,
    train_seconds: float,
    stop_reason: str,
    best_epoch: int,
    message: str = "",
    derived: dict[str, str] | None = None,
    calibration: dict[str, float] | None = None,
    biases: Biases | None = None,
    predictor: Predictor | None = None,
) -> dict[str, Any]:
    """The `metrics.json` contract: test scores per area (null where an area is empty), plus the run's record."""
    scores = evaluate(model, data, split, inputs, predictor=predictor)
    val_values = [h["val_rmse"] for h in history if h.get("val_rmse") is not None]
    metrics: dict[str, Any] = {
        "model": train_config.model,
        "dataset": data.name,
        "device": device,
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "train_seconds": train_seconds,
        "stop_reason": stop_reason,
        "message": message,
        "val_rmse": min(val_values) if val_values else None,
        "areas": scores["areas"],
        "overall": scores["overall"],
        "rounded": scores["rounded"],
        "rounded_overall": scores["rounded_overall"],
        # The simple baseline every result is shown beside: global mean + biases on the same split and test set.
        "baseline": baseline_scores(data, split, biases),
        "counts": split.counts(),
        "history": history,
        "config": {
            "model": to_dict(model_config),
            "train": to_dict(train_config),
            "split": to_dict(split.config),
        },
        # Settings the data decided ({name: rule}); every other setting is a default, a preset or a flag.
        "derived": dict(derived or {}),
        # bias+cosine: weights of the cosine for users / items never trained on, fitted on validation (train.calibrate)
        "calibration": dict(calibration or {}),
    }
    if model.quantizer is not None:
        metrics["discrete"] = scores["discrete"]
        metrics["discrete_overall"] = scores["discrete_overall"]
        metrics["boundaries"] = model.quantizer.boundaries.detach().cpu().tolist()
        lambdas = [h["lambda"] for h in history if h.get("lambda") is not None]
        metrics["lambda"] = lambdas[-1] if lambdas else None
    return metrics


def data_decided(metrics: dict[str, Any]) -> str:
    """One line on what the data decided in a run: derived settings with their rule, and the fitted cosine weights
    for new rows. Empty when nothing was derived (every setting given)."""
    used = (metrics.get("config") or {}).get("train") or {}
    parts = [f"{name} = {used.get(name)} ({rule})" for name, rule in (metrics.get("derived") or {}).items()]
    weights = metrics.get("calibration") or {}
    if weights:
        parts.append(f"cosine weight for new users {weights['new_user_weight']:.2f}, new items "
                     f"{weights['new_item_weight']:.2f} (fitted on validation ratings)")
    return "derived from the data: " + "; ".join(parts) if parts else ""


def write_json(payload: dict[str, Any], path: Path) -> None:
    """Atomic, so a reader polling the file (the app) never sees half a document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        json.dump(payload, stream, indent=1, allow_nan=False, default=float)
    os.replace(tmp_name, path)


def train_run(
    data: RatingData,
    split_config: SplitConfig,
    model_config: ModelConfig,
    train_config: TrainConfig,
    out_dir: str | Path | None = None,
    *,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
    stop_event: threading.Event | None = None,
    resume: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], TrainResult]:
    split = split_areas(data, split_config)
    result = fit(
        data,
        split,
        model_config,
        train_config,
        on_step=on_step,
        on_epoch=on_epoch,
        stop_event=stop_event,
        resume=resume,
    )
    train_config = result.train_config or train_config  # as trained: derived settings filled in
    metrics = build_metrics(
        result.model,
        data,
        split,
        result.inputs,
        train_config,
        model_config,
        derived=result.derived,
        calibration=result.calibration,
        biases=result.biases,
        predictor=result.predictor,
        history=result.history,
        device=result.device,
        train_seconds=result.train_seconds,
        stop_reason=result.stop_reason,
        best_epoch=result.best_epoch,
        message=result.message,
    )
    if out_dir is not None:
        out = Path(out_dir)
        checkpoint = ckpt.make_checkpoint(
            result.model,
            model_config,
            train_config,
            split_config,
            data,
            result.history,
            optimizer_state=result.optimizer_state,
            stop_reason=result.stop_reason,
            best_epoch=result.best_epoch,
        )
        ckpt.save(checkpoint, out / CHECKPOINT_FILE)
        write_json(metrics, out / METRICS_FILE)
    return metrics, result


def restore_run(
    checkpoint: dict[str, Any], data: RatingData, device: str | torch.device = "cpu"
) -> tuple[DMF, AreaSplit, MatrixInputs]:
    """A saved model with the split it was trained on (rebuilt from the stored seed and fractions) and its inputs."""
    ckpt.check_matches(checkpoint, data)
    _, _, split_config = ckpt.configs(checkpoint)
    model = ckpt.restore_model(checkpoint, device)
    split = split_areas(data, split_config)
    return model, split, MatrixInputs.from_split(data, split, device)


def evaluate_checkpoint(checkpoint: dict[str, Any], data: RatingData, device: str = "auto") -> dict[str, Any]:
    """Re-score a saved model on the same split it was trained with."""
    torch_device = pick_device(device)
    model, split, inputs = restore_run(checkpoint, data, torch_device)
    model_config, train_config, _ = ckpt.configs(checkpoint)
    return build_metrics(
        model,
        data,
        split,
        inputs,
        train_config,
        model_config,
        history=list(checkpoint.get("history", [])),
        device=str(torch_device),
        train_seconds=float(checkpoint["history"][-1]["elapsed"]) if checkpoint.get("history") else 0.0,
        stop_reason=str(checkpoint.get("stop_reason", "")),
        best_epoch=int(checkpoint.get("best_epoch", 0)),
    )
