"""The latent map: a trained run's user vectors U_i and item vectors V_j in 2-D, and a new user's place among them.

Both branches end in unit vectors (`DMF.embed_all`), so every U_i and V_j is a point on one sphere in R^d and the
model's cosine U_i·V_j is the angle between two such points. The map is a PCA of these unit vectors, fitted once on
the seen users and seen items together (the rows the branches trained on), so that new users and items, and a person
rating movies on the New user page, are projected onto the same plane without refitting: a new row lands among the
seen ones, or not, with nothing retrained.

Pure numpy and Plotly (no Streamlit): `studio/cache.py` keeps one `LatentMap` per run, the pages draw `figure(...)`,
and `benchmarks/bench_latent.py` times both on MovieLens-1M.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.colors import qualitative

from dmf_core.figures import (
    AREA_COLORS,
    HIGHLIGHT_COLOR,
    ITEM_SYMBOLS,
    OTHER_COLOR,
    SEEN_ITEM_COLOR,
    SEEN_USER_COLOR,
    USER_SYMBOLS,
    YOU_COLOR,
)
from studio.analysis import RunAnalysis

SEEN_NEW = "seen / new"
GENRE = "genre"


@dataclass(frozen=True)
class Projection:
    """PCA to two axes: x ↦ (x − mean)·axesᵀ. Fitted once; any later vector is projected with the same mean and
    axes."""

    mean: np.ndarray  # (d,)
    axes: np.ndarray  # (2, d), orthonormal rows
    kept: np.ndarray  # (2,) share of the fitted vectors' total variance along each axis

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        return (np.asarray(vectors, np.float64) - self.mean) @ self.axes.T


def fit_projection(vectors: np.ndarray) -> Projection:
    """Deterministic PCA: the top two eigenvectors of the d × d scatter matrix (cheaper than an SVD of the tall
    n × d matrix), each axis's sign fixed so that its largest loading is positive (eigenvectors have no sign of
    their own)."""
    x = torch.as_tensor(np.asarray(vectors), dtype=torch.float64)
    mean = x.mean(0)
    # The n × d × d product in float32 (half the time, ample for a picture) and in torch, whose thread pool the
    # model's forward passes already use: numpy's BLAS threads would compete with it for the same cores.
    centred = (x - mean).float()
    values, vectors_ = (t.numpy() for t in torch.linalg.eigh((centred.T @ centred).double()))  # ascending
    mean = mean.numpy()
    top = np.argsort(values)[::-1][:2]
    axes = np.zeros((2, x.shape[1]))
    axes[: len(top)] = vectors_[:, top].T
    largest = np.abs(axes).argmax(1)
    axes *= np.where(axes[np.arange(2), largest] < 0, -1.0, 1.0)[:, None]
    total = max(float(values.clip(min=0).sum()), 1e-12)
    kept = np.zeros(2)
    kept[: len(top)] = values[top].clip(min=0) / total
    return Projection(mean, axes, kept)


@dataclass(frozen=True)
class LatentMap:
    """A run's latent vectors projected once, with what the hover, the colours and the nearest-movies list need."""

    projection: Projection
    users: np.ndarray  # (n_users, 2)
    items: np.ndarray  # (n_items, 2)
    item_factors: np.ndarray  # (n_items, d) unit vectors V_j: cosines to a new point are dot products with them
    new_user: np.ndarray  # bool per user: held out of training (area II)
    new_item: np.ndarray  # bool per item: held out of training (area III)
    item_counts: np.ndarray  # ratings per item in training (the library's `Observed.popularity`)
    titles: list[str]
    item_genres: list[str]  # "Comedy · Drama" per item, "" without genres
    genre_members: dict[str, np.ndarray]  # genre -> bool per item; most common genre first; {} without genres
    user_attributes: dict[str, list[str]]  # {"gender": [...], ...} per user; {} when the data has none
    user_text: list[str]  # hover text per user
    item_text: list[str]  # hover text per item
    discrete: bool  # a DMF-D run: the map shows the continuous outputs, before the quantizer

    @property
    def dims(self) -> int:
        return self.item_factors.shape[1]

    def colour_choices(self) -> list[str]:
        return [SEEN_NEW, *([GENRE] if self.genre_members else []), *self.user_attributes]

    def place(self, factor: np.ndarray) -> np.ndarray:
        """Where one latent vector (a new user's U_t, say) lands on the map: (x, y)."""
        return self.projection(np.asarray(factor)[None, :])[0]


