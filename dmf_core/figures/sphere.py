"""The exact unit sphere of a 3-d DMF: every user vector U_i and movie vector V_j is a point on it, and a rating is
the angle between two points. The Playground draws it animated over epochs, with a selected pair drawn as two arrows;
the Latent map and New user pages draw it for runs whose latent size is 3 (no PCA: the points are drawn where the
model puts them); notebook 01 draws the planted matrix's users and movies on it.

The app's one colour code lives here: users against movies, seen against new (filled against open symbols, area
colours), and predicted ratings on a diverging scale centred on the scale's midpoint. Pure numpy and Plotly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ._style import (
    AREA_COLORS,
    HIGHLIGHT_COLOR,
    ITEM_SYMBOLS,
    SEEN_ITEM_COLOR,
    SEEN_USER_COLOR,
    USER_SYMBOLS,
    YOU_COLOR,
)

# The colour code: users and movies, seen (filled) and new (open, in the colours of areas II and III).
USER_COLOR = SEEN_USER_COLOR
MOVIE_COLOR = SEEN_ITEM_COLOR
NEW_USER_COLOR = AREA_COLORS["II"]
NEW_MOVIE_COLOR = AREA_COLORS["III"]
# Predicted ratings: red (low) through white (the scale's midpoint) to blue (high), everywhere a rating is a colour.
RATING_COLORSCALE = "RdBu"
SPHERE_COLOR = "#B0B0B0"
PAIR_COLOR = YOU_COLOR


def rating_colour(value: float, scale: tuple[float, float] = (1.0, 5.0)) -> str:
    """The diverging scale's colour of one rating, as CSS (for table cells coloured like the sphere's points)."""
    if not np.isfinite(value):
        return "#FFFFFF"
    low, high = scale
    return sample_colorscale(RATING_COLORSCALE, [float(np.clip((value - low) / (high - low), 0.0, 1.0))])[0]


@dataclass(frozen=True)
class Points:
    """One set of points on the sphere, drawn as one trace."""

    xyz: np.ndarray  # (n, 3) unit vectors
    names: Sequence[str]
    label: str  # legend entry
    color: str
    symbol: str
    size: float = 7.0
    ratings: np.ndarray | None = None  # colour by predicted rating instead of `color`
    text: Sequence[str] | None = None  # hover text (default: the names)
    show_names: bool = True


@dataclass(frozen=True)
class Scene:
    """Everything drawn at one moment (one epoch): point sets and, optionally, the selected pair's two arrows."""

    points: list[Points]
    pair: tuple[np.ndarray, np.ndarray] | None = None  # (U, V) drawn as arrows from the origin
    pair_names: tuple[str, str] = ("", "")
    label: str = ""  # e.g. "epoch 12"
    annotations: list[str] = field(default_factory=list)


# Traces and frames are plain dicts, which `go.Figure` validates once: building them as go.Scatter3d / go.Frame
# objects validated every property of every frame's traces again, about 0.6 s a Playground rerun (40 epochs).


def _sphere_mesh(resolution: int = 24) -> list[dict]:
    """The unit sphere as a light wireframe (parallels and meridians): points stay visible through it."""
    t = np.linspace(0, 2 * np.pi, 4 * resolution)
    lines = []
    for lat in np.linspace(-60, 60, 5):
        r, z = np.cos(np.radians(lat)), np.sin(np.radians(lat))
        lines.append((r * np.cos(t), r * np.sin(t), np.full_like(t, z)))
    for lon in np.linspace(0, 180, 6, endpoint=False):
        c, s = np.cos(np.radians(lon)), np.sin(np.radians(lon))
        lines.append((np.cos(t) * c, np.cos(t) * s, np.sin(t)))
    xs, ys, zs = ([], [], [])
    for x, y, z in lines:
        xs += [*x, None]
        ys += [*y, None]
        zs += [*z, None]
    return [{"type": "scatter3d", "x": xs, "y": ys, "z": zs, "mode": "lines",
             "line": {"color": SPHERE_COLOR, "width": 1}, "hoverinfo": "skip", "showlegend": False,
             "name": "unit sphere"}]


