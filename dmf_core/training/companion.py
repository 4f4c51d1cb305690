"""DMF's companion: an I-AutoRec (`autorec.py`) trained after DMF on the same observed ratings, whose predictions
are blended with DMF's where both know the pair: a user and an item seen in training (area I). The evidence for it
is at `ModelConfig.companion`.

The blend is r̂ = a·DMF + c·AutoRec + e, with (a, c, e) fitted by least squares on the validation ratings of area I
(fewer than MIN_BLEND_RATINGS of them leave DMF alone, (1, 0, 0)). Everything else is DMF's alone: new users have no
decoder row, and for new items (area III), which AutoRec's encoder could read from their columns, the blend won on
some data and lost on other (`bench_choices.py companion`: validation, cross-fitted, demo seeds 0-2 +0.0020 /
-0.0058 / +0.0017, ML-1M's 10% users +0.0085, 30% -0.0042; negative is a gain). No test rating is read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from ..config import AutoRecConfig
from ..data import RatingData
from ..data.split import VAL, AreaSplit
from ..model.inputs import MatrixInputs, SparseRows
from ..model.network import DMFNet
from ..scoring.metrics import evaluate, per_area, rmse
from ..scoring.predict import Predictor
from .autorec import train_autorec

# Fewer area-I validation ratings than this leave DMF alone: three weights fitted on a handful of ratings would
# follow their noise.
MIN_BLEND_RATINGS = 50


def skipped(reason: str) -> dict[str, Any]:
    """The companion's record when it did not train: the run's ratings are DMF's alone, and `note` says why."""
    return {"kind": "i-autorec", "trained": False, "note": reason}


def fit_companion(model: DMFNet, data: RatingData, split: AreaSplit, inputs: MatrixInputs, predictor: Predictor,
                  seed: int, max_seconds: float | None = None, stop_event: threading.Event | None = None,
                  on_progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Any], Predictor]:
    """Train `model.companion` (DMF already selected; `predictor` its factors), then fit the blend on validation.
    Returns its record for metrics.json (epochs, seconds, the validation RMSE of area I for DMF alone, the companion
    alone and the blend) and the predictor of the blended ratings (DMF alone's if it did not train).
    `on_progress(epoch, epochs)` is called as it starts (0) and after every epoch."""
    assert model.companion is not None
    started = time.perf_counter()
    net = model.companion
    device = model.blend.device
    train = split.train_mask()
    rows = SparseRows.from_coo(data.items[train], data.users[train], data.ratings[train], data.n_items,
                               data.n_users, device)  # item columns of raw ratings: inputs and targets, as AutoRec
    val = split.mask(VAL, "I")
    val_users = torch.as_tensor(data.users[val], device=device)
    val_items = torch.as_tensor(data.items[val], device=device)

    def val_fn() -> float | None:
        if not len(val_users):
            return None
        with torch.no_grad():
            predicted = net.decode_at(net.encode_all(rows), val_items, val_users).clamp(*model.rating_scale)
        return rmse(predicted.cpu().numpy(), data.ratings[val])

    config = AutoRecConfig(seed=seed, max_seconds=max_seconds)
    on_epoch = None
    if on_progress is not None:
        on_progress(0, config.epochs)
        on_epoch = lambda record: on_progress(int(record["epoch"]), config.epochs)  # noqa: E731
    info = train_autorec(net, rows, config, val_fn, on_epoch, stop_event)
    if info.stop_reason in ("stopped", "diverged") or not info.best_epoch:
        model.companion_users.zero_()
        note = f"not trained: {info.stop_reason} after {info.epochs_run} epoch(s); ratings are DMF's alone"
        return skipped(note), replace(predictor, companion_codes=None)
    model.companion_users.copy_(torch.as_tensor(np.bincount(data.users[train], minlength=data.n_users) > 0,
                                                device=device))
    blended = predictor.with_companion(inputs)
    blend = fit_blend(model, data, split, blended)
    return ({"kind": "i-autorec", "trained": True, "epochs_run": info.epochs_run, "best_epoch": info.best_epoch,
             "stop_reason": info.stop_reason, "seconds": time.perf_counter() - started, **blend}, blended)


