"""Figures of DMF-D's quantizer: G_{λ,b} against Q_b (static, animated as λ grows, and as small multiples), a
run's test predictions replayed through its λ and b, and the confusion matrix; the output per true star with the
learned b, rounding's midpoints and b fitted on validation; the three ways to stars side by side; what each
boundary's move did (numbers from `dmf_core.scoring.quantized`).

Quantizer curves are computed with `quantizer.smooth_quantize` / `hard_quantize`, the very functions the model
trains with, so what the animation shows is exactly what DMF-D does. Fixed axis ranges wherever frames animate
(axes must not jump); λ frames spaced geometrically; frames carry only the traces that change (`traces=[...]`,
`redraw: False`), which keeps Play smooth in the browser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from dmf_core.model.quantizer import hard_quantize, scale_step, smooth_quantize

from ._style import HARD_COLOR, LEARNED_COLOR, MAX_FRAMES, MIN_FRAMES, SMOOTH_COLOR, UNIFORM_COLOR, _layout


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
    """G_{λ,b}(x), or Q_b(x) when lam is None, evaluated with dmf_core.model.quantizer (levels `scale_step` apart)."""
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


def calibration(curve: Any, scale: tuple[float, float], boundaries: Sequence[float],
                uniform: Sequence[float]) -> go.Figure:
    """The mean true rating against the continuous output (bins of `analysis.calibration_curve`), the diagonal of a
    calibrated output, and the learned (and uniform) boundaries where the output turns into the next level."""
    low, high = scale
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="calibrated (diagonal)",
                             line={"color": UNIFORM_COLOR, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=curve["output"].tolist(), y=curve["true"].tolist(), mode="lines+markers",
                             name="mean true rating", line={"color": SMOOTH_COLOR},
                             customdata=curve["count"].tolist(),
                             hovertemplate="output %{x:.2f}: mean true %{y:.2f} (%{customdata} ratings)<extra></extra>"))
    for b, u in zip(boundaries, uniform, strict=True):
        fig.add_vline(x=u, line={"color": UNIFORM_COLOR, "width": 1, "dash": "dash"})
        fig.add_vline(x=b, line={"color": LEARNED_COLOR, "width": 2})
    fig.update_xaxes(title="continuous output r̂ (stars)", range=[low, high])
    fig.update_yaxes(title="mean true rating (stars)", range=[low, high])
    return _layout(fig, "Calibration: mean true rating against the output (learned b solid, uniform b̃ dashed)")


def quantizer_small_multiples(boundaries: Sequence[float], uniform: Sequence[float], scale: tuple[float, float],
                              lams: Sequence[float] = (1.0, 3.0, 10.0, 30.0, 100.0, 1000.0)) -> go.Figure:
    """G_λ,b against Q_b at a few λ, one panel each: the λ slider's story for a reader who cannot move it."""
    x, y_range, step = _quantizer_axes(scale, uniform)
    hard = quantizer_curves(x, boundaries, None, scale)
    cols = min(3, len(lams))
    rows = -(-len(lams) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"λ = {_lam_label(lam)}" for lam in lams],
                        shared_xaxes=True, shared_yaxes=True, horizontal_spacing=0.04, vertical_spacing=0.12)
    for k, lam in enumerate(lams):
        row, col = k // cols + 1, k % cols + 1
        fig.add_trace(go.Scatter(x=x, y=hard, mode="lines", name="hard Q_b(x)", showlegend=k == 0,
                                 line={"color": HARD_COLOR, "width": 1.5, "dash": "dash"}), row=row, col=col)
        fig.add_trace(go.Scatter(x=x, y=quantizer_curves(x, boundaries, lam, scale), mode="lines",
                                 name="smooth G_λ,b(x)", showlegend=k == 0,
                                 line={"color": SMOOTH_COLOR, "width": 2.5}), row=row, col=col)
    fig.update_yaxes(range=y_range, dtick=_level_ticks(step, len(uniform)))
    fig.update_xaxes(range=[x[0], x[-1]])
    return _layout(fig, "G_λ,b(x) against Q_b(x) as λ grows", height=280 * rows + 60)


def star_histogram(outputs: np.ndarray, true: np.ndarray, levels: Sequence[float], scale: tuple[float, float],
                   boundaries: Sequence[float] | None, uniform: Sequence[float],
                   fitted: Sequence[float] | None = None, bins_per_step: int = 10) -> go.Figure:
    """The continuous output on the test ratings, one stacked colour per true star (counts computed here, so the
    bars' heights are the data's, not the browser's binning), with the learned b (solid), rounding's midpoints
    (dotted) and b fitted on validation (dashed) where they cut it into stars."""
    low, high = scale
    step = (high - low) / max(1, len(levels) - 1)
    edges = np.linspace(low, high, int(round((high - low) / step)) * bins_per_step + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    clipped = np.clip(np.asarray(outputs, np.float64), low, high)
    fig = go.Figure()
    for k, level in enumerate(levels):
        counts, _ = np.histogram(clipped[np.isclose(true, level)], bins=edges)
        shade = int(40 + 170 * k / max(1, len(levels) - 1))
        fig.add_trace(go.Bar(x=centres.tolist(), y=counts.tolist(), width=np.diff(edges).tolist(), name=f"true {level:g}★",
                             marker_color=f"rgb({250 - shade}, {90 + shade // 2}, {shade})",
                             hovertemplate=f"true {level:g}★, output %{{x:.2f}}: %{{y:,}}<extra></extra>"))
    marks = [("rounding b̃", uniform, {"color": UNIFORM_COLOR, "width": 2, "dash": "dot"})]
    if fitted is not None:
        marks.append(("b fitted on validation", fitted, {"color": HARD_COLOR, "width": 1.5, "dash": "dash"}))
    if boundaries is not None:
        marks.append(("learned b", boundaries, {"color": LEARNED_COLOR, "width": 2.5}))
    top = float(np.histogram(clipped, bins=edges)[0].max()) * 1.05 if len(clipped) else 1.0
    for name, values, line in marks:
        xs, ys = _boundary_lines(values, 0.0, top)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=line, hoverinfo="skip"))
    fig.update_layout(barmode="stack", bargap=0)
    fig.update_xaxes(title="continuous output x (stars)", range=[low, high])
    fig.update_yaxes(title="test ratings", range=[0, top])
    return _layout(fig, "The output per true star, and where each quantizer cuts it", height=420)


