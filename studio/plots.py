"""Plotly figures for the app, built from plain data (no Streamlit here, so they are unit-testable and reusable in
notebooks). Quantizer curves are computed with `quantizer.smooth_quantize` / `hard_quantize`, the very functions
the model trains with, so what the animation shows is exactly what DMF-D does.

Conventions: fixed axis ranges wherever frames animate (axes must not jump); λ frames spaced geometrically; frames
carry only the traces that change (`traces=[...]`, `redraw: False`), which keeps Play smooth in the browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from dmf_core.quantizer import hard_quantize, scale_step, smooth_quantize, uniform_boundaries
from dmf_core.split import AREAS

AREA_COLORS = {"I": "#4C78A8", "II": "#F58518", "III": "#54A24B", "IV": "#B279A2"}
AREA_NAMES = {
    "I": "I: seen users × seen items",
    "II": "II: new users × seen items",
    "III": "III: seen users × new items",
    "IV": "IV: new users × new items",
}
SMOOTH_COLOR, HARD_COLOR, LEARNED_COLOR, UNIFORM_COLOR = "#E45756", "#333333", "#E45756", "#9D9D9D"
MIN_FRAMES, MAX_FRAMES = 50, 200


def _layout(fig: go.Figure, title: str, height: int = 360, **extra: Any) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 50, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.28}, **extra)
    return fig


# ------------------------------------------------------------------------------------------------- data


def rating_histogram(values: np.ndarray, counts: np.ndarray) -> go.Figure:
    """One bar per distinct rating: a tick per level on whole, half-star or 1-10 scales; Plotly's own beyond 20."""
    share = counts / max(1, counts.sum())
    fig = go.Figure(go.Bar(x=values, y=counts, text=[f"{s:.0%}" for s in share], textposition="outside",
                           marker_color="#4C78A8", hovertemplate="rating %{x}: %{y:,} ratings<extra></extra>"))
    gaps = np.diff(np.sort(np.asarray(values, np.float64)))
    fig.update_xaxes(title="rating", dtick=float(gaps.min()) if 0 < len(gaps) <= 20 else None)
    fig.update_yaxes(title="ratings")
    return _layout(fig, "Rating histogram", height=300)


def count_distribution(counts: np.ndarray, what: str, per: str) -> go.Figure:
    """Histogram of ratings per user (activity) or per item (popularity), on a log x axis: both are long-tailed."""
    counts = counts[counts > 0]
    low, high = (int(counts.min()), int(counts.max())) if len(counts) else (1, 2)
    edges = np.unique(np.geomspace(low, max(low + 1, high) + 1, 40).astype(int))
    hist, _ = np.histogram(counts, bins=edges)
    centers = np.sqrt(edges[:-1] * edges[1:])
    fig = go.Figure(go.Bar(x=centers, y=hist, width=np.diff(edges) * 0.9, marker_color="#72B7B2",
                           hovertemplate=f"~%{{x:.0f}} ratings per {per}: %{{y}} {what}<extra></extra>"))
    fig.update_xaxes(title=f"ratings per {per} (log scale)", type="log")
    fig.update_yaxes(title=what)
    median = float(np.median(counts)) if len(counts) else 0.0
    return _layout(fig, f"{what.capitalize()}: median {median:.0f} ratings per {per}", height=300)


def matrix_heatmap(values: np.ndarray, scale: tuple[float, float], title: str) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=values, zmin=scale[0], zmax=scale[1], colorscale="Viridis",
                               colorbar={"title": "rating"}, hoverongaps=False,
                               hovertemplate="user row %{y}, item column %{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title="items (sampled columns)", showticklabels=False)
    fig.update_yaxes(title="users (sampled rows)", showticklabels=False, autorange="reversed")
    return _layout(fig, title, height=380)


