"""The Playground (issue 18): editing the matrix retrains and moves the prediction, new users and movies are placed
with no retraining, a shared URL restores the state, the planted taste groups are learnt; the exact sphere of d = 3
runs on the Latent map; the Quantizer sandbox's link."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import dmf_core.data.demo
from dmf_core.config import ModelConfig, SplitConfig
from dmf_core.data import dataset_fingerprint
from studio import playground as pg
from studio import share
from studio.registry import JobRegistry
from tests.app.conftest import open_app, tiny_train
from tests.app.helpers import chart_specs, texts

PAGE = "pages/8_Playground.py"


def predictions(at: AppTest) -> dict[tuple[str, str], float]:
    """The completed matrix's r̂ per (user, movie), read from its cells ("4.3" or "4.3 (5)")."""
    frame = next(d for d in at.dataframe if d.editing_mode == "read_only").value
    return {(row, col): float(str(frame.loc[row, col]).split()[0]) for row in frame.index for col in frame.columns
            if str(frame.loc[row, col]).strip()}


def sphere_trace(at: AppTest, name: str) -> dict:
    spec = next(s for s in chart_specs(at) if any(t.get("name") == "unit sphere" for t in s["data"]))
    return next(t for t in spec["data"] if t.get("name") == name)


def values(data) -> np.ndarray:
    """A trace's coordinates: a list, or Plotly's typed array ({"dtype": "f8", "bdata": base64})."""
    if isinstance(data, dict):
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        return array.reshape(data["shape"]) if "shape" in data and isinstance(data["shape"], list) else array
    return np.asarray(data if data is not None else [], dtype=float)


def xyz(trace: dict) -> np.ndarray:
    return np.column_stack([values(trace.get(axis)) for axis in "xyz"])