def build_map(analysis: RunAnalysis) -> LatentMap:
    """Project every user and item of a run (the vectors its `Predictor` already holds) onto the PCA plane of the
    seen users and items, and prepare the hover text. Seen rows fit the plane; new rows are only projected."""
    data, split = analysis.data, analysis.split
    users = analysis.predictor.user_factors.cpu().numpy()
    items = analysis.predictor.item_factors.cpu().numpy()
    projection = fit_projection(np.concatenate([users[~split.new_user], items[~split.new_item]]))
    titles = [data.title(i) for i in range(data.n_items)]
    genre_lists = [g.split("|") if g else [] for g in data.item_genres] if data.item_genres else None
    members: dict[str, np.ndarray] = {}
    if genre_lists is not None:
        names = pd.Series([g for gs in genre_lists for g in gs]).value_counts().index
        members = {name: np.zeros(data.n_items, dtype=bool) for name in names}
        for item, gs in enumerate(genre_lists):
            for name in gs:
                members[name][item] = True
    genres = [" · ".join(gs) for gs in genre_lists] if genre_lists is not None else [""] * data.n_items
    attributes = dict(data.user_attributes or {})
    item_counts = analysis.popularity  # ratings in training: the library's one count
    user_text, item_text = _hover_text(analysis, titles, genres, attributes, item_counts)
    return LatentMap(projection=projection, users=projection(users), items=projection(items), item_factors=items,
                     new_user=split.new_user.copy(), new_item=split.new_item.copy(), item_counts=item_counts,
                     titles=titles, item_genres=genres, genre_members=members, user_attributes=attributes,
                     user_text=user_text, item_text=item_text, discrete=analysis.discrete)


def _hover_text(analysis: RunAnalysis, titles: list[str], genres: list[str], attributes: dict[str, list[str]],
                item_counts: np.ndarray) -> tuple[list[str], list[str]]:
    """One line of hover text per user (id, attributes, seen/new, ratings) and per movie (title, genres, ...)."""
    data, split = analysis.data, analysis.split
    status = ("seen in training", "new: held out of training")
    # A few distinct attribute values among thousands of users: escape each value once.
    escaped = {v: f" · {_escape(v)}" for values in attributes.values() for v in set(values)}
    described = [""] * data.n_users
    if attributes:
        described = ["".join(escaped[v] for v in row) for row in zip(*attributes.values(), strict=True)]
    user_counts = np.bincount(data.users, minlength=data.n_users).tolist()
    user_text = [
        f"<b>user {uid}</b>{about}<br>{status[new]} · {count:,} ratings"
        for uid, about, new, count in zip(data.user_ids.tolist(), described, split.new_user.tolist(), user_counts,
                                          strict=True)
    ]
    item_text = [
        f"<b>{_escape(title)}</b>" + (f"<br>{_escape(genre)}" if genre else "")
        + f"<br>movie, {status[new]} · {count:,} ratings"
        for title, genre, new, count in zip(titles, genres, split.new_item.tolist(), item_counts.tolist(), strict=True)
    ]
    return user_text, item_text


def _escape(text: str) -> str:
    """Plotly's hover text is HTML-like: "<" in a title must not open a tag ("&" stays readable as &amp;)."""
    return html.escape(text, quote=False)


def describe(latent_map: LatentMap) -> str:
    """What the projection is and what it loses, in numbers for this run."""
    kept = latent_map.projection.kept
    return (f"The axes are the two directions along which the seen users' and movies' unit vectors spread most "
            f"(PCA, fitted once on them together); they keep {kept[0]:.0%} + {kept[1]:.0%} of that spread. The "
            f"other {max(latent_map.dims - 2, 0)} of the {latent_map.dims} dimensions are flattened, so points close "
            "on the map can still be far apart on the sphere, and distances on the map only hint at the cosine: "
            "the model's own measure is the cosine in all dimensions.")


