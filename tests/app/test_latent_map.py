"""Latent map page (every user and movie of a run in 2-D) and the New user page's own point on that map."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import dmf_core.data.demo
from dmf_core.config import SplitConfig
from dmf_core.data.split import split_areas
from tests.app.helpers import chart_specs, new_user_tables, texts


def map_spec(at, key: str) -> dict:
    return next(s for e, s in zip(at.get("plotly_chart"), chart_specs(at), strict=True) if key in e.proto.id)


def values(array: list | dict) -> np.ndarray:
    """A trace's x or y: Plotly writes numpy arrays as base64 typed arrays ({"dtype", "bdata"}), lists as lists."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def points(spec: dict) -> int:
    return sum(len(values(trace["x"])) for trace in spec["data"])


def you(spec: dict) -> tuple[float, float]:
    trace = next(t for t in spec["data"] if t["name"] == "you")
    return float(values(trace["x"])[0]), float(values(trace["y"])[0])


def test_without_runs_it_points_to_the_train_page(open_page):
    assert "No saved runs yet" in texts(open_page("latent_map"))


def test_the_map_draws_every_user_and_movie_seen_and_new(open_page, with_runs):
    data = dmf_core.data.demo.make_demo()
    split = split_areas(data, SplitConfig())
    at = open_page("latent_map")
    folder = next(f for f in with_runs.iterdir() if "-dmf-demo-" in f.name)
    at.selectbox(key="latent-run").set_value(folder.name).run()
    assert not at.exception and not at.error
    spec = map_spec(at, "latent-map")
    assert {t["type"] for t in spec["data"]} == {"scattergl"}
    assert points(spec) == data.n_users + data.n_items
    by_name = {t["name"]: t for t in spec["data"]}
    assert len(values(by_name["new users (area II)"]["x"])) == split.new_user.sum()
    assert len(values(by_name["new movies (area III)"]["x"])) == split.new_item.sum()
    assert by_name["new users (area II)"]["marker"]["symbol"] == "circle-open"
    hover = " ".join(by_name["movies, seen in training"]["text"])
    assert data.item_titles[int(np.flatnonzero(~split.new_item)[0])] in hover and "ratings" in hover
    assert data.item_genres[0].split("|")[0] in hover  # the demo's generated genres
    shown = texts(at)
    assert "cosine of the angle" in shown and "PCA" in shown and "flattened" in shown
    assert "DMF-D" not in shown
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("PCA axis 1")

    at.selectbox(key="latent-colour").set_value("genre").run()
    genre = at.selectbox(key="latent-genre").value
    spec = map_spec(at, "latent-map")
    highlighted = [t for t in spec["data"] if t["name"] == f"movies: {genre}"]
    members = sum(genre in g.split("|") for g in data.item_genres)
    assert sum(len(values(t["x"])) for t in highlighted) == members and points(spec) == data.n_users + data.n_items

    at.radio(key="latent-show").set_value("movies").run()
    assert points(map_spec(at, "latent-map")) == data.n_items
    at.run()  # a rerun comes from the cached projection and draws the same
    assert not at.exception and points(map_spec(at, "latent-map")) == data.n_items


def test_a_dmfd_run_says_the_map_is_of_its_continuous_outputs(open_page, with_runs):
    at = open_page("latent_map")
    folder = next(f for f in with_runs.iterdir() if "-dmf-d-demo-" in f.name)
    at.selectbox(key="latent-run").set_value(folder.name).run()
    assert not at.exception and not at.error
    assert "DMF-D" in texts(at) and "continuous outputs" in texts(at)
    assert points(map_spec(at, "latent-map")) == 400 + 300  # the small demo of tests/app/conftest.py


@pytest.mark.parametrize("kind", ["dmf", "dmf-d"])
def test_a_new_users_point_appears_and_moves_with_each_rating(open_page, with_runs, kind):
    at = open_page("new_user")
    folder = next(f for f in with_runs.iterdir() if f"-{kind}-demo-" in f.name)
    at.selectbox(key="newuser-run").set_value(folder.name).run()
    assert not at.get("plotly_chart")  # no ratings, no point yet
    at.radio(key="nu-stars").set_value(5.0)
    at.button(key="nu-add").click().run()
    assert not at.exception and not at.error
    first = you(map_spec(at, "nu-map"))
    assert f"Your point: ({first[0]:+.3f}, {first[1]:+.3f})" in texts(at)
    nearest = new_user_tables(at)["nearest"]
    assert len(nearest) == 10 and list(nearest["cosine"]) == sorted(nearest["cosine"], reverse=True)
    rated = new_user_tables(at)["mine"]["title"].iloc[0]
    assert rated not in list(nearest["title"])

    at.radio(key="nu-stars").set_value(1.0)
    at.button(key="nu-add").click().run()  # the next most-rated movie, one star
    second = you(map_spec(at, "nu-map"))
    assert len(new_user_tables(at)["mine"]) == 2
    assert second != first
    assert f"Your point: ({second[0]:+.3f}, {second[1]:+.3f})" in texts(at)
    assert ("continuous outputs" in texts(at)) == (kind == "dmf-d")
