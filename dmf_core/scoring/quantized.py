"""Three ways to turn a run's continuous output into stars, measured on the same test ratings: DMF-D's learned
boundaries b, rounding (the uniform midpoints b̃) and boundaries fitted on the validation ratings
(`model.quantizer.fit_boundaries`), with global mean + biases rounded beside them as the simple baseline; and, per
boundary, how far it moved from rounding's midpoint and which test ratings that moved to the other star.

Every rating a boundary can move lies in that boundary's cell [I_v, I_v+1): both quantizers choose between I_v and
I_v+1 there, so a change of star between rounding and b is charged to exactly one boundary, and the per-boundary
counts add up to the difference of the two rows' exact stars.

    comparison = compare_quantizers(dmf.predictor_, dmf.observed_.data, dmf.observed_.split)
    comparison.table        # rows: the quantizers; columns: rmse, mae, exact_stars, n, rmse_minus_rounding (± _se)
    comparison.effects      # rows: the boundaries; how far each moved and what that did
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..data import RatingData
from ..data.split import TEST, VAL, AreaSplit
from ..model.quantizer import fit_boundaries, hard_quantize, rating_levels, uniform_boundaries
from .metrics import accuracy, baseline_scores, mae, paired_rmse_difference, rmse, round_to_scale
from .predict import Predictor

# FITTED: b of least absolute error on the validation ratings (Table 2's fitted row); DMF-D's fitted finish
# (`QuantizerConfig.finish`) refits by least squares instead, and its run's "learned b" are then those.
LEARNED, ROUNDING, FITTED, BASELINE = (
    "learned b", "rounding (uniform b̃)", "b fitted on validation (least absolute error)",
    "global mean + biases, rounded")


@dataclass(frozen=True)
class QuantizerComparison:
    """A run's test ratings through each quantizer. `learned` is None for a model without a quantizer (DMF)."""

    scale: tuple[float, float]
    step: float
    uniform: list[float]  # rounding's midpoints b̃
    learned: list[float] | None  # the run's b (the selected epoch's, as its checkpoint holds them)
    fitted: list[float]  # fitted on the validation ratings' continuous outputs
    outputs: np.ndarray  # the continuous output on each test rating (what every quantizer reads)
    true: np.ndarray  # the test ratings
    # index: LEARNED (if any), ROUNDING, FITTED, BASELINE; columns rmse, mae, exact_stars, n, and
    # rmse_minus_rounding with its standard error rmse_minus_rounding_se, paired rating by rating with rounding on
    # the same ratings (`metrics.paired_rmse_difference`; NaN for the baseline, scored apart)
    table: pd.DataFrame
    continuous: dict[str, float]  # rmse, mae of the output before quantizing
    effects: pd.DataFrame  # `boundary_effects` of the learned b (of the fitted b for a model without one)

    @property
    def levels(self) -> list[float]:
        return rating_levels(self.scale, self.step)

    def outputs_by_star(self) -> dict[float, np.ndarray]:
        """The continuous outputs of the test ratings of each true star (level -> outputs), for a histogram."""
        return {level: self.outputs[np.isclose(self.true, level)] for level in self.levels}


def quantize(outputs: np.ndarray, boundaries: Sequence[float], scale: tuple[float, float],
             step: float = 1.0) -> np.ndarray:
    """Q_b of continuous outputs (the model's own `hard_quantize`, in float64) as a numpy array of levels."""
    x = torch.as_tensor(np.asarray(outputs, np.float64))
    return hard_quantize(x, torch.as_tensor(list(boundaries), dtype=torch.float64), scale[0], step).numpy()


def _row(pred: np.ndarray, true: np.ndarray) -> dict[str, float | int]:
    return {"rmse": rmse(pred, true), "mae": mae(pred, true), "exact_stars": accuracy(pred, true), "n": len(true)}


