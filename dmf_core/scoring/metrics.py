"""Metrics: error measures per area for continuous, rounded and discrete predictions, and `score`, the one scorer
that DMF, every baseline and the global mean + biases beside each result go through. Predictions come from
`predict.Predictor`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import RatingData
from ..data.split import AREAS, TEST, AreaSplit
from ..model.biases import Biases, fit_biases, new_row_weights, shrink_new_rows
from ..model.inputs import MatrixInputs
from ..model.network import DMFNet
from .predict import Predictor


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - true) ** 2)))


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(pred, np.float64) - true)))


def accuracy(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.isclose(pred, true)))


def paired_rmse_difference(squared: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """RMSE(a) − RMSE(b) from two models' squared errors on the same ratings, and its standard error: the rating-by-
    rating differences' standard error of the mean, carried to RMSE (δ-method: ΔMSE / (RMSE(a) + RMSE(b))). Two
    models that disagree on few ratings differ by little, and that little is measured well, far better than by each
    RMSE's own spread."""
    a, b = np.sqrt(np.mean(squared)), np.sqrt(np.mean(reference))
    diff = np.asarray(squared, dtype=np.float64) - reference
    se = float(np.std(diff, ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return float(a - b), se / float(a + b) if a + b > 0 else 0.0


def round_to_scale(pred: np.ndarray, scale: tuple[float, float], step: float = 1.0) -> np.ndarray:
    """DMF + rounding: the baseline quantizer with fixed uniform boundaries, to the nearest level low + k·step."""
    low, high = scale
    levels = low + np.rint((np.asarray(pred, np.float64) - low) / step) * step
    return np.clip(levels, low, high).astype(np.asarray(pred).dtype, copy=False)


def per_area(
    pred: np.ndarray, true: np.ndarray, area: np.ndarray, discrete: bool = False
) -> dict[str, dict[str, float | int] | None]:
    """{area: {rmse, mae, n} (plus accuracy when discrete)}, None where the area holds no rating."""
    table: dict[str, dict[str, float | int] | None] = {}
    for index, name in enumerate(AREAS):
        selected = area == index
        if not selected.any():
            table[name] = None
            continue
        row: dict[str, float | int] = {
            "rmse": rmse(pred[selected], true[selected]),
            "mae": mae(pred[selected], true[selected]),
            "n": int(selected.sum()),
        }
        if discrete:
            row["accuracy"] = accuracy(pred[selected], true[selected])
        table[name] = row
    return table


def overall(pred: np.ndarray, true: np.ndarray, discrete: bool = False) -> dict[str, float | int]:
    row: dict[str, float | int] = {"rmse": rmse(pred, true), "mae": mae(pred, true), "n": int(len(true))}
    if discrete:
        row["accuracy"] = accuracy(pred, true)
    return row


def score(
    pred: np.ndarray, true: np.ndarray, area: np.ndarray, scale: tuple[float, float], step: float = 1.0
) -> dict[str, Any]:
    """The shape of every result's scores: per area and overall, as predicted and rounded to the rating scale's
    levels (`step` apart)."""
    rounded = round_to_scale(pred, scale, step)
    return {
        "areas": per_area(pred, true, area),
        "overall": overall(pred, true) if len(true) else None,
        "rounded": per_area(rounded, true, area, discrete=True),
        "rounded_overall": overall(rounded, true, discrete=True) if len(true) else None,
    }


def baseline_scores(data: RatingData, split: AreaSplit, biases: Biases | None = None, role: int = TEST) -> dict[str, Any]:
    """Global mean + biases (biases.py) on one role's ratings: the numbers a sceptical reader compares any result
    with. `biases` are the ones training already fitted on this split, if any. New rows' folded-in biases are
    shrunk by weights fitted on validation ratings (biases.new_row_weights), as DMF's cosine weight for new rows is."""
    biases = biases or fit_biases(data, split)
    biases = shrink_new_rows(biases, split, new_row_weights(biases, data, split))
    selected = split.role == role
    pred = np.clip(biases.predict(data.users[selected], data.items[selected]), *data.rating_scale)
    return {"model": "global mean + biases",
            **score(pred, data.ratings[selected], split.area[selected], data.rating_scale, data.rating_step)}


def evaluate(
    model: DMFNet,
    data: RatingData,
    split: AreaSplit,
    inputs: MatrixInputs,
    role: int = TEST,
    predictor: Predictor | None = None,
) -> dict[str, Any]:
    """Scores on one role's ratings: per area and overall, continuous, rounded and (for DMF-D) discrete."""
    predictor = predictor or Predictor.build(model, inputs)
    selected = split.role == role
    users, items, true = data.users[selected], data.items[selected], data.ratings[selected]
    area = split.area[selected]
    pred = predictor.continuous(users, items)
    result = score(pred, true, area, data.rating_scale, data.rating_step)
    if model.discrete:
        hard = predictor.discrete(pred)
        result["discrete"] = per_area(hard, true, area, discrete=True)
        result["discrete_overall"] = overall(hard, true, discrete=True) if len(true) else None
    return result
