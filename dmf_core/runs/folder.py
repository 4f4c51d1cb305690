"""A run on disk: split the data, train, score every area, write `metrics.json` and `checkpoint.pt` to a folder;
and read run folders back (`read_run`, `list_runs`).

The CLI and the app's background jobs both go through `train_run`, so a run made in either looks the same on disk."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import checkpoint as ckpt
from ..model.biases import Biases
from ..training.companion import companion_record
from ..config import ModelConfig, SplitConfig, TrainConfig, model_for, replace, to_dict
from ..data import RatingData
from ..training.derive import DataShape, derive
from ..device import pick_device
from ..training.estimate import check_companion_fits, check_quantizer_budget
from ..files import write_json
from ..model.inputs import MatrixInputs
from ..scoring.metrics import baseline_scores, evaluate
from ..model.network import DMFNet
from ..scoring.observed import library_state
from ..training.phases import quantizer_summary
from ..scoring.predict import Predictor
from ..data.split import OBSERVED, VAL, AreaSplit, split_areas
from ..training.train import EpochCallback, StepCallback, TrainResult, fit

METRICS_FILE = "metrics.json"
RUN_FILE = "run.json"  # the app's record of a run: label, dataset spec, status (metrics.json is the CLI contract)
CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_SHARE = 0.05  # of training time, at most, spent writing the checkpoints of a run in progress


def build_metrics(
    model: DMFNet, data: RatingData, split: AreaSplit, inputs: MatrixInputs, train_config: TrainConfig,
    model_config: ModelConfig, *, history: list[dict[str, Any]], device: str, train_seconds: float, stop_reason: str,
    best_epoch: int, message: str = "", derived: dict[str, str] | None = None,
    calibration: dict[str, float] | None = None, biases: Biases | None = None, predictor: Predictor | None = None,
    selected: tuple[float | None, str] | None = None, quantizer: dict[str, Any] | None = None,
    companion: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `metrics.json` contract: test scores per area (null where an area is empty), plus the run's record.
    `selected` is the selected epoch's (validation RMSE, its kind); `quantizer` DMF-D's `phases.quantizer_summary`.
    A DMF-D run whose quantizer never trained reports no discrete (DMF-D) scores: what it returns is plain DMF."""
    predictor = predictor or Predictor.build(model, inputs)
    scores = evaluate(model, data, split, inputs, predictor=predictor)
    if selected is None:  # an older checkpoint re-scored: its selected epoch's record
        chosen = [h for h in history if h.get("epoch") == best_epoch]
        kind = "discrete" if model.quantizer is not None else "continuous"
        selected = (chosen[0].get("val_rmse") if chosen else None, kind)
    if model.quantizer is not None and quantizer is None:
        quantizer = quantizer_summary(history, None)
    metrics: dict[str, Any] = {
        "model": train_config.model,
        "dataset": data.name,
        "device": device,
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "train_seconds": train_seconds,
        "stop_reason": stop_reason,
        "message": message,
        "val_rmse": selected[0],  # the selected epoch's, never another epoch's
        "val_rmse_kind": selected[1],  # "discrete" (DMF-D's hard Q_b) or "continuous"
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
        # bias+cosine: weights of the cosine for users / items never trained on, fitted on validation (calibration.calibrate)
        "calibration": dict(calibration or {}),
    }
    if model.companion is not None:
        metrics["companion"] = companion_record(model, data, split, inputs, predictor, companion)
    if quantizer is not None:
        metrics["quantizer"] = quantizer
        metrics["lambda"] = quantizer["lambda"]  # the λ reached (null: the quantizer never trained)
        if quantizer["trained"]:
            metrics["discrete"] = scores["discrete"]
            metrics["discrete_overall"] = scores["discrete_overall"]
            metrics["boundaries"] = model.quantizer.boundaries.detach().cpu().tolist()
        else:
            metrics["message"] = "; ".join(part for part in (message, quantizer["note"]) if part)
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