def nearest_items(latent_map: LatentMap, factor: np.ndarray, exclude: list[int] | None = None, top: int = 10,
                  min_ratings: int = 1) -> pd.DataFrame:
    """The `top` movies whose V_j make the smallest angle with `factor` (highest cosine, the model's own measure),
    leaving out `exclude` (the movies already rated) and movies with fewer than `min_ratings` ratings (whose
    vectors rest on little data)."""
    cosine = latent_map.item_factors @ np.asarray(factor, latent_map.item_factors.dtype)
    candidates = latent_map.item_counts >= min_ratings
    candidates[list(exclude or [])] = False
    index = np.flatnonzero(candidates)
    chosen = index[np.argsort(-cosine[index], kind="stable")[:top]]
    return pd.DataFrame({
        "title": [latent_map.titles[i] for i in chosen],
        "cosine": np.round(cosine[chosen].astype(np.float64), 3),
        "angle": [f"{np.degrees(np.arccos(np.clip(c, -1, 1))):.0f}°" for c in cosine[chosen]],
        "genres": [latent_map.item_genres[i] for i in chosen],
        "held out": latent_map.new_item[chosen],
        "item": chosen,
    })


# ------------------------------------------------------------------------------------------------- the figure


def _category_order(value: str) -> tuple:
    """Numbers in order ("Under 18" before "18-24" before "56+"), then words alphabetically."""
    number = re.search(r"\d+", value)
    if number is None:
        return (1, 0.0, value)
    return (0, int(number.group()) - (0.5 if not value[:1].isdigit() else 0.0), value)


def _palette(n: int) -> list[str]:
    return list(qualitative.T10 if n <= len(qualitative.T10) else qualitative.Alphabet)


def _points(xy: np.ndarray, selected: np.ndarray, text: list[str], name: str, color: str, symbol: str,
            size: float, legendgroup: str | None = None, showlegend: bool = True) -> go.Scattergl | None:
    index = np.flatnonzero(selected)
    if len(index) == 0:
        return None
    return go.Scattergl(
        x=xy[index, 0], y=xy[index, 1], mode="markers", name=name, legendgroup=legendgroup or name,
        showlegend=showlegend, text=[text[i] for i in index], hovertemplate="%{text}<extra></extra>",
        marker={"color": color, "symbol": symbol, "size": size, "opacity": 0.4 if color == OTHER_COLOR else 0.75,
                "line": {"width": 1, "color": color}},
    )


def _user_traces(m: LatentMap, colour: str) -> list[go.Scattergl | None]:
    if colour in m.user_attributes:
        values = np.asarray(m.user_attributes[colour])
        categories = sorted(set(values.tolist()), key=_category_order)
        palette = _palette(len(categories))
        traces = []
        for k, category in enumerate(categories):
            color = palette[k % len(palette)]
            for new, symbol in zip((False, True), USER_SYMBOLS, strict=True):
                traces.append(_points(m.users, (values == category) & (m.new_user == new), m.user_text,
                                      f"users: {category}", color, symbol, 5, legendgroup=f"users: {category}",
                                      showlegend=not new))
        return traces
    seen_color, new_color = (SEEN_USER_COLOR, AREA_COLORS["II"]) if colour == SEEN_NEW else (OTHER_COLOR,) * 2
    return [_points(m.users, ~m.new_user, m.user_text, "users, seen in training", seen_color, USER_SYMBOLS[0], 5),
            _points(m.users, m.new_user, m.user_text, "new users (area II)", new_color, USER_SYMBOLS[1], 5)]