def quantizer_scores(table: Any, continuous: dict[str, float] | None = None) -> go.Figure:
    """Test RMSE, MAE and exact stars of each quantizer (rows of `scoring.quantized`'s table), one dot each, side
    by side (dots, not bars: the differences are in the third decimal and a bar from 0 would hide them); the output
    before quantizing as a dotted line on the RMSE and MAE panels."""
    names = [str(n) for n in table.index]
    colors = [LEARNED_COLOR if "learned" in n else UNIFORM_COLOR if "rounding" in n else HARD_COLOR if "fitted" in n
              else "#BAB0AC" for n in names]
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=("RMSE ← better", "MAE ← better", "exact stars → better"))
    for col, (metric, fmt) in enumerate((("rmse", ".4f"), ("mae", ".4f"), ("exact_stars", ".1%")), start=1):
        values = table[metric].astype(float).tolist()
        fig.add_trace(go.Scatter(x=values, y=names, mode="markers+text", marker={"size": 13, "color": colors},
                                 text=[format(v, fmt) for v in values], textposition="top center",
                                 showlegend=False, name=metric,
                                 hovertemplate="%{y}: %{x:" + fmt + "}<extra></extra>"), row=1, col=col)
        if continuous and metric in continuous:
            fig.add_trace(go.Scatter(x=[continuous[metric]] * 2, y=[names[0], names[-1]], mode="lines",
                                     name="before quantizing", showlegend=col == 1, hoverinfo="x+name",
                                     line={"color": SMOOTH_COLOR, "dash": "dot", "width": 1}), row=1, col=col)
        shown = values + ([continuous[metric]] if continuous and metric in continuous else [])
        fig.update_xaxes(tickformat=".1%" if metric == "exact_stars" else ".3f", range=_padded(shown), row=1, col=col)
    fig.update_yaxes(range=[len(names) - 0.5, -0.9])  # first row on top, with room for its label
    _layout(fig, "Test scores of each way to stars (same ratings, same continuous output)", height=110 + 55 * len(names))
    return fig.update_layout(margin={"l": 230, "r": 20, "t": 90, "b": 40}, legend={"orientation": "h", "y": 1.22, "x": 1, "xanchor": "right"})


def _padded(values: Sequence[float]) -> list[float]:
    """An axis range around `values` with room for their labels (at least 0.001 wide)."""
    spread = max(max(values) - min(values), 1e-3)
    return [min(values) - 0.3 * spread, max(values) + 0.3 * spread]


def boundary_effects(effects: Any) -> go.Figure:
    """Per boundary (rows of `scoring.quantized.boundary_effects`): how far it moved from rounding's midpoint, and
    of the test ratings that changed star, how many became right and how many became wrong."""
    names = effects["boundary"].tolist()
    fig = make_subplots(rows=1, cols=2, subplot_titles=("moved: b − b̃ (stars)", "test ratings that changed star"))
    fig.add_trace(go.Bar(x=names, y=effects["moved"].tolist(), marker_color=LEARNED_COLOR, name="moved",
                         text=[f"{m:+.3f}" for m in effects["moved"]], textposition="outside", showlegend=False),
                  row=1, col=1)
    hover = [f"{r.changed:,} changed {r.from_star:g}★ → {r.to_star:g}★" for r in effects.itertuples()]
    fig.add_trace(go.Bar(x=names, y=effects["became_right"].tolist(), name="became right", marker_color="#54A24B",
                         hovertext=hover), row=1, col=2)
    fig.add_trace(go.Bar(x=names, y=effects["became_wrong"].tolist(), name="became wrong", marker_color="#E45756",
                         hovertext=hover), row=1, col=2)
    others = (effects["changed"] - effects["became_right"] - effects["became_wrong"]).tolist()
    fig.add_trace(go.Bar(x=names, y=others, name="wrong either way", marker_color="#BAB0AC", hovertext=hover),
                  row=1, col=2)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="stars", row=1, col=1)
    fig.update_yaxes(title="test ratings", row=1, col=2)
    _layout(fig, "What each boundary's move did", height=380)
    return fig.update_layout(margin={"l": 50, "r": 20, "t": 90, "b": 40})
