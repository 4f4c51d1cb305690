"""Checkpoints: a plain dict of builtins and tensors, written atomically, read with `weights_only=True`.

Keys: format_version, kind ("dmf" | "dmf-d"), model_config, train_config, split_config (dicts), dataset (name,
sizes, scale, its step (absent in older checkpoints: 1), fingerprint), state_dict, optimizer_state, history,
stop_reason, best_epoch. No pickled classes, so a checkpoint from anywhere loads safely, and a GPU checkpoint loads
on a CPU.

A run writes one after every epoch (every few when writing would cost more than `runs.CHECKPOINT_SHARE` of its
training time) with `in_progress: True` and what an exact resume needs (`progress_fields`: the last epoch's weights
and optimizer state, and under `loop` the state of the loop's parts: the selection with the best weights so far, the
phases, the clock); its final checkpoint holds the selected weights, and cannot be resumed. `--resume` takes the configs and the split from the checkpoint and refuses data whose
fingerprint differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..config import ModelConfig, SplitConfig, TrainConfig, from_dict, to_dict
from ..data import RatingData, dataset_fingerprint
from ..errors import one_line
from ..files import atomic_write
from ..model.network import DMFNet

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "kind", "model_config", "train_config", "split_config", "dataset", "state_dict")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or does not fit the data it is used with."""


def dataset_info(data: RatingData, fingerprint: str | None = None) -> dict[str, Any]:
    return {
        "name": data.name,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_ratings": data.n_ratings,
        "rating_scale": list(data.rating_scale),
        "rating_step": data.rating_step,
        "fingerprint": fingerprint or dataset_fingerprint(data),
    }


