"""Shared look of every figure: the areas' colours and names, the quantizer's colours, the animation's frame
limits and the common layout."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

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