def _points_trace(p: Points, scale: tuple[float, float]) -> dict:
    xyz = np.asarray(p.xyz, np.float64).reshape(-1, 3)
    marker: dict = {"symbol": p.symbol, "size": p.size, "color": p.color, "line": {"width": 2, "color": p.color}}
    if p.ratings is not None:
        marker.update(color=np.asarray(p.ratings, float).tolist(), colorscale=RATING_COLORSCALE, cmin=scale[0],
                      cmax=scale[1], cmid=(scale[0] + scale[1]) / 2,
                      colorbar={"title": {"text": "predicted"}, "len": 0.5, "thickness": 12},
                      line={"width": 1, "color": p.color})
    text = list(p.text) if p.text is not None else list(p.names)
    return {"type": "scatter3d", "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2],
            "mode": "markers+text" if p.show_names else "markers", "name": p.label,
            "text": list(p.names) if p.show_names else None, "textposition": "top center",
            "textfont": {"size": 10, "color": p.color}, "hovertext": text,
            "hovertemplate": "%{hovertext}<extra></extra>", "marker": marker}


def _arrow(vector: np.ndarray | None, name: str, color: str) -> dict:
    """A segment from the origin to the point, with a large marker at its tip (the arrowhead)."""
    if vector is None:
        return {"type": "scatter3d", "x": [], "y": [], "z": [], "mode": "lines", "showlegend": False, "name": name}
    x, y, z = (float(c) for c in vector)
    return {"type": "scatter3d", "x": [0, x], "y": [0, y], "z": [0, z], "mode": "lines+markers", "name": name,
            "showlegend": False, "line": {"color": color, "width": 7},
            "marker": {"size": [0, 6], "color": color, "symbol": "diamond"}, "hovertemplate": f"{name}<extra></extra>"}


def _arc(pair: tuple[np.ndarray, np.ndarray] | None, steps: int = 24) -> dict:
    """The angle between the two arrows, as an arc at radius 0.35."""
    if pair is None:
        return {"type": "scatter3d", "x": [], "y": [], "z": [], "mode": "lines", "showlegend": False, "name": "angle"}
    u, v = (np.asarray(a, np.float64) for a in pair)
    points = []
    for t in np.linspace(0, 1, steps):
        w = (1 - t) * u + t * v
        norm = np.linalg.norm(w)
        points.append(0.35 * (w / norm if norm > 1e-9 else u))
    arc = np.array(points)
    return {"type": "scatter3d", "x": arc[:, 0], "y": arc[:, 1], "z": arc[:, 2], "mode": "lines", "showlegend": False,
            "name": "angle", "line": {"color": HIGHLIGHT_COLOR, "width": 5}, "hoverinfo": "skip"}


def _scene_traces(scene: Scene, scale: tuple[float, float]) -> list[dict]:
    u, v = scene.pair if scene.pair is not None else (None, None)
    return [*(_points_trace(p, scale) for p in scene.points), _arrow(u, scene.pair_names[0], USER_COLOR),
            _arrow(v, scene.pair_names[1], MOVIE_COLOR), _arc(scene.pair)]