def boundary_effects(outputs: np.ndarray, true: np.ndarray, boundaries: Sequence[float],
                     scale: tuple[float, float], step: float = 1.0) -> pd.DataFrame:
    """One row per boundary b_v against rounding's midpoint b̃_v: where it is (`position`), how far it moved
    (`moved` = b_v − b̃_v), and the test ratings in its cell whose star changed (`changed`, all from star `from_star`
    to `to_star`: a boundary moved up turns some I_v+1 into I_v), of which `became_right` now equal their true star
    and `became_wrong` no longer do; `net_right` = became_right − became_wrong."""
    x, y = np.asarray(outputs, np.float64), np.asarray(true, np.float64)
    levels, uniform = rating_levels(scale, step), uniform_boundaries(scale, step)
    learned, rounded = quantize(x, boundaries, scale, step), round_to_scale(x, scale, step)
    changed = ~np.isclose(learned, rounded)
    cell = np.clip(np.floor((x - scale[0]) / step), 0, len(levels) - 2).astype(int)
    rows = []
    for v, (b, u) in enumerate(zip(boundaries, uniform, strict=True)):
        here = changed & (cell == v)
        up = b >= u
        rows.append({
            "boundary": f"b{v + 1}", "between": f"{levels[v]:g}–{levels[v + 1]:g}", "uniform": float(u),
            "position": float(b), "moved": float(b - u), "changed": int(here.sum()),
            "from_star": levels[v + 1] if up else levels[v], "to_star": levels[v] if up else levels[v + 1],
            "became_right": int((here & np.isclose(learned, y)).sum()),
            "became_wrong": int((here & np.isclose(rounded, y)).sum()),
        })
    frame = pd.DataFrame(rows)
    frame["net_right"] = frame["became_right"] - frame["became_wrong"]
    return frame


def compare_quantizers(predictor: Predictor, data: RatingData, split: AreaSplit,
                       learned: Sequence[float] | None = None) -> QuantizerComparison:
    """The run's test ratings (every area) through its learned b (`learned`, default: the model's quantizer, if
    it has one), rounding, and b fitted on its validation ratings; global mean + biases rounded beside them. Model
    choice is never made on these test numbers: the fitted b see only validation ratings."""
    scale, step = data.rating_scale, data.rating_step
    if learned is None and predictor.model.quantizer is not None:
        learned = predictor.model.quantizer.boundaries.detach().cpu().tolist()
    test, val = split.role == TEST, split.role == VAL
    if not test.any():
        raise ValueError("the run has no test ratings to compare quantizers on: train it with a test share "
                         "(test_frac > 0)")
    true = data.ratings[test].astype(np.float64)
    outputs = predictor.continuous(data.users[test], data.items[test])
    fitted = fit_boundaries(predictor.continuous(data.users[val], data.items[val]), data.ratings[val], scale, step)
    predictions = {} if learned is None else {LEARNED: quantize(outputs, learned, scale, step)}
    predictions[ROUNDING] = round_to_scale(outputs, scale, step)
    predictions[FITTED] = quantize(outputs, fitted, scale, step)
    rows, rounding_errors = {}, (predictions[ROUNDING] - true) ** 2
    for name, pred in predictions.items():
        diff, se = paired_rmse_difference((pred - true) ** 2, rounding_errors)
        rows[name] = {**_row(pred, true), "rmse_minus_rounding": diff, "rmse_minus_rounding_se": se}
    baseline = baseline_scores(data, split)["rounded_overall"]
    rows[BASELINE] = {"rmse": baseline["rmse"], "mae": baseline["mae"], "exact_stars": baseline["accuracy"],
                      "n": baseline["n"], "rmse_minus_rounding": np.nan, "rmse_minus_rounding_se": np.nan}
    table = pd.DataFrame.from_dict(rows, orient="index")
    return QuantizerComparison(
        scale=scale, step=step, uniform=uniform_boundaries(scale, step),
        learned=None if learned is None else [float(b) for b in learned], fitted=fitted, outputs=outputs,
        true=true, table=table, continuous={"rmse": rmse(outputs, true), "mae": mae(outputs, true)},
        effects=boundary_effects(outputs, true, learned if learned is not None else fitted, scale, step))
