"""Every page that explains the prediction shows the formula of the run it shows: the paper's pure cosine for a
run with output "cosine", mean + biases + ρ-weighted cosine for a "bias+cosine" run; Home shows the default's."""

from __future__ import annotations

import json

import pytest

from tests.app.helpers import texts

PAPER = r"\hat r_{ij} = m + h\,\cos(U_i, V_j)"
BIASED = r"\hat r_{ij} = \mu + b_i + b_j + h\,\rho_{ij}\,\cos(U_i, V_j)"


def formulas(at) -> str:
    return "\n".join(str(e.value) for e in at.latex)


def output(run_dir) -> str:
    return json.loads((run_dir / "metrics.json").read_text())["config"]["model"]["output"]


def test_home_shows_the_default_models_formula_and_mentions_the_papers(open_page):
    at = open_page("home")
    assert BIASED in formulas(at) and PAPER not in formulas(at)
    assert "The paper's model is the cosine alone" in texts(at)
    assert "fitted after training on the *validation* ratings of areas II and III" in texts(at)


@pytest.mark.parametrize(("page", "picker"), [("new_user", "newuser-run"), ("latent_map", "latent-run")])
def test_each_run_shows_its_own_formula(open_page, with_runs, with_cosine_run, page, picker):
    runs = {output(folder): folder.name for folder in with_runs.iterdir()
            if json.loads((folder / "metrics.json").read_text())["model"] == "dmf"}
    assert set(runs) == {"cosine", "bias+cosine"}
    at = open_page(page)
    at.selectbox(key=picker).set_value(runs["cosine"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert PAPER in formulas(at) and BIASED not in formulas(at)
    assert "The paper's model (output *cosine*)" in texts(at)
    at.selectbox(key=picker).set_value(runs["bias+cosine"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert BIASED in formulas(at) and PAPER not in formulas(at)
    metrics = json.loads((with_runs / runs["bias+cosine"] / "metrics.json").read_text())
    weights = metrics["calibration"]
    assert f"ρ_users = {weights['new_user_weight']:.2f}, ρ_items = {weights['new_item_weight']:.2f}" in texts(at)


def test_the_train_page_shows_the_formula_of_the_chosen_output(open_page):
    at = open_page("train")
    assert at.selectbox(key="hp_output").value == "bias+cosine"
    assert BIASED in formulas(at)
    at.selectbox(key="hp_output").set_value("cosine").run()
    assert PAPER in formulas(at) and BIASED not in formulas(at)