def result_metrics(result: TrainResult, data: RatingData, split: AreaSplit, model_config: ModelConfig) -> dict[str, Any]:
    """The metrics.json of a finished `train.fit`, with the settings as trained (derived ones filled in)."""
    return build_metrics(
        result.model,
        data,
        split,
        result.inputs,
        result.train_config or TrainConfig(),
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
        selected=(result.val_rmse, result.val_rmse_kind),
        quantizer=result.quantizer,
        companion=result.companion,
    )


def check_run(data: RatingData, split_config: SplitConfig, model_config: ModelConfig,
              train_config: TrainConfig) -> AreaSplit:
    """Every setting checked before anything trains, each failure a one-line ValueError: the configs, the device
    (and its index), what the split leaves to train, select and test on, and whether the I-AutoRec companion fits
    in memory and the time budget (`estimate.py`). Returns the split."""
    for config in (split_config, model_config, train_config):
        config.validate()
    pick_device(train_config.device)
    split = split_areas(data, split_config)
    shape = DataShape.of(split)
    if shape.seen_users < 2 or shape.seen_items < 2:
        raise ValueError(f"the split leaves {shape.seen_users} seen users and {shape.seen_items} seen items to train "
                         "on (at least 2 of each): hold out fewer new users or items")
    if not (split.role == OBSERVED).any():
        raise ValueError("the split leaves no observed ratings to train on: lower the validation and test shares")
    if not (split.role == VAL).any():
        raise ValueError("the split leaves no validation ratings to select the model on: raise the validation share")
    check_quantizer_budget(data, split, model_config, train_config)
    check_companion_fits(data, split, model_config, train_config)
    return split


def train_run(
    data: RatingData, split_config: SplitConfig, model_config: ModelConfig, train_config: TrainConfig,
    out_dir: str | Path | None = None, *, on_step: StepCallback | None = None, on_epoch: EpochCallback | None = None,
    stop_event: threading.Event | None = None, resume: dict[str, Any] | None = None,
    on_companion: StepCallback | None = None,
) -> tuple[dict[str, Any], TrainResult]:
    """Split, train and score; with `out_dir`, a checkpoint after every epoch that writing it does not slow down by
    more than CHECKPOINT_SHARE (`in_progress`, for an exact resume) and, at the end, the final checkpoint (the
    selected weights) and metrics.json."""
    model_config = model_for(model_config, train_config.model)  # as recorded in metrics.json and the checkpoint
    split = check_run(data, split_config, model_config, train_config)
    as_trained, _ = derive(train_config, DataShape.of(split))  # what fit() trains with: derived settings filled in
    dataset = ckpt.dataset_info(data)  # the fingerprint once, not every epoch
    on_checkpoint = None
    if out_dir is not None:
        path = Path(out_dir) / CHECKPOINT_FILE
        # An older metrics.json in the folder no longer describes the run being written.
        (Path(out_dir) / METRICS_FILE).unlink(missing_ok=True)

        written = {"at": 0.0, "cost": 0.0}

        def on_checkpoint(loop_state: Callable[[], dict[str, Any]]) -> None:
            # After every epoch, unless writing costs more than CHECKPOINT_SHARE of the training time since the
            # last write: then as often as that share allows (ML-1M on 2 CPU cores: 0.5 s for 123 MB after a
            # 3.7 s epoch, so every third epoch). A resumed run is exact either way; it only redoes those epochs.
            started = time.perf_counter()
            if written["cost"] and started - written["at"] < written["cost"] / CHECKPOINT_SHARE:
                return
            progress = ckpt.progress_fields(loop_state())
            ckpt.save(ckpt.make_checkpoint(
                progress["state_dict"], model_config, as_trained, split_config, dataset, progress["history"],
                optimizer_state=progress["optimizer_state"], best_epoch=progress["best_epoch"], progress=progress,
            ), path)
            written["at"] = time.perf_counter()
            written["cost"] = written["at"] - started

    result = fit(
        data,
        split,
        model_config,
        train_config,
        on_step=on_step,
        on_epoch=on_epoch,
        stop_event=stop_event,
        resume=None if resume is None else ckpt.loop_state(resume),
        on_checkpoint=on_checkpoint,
        on_companion=on_companion,
    )
    metrics = result_metrics(result, data, split, model_config)
    if out_dir is not None:
        out = Path(out_dir)
        result.checkpoint = final_checkpoint(result, data, split, model_config, split_config, dataset)
        ckpt.save(result.checkpoint, out / CHECKPOINT_FILE)
        write_json(metrics, out / METRICS_FILE)
    return metrics, result