def _blend_design(model: DMFNet, data: RatingData, split: AreaSplit,
                  predictor: Predictor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The area-I validation ratings the blend is fitted on (a mask), its design (DMF alone, the companion alone,
    1) and their ratings."""
    assert predictor.companion_codes is not None
    selected = split.mask(VAL, "I") & model.companion_users.cpu().numpy()[data.users]
    users, items, true = data.users[selected], data.items[selected], data.ratings[selected]
    device = model.blend.device
    dmf = Predictor(model, predictor.user_factors, predictor.item_factors).continuous(users, items)
    companion = model.companion.decode_at(predictor.companion_codes, torch.as_tensor(items, device=device),
                                          torch.as_tensor(users, device=device)).clamp(*model.rating_scale)
    design = np.column_stack([dmf, companion.cpu().numpy(), np.ones(len(dmf))]).astype(np.float64)
    return selected, design, true.astype(np.float64)


def _cross_fitted(design: np.ndarray, true: np.ndarray, scale: tuple[float, float], seed: int = 0) -> np.ndarray:
    """The blend's predictions with weights fitted on the other half of the ratings (two random halves, each
    scored by the weights of the other), so no rating is scored by weights fitted on it."""
    half = np.random.default_rng(seed).random(len(true)) < 0.5
    predicted = np.empty(len(true))
    for fit_on in (half, ~half):
        weights = np.linalg.lstsq(design[fit_on], true[fit_on], rcond=None)[0]
        predicted[~fit_on] = np.clip(design[~fit_on] @ weights, *scale)
    return predicted


@torch.no_grad()
def fit_blend(model: DMFNet, data: RatingData, split: AreaSplit, predictor: Predictor) -> dict[str, Any]:
    """(a, c, e) of the items seen in training, by least squares on area I's validation ratings; returns them with
    area I's validation RMSE of DMF alone, the companion alone and the blend (on the ratings the weights were
    fitted on: three numbers on thousands of ratings, so a little optimistic), and the blend's cross-fitted on
    halves of them (`_cross_fitted`: weights from one half, scored on the other). New items keep DMF alone, (1, 0,
    0). `predictor` holds the companion's codes (`Predictor.with_companion`)."""
    model.eval()
    model.blend.copy_(torch.tensor([1.0, 0.0, 0.0], device=model.blend.device).expand_as(model.blend))
    selected, design, true = _blend_design(model, data, split, predictor)
    if selected.sum() < MIN_BLEND_RATINGS:
        return {"blend": {"I": None}}  # DMF alone everywhere
    weights = np.linalg.lstsq(design, true, rcond=None)[0]
    device = model.blend.device
    model.blend[torch.as_tensor(~split.new_item, device=device)] = torch.as_tensor(weights, dtype=model.blend.dtype,
                                                                                   device=device)
    return {"blend": {"I": {"dmf": float(weights[0]), "companion": float(weights[1]), "offset": float(weights[2]),
                            "val_ratings": int(selected.sum())}},
            "val_rmse_dmf_alone": rmse(design[:, 0], true), "val_rmse_companion_alone": rmse(design[:, 1], true),
            "val_rmse_blend": rmse(np.clip(design @ weights, *model.rating_scale), true),
            "val_rmse_blend_cross_fitted": rmse(_cross_fitted(design, true, model.rating_scale), true)}


@torch.no_grad()
def cross_fitted_area_i(model: DMFNet, data: RatingData, split: AreaSplit, predictor: Predictor,
                        scores: dict[str, Any]) -> dict[str, Any]:
    """Area I's validation scores ({rmse, mae, n}) of a blended model with the blend cross-fitted (`_cross_fitted`)
    where its weights were fitted, instead of scored on the ratings they were fitted on; `scores` (`evaluate`'s
    "areas") as they are for a model without a fitted blend."""
    if predictor.companion_codes is None or scores.get("I") is None:
        return scores
    selected, design, true = _blend_design(model, data, split, predictor)
    if selected.sum() < MIN_BLEND_RATINGS:
        return scores  # no blend was fitted: DMF alone, nothing in-sample
    area_i = split.mask(VAL, "I")
    predicted = np.empty(len(data.ratings))
    predicted[area_i] = predictor.continuous(data.users[area_i], data.items[area_i])  # DMF's where not blended
    predicted[selected] = _cross_fitted(design, true, model.rating_scale)
    return {**scores, "I": per_area(predicted[area_i], data.ratings[area_i], np.zeros(int(area_i.sum()),
                                                                                       dtype=np.int8))["I"]}


def companion_record(model: DMFNet, data: RatingData, split: AreaSplit, inputs: MatrixInputs, predictor: Predictor,
                     record: dict[str, Any] | None) -> dict[str, Any]:
    """metrics.json's "companion": what `companion.fit_companion` recorded (or, re-scored from a checkpoint, what
    it stored), and the test RMSE per area of DMF alone beside the blended "areas", so both are named."""
    trained = predictor.companion_codes is not None
    record = dict(record or {"kind": "i-autorec", "trained": trained,
                             **({} if trained else {"note": "not trained; ratings are DMF's alone"})})
    if trained:
        alone = evaluate(model, data, split, inputs, predictor=replace(predictor, companion_codes=None))
        record["dmf_alone_areas"] = {area: (v["rmse"] if v else None) for area, v in alone["areas"].items()}
    return record


def describe(record: dict[str, Any] | None) -> str:
    """One line on a run's companion for the command line and the app ("" for a run without one)."""
    if not record:
        return ""
    if not record.get("trained"):
        return f"I-AutoRec companion {record.get('note', 'not trained')}"
    line = (f"area I blended with an I-AutoRec companion ({record['epochs_run']} epochs, "
            f"selected epoch {record['best_epoch']}, {record['seconds']:.1f}s of the training time)")
    if record.get("val_rmse_blend") is not None:
        line += (f"; area-I validation RMSE: DMF alone {record['val_rmse_dmf_alone']:.4f}, I-AutoRec alone "
                 f"{record['val_rmse_companion_alone']:.4f}, blend {record['val_rmse_blend']:.4f} (its weights "
                 "fitted on these ratings)")
        if record.get("val_rmse_blend_cross_fitted") is not None:
            line += f", blend cross-fitted on halves {record['val_rmse_blend_cross_fitted']:.4f}"
    alone = record.get("dmf_alone_areas") or {}
    if alone.get("I") is not None:
        line += f"; test RMSE of DMF alone in area I {alone['I']:.4f}"
    return line