def edit(at: AppTest, key: str, row: int, changes: dict) -> AppTest:
    at.session_state[key] = {"edited_rows": {row: changes}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_fresh_page_shows_the_grid_the_sphere_and_a_share_link():
    at = open_app(PAGE)
    assert not at.error and any("unit sphere" in m.value for m in at.markdown)  # the intro says what is drawn
    assert at.data_editor(key="pg-matrix").value.shape == (len(pg.USERS), len(pg.MOVIES))
    users = xyz(sphere_trace(at, "users"))
    assert users.shape == (12, 3) and np.allclose(np.linalg.norm(users, axis=1), 1, atol=1e-5)
    spec = next(s for s in chart_specs(at) if s.get("frames"))
    assert len(spec["frames"]) == pg.Settings().epochs  # one recorded position per epoch
    link = at.code[0].value
    query = parse_qs(urlsplit(link).query)
    assert "session" not in query and query["m"] == [pg.encode_matrix(pg.planted())]
    assert at.query_params["session"]  # the page's own URL keeps the owner token


def test_editing_a_cell_changes_its_prediction():
    at = open_app(PAGE)
    before = predictions(at)[("Ada", "Time Loop")]  # unrated in the planted matrix; Ada is a sci-fi fan
    assert before > 3.5
    edit(at, "pg-matrix", 0, {"Time Loop": 1})
    after = predictions(at)[("Ada", "Time Loop")]
    assert after < before - 0.5, (before, after)
    assert at.query_params["m"].startswith("545")  # the URL follows the edit
    assert pg.decode_matrix(at.query_params["m"], 12, 10)[0, 3] == 1


def test_a_new_users_row_gives_a_point_and_predictions():
    at = open_app(PAGE)
    assert len(xyz(sphere_trace(at, "new user (no retraining)"))) == 0
    edit(at, "pg-new-user", 0, {"Alien Dawn": 5, "Robot Heart": 5, "Love Letters": 1})
    point = xyz(sphere_trace(at, "new user (no retraining)"))
    assert point.shape == (1, 3) and np.isclose(np.linalg.norm(point), 1, atol=1e-5)
    table = predictions(at)
    row = [table[(pg.NEW_USER_NAME, movie)] for movie in pg.MOVIES]
    assert all(1 <= value <= 5 for value in row)
    assert table[(pg.NEW_USER_NAME, "Mars Colony")] > table[(pg.NEW_USER_NAME, "Blood Moon")]
    assert "For the new user" in texts(at)


def test_a_new_movies_column_gives_a_point_and_predictions():
    at = open_app(PAGE)
    column = {index: {pg.NEW_MOVIE_NAME: 5 if index < 2 else 1} for index in (0, 1, 8, 9)}
    at.session_state["pg-new-movie"] = {"edited_rows": column, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert xyz(sphere_trace(at, "new movie (no retraining)")).shape == (1, 3)
    table = predictions(at)
    assert table[("Grace", pg.NEW_MOVIE_NAME)] > table[("Norman", pg.NEW_MOVIE_NAME)]


def test_a_shared_url_restores_the_matrix_and_settings():
    matrix = pg.planted()
    matrix[2, 9], matrix[5, 0] = 5, np.nan
    new_user = np.full(10, np.nan)
    new_user[7] = 5
    shared = pg.Shared(matrix, new_user, np.full(12, np.nan), pg.Settings(seed=3, epochs=20), ("Grace", "Blood Moon"))
    at = open_app(PAGE, shared.to_params())
    shown = at.data_editor(key="pg-matrix").value.to_numpy(dtype=float, na_value=np.nan)
    assert np.array_equal(shown, matrix, equal_nan=True)
    assert at.data_editor(key="pg-new-user").value.to_numpy(dtype=float, na_value=np.nan)[0, 7] == 5
    assert at.slider(key="pg-epochs").value == 20 and at.number_input(key="pg-seed").value == 3
    assert at.selectbox(key="pg-user").value == "Grace" and at.selectbox(key="pg-movie").value == "Blood Moon"
    assert at.slider(key="pg-epoch").max == 20
    assert parse_qs(urlsplit(at.code[0].value).query)["m"] == [pg.encode_matrix(matrix)]


def test_a_broken_link_falls_back_with_a_warning():
    at = open_app(PAGE, {"m": "not-a-matrix", "e": "7"})
    assert any("Ignored part of the link" in w.value for w in at.warning)
    assert at.slider(key="pg-epochs").value == 7
    shown = at.data_editor(key="pg-matrix").value.to_numpy(dtype=float, na_value=np.nan)
    assert np.array_equal(shown, pg.planted(), equal_nan=True)


def test_step_controls_move_the_epoch():
    at = open_app(PAGE)
    last = pg.Settings().epochs
    assert at.slider(key="pg-epoch").value == last
    at.button(key="pg-reset").click().run()
    assert at.slider(key="pg-epoch").value == 1
    at.button(key="pg-step").click().run()
    assert at.slider(key="pg-epoch").value == 2
    assert "epoch 2" in json.dumps(sphere_trace(at, "users")) or "Epoch 2" in texts(at)


def test_a_new_user_who_loves_one_group_gets_its_other_movies_first():
    run = pg.train(pg.planted())
    for group in range(len(pg.GROUPS)):
        members = [j for j, g in enumerate(pg.MOVIE_GROUPS) if g == group]
        row = np.full(len(pg.MOVIES), np.nan)
        row[members[:2]] = 5  # two of the group's movies, five stars each
        others = {pg.MOVIES[j] for j in members[2:]}
        ranked = pg.ranked_for_new_user(run.final, row)
        assert set(ranked[: len(others)]) == others, (pg.GROUPS[group], ranked)


def test_the_planted_groups_are_learnt_and_training_records_every_epoch():
    run = pg.train(pg.planted())
    assert len(run.epochs) == pg.Settings().epochs
    final = run.final
    cosine = final.users @ final.items.T
    same = np.equal.outer(pg.USER_GROUPS, pg.MOVIE_GROUPS)
    assert cosine[same].mean() > 0.5 > -0.2 > cosine[~same].mean()
    assert not np.allclose(run.epochs[0].users, final.users)  # the points moved during training


def test_encoding_round_trips_and_rejects_bad_input():
    shared = pg.default_shared()
    again, problems = pg.from_params(shared.to_params())
    assert not problems and np.array_equal(again.matrix, shared.matrix, equal_nan=True)
    assert again.settings == shared.settings and again.pair == shared.pair
    assert len(shared.to_params()["m"]) == 12 * 10 + 11
    with pytest.raises(ValueError):
        pg.decode_vector("12345678x0", 10)
    _, problems = pg.from_params({"h": "8,3", "e": "0", "out": "dot", "pair": "Nobody|Alien Dawn"})
    assert len(problems) == 4


@pytest.fixture
def sphere_run(isolated):
    """A tiny DMF run on the demo data whose latent size is 3."""
    data = dmf_core.data.demo.make_demo()
    meta = {"dataset_spec": "demo", "dataset_label": "Demo (built-in, generated)",
            "dataset_fingerprint": dataset_fingerprint(data)}
    job = JobRegistry(isolated).submit("fixture", data, SplitConfig(), ModelConfig(hidden=(16, 3), dropout=0.1),
                                       tiny_train("dmf", 1), label="tiny d=3", meta=meta)
    assert job.join(300) and job.snapshot().status == "finished", job.snapshot().error
    return isolated


def test_a_d3_runs_latent_map_is_the_exact_sphere(sphere_run, open_page):
    at = open_page("latent_map")
    spec = chart_specs(at)[0]
    assert all(trace["type"] == "scatter3d" for trace in spec["data"])  # no PCA plane
    points = [xyz(t) for t in spec["data"]
              if t.get("name", "").startswith(("users", "movies", "new users", "new movies"))]
    stacked = np.concatenate(points)
    assert len(stacked) == 400 + 300  # the small demo of tests/app/conftest.py
    norms = np.linalg.norm(stacked, axis=1)
    # On the unit sphere, except a movie of the small demo whose every rating was held out: no inputs, no direction.
    on_sphere = np.isclose(norms, 1, atol=1e-4)
    assert on_sphere.sum() >= len(norms) - 10 and np.all(on_sphere | (norms == 0)), norms[~on_sphere]
    assert "no PCA" in texts(at)


def test_the_quantizer_sandbox_travels_in_its_link():
    assert share.sandbox_state({"lam": "31", "b": "1.6,2.5,3.4,4.5"}, [1.5, 2.5, 3.5, 4.5], [1.0, 31.6, 100.0]) == {
        "quant-lambda": 31.6, "quant-b1": 1.6, "quant-b2": 2.5, "quant-b3": 3.4, "quant-b4": 4.5}
    at = open_app("pages/3_Quantizer.py", {"lam": "31.6", "b": "1.6,2.5,3.4,4.5"})
    assert at.slider(key="quant-b1").value == 1.6 and at.select_slider(key="quant-lambda").value == 31.6
    query = parse_qs(urlsplit(at.code[0].value).query)
    assert query["b"] == ["1.6,2.5,3.4,4.5"] and "session" not in query


def test_the_train_page_offers_the_sphere_preset_and_says_what_it_costs(open_page):
    at = open_page("train")
    at.button(key="preset-sphere").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="hp_hidden").value == "256,3"
    assert "0.894" in texts(at) and "0.844" in texts(at)


def test_a_seen_row_or_column_typed_in_again_scores_exactly_as_the_model_does():
    """New rows go through the same branches: a seen user's row (a seen movie's column) typed in as new gets the
    model's own predictions (the cosine output has no bias to fold in)."""
    final = pg.train(pg.planted()).final
    matrix = pg.planted()
    assert np.allclose(pg.new_user(final, matrix[4])[1], final.predictions[4], atol=1e-4)
    assert np.allclose(pg.new_user(final, matrix[4])[0], final.users[4], atol=1e-5)
    assert np.allclose(pg.new_movie(final, matrix[:, 7])[1], final.predictions[:, 7], atol=1e-4)
    assert np.allclose(pg.new_movie(final, matrix[:, 7])[0], final.items[7], atol=1e-5)


def test_movies_can_be_coloured_by_the_selected_users_predictions():
    at = open_app(PAGE)
    at.selectbox(key="pg-colour").set_value("predicted ratings of the selected user").run()
    assert not at.exception, [e.value for e in at.exception]
    marker = sphere_trace(at, "movies")["marker"]
    assert marker["colorscale"] and marker["cmid"] == 3.0
    assert np.allclose(values(marker["color"]), predictions_of(at, "Ada"), atol=0.051)


def predictions_of(at: AppTest, user: str) -> list[float]:
    table = predictions(at)
    return [table[(user, movie)] for movie in pg.MOVIES]


def test_a_d3_runs_new_user_page_places_you_on_the_exact_sphere(sphere_run, open_page):
    at = open_page("new_user")
    at.button(key="nu-random").click().run()
    assert not at.exception, [e.value for e in at.exception]
    spec = next(s for s in chart_specs(at) if any(t.get("name") == "you (new user)" for t in s["data"]))
    you = xyz(next(t for t in spec["data"] if t.get("name") == "you (new user)"))
    assert you.shape == (1, 3) and np.isclose(np.linalg.norm(you), 1, atol=1e-5)
    assert all(trace["type"] == "scatter3d" for trace in spec["data"])