def final_checkpoint(result: TrainResult, data: RatingData, split: AreaSplit, model_config: ModelConfig,
                     split_config: SplitConfig, dataset: dict[str, Any] | None = None) -> dict[str, Any]:
    """A finished run's checkpoint: the selected weights, with what was selected (so that `evaluate` reports the
    same), DMF-D's quantizer summary, and the inputs and validation scores (so that `DMF.load` predicts without the
    data). The one format of `train --out`, the app's runs and `DMF.save`."""
    checkpoint = ckpt.make_checkpoint(
        result.model.state_dict(), model_config, result.train_config or TrainConfig(), split_config,
        dataset or ckpt.dataset_info(data), result.history, optimizer_state=result.optimizer_state,
        stop_reason=result.stop_reason, best_epoch=result.best_epoch)
    checkpoint["selected"] = {"val_rmse": result.val_rmse, "kind": result.val_rmse_kind}
    checkpoint["quantizer"] = result.quantizer
    checkpoint["companion"] = result.companion
    checkpoint["train_seconds"] = result.train_seconds  # DMF's and the companion's, as metrics.json reports
    checkpoint.update(library_state(data, split, result.model, result.inputs, result.predictor))
    return checkpoint


def refuse_interrupted(out: str | Path, other: str = "--out") -> None:
    """A folder holding an interrupted run is not silently overwritten (`train --out`, `DMF.fit(out=...)`): a one-line
    ValueError offers to resume it; `other` names the setting that chooses another folder."""
    checkpoint = interrupted_checkpoint(out)
    if checkpoint is not None:
        done, cap = len(checkpoint["history"]), checkpoint["train_config"]["epochs"]
        raise ValueError(f"{out} holds an interrupted run ({done} of {cap} epochs done): resume it with "
                         f"`python -m dmf_core train --resume {out}`, or choose another {other}")