def area_blocks(seen_users: int, new_users: int, seen_items: int, new_items: int,
                ratings: dict[str, int]) -> go.Figure:
    """The paper's Fig. 2 for this split: the matrix as 2×2 blocks, sized by users and items, labelled with the
    number of ratings that fall in each area."""
    n_users, n_items = max(1, seen_users + new_users), max(1, seen_items + new_items)
    # Held-out shares are small (10%); draw them at least 32% wide so the labels of II-IV stay readable.
    def cut(new: int, total: int) -> float:
        return 1.0 if new == 0 else float(np.clip(1 - new / total, 0.0, 0.68))
    x_cut, y_cut = cut(new_items, n_items), cut(new_users, n_users)
    blocks = {
        "I": (0, x_cut, 0, y_cut, seen_users, seen_items),
        "II": (0, x_cut, y_cut, 1, new_users, seen_items),
        "III": (x_cut, 1, 0, y_cut, seen_users, new_items),
        "IV": (x_cut, 1, y_cut, 1, new_users, new_items),
    }
    fig = go.Figure()
    for area, (x0, x1, y0, y1, users, items) in blocks.items():
        if x1 <= x0 or y1 <= y0:
            continue
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line={"color": "white", "width": 3},
                      fillcolor=AREA_COLORS[area], opacity=0.85)
        fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, showarrow=False, font={"color": "white", "size": 12},
                           text=f"<b>{area}</b><br>{users:,} × {items:,}<br>{ratings.get(area, 0):,} ratings")
    fig.update_xaxes(range=[0, 1], showgrid=False, zeroline=False, tickvals=[x_cut / 2, (1 + x_cut) / 2],
                     ticktext=[f"seen items ({seen_items:,})", f"new items ({new_items:,})"], side="top")
    fig.update_yaxes(range=[1, 0], showgrid=False, zeroline=False, tickvals=[y_cut / 2, (1 + y_cut) / 2],
                     ticktext=[f"seen users ({seen_users:,})", f"new users ({new_users:,})"])
    fig.update_layout(height=330, margin={"l": 10, "r": 10, "t": 40, "b": 10}, plot_bgcolor="white")
    return fig


# ------------------------------------------------------------------------------------------------- training


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


def compare_runs(runs: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> go.Figure:
    """Validation RMSE by epoch for several runs, overlaid."""
    fig = go.Figure()
    for name, history in runs:
        fig.add_trace(go.Scatter(x=[h["epoch"] for h in history], y=[h.get("val_rmse") for h in history],
                                 mode="lines+markers", name=name))
    fig.update_xaxes(title="epoch", rangemode="tozero")
    fig.update_yaxes(title="validation RMSE (area I)")
    return _layout(fig, "Validation RMSE of the selected runs", height=340)


# ------------------------------------------------------------------------------------------------- quantizer


def _quantizer_axes(scale: tuple[float, float], uniform: Sequence[float]) -> tuple[np.ndarray, list[float], float]:
    """x samples, the y range and the level spacing for a quantizer on `scale` (its step: one boundary per gap)."""
    low, high = scale
    step = scale_step(scale, uniform)
    x = np.linspace(low - 0.25 * step, high + 0.25 * step, int(np.clip(60 * (high - low) / step, 240, 480)) + 1)
    return x, [low - 0.3 * step, high + 0.3 * step], step


def _level_ticks(step: float, count: int) -> float | None:
    """One y tick per level, up to 20 of them; beyond that Plotly chooses."""
    return step if count <= 20 else None


def quantizer_curves(x: np.ndarray, boundaries: Sequence[float], lam: float | None,
                     scale: tuple[float, float]) -> np.ndarray:
    """G_{λ,b}(x), or Q_b(x) when lam is None, evaluated with dmf_core.quantizer (levels `scale_step` apart)."""
    tx = torch.as_tensor(x, dtype=torch.float64)
    tb = torch.as_tensor(list(boundaries), dtype=torch.float64)
    step = scale_step(scale, boundaries)
    if lam is None:
        return hard_quantize(tx, tb, scale[0], step).numpy()
    return smooth_quantize(tx, tb, float(lam), scale[0], step).numpy()


def lambda_frames(n_frames: int = 100, lam_min: float = 0.3, lam_max: float = 300.0) -> np.ndarray:
    """Geometrically spaced λ values: equal screen time per factor of λ. Clamped to 50–200 frames."""
    n = int(np.clip(n_frames, MIN_FRAMES, MAX_FRAMES))
    return np.geomspace(lam_min, lam_max, n)


def _boundary_lines(boundaries: Sequence[float], y0: float, y1: float) -> tuple[list, list]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for b in boundaries:
        xs += [b, b, None]
        ys += [y0, y1, None]
    return xs, ys


def _lam_label(lam: float) -> str:
    return f"{lam:.3g}" if lam < 1e4 else f"{lam:.1e}"


def _slider(labels: Sequence[str], prefix: str, max_steps: int = 100) -> dict[str, Any]:
    """A Plotly slider over named frames; at most `max_steps` ticks (the last always kept) so it stays legible."""
    keep = sorted(set(np.linspace(0, len(labels) - 1, min(max_steps, len(labels))).round().astype(int).tolist()))
    steps = [{"method": "animate", "label": labels[i],
              "args": [[labels[i]], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                     "transition": {"duration": 0}}]} for i in keep]
    # Plotly's documented animation layout: buttons left of the slider, both under the x axis.
    return {"active": 0, "steps": steps, "currentvalue": {"prefix": prefix, "xanchor": "left"},
            "x": 0.12, "y": 0, "len": 0.88, "xanchor": "left", "yanchor": "top", "pad": {"t": 55, "b": 10}}


