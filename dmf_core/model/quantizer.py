"""DMF-D's quantizers: the hard Q_b (eq. 3) and its smooth relaxation G_{λ,b} (eq. 4), plus the λ schedule.

For levels I_1 < … < I_d spaced Δ apart (the rating scale's step: 1 for whole stars, 0.5 for half stars), x falls
in cell v when I_v <= x < I_{v+1} (the last cell is closed); inside it the output is I_v + Δ·H(x - b_v) (hard) or
I_v + Δ·σ(λ(x - b_v)) (smooth). As in the authors' code the cells are fixed, so a learned boundary b_v moves the
switch point inside its own cell.
`torch.sigmoid` saturates cleanly, so λ = 1e30 gives exact 0/1 with no overflow or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..config import QuantizerConfig


def rating_levels(scale: tuple[float, float], step: float = 1.0) -> list[float]:
    """I_1 < … < I_d: low, low + step, …, high (1..5 in whole stars, 0.5..5 in half stars: 10 levels)."""
    low, high = scale
    count = int(round((high - low) / step)) + 1
    return [round(low + step * v, 10) for v in range(count)]  # 0.1 + 0.1·2 is 0.30000000000000004 otherwise


def uniform_boundaries(scale: tuple[float, float], step: float = 1.0) -> list[float]:
    """b̃: the midpoints between consecutive rating levels (the quantizer's starting point and its penalty's centre)."""
    levels = rating_levels(scale, step)
    return [(a + b) / 2 for a, b in zip(levels[:-1], levels[1:], strict=True)]


def scale_step(scale: tuple[float, float], boundaries: Sequence[float]) -> float:
    """The step of a quantizer with these boundaries on this scale: one boundary per gap between levels."""
    return (scale[1] - scale[0]) / max(1, len(boundaries))


def _cell(x: torch.Tensor, low: float, step: float, n_levels: int) -> torch.Tensor:
    return torch.clamp(torch.floor((x - low) / step), 0, n_levels - 2).long()


def smooth_quantize(x: torch.Tensor, boundaries: torch.Tensor, lam: float, low: float, step: float) -> torch.Tensor:
    """G_{λ,b}(x) of eq. (4); differentiable in x and in the boundaries."""
    cell = _cell(x.detach(), low, step, len(boundaries) + 1)
    return low + step * cell + step * torch.sigmoid(lam * (x - boundaries[cell]))


def hard_quantize(x: torch.Tensor, boundaries: torch.Tensor, low: float, step: float) -> torch.Tensor:
    """Q_b(x) of eq. (3): the λ → ∞ limit of `smooth_quantize`."""
    cell = _cell(x, low, step, len(boundaries) + 1)
    return low + step * cell + step * (x >= boundaries[cell]).to(x.dtype)


class Quantizer(nn.Module):
    """Holds the boundaries b (initialised at the uniform midpoints b̃) and applies G or Q to rating-scale values."""

    def __init__(self, scale: tuple[float, float], learn_boundaries: bool = True, step: float = 1.0):
        super().__init__()
        uniform = torch.tensor(uniform_boundaries(scale, step), dtype=torch.float32)
        self.low = float(scale[0])
        self.step = float(step)
        self.register_buffer("uniform", uniform.clone())
        self.boundaries = nn.Parameter(uniform.clone(), requires_grad=learn_boundaries)

    def forward(self, x: torch.Tensor, lam: float) -> torch.Tensor:
        return smooth_quantize(x, self.boundaries, lam, self.low, self.step)

    def hard(self, x: torch.Tensor) -> torch.Tensor:
        return hard_quantize(x, self.boundaries, self.low, self.step)

    def penalty(self) -> torch.Tensor:
        """mean((b - b̃)^2): eq. (5)'s γ2 term as the authors compute it (a mean over the boundaries)."""
        return torch.mean((self.boundaries - self.uniform) ** 2)


def fit_boundaries(continuous: np.ndarray, true: np.ndarray, scale: tuple[float, float],
                   step: float = 1.0, squared: bool = False) -> list[float]:
    """Boundaries b for Q_b fitted to (continuous prediction, true rating) pairs, one cell at a time (the cells are
    fixed, as in DMF-D): in each cell [I_v, I_v+1) the threshold that minimises the absolute error of the two levels
    it chooses between (ties: the one nearest the uniform midpoint). Midpoint rounding minimises the squared error
    of a calibrated output; the absolute error and exact-level accuracy reward other thresholds. Fit it on
    validation ratings, never on test ones. `squared`: the threshold of least squared error instead (the
    RMSE's choice: midpoint rounding where the output is calibrated, moved where it is not)."""
    error = np.square if squared else np.abs
    x, y = np.asarray(continuous, np.float64), np.asarray(true, np.float64)
    levels = rating_levels(scale, step)
    cell = np.clip(np.floor((x - scale[0]) / step), 0, len(levels) - 2).astype(int)
    boundaries = []
    for v, midpoint in enumerate(uniform_boundaries(scale, step)):
        here = cell == v
        xs, ys = x[here], y[here]
        order = np.argsort(xs, kind="stable")
        xs, ys = xs[order], ys[order]
        # cost[k]: the first k predictions take I_v, the rest I_v+1
        down = np.concatenate([[0.0], np.cumsum(error(ys - levels[v]))])
        up = np.concatenate([np.cumsum(error(ys - levels[v + 1])[::-1])[::-1], [0.0]])
        edges = np.concatenate([[levels[v]], (xs[:-1] + xs[1:]) / 2, [levels[v + 1]]]) if len(xs) else [midpoint]
        cost = down + up
        best = np.flatnonzero(np.isclose(cost, cost.min()))
        threshold = edges[best[np.argmin(np.abs(np.asarray(edges)[best] - midpoint))]]
        boundaries.append(float(threshold))
    return boundaries


@torch.no_grad()
def refit(quantizer: Quantizer, continuous: np.ndarray, true: np.ndarray, scale: tuple[float, float]) -> dict:
    """DMF-D's "fitted" finish: b refitted by least squares to (continuous output, true rating) pairs of the
    validation ratings; returns the trained and the fitted b, for the run's quantizer record."""
    learned = quantizer.boundaries.detach().cpu().tolist()
    fitted = fit_boundaries(continuous, true, scale, quantizer.step, squared=True)
    quantizer.boundaries.copy_(torch.as_tensor(fitted, dtype=quantizer.boundaries.dtype))
    return {"finish": "fitted", "learned_boundaries": learned, "fitted_boundaries": fitted}


def lambda_after(epoch: int, config: QuantizerConfig) -> float:
    """λ in the `epoch`-th (0-based) epoch after the warm-up: exponential or step growth from lambda_start, capped
    at lambda_max. When the warm-up ends is decided in training (train.py; fixed or automatic), and each epoch's
    λ is in the run's history."""
    exponent = epoch // config.step_every if config.schedule == "step" else epoch
    # log-space keeps huge growth^epoch from overflowing before the cap applies.
    log_lam = math.log(config.lambda_start) + exponent * math.log(config.lambda_growth)
    return float(min(config.lambda_max, math.exp(min(log_lam, 700.0))))


def lambda_curve(config: QuantizerConfig, epochs: int) -> list[float]:
    """λ per epoch after the warm-up."""
    return [lambda_after(e, config) for e in range(epochs)]