def make_checkpoint(
    state_dict: dict[str, torch.Tensor],
    model_config: ModelConfig,
    train_config: TrainConfig,
    split_config: SplitConfig,
    dataset: dict[str, Any],
    history: list[dict[str, Any]],
    *,
    optimizer_state: dict[str, Any] | None = None,
    stop_reason: str = "",
    best_epoch: int = 0,
    progress: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`dataset` is `dataset_info(data)`; `progress` (an interrupted run's extra state) marks it in progress."""
    checkpoint = {
        "format_version": FORMAT_VERSION,
        "kind": train_config.model,
        "model_config": to_dict(model_config),
        "train_config": to_dict(train_config),
        "split_config": to_dict(split_config),
        "dataset": dataset,
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
        "optimizer_state": optimizer_state or {},
        "history": history,
        "stop_reason": stop_reason,
        "best_epoch": best_epoch,
        "in_progress": progress is not None,
    }
    if progress is not None:
        checkpoint.update({k: v for k, v in progress.items() if k not in checkpoint})
    return checkpoint


def save(checkpoint: dict[str, Any], path: str | Path) -> Path:
    """Atomically (files.atomic_write): a crash never leaves a half-written checkpoint."""
    return atomic_write(path, lambda name: torch.save(checkpoint, name))


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        checkpoint = torch.load(path, weights_only=True, map_location=map_location)
    except Exception as error:  # torch raises several types for corrupt or unsafe files
        raise CheckpointError(f"{path}: not a readable DMF checkpoint ({one_line(error)})") from None
    if not isinstance(checkpoint, dict) or any(key not in checkpoint for key in REQUIRED_KEYS):
        raise CheckpointError(f"{path}: not a DMF checkpoint (missing keys)")
    if checkpoint["format_version"] > FORMAT_VERSION:
        raise CheckpointError(f"{path}: made by a newer DMF Studio (format {checkpoint['format_version']})")
    return checkpoint


def configs(checkpoint: dict[str, Any]) -> tuple[ModelConfig, TrainConfig, SplitConfig]:
    # Checkpoints from before the "output" setting hold the paper's pure cosine model, and those from before the
    # companion none.
    model_values = {"output": "cosine", "companion": "none", **checkpoint["model_config"]}
    return (
        from_dict(ModelConfig, model_values),
        from_dict(TrainConfig, checkpoint["train_config"]),
        from_dict(SplitConfig, checkpoint["split_config"]),
    )


def check_matches(checkpoint: dict[str, Any], data: RatingData, source: str = "checkpoint") -> None:
    """The data must be the data the checkpoint was trained on: same shape and, where stored, same fingerprint."""
    expected = checkpoint["dataset"]
    if (expected["n_users"], expected["n_items"]) != (data.n_users, data.n_items):
        raise CheckpointError(
            f"{source} was trained on {expected['name']} ({expected['n_users']} users × {expected['n_items']} items)"
            f", but the data given has {data.n_users} × {data.n_items}"
        )
    if expected.get("fingerprint") and expected["fingerprint"] != dataset_fingerprint(data):
        raise CheckpointError(
            f"{source} was trained on other ratings than {data.name}'s (fingerprint {expected['fingerprint']}, "
            f"given {dataset_fingerprint(data)}): resume or evaluate it with the data it was trained on"
        )


def stored_step(checkpoint: dict[str, Any]) -> float:
    """The rating scale's step the checkpoint was trained with; checkpoints from before steps were stored: 1."""
    return float(checkpoint["dataset"].get("rating_step", 1.0))


def stored_scale(checkpoint: dict[str, Any]) -> tuple[float, ...]:
    """(low, high, step) of the data the checkpoint was trained on, to load its data with again; (low, high) for a
    checkpoint from before steps were stored, whose data then gives the step as it did (1 on whole stars)."""
    low, high = (float(end) for end in checkpoint["dataset"]["rating_scale"])
    step = checkpoint["dataset"].get("rating_step")
    return (low, high) if step is None else (low, high, float(step))


def restore_model(checkpoint: dict[str, Any], device: str | torch.device = "cpu") -> DMFNet:
    model_config, train_config, _ = configs(checkpoint)
    info = checkpoint["dataset"]
    model = DMFNet(
        info["n_users"],
        info["n_items"],
        model_config,
        rating_scale=tuple(info["rating_scale"]),
        discrete=checkpoint["kind"] == "dmf-d",
        learn_boundaries=train_config.quantizer.learn_boundaries,
        rating_step=stored_step(checkpoint),
    )
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval()


def progress_fields(loop_state: dict[str, Any]) -> dict[str, Any]:
    """A running loop's state (`Loop.state_dict`) as checkpoint fields: the epoch's weights and optimizer state under
    the usual keys, and the rest (scheduler, selection with the best weights so far, phases, clock, epoch) under
    `loop`, so that `loop_state` gives it back whole."""
    task = loop_state["task"]
    rest = {k: v for k, v in loop_state.items() if k not in ("task", "history")}
    return {
        "state_dict": task["model"],
        "optimizer_state": task["optimizer"],
        "history": list(loop_state["history"]),
        "best_epoch": loop_state["selection"]["best_epoch"],
        "loop": {**rest, "scheduler": task["scheduler"]},
    }


def loop_state(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The loop state an interrupted run's checkpoint holds, for `train.fit(resume=...)`. A finished run, or an
    interrupted one from before the loop's state was stored, cannot be resumed exactly: a one-line CheckpointError."""
    if not checkpoint.get("in_progress"):
        raise CheckpointError(
            f"this run finished ({checkpoint.get('stop_reason') or 'completed'}, {len(checkpoint.get('history', []))} "
            "epochs) and holds only its selected weights, so it cannot go on exactly: train a new run instead")
    if "loop" not in checkpoint:
        raise CheckpointError("this interrupted run was saved by an older DMF Studio without its loop state, so it "
                              "cannot be resumed exactly: train it again")
    loop = dict(checkpoint["loop"])
    scheduler = loop.pop("scheduler")
    return {**loop, "history": list(checkpoint["history"]),
            "task": {"model": checkpoint["state_dict"], "optimizer": checkpoint["optimizer_state"],
                     "scheduler": scheduler}}