def _play_pause(duration_ms: int) -> dict[str, Any]:
    return {
        "type": "buttons", "direction": "left", "x": 0.12, "y": 0, "xanchor": "right", "yanchor": "top",
        "showactive": False, "pad": {"t": 80, "r": 10},
        "buttons": [
            {"label": "Play", "method": "animate",
             "args": [None, {"frame": {"duration": duration_ms, "redraw": False}, "fromcurrent": True,
                             "transition": {"duration": 0}}]},
            # [None] with mode "immediate" pauses; an empty list would play instead.
            {"label": "Pause", "method": "animate",
             "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate",
                               "transition": {"duration": 0}}]},
        ],
    }


def _quantizer_layout(fig: go.Figure, title: str, animated: bool) -> go.Figure:
    """Legend inside the empty upper-left corner (the curves climb from bottom-left to top-right), and room under
    the axis for the Play/Pause buttons and the frame slider."""
    fig.update_layout(title=title, height=520 if animated else 420,
                      margin={"l": 55, "r": 55, "t": 50, "b": 150 if animated else 45},
                      legend={"x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top",
                              "bgcolor": "rgba(255,255,255,0.8)"})
    return fig


def quantizer_animation(boundaries: Sequence[float], uniform: Sequence[float], scale: tuple[float, float],
                        n_frames: int = 100, duration_ms: int = 40, title: str = "") -> go.Figure:
    """G_{λ,b} (animated) approaching the hard Q_b (fixed) as λ grows, with b and the uniform b̃ marked."""
    x, y_range, step = _quantizer_axes(scale, uniform)
    lams = lambda_frames(n_frames)
    bx, by = _boundary_lines(boundaries, *y_range)
    ux, uy = _boundary_lines(uniform, *y_range)
    labels = [_lam_label(lam) for lam in lams]
    fig = go.Figure(
        data=[
            go.Scatter(x=x, y=quantizer_curves(x, boundaries, None, scale), mode="lines", name="hard Q_b(x)",
                       line={"color": HARD_COLOR, "width": 2, "dash": "dash"}),
            go.Scatter(x=x, y=quantizer_curves(x, boundaries, lams[0], scale), mode="lines",
                       name="smooth G_λ,b(x)", line={"color": SMOOTH_COLOR, "width": 3}),
            go.Scatter(x=ux, y=uy, mode="lines", name="uniform b̃", line={"color": UNIFORM_COLOR, "dash": "dot"}),
            go.Scatter(x=bx, y=by, mode="lines", name="boundaries b", line={"color": LEARNED_COLOR, "width": 1}),
        ],
        frames=[go.Frame(name=label, data=[go.Scatter(y=quantizer_curves(x, boundaries, lam, scale))], traces=[1])
                for lam, label in zip(lams, labels, strict=True)],
    )
    fig.update_xaxes(title="x (model output on the rating scale)", range=[x[0], x[-1]], autorange=False)
    fig.update_yaxes(title="quantized rating", range=y_range, autorange=False, dtick=_level_ticks(step, len(uniform)))
    fig.update_layout(updatemenus=[_play_pause(duration_ms)], sliders=[_slider(labels, "λ = ")])
    return _quantizer_layout(fig, title or "G_λ,b(x) → Q_b(x) as λ grows", animated=True)