def _item_traces(m: LatentMap, colour: str, genre: str | None) -> list[go.Scattergl | None]:
    if colour == GENRE and genre in m.genre_members:
        member = m.genre_members[genre]
        groups = [(member, f"movies: {genre}", HIGHLIGHT_COLOR), (~member, "movies: other genres", OTHER_COLOR)]
        return [
            _points(m.items, selected & (m.new_item == new), m.item_text, name, color, symbol, 7, legendgroup=name,
                    showlegend=not new)
            for selected, name, color in groups
            for new, symbol in zip((False, True), ITEM_SYMBOLS, strict=True)
        ]
    seen_color, new_color = (SEEN_ITEM_COLOR, AREA_COLORS["III"]) if colour == SEEN_NEW else (OTHER_COLOR,) * 2
    return [_points(m.items, ~m.new_item, m.item_text, "movies, seen in training", seen_color, ITEM_SYMBOLS[0], 7),
            _points(m.items, m.new_item, m.item_text, "new movies (area III)", new_color, ITEM_SYMBOLS[1], 7)]


def figure(latent_map: LatentMap, colour: str = SEEN_NEW, genre: str | None = None, *, users: bool = True,
           items: bool = True, you: np.ndarray | None = None, nearest: list[int] | None = None,
           height: int = 620) -> go.Figure:
    """The map as WebGL scatter traces: users ● and movies ◆, filled when seen in training and open when held out;
    coloured by seen/new, by one genre (`colour=GENRE`, `genre`) or by a user attribute (`colour="age"`, ...).
    `you` adds a new user's point (a star), `nearest` rings the movies nearest to it."""
    m = latent_map
    user_traces = _user_traces(m, colour) if users else []
    item_traces = _item_traces(m, colour, genre) if items else []
    # What is coloured is drawn last, on top of the grey rest.
    traces = item_traces + user_traces if colour in m.user_attributes else user_traces + item_traces
    fig = go.Figure([t for t in traces if t is not None])
    if nearest:
        fig.add_trace(go.Scattergl(
            x=m.items[nearest, 0], y=m.items[nearest, 1], mode="markers", name="nearest movies to you",
            text=[m.item_text[i] for i in nearest], hovertemplate="%{text}<extra>nearest</extra>",
            marker={"symbol": "circle-open", "size": 15, "color": YOU_COLOR, "line": {"width": 2}}))
    points = [xy for xy, shown in ((m.users, users), (m.items, items)) if shown and len(xy)]
    if you is not None:
        fig.add_trace(go.Scattergl(
            x=[float(you[0])], y=[float(you[1])], mode="markers+text", name="you", text=["you"],
            textposition="top center", textfont={"size": 15, "color": YOU_COLOR},
            hovertemplate="you: (%{x:.3f}, %{y:.3f})<extra></extra>",
            marker={"symbol": "star", "size": 20, "color": HIGHLIGHT_COLOR, "line": {"width": 1.5,
                                                                                   "color": YOU_COLOR}}))
        points.append(np.asarray(you, np.float64)[None, :])
    kept = m.projection.kept
    layout: dict = {
        "height": height, "margin": {"l": 50, "r": 20, "t": 30, "b": 40}, "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.12, "itemsizing": "constant"},
        "uirevision": "latent-map",  # keep the reader's zoom across reruns (a new rating moves only the star)
        "xaxis": {"title": f"PCA axis 1 ({kept[0]:.0%} of the spread)", "zeroline": False, "gridcolor": "#EEE"},
        "yaxis": {"title": f"PCA axis 2 ({kept[1]:.0%})", "zeroline": False, "gridcolor": "#EEE",
                  "scaleanchor": "x", "scaleratio": 1},
    }
    if points:  # fixed ranges: when the star moves, the axes stay put
        stacked = np.concatenate(points)
        low, high = stacked.min(0), stacked.max(0)
        pad = 0.05 * np.maximum(high - low, 1e-6)
        layout["xaxis"]["range"] = [float(low[0] - pad[0]), float(high[0] + pad[0])]
        layout["yaxis"]["range"] = [float(low[1] - pad[1]), float(high[1] + pad[1])]
    fig.update_layout(**layout)
    return fig
