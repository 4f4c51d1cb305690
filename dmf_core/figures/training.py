"""Figures of a run's training: loss and validation curves, per-area RMSE by epoch, DMF-D's λ and b by epoch, and
comparisons of several runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dmf_core.data.split import AREAS
from dmf_core.model.quantizer import uniform_boundaries

from ._style import AREA_COLORS, AREA_NAMES, LEARNED_COLOR, UNIFORM_COLOR, _layout


def training_curves(history: Sequence[dict[str, Any]], title: str = "") -> go.Figure:
    """Train loss and validation RMSE (area I) by epoch, side by side."""
    epochs = [h["epoch"] for h in history]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("train loss (mean squared error, stars²)", "validation RMSE (area I)"))
    fig.add_trace(go.Scatter(x=epochs, y=[h.get("train_loss") for h in history], mode="lines+markers",
                             name="train loss", line={"color": "#4C78A8"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=epochs, y=[h.get("val_rmse") for h in history], mode="lines+markers",
                             name="validation RMSE", line={"color": "#E45756"}), row=1, col=2)
    fig.update_xaxes(title="epoch", rangemode="tozero")
    return _layout(fig, title, height=300, showlegend=False)


def area_curves(history: Sequence[dict[str, Any]]) -> go.Figure:
    """Validation RMSE per area by epoch: areas II–IV are scored without ever being trained on."""
    fig = go.Figure()
    epochs = [h["epoch"] for h in history]
    for area in AREAS:
        values = [(h.get("val_areas") or {}).get(area) for h in history]
        if any(v is not None for v in values):
            fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=AREA_NAMES[area],
                                     line={"color": AREA_COLORS[area]}))
    fig.update_xaxes(title="epoch", rangemode="tozero")
    fig.update_yaxes(title="validation RMSE")
    return _layout(fig, "Validation RMSE per area", height=320)


def quantizer_schedule(history: Sequence[dict[str, Any]], uniform: Sequence[float]) -> go.Figure:
    """DMF-D: λ (log scale) and the boundaries b by epoch, with the uniform b̃ dotted."""
    epochs = [h["epoch"] for h in history]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("λ (slope of the sigmoids)", "boundaries b"))
    fig.add_trace(go.Scatter(x=epochs, y=[h.get("lambda") for h in history], mode="lines+markers", name="λ",
                             line={"color": "#F58518"}), row=1, col=1)
    bounds = np.array([h.get("boundaries") or [np.nan] * len(uniform) for h in history], dtype=float)
    for v, base in enumerate(uniform):
        fig.add_trace(go.Scatter(x=epochs, y=bounds[:, v] if len(bounds) else [], mode="lines",
                                 name=f"b{v + 1}", line={"color": LEARNED_COLOR}), row=1, col=2)
        fig.add_hline(y=base, line={"dash": "dot", "color": UNIFORM_COLOR}, row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title="epoch", rangemode="tozero")
    return _layout(fig, "", height=300, showlegend=False)


def quantizer_selection(history: Sequence[dict[str, Any]], margin: float | None,
                        selected_epoch: int | None = None) -> go.Figure:
    """DMF-D: each quantizer epoch's validation RMSE minus the quantizer's start's (DMF + rounding), rating by rating,
    with a bar up to the difference plus `margin` standard errors: the selection's value against the start's. An
    epoch whose bar stays below 0 beats the start by more than the margin; the selected epoch is ringed."""
    rows = [h for h in history if h.get("val_rmse_vs_start") is not None]
    epochs = [h["epoch"] for h in rows]
    diffs = [h["val_rmse_vs_start"] for h in rows]
    reach = [(margin or 0.0) * h.get("val_rmse_vs_start_se", 0.0) for h in rows]
    fig = go.Figure(go.Scatter(
        x=epochs, y=diffs, mode="markers", name="RMSE − start", marker={"color": LEARNED_COLOR, "size": 8},
        error_y={"type": "data", "symmetric": False, "array": reach, "arrayminus": [0.0] * len(rows),
                 "color": LEARNED_COLOR, "thickness": 1},
        customdata=[[h.get("lambda"), h.get("val_rmse_vs_start_se")] for h in rows],
        hovertemplate="epoch %{x}, λ %{customdata[0]:.3g}: %{y:+.5f} ± %{customdata[1]:.5f} (SE)<extra></extra>"))
    fig.add_hline(y=0, line={"color": UNIFORM_COLOR, "dash": "dot"},
                  annotation_text="the start: DMF + rounding", annotation_position="bottom left")
    if selected_epoch in epochs:
        i = epochs.index(selected_epoch)
        fig.add_trace(go.Scatter(x=[selected_epoch], y=[diffs[i]], mode="markers", name="selected",
                                 marker={"size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "black"}}))
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="validation RMSE − start", tickformat="+.4f")
    rule = (f"an epoch wins only if its bar, + {margin:g} standard error(s), ends below 0" if margin
            else "no margin: the lowest RMSE wins")
    return _layout(fig, f"Each quantizer epoch against the start, on validation ({rule})", height=320,
                   showlegend=False)


def compare_runs(runs: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> go.Figure:
    """Validation RMSE by epoch for several runs, overlaid."""
    fig = go.Figure()
    for name, history in runs:
        fig.add_trace(go.Scatter(x=[h["epoch"] for h in history], y=[h.get("val_rmse") for h in history],
                                 mode="lines+markers", name=name))
    fig.update_xaxes(title="epoch", rangemode="tozero")
    fig.update_yaxes(title="validation RMSE (area I)")
    return _layout(fig, "Validation RMSE of the selected runs", height=340)


def live_figures(history: Sequence[dict[str, Any]], discrete: bool, scale: tuple[float, float] = (1.0, 5.0),
                 compact: bool = False, step: float = 1.0) -> list[go.Figure]:
    """The charts of a run in progress: loss and validation RMSE; per-area RMSE; for DMF-D, λ and b by epoch.
    The app rebuilds them only when an epoch ends; the benchmark calls this to charge the same work."""
    figures = [training_curves(history)]
    if not compact:
        figures.append(area_curves(history))
        if discrete:
            figures.append(quantizer_schedule(history, uniform_boundaries(scale, step)))
    return figures


def compare_areas(runs: Sequence[tuple[str, dict[str, Any]]], metric: str = "rmse") -> go.Figure:
    """Test RMSE (or MAE) per area for several runs as grouped bars."""
    fig = go.Figure()
    for name, areas in runs:
        names = [a for a in AREAS if areas.get(a)]
        fig.add_trace(go.Bar(x=names, y=[areas[a][metric] for a in names], name=name))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=f"test {metric.upper()}", rangemode="tozero")
    return _layout(fig, f"Test {metric.upper()} per area", height=340)