def figure(scenes: list[Scene], start: int | None = None, scale: tuple[float, float] = (1.0, 5.0),
           height: int = 620, revision: str = "sphere") -> go.Figure:
    """The sphere at `scenes[start]` (default: the last), with one animation frame per scene when there are
    several: a slider over them and Play / Pause buttons, all in the browser. Every scene must hold the same
    point sets in the same order (positions and colours change, traces do not)."""
    start = len(scenes) - 1 if start is None else start
    mesh = _sphere_mesh()
    shown = _scene_traces(scenes[start], scale)
    frames: list[dict] = []
    animated = list(range(len(mesh), len(mesh) + len(shown)))
    axis = {"range": [-1.15, 1.15], "showbackground": False, "zeroline": True, "zerolinecolor": "#CCC",
            "showticklabels": False, "title": "", "showspikes": False, "gridcolor": "#EEE"}
    layout: dict = {
        "height": height, "margin": {"l": 0, "r": 0, "t": 60, "b": 0},
        "scene": {"xaxis": axis, "yaxis": axis, "zaxis": axis, "aspectmode": "cube",
                  "camera": {"eye": {"x": 1.05, "y": 1.05, "z": 0.65}}},
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0.5, "xanchor": "center",
                   "itemsizing": "constant"},
        "uirevision": revision,  # keep the reader's rotation across reruns
        "title": {"text": scenes[start].label, "x": 0.02, "y": 0.99, "yanchor": "top", "font": {"size": 13}},
    }
    if len(scenes) > 1:
        frames = [{"data": _scene_traces(scene, scale), "traces": animated, "name": str(k),
                   "layout": {"title": {"text": scene.label}}} for k, scene in enumerate(scenes)]
        frame_args = {"frame": {"duration": 120, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate"}
        layout["sliders"] = [{
            "active": start, "y": 0.02, "len": 0.9, "x": 0.08, "currentvalue": {"prefix": "epoch "},
            "steps": [{"method": "animate", "label": str(k + 1), "args": [[str(k)], frame_args]}
                      for k in range(len(scenes))],
        }]
        layout["updatemenus"] = [{
            "type": "buttons", "direction": "left", "x": 0.0, "y": 0.02, "xanchor": "right", "showactive": False,
            "buttons": [
                {"label": "▶", "method": "animate",
                 "args": [None, {**frame_args, "fromcurrent": True}]},
                {"label": "❚❚", "method": "animate", "args": [[None], frame_args]},
            ],
        }]
    return go.Figure(data=mesh + shown, layout=layout, frames=frames)


def single(points: list[Points], *, pair: tuple[np.ndarray, np.ndarray] | None = None,
           pair_names: tuple[str, str] = ("", ""), label: str = "", scale: tuple[float, float] = (1.0, 5.0),
           height: int = 620, revision: str = "sphere") -> go.Figure:
    """One still scene: the Latent map and New user pages for a run whose latent size is 3."""
    return figure([Scene(points, pair, pair_names, label)], scale=scale, height=height, revision=revision)


def run_points(user_factors: np.ndarray, item_factors: np.ndarray, new_user: np.ndarray, new_item: np.ndarray,
               user_text: Sequence[str], item_text: Sequence[str]) -> list[Points]:
    """A trained run's users and movies as point sets in the colour code (seen filled, new open); names are left
    off (thousands of points), the hover text says who is who."""
    sets = []
    for factors, new, text, kind, colors, symbols, size in (
        (user_factors, new_user, user_text, "users", (USER_COLOR, NEW_USER_COLOR), USER_SYMBOLS, 2.5),
        (item_factors, new_item, item_text, "movies", (MOVIE_COLOR, NEW_MOVIE_COLOR), ITEM_SYMBOLS, 3.5),
    ):
        for held_out in (False, True):
            index = np.flatnonzero(np.asarray(new) == held_out)
            if len(index) == 0:
                continue
            label = f"new {kind} (held out)" if held_out else f"{kind}, seen in training"
            sets.append(Points(np.asarray(factors)[index], [str(text[i]) for i in index], label,
                               colors[held_out], symbols[held_out], size, show_names=False))
    return sets


def named_points(users: np.ndarray, movies: np.ndarray, user_names: Sequence[str], movie_names: Sequence[str], *,
                 user_text: Sequence[str] | None = None, movie_text: Sequence[str] | None = None,
                 movie_ratings: np.ndarray | None = None) -> list[Points]:
    """A small matrix's users (circles) and movies (diamonds), each named on the sphere: the Playground's points,
    and notebook 01's; `movie_ratings` colours the movies by one user's predicted ratings."""
    return [Points(users, list(user_names), "users", USER_COLOR, USER_SYMBOLS[0], text=user_text),
            Points(movies, list(movie_names), "movies", MOVIE_COLOR, ITEM_SYMBOLS[0], size=8, text=movie_text,
                   ratings=movie_ratings)]


def you_point(factor: np.ndarray) -> Points:
    """A new user typed in on a page: a large open circle in the new-user colour."""
    return Points(np.asarray(factor, np.float64).reshape(1, 3), ["you"], "you (new user)", NEW_USER_COLOR,
                  USER_SYMBOLS[1], 10.0)

