"""Figures of the Data page and Home: rating and count histograms, a sampled rating heatmap, and the 2×2 picture of
areas I–IV."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ._style import AREA_COLORS, _layout


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
