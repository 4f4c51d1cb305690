"""Figures of the Areas page: RMSE/MAE per area beside the paper's, error distributions, and the cold-start curve."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dmf_core.data.split import AREAS

from ._style import AREA_COLORS, AREA_NAMES, SMOOTH_COLOR, _layout


def area_scores(areas: dict[str, dict[str, Any] | None], reference: dict[str, dict[str, float]] | None = None,
                title: str = "Test error per area") -> go.Figure:
    """RMSE and MAE per area as bars; reference values (the paper's) as labelled markers on the RMSE panel, set
    side by side within each area so that close values stay distinguishable."""
    names = [a for a in AREAS if areas.get(a)]
    position = {a: float(i) for i, a in enumerate(names)}
    fig = make_subplots(rows=1, cols=2, subplot_titles=("RMSE", "MAE"))
    for col, metric in ((1, "rmse"), (2, "mae")):
        values = [areas[a][metric] for a in names]
        fig.add_trace(go.Bar(x=[position[a] for a in names], y=values, name="this run", showlegend=col == 1,
                             marker_color=[AREA_COLORS[a] for a in names], text=[f"{v:.3f}" for v in values],
                             textposition="inside", width=0.8), row=1, col=col)
    styles = (("diamond", "#111111"), ("x", "#555555"), ("triangle-up", "#888888"), ("circle-open", "#111111"))
    series = list((reference or {}).items())
    for index, ((label, values), (symbol, color)) in enumerate(zip(series, styles, strict=False)):
        offset = (index - (len(series) - 1) / 2) * 0.22
        xs = [a for a in names if a in values]
        fig.add_trace(go.Scatter(x=[position[a] + offset for a in xs], y=[values[a] for a in xs], mode="markers",
                                 name=label, marker={"symbol": symbol, "size": 12, "color": color,
                                                     "line": {"width": 1.5, "color": "white"}},
                                 hovertemplate=f"{label}, area %{{customdata}}: %{{y:.3f}}<extra></extra>",
                                 customdata=xs), row=1, col=1)
    fig.update_xaxes(tickvals=list(position.values()), ticktext=names, range=[-0.6, len(names) - 0.4])
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, title, height=380)


def error_distributions(errors: dict[str, np.ndarray], title: str = "Error distribution per area") -> go.Figure:
    """Violin of (prediction − truth) per area; a sample of at most 20k errors per area keeps the page light."""
    fig = go.Figure()
    rng = np.random.default_rng(0)
    for area, values in errors.items():
        if len(values) > 20_000:
            values = rng.choice(values, 20_000, replace=False)
        fig.add_trace(go.Violin(x=[area] * len(values), y=values, name=AREA_NAMES[area], box_visible=True,
                                meanline_visible=True, points=False, line_color=AREA_COLORS[area]))
    fig.add_hline(y=0, line={"color": "#777", "dash": "dot"})
    fig.update_yaxes(title="prediction − true rating")
    return _layout(fig, title, height=380)


def cold_start(curve: Any, reference: float | None = None, discrete: bool = False,
               reference_name: str = "area I (seen users)", curve_name: str = "RMSE, k ratings seen") -> go.Figure:
    """RMSE on new users against how many of their ratings the model saw (x = k; "all" at the mean count), with
    global mean + biases given the same k ratings where the curve has it, beside `reference`, area I's RMSE (`runinfo.cold_start_labels` names both with the model that scored them)."""
    points = curve[curve["k"] != "all"]
    fig = go.Figure(go.Scatter(x=points["seen_ratings"], y=points["rmse"], mode="lines+markers",
                               name=curve_name, line={"color": AREA_COLORS["II"]},
                               customdata=np.stack([points["n_users"], points["n_ratings"]], axis=1),
                               hovertemplate="k = %{x}: RMSE %{y:.3f} (%{customdata[0]} users, "
                                             "%{customdata[1]} test ratings)<extra></extra>"))
    if discrete and points["discrete_rmse"].notna().any():
        fig.add_trace(go.Scatter(x=points["seen_ratings"], y=points["discrete_rmse"], mode="lines+markers",
                                 name="discrete RMSE (Q_b)", line={"color": SMOOTH_COLOR, "dash": "dash"}))
    if "baseline_rmse" in points and points["baseline_rmse"].notna().any():
        fig.add_trace(go.Scatter(x=points["seen_ratings"], y=points["baseline_rmse"], mode="lines+markers",
                                 name="global mean + biases, the same k ratings",
                                 line={"color": "#888888", "dash": "dot"}, marker={"symbol": "x"}))
    all_rows = curve[curve["k"] == "all"]
    if len(all_rows):
        value = float(all_rows["rmse"].iloc[0])
        fig.add_hline(y=value, line={"dash": "dot", "color": AREA_COLORS["II"]},
                      annotation_text=f"all observed ratings (mean {all_rows['seen_ratings'].iloc[0]:.0f}): "
                                      f"{value:.3f}")
    if reference is not None and math.isfinite(reference):
        fig.add_hline(y=reference, line={"dash": "dash", "color": AREA_COLORS["I"]},
                      annotation_text=f"{reference_name}: {reference:.3f}", annotation_position="bottom right")
    fig.update_xaxes(title="ratings of the new user the model sees (k)")
    fig.update_yaxes(title="RMSE on their test ratings")
    return _layout(fig, "Cold start: error for new users vs ratings seen", height=380)
