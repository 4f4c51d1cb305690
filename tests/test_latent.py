"""studio.latent: the PCA plane of the seen users and items, new rows projected onto it, nearest movies by cosine,
and the WebGL figure."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.demo import make_demo
from dmf_core.data.split import OBSERVED
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs.folder import train_run
from studio import latent
from studio.analysis import RunAnalysis, score_new_user


@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> RunAnalysis:
    """One tiny DMF run on the demo data, reopened the way the app reopens it."""
    demo = make_demo(0, 400, 300, 12_000)  # the demo generator, small: behaviour, not accuracy
    out = tmp_path_factory.mktemp("latent-run")
    train = TrainConfig(epochs=1, lr=1e-2, block_users=512, block_items=512, patience=0, device="cpu")
    train_run(demo, SplitConfig(), ModelConfig(hidden=(16, 8), dropout=0.1), train, out)
    return RunAnalysis.build(ckpt.load(out / "checkpoint.pt"), demo)


@pytest.fixture(scope="module")
def latent_map(analysis) -> latent.LatentMap:
    return latent.build_map(analysis)


def test_pca_finds_the_plane_the_vectors_live_in_and_is_deterministic():
    rng = np.random.default_rng(0)
    plane = np.linalg.qr(rng.normal(size=(12, 2)))[0].T  # two orthonormal directions in R^12
    vectors = rng.normal(size=(500, 2)) * [3.0, 1.0] @ plane + 1e-4 * rng.normal(size=(500, 12))
    projection = latent.fit_projection(vectors)
    assert projection.kept.sum() == pytest.approx(1.0, abs=1e-6) and projection.kept[0] > projection.kept[1]
    assert np.allclose(projection.axes @ projection.axes.T, np.eye(2), atol=1e-9)
    assert np.allclose(np.linalg.svd(projection.axes @ plane.T, compute_uv=False), 1.0, atol=1e-6)  # same plane
    # The same points in another order give the same map up to rounding, signs included: nothing random, no flips.
    assert np.array_equal(latent.fit_projection(vectors).axes, projection.axes)
    again = latent.fit_projection(vectors[rng.permutation(500)])
    assert np.allclose(again(vectors), projection(vectors), atol=1e-5)
    largest = np.abs(projection.axes).argmax(1)
    assert (projection.axes[[0, 1], largest] > 0).all()


def test_pca_of_one_dimensional_vectors_still_gives_two_coordinates():
    projection = latent.fit_projection(np.array([[1.0], [-1.0], [1.0]]))
    assert projection(np.array([[1.0]])).shape == (1, 2) and projection.kept[1] == 0


def test_the_plane_is_fitted_on_the_seen_rows_and_new_rows_are_only_projected(analysis, latent_map):
    split = analysis.split
    users = analysis.predictor.user_factors.numpy()
    items = analysis.predictor.item_factors.numpy()
    fitted = latent.fit_projection(np.concatenate([users[~split.new_user], items[~split.new_item]]))
    assert np.allclose(fitted.axes, latent_map.projection.axes) and np.allclose(fitted.mean, latent_map.projection.mean)
    assert latent_map.users.shape == (analysis.data.n_users, 2) and latent_map.items.shape == (analysis.data.n_items, 2)
    assert np.allclose(latent_map.users, fitted(users)) and np.allclose(latent_map.items, fitted(items))
    assert latent_map.new_user.sum() == split.new_user.sum() > 0 and latent_map.dims == 8


def test_a_users_own_ratings_entered_as_a_new_user_land_on_that_users_point(analysis, latent_map):
    """The New user page's star is the user branch's output projected onto the same plane: a seen user's observed
    ratings, typed in as a stranger's, land exactly where that user is drawn."""
    data, split = analysis.data, analysis.split
    user = int(np.flatnonzero(~split.new_user)[3])
    mine = (data.users == user) & (split.role == OBSERVED) & ~split.new_item[data.items]
    result = score_new_user(analysis, data.items[mine].tolist(), data.ratings[mine].tolist())
    factor = result.factor[0].numpy()
    assert np.linalg.norm(factor) == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(latent_map.place(factor), latent_map.users[user], atol=1e-4)


def test_nearest_movies_are_the_highest_cosines_without_the_rated_ones(latent_map):
    factor = latent_map.item_factors[5]
    nearest = latent.nearest_items(latent_map, factor, exclude=[5], top=8)
    assert len(nearest) == 8 and 5 not in set(nearest["item"])
    assert list(nearest["cosine"]) == sorted(nearest["cosine"], reverse=True)
    cosines = latent_map.item_factors @ factor
    cosines[5] = -np.inf
    assert nearest["item"].iloc[0] == int(np.argmax(cosines))
    assert nearest["genres"].iloc[0] == latent_map.item_genres[nearest["item"].iloc[0]]
    popular = latent.nearest_items(latent_map, factor, top=50, min_ratings=100)
    assert (latent_map.item_counts[popular["item"]] >= 100).all()


def test_the_figure_marks_seen_and_new_and_colours_by_genre_or_user_attribute(analysis, latent_map):
    n_points = analysis.data.n_users + analysis.data.n_items
    fig = latent.figure(latent_map)
    assert {t.type for t in fig.data} == {"scattergl"} and sum(len(t.x) for t in fig.data) == n_points
    fig = latent.figure(latent_map, latent.GENRE, "Horror", you=np.array([0.1, -0.2]), nearest=[1, 2, 3])
    names = [t.name for t in fig.data]
    assert "movies: Horror" in names and names[-1] == "you" and "nearest movies to you" in names
    horror = sum(len(t.x) for t in fig.data if t.name == "movies: Horror")
    assert horror == sum("Horror" in g.split("|") for g in analysis.data.item_genres)
    assert latent_map.colour_choices() == [latent.SEEN_NEW, latent.GENRE]  # the demo has no user attributes

    ages = ["56+", "Under 18", "18-24"] * analysis.data.n_users
    with_ages = replace(analysis, data=replace(analysis.data, user_attributes={"age": ages[: analysis.data.n_users]}))
    aged = latent.build_map(with_ages)
    assert aged.colour_choices() == [latent.SEEN_NEW, latent.GENRE, "age"]
    assert "Under 18" in aged.user_text[1]
    fig = latent.figure(aged, "age", items=False)
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == ["users: Under 18", "users: 18-24", "users: 56+"]
    assert sum(len(t.x) for t in fig.data) == analysis.data.n_users


def test_describe_says_what_the_projection_keeps_and_loses(latent_map):
    text = latent.describe(latent_map)
    kept = latent_map.projection.kept
    assert f"{kept[0]:.0%} + {kept[1]:.0%}" in text and "other 6 of the 8 dimensions" in text