def quantizer_static(boundaries: Sequence[float], uniform: Sequence[float], lam: float,
                     scale: tuple[float, float], title: str = "") -> go.Figure:
    """The sandbox: one λ, one set of boundaries."""
    x, y_range, step = _quantizer_axes(scale, uniform)
    bx, by = _boundary_lines(boundaries, *y_range)
    ux, uy = _boundary_lines(uniform, *y_range)
    fig = go.Figure([
        go.Scatter(x=x, y=quantizer_curves(x, boundaries, None, scale), mode="lines", name="hard Q_b(x)",
                   line={"color": HARD_COLOR, "width": 2, "dash": "dash"}),
        go.Scatter(x=x, y=quantizer_curves(x, boundaries, lam, scale), mode="lines", name=f"G_λ,b(x), λ = {lam:g}",
                   line={"color": SMOOTH_COLOR, "width": 3}),
        go.Scatter(x=ux, y=uy, mode="lines", name="uniform b̃", line={"color": UNIFORM_COLOR, "dash": "dot"}),
        go.Scatter(x=bx, y=by, mode="lines", name="boundaries b", line={"color": LEARNED_COLOR, "width": 1}),
    ])
    fig.update_xaxes(title="x (model output on the rating scale)", range=[x[0], x[-1]])
    fig.update_yaxes(title="quantized rating", range=y_range, dtick=_level_ticks(step, len(uniform)))
    return _quantizer_layout(fig, title or "Quantizer sandbox", animated=False)


def boundaries_vs_uniform(boundaries: Sequence[float], uniform: Sequence[float]) -> go.Figure:
    """Each learned boundary b_v against its uniform midpoint b̃_v: how far training moved the switch points."""
    names = [f"b{v + 1}" for v in range(len(uniform))]
    fig = go.Figure([
        go.Scatter(x=list(uniform), y=names, mode="markers", name="uniform b̃",
                   marker={"symbol": "line-ns-open", "size": 18, "color": UNIFORM_COLOR, "line": {"width": 3}}),
        go.Scatter(x=list(boundaries), y=names, mode="markers+text", name="learned b",
                   marker={"size": 11, "color": LEARNED_COLOR},
                   text=[f"{b:.2f} ({b - u:+.2f})" for b, u in zip(boundaries, uniform, strict=True)],
                   textposition="top center"),
    ])
    step = float(np.diff(uniform).min()) if len(uniform) > 1 else 1.0
    fig.update_xaxes(title="position on the rating scale",
                     range=[min(uniform) - 0.6 * step, max(uniform) + 0.6 * step])
    return _layout(fig, "Learned boundaries b vs uniform b̃", height=300)


def quantizer_replay(history: Sequence[dict[str, Any]], outputs: np.ndarray, uniform: Sequence[float],
                     scale: tuple[float, float], duration_ms: int = 150, max_frames: int = MAX_FRAMES) -> go.Figure:
    """A DMF-D run's recorded λ and b, epoch by epoch, over the histogram of the final model's continuous outputs
    on the test set (the x the quantizer is applied to)."""
    x, y_range, step = _quantizer_axes(scale, uniform)
    records = [h for h in history if h.get("lambda") is not None and h.get("boundaries")]
    if len(records) > max_frames:
        keep = np.linspace(0, len(records) - 1, max_frames).round().astype(int)
        records = [records[i] for i in sorted(set(keep.tolist()))]
    edges = np.linspace(x[0], x[-1], 61)
    hist, _ = np.histogram(np.clip(outputs, x[0], x[-1]), bins=edges)
    first = records[0] if records else {"lambda": 1.0, "boundaries": list(uniform), "epoch": 0}
    ux, uy = _boundary_lines(uniform, *y_range)

    def moving(record: dict[str, Any]) -> list[go.Scatter]:
        bx, by = _boundary_lines(record["boundaries"], *y_range)
        return [go.Scatter(y=quantizer_curves(x, record["boundaries"], record["lambda"], scale)),
                go.Scatter(x=bx, y=by)]

    labels = [f"{r['epoch']} (λ = {_lam_label(r['lambda'])})" for r in records]
    fig = go.Figure(
        data=[
            go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=hist, yaxis="y2", name="test outputs (final model)",
                   marker_color="#BAB0AC", opacity=0.55, width=np.diff(edges)),
            go.Scatter(x=x, y=quantizer_curves(x, first["boundaries"], first["lambda"], scale), mode="lines",
                       name="G_λ,b at this epoch", line={"color": SMOOTH_COLOR, "width": 3}),
            go.Scatter(x=_boundary_lines(first["boundaries"], *y_range)[0],
                       y=_boundary_lines(first["boundaries"], *y_range)[1], mode="lines",
                       name="boundaries b", line={"color": LEARNED_COLOR, "width": 1}),
            go.Scatter(x=ux, y=uy, mode="lines", name="uniform b̃", line={"color": UNIFORM_COLOR, "dash": "dot"}),
        ],
        frames=[go.Frame(name=label, data=moving(r), traces=[1, 2]) for r, label in zip(records, labels,
                                                                                         strict=True)],
    )
    fig.update_xaxes(title="x (continuous output on the rating scale)", range=[x[0], x[-1]], autorange=False)
    fig.update_layout(
        yaxis={"title": "quantized rating", "range": y_range, "autorange": False,
               "dtick": _level_ticks(step, len(uniform))},
        yaxis2={"title": "test ratings", "overlaying": "y", "side": "right", "showgrid": False,
                "range": [0, max(1, int(hist.max())) * 1.1], "autorange": False},
    )
    if records:
        fig.update_layout(updatemenus=[_play_pause(duration_ms)], sliders=[_slider(labels, "epoch ")])
    return _quantizer_layout(fig, "Replay: λ and b by epoch over the model's outputs", animated=bool(records))


