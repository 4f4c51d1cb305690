"""Shared look of every figure: the areas' colours and names, the quantizer's colours, the animation's frame
limits, the users' and movies' colours and symbols and the common layout."""

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
# Users and movies on the Latent map and the sphere: seen filled, new open.
SEEN_USER_COLOR, SEEN_ITEM_COLOR, OTHER_COLOR, YOU_COLOR = "#4C78A8", "#72B7B2", "#D0D0D0", "#111111"
HIGHLIGHT_COLOR = "#E45756"
USER_SYMBOLS = ("circle", "circle-open")  # seen, new
ITEM_SYMBOLS = ("diamond", "diamond-open")


def _layout(fig: go.Figure, title: str, height: int = 360, **extra: Any) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 50, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.28}, **extra)
    return fig
