"""The sphere of a trained run: the Latent map of a run whose latent size is 3, drawn with the shared sphere figure
(`dmf_core.figures.sphere`, which the Playground page and its view draw with directly). Pure numpy and Plotly (no
Streamlit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dmf_core.figures.sphere import Points, run_points, single, you_point
from studio.latent import HIGHLIGHT_COLOR, LatentMap

__all__ = ["latent_sphere", "describe_exact"]


def latent_sphere(latent_map: LatentMap, user_factors: np.ndarray, *, users: bool = True, items: bool = True,
                  you: np.ndarray | None = None, nearest: Sequence[int] | None = None,
                  height: int = 620) -> go.Figure:
    """The Latent map of a run whose latent size is 3: every U_i and V_j where the model puts them, on the unit
    sphere (no PCA, nothing flattened), seen filled and held-out open; `you` adds a new user's U_t and `nearest`
    rings the movies nearest to it."""
    m = latent_map
    shown_users = np.asarray(user_factors) if users else np.empty((0, 3))
    shown_items = m.item_factors if items else np.empty((0, 3))
    points = run_points(shown_users, shown_items, m.new_user[: len(shown_users)], m.new_item[: len(shown_items)],
                        m.user_text, m.item_text)
    if nearest:
        index = list(nearest)
        points.append(Points(m.item_factors[index], [m.titles[i] for i in index], "nearest movies to you",
                             HIGHLIGHT_COLOR, "circle-open", 9.0, text=[m.item_text[i] for i in index],
                             show_names=False))
    if you is not None:
        points.append(you_point(you))
    return single(points, label="the exact unit sphere (d = 3: no projection)", height=height, revision="latent")


def describe_exact(latent_map: LatentMap) -> str:
    return ("This run's latent size is 3, so the sphere above is the model's own: every point is a unit vector "
            "U_i or V_j exactly (no PCA, nothing flattened), and the angle between two points is the angle whose "
            "cosine the model turns into a rating. Drag to rotate.")