def interrupted_checkpoint(folder: str | Path) -> dict[str, Any] | None:
    """The checkpoint of a run that stopped mid-way (a crash, a kill, a server restart), if `folder` holds one."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file() or (Path(folder) / METRICS_FILE).is_file():
        return None
    try:
        checkpoint = ckpt.load(path)
    except ckpt.CheckpointError:
        return None
    return checkpoint if checkpoint.get("in_progress") else None


def resume_run(
    checkpoint: dict[str, Any],
    data: RatingData,
    out_dir: str | Path,
    *,
    epochs: int | None = None,
    max_seconds: float | None = None,
    device: str | None = None,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
    stop_event: threading.Event | None = None,
    on_companion: StepCallback | None = None,
) -> tuple[dict[str, Any], TrainResult]:
    """Go on with an interrupted run: its configs and split come from the checkpoint (the data must match its
    fingerprint); only the epoch cap, the time budget (counted over the whole run) and the device may change. A
    finished run is refused (its checkpoint holds only the selected weights): a one-line CheckpointError."""
    ckpt.loop_state(checkpoint)  # refuses what cannot be resumed exactly, before anything else
    ckpt.check_matches(checkpoint, data)
    model_config, train_config, split_config = ckpt.configs(checkpoint)
    changes = {"epochs": epochs, "max_seconds": max_seconds, "device": device}
    train_config = replace(train_config, **{k: v for k, v in changes.items() if v is not None})
    train_config.validate()
    return train_run(data, split_config, model_config, train_config, out_dir, on_step=on_step, on_epoch=on_epoch,
                     stop_event=stop_event, resume=checkpoint, on_companion=on_companion)


def restore_run(
    checkpoint: dict[str, Any], data: RatingData, device: str | torch.device = "cpu"
) -> tuple[DMFNet, AreaSplit, MatrixInputs]:
    """A saved model with the split it was trained on (rebuilt from the stored seed and fractions) and its inputs."""
    ckpt.check_matches(checkpoint, data)
    _, _, split_config = ckpt.configs(checkpoint)
    model = ckpt.restore_model(checkpoint, device)
    split = split_areas(data, split_config)
    return model, split, MatrixInputs.from_split(data, split, device)


def train_seconds(checkpoint: dict[str, Any]) -> float:
    """The run's training time as `train` reported it: DMF's epochs and the companion's seconds. A checkpoint from
    before it was stored: the last epoch's elapsed time plus the companion's recorded seconds."""
    if checkpoint.get("train_seconds") is not None:
        return float(checkpoint["train_seconds"])
    history = checkpoint.get("history") or []
    dmf = float(history[-1]["elapsed"]) if history else 0.0
    return dmf + float((checkpoint.get("companion") or {}).get("seconds") or 0.0)


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
        train_seconds=train_seconds(checkpoint),
        stop_reason=str(checkpoint.get("stop_reason", "")),
        best_epoch=int(checkpoint.get("best_epoch", 0)),
        selected=(chosen["val_rmse"], chosen["kind"]) if (chosen := checkpoint.get("selected")) else None,
        quantizer=checkpoint.get("quantizer"),
        companion=checkpoint.get("companion"),
    )


# ---------------------------------------------------------------------------------------------------------------
# Reading run folders back (the CLI's and the app's alike)


@dataclass(frozen=True)
class RunRecord:
    """A finished run as found on disk."""

    run_id: str
    path: Path
    metrics: dict[str, Any]
    meta: dict[str, Any]
    created: float

    @property
    def model(self) -> str:
        return str(self.metrics.get("model", "?"))

    @property
    def dataset(self) -> str:
        return str(self.metrics.get("dataset", "?"))

    @property
    def discrete(self) -> bool:
        return self.model == "dmf-d"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def label(self) -> str:
        return str(self.meta.get("label") or "")

    def title(self) -> str:
        test = (self.metrics.get("overall") or {}).get("rmse")
        score = f", test RMSE {test:.3f}" if isinstance(test, (int, float)) else ""
        label = f" «{self.label}»" if self.label else ""
        return f"{self.run_id}{label} ({self.model.upper()} on {self.dataset}, {self.metrics.get('epochs_run', 0)} ep{score})"


def read_run(folder: str | Path) -> RunRecord | None:
    """A run folder with a readable metrics.json and a checkpoint, else None (in progress, crashed or foreign)."""
    folder = Path(folder)
    metrics_path = folder / METRICS_FILE
    if not metrics_path.is_file() or not (folder / CHECKPOINT_FILE).is_file():
        return None
    try:
        metrics = json.loads(metrics_path.read_text())
    except (OSError, ValueError):
        return None
    meta: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):  # a CLI run has no run.json
        meta = json.loads((folder / RUN_FILE).read_text())
    if not isinstance(metrics, dict) or "areas" not in metrics:
        return None
    created = float(meta.get("created") or metrics_path.stat().st_mtime)
    return RunRecord(run_id=folder.name, path=folder, metrics=metrics, meta=meta, created=created)


def list_runs(root: str | Path, read: Callable[[Path], RunRecord | None] = read_run) -> list[RunRecord]:
    """Finished runs under `root` (CLI runs included), newest first. `read` may be a cached `read_run` (the app)."""
    root = Path(root)
    if not root.is_dir():
        return []
    records = [read(folder) for folder in root.iterdir() if folder.is_dir()]
    return sorted((r for r in records if r is not None), key=lambda r: r.created, reverse=True)