def confusion_heatmap(matrix: np.ndarray, levels: Sequence[float], title: str) -> go.Figure:
    """Row-normalised: each true rating's row shows where its predictions went; the counts are in the hover."""
    rows = matrix.sum(1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    names = [f"{level:g}" for level in levels]
    fig = go.Figure(go.Heatmap(z=share, x=names, y=names, zmin=0, zmax=1, colorscale="Blues",
                               text=[[f"{s:.0%}" for s in row] for row in share], texttemplate="%{text}",
                               customdata=matrix.tolist(), colorbar={"title": "share of row"},
                               hovertemplate="true %{y}, predicted %{x}: %{customdata:,} (%{text})<extra></extra>"))
    fig.update_xaxes(title="predicted rating", type="category")
    fig.update_yaxes(title="true rating", type="category", autorange="reversed")
    return _layout(fig, title, height=380)


# ------------------------------------------------------------------------------------------------- areas


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


def cold_start(curve: Any, reference: float | None = None, discrete: bool = False) -> go.Figure:
    """RMSE on new users against how many of their ratings the model saw (x = k; "all" at the mean count)."""
    points = curve[curve["k"] != "all"]
    fig = go.Figure(go.Scatter(x=points["seen_ratings"], y=points["rmse"], mode="lines+markers",
                               name="RMSE, k ratings seen", line={"color": AREA_COLORS["II"]},
                               customdata=np.stack([points["n_users"], points["n_ratings"]], axis=1),
                               hovertemplate="k = %{x}: RMSE %{y:.3f} (%{customdata[0]} users, "
                                             "%{customdata[1]} test ratings)<extra></extra>"))
    if discrete and points["discrete_rmse"].notna().any():
        fig.add_trace(go.Scatter(x=points["seen_ratings"], y=points["discrete_rmse"], mode="lines+markers",
                                 name="discrete RMSE (Q_b)", line={"color": SMOOTH_COLOR, "dash": "dash"}))
    all_rows = curve[curve["k"] == "all"]
    if len(all_rows):
        value = float(all_rows["rmse"].iloc[0])
        fig.add_hline(y=value, line={"dash": "dot", "color": AREA_COLORS["II"]},
                      annotation_text=f"all observed ratings (mean {all_rows['seen_ratings'].iloc[0]:.0f}): "
                                      f"{value:.3f}")
    if reference is not None and math.isfinite(reference):
        fig.add_hline(y=reference, line={"dash": "dash", "color": AREA_COLORS["I"]},
                      annotation_text=f"area I (seen users): {reference:.3f}", annotation_position="bottom right")
    fig.update_xaxes(title="ratings of the new user the model sees (k)")
    fig.update_yaxes(title="RMSE on their test ratings")
    return _layout(fig, "Cold start: error for new users vs ratings seen", height=380)


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
