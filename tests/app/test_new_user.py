"""New-user page: search titles, rate a few, get predictions and recommendations without retraining."""

from __future__ import annotations

from tests.app.helpers import new_user_tables, texts


def test_without_runs_it_points_to_the_train_page(open_page):
    assert "No saved runs yet" in texts(open_page("new_user"))


def test_rating_movies_gives_recommendations_at_once(open_page, with_runs):
    at = open_page("new_user")
    assert "Rate a few movies" in texts(at)
    # The sidebar names the run shown and the data it was trained on, beside the Data page's own choice.
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
    assert "**Run shown:**" in sidebar and "trained on " in sidebar and "**Data (Data page):**" in sidebar
    at.text_input(key="nu-search").input("harbor").run()
    options = at.selectbox(key="nu-pick").options
    assert options and all("Harbor" in o for o in options)
    at.radio(key="nu-stars").set_value(5.0)
    at.button(key="nu-add").click().run()
    assert not at.exception and not at.error
    tables = new_user_tables(at)
    mine, recs, popular = tables["mine"], tables["recs"], tables["popular"]
    # The library's names (DMF.recommend's), every one of them shown.
    discrete = ["discrete"] if "discrete" in recs.columns else []  # a DMF-D run's Q_b
    assert list(recs.columns) == ["title", "score", "predicted_rating", "n_ratings", "area", *discrete]
    assert list(popular.columns) == ["title", "n_ratings", "predicted_rating", "area", *discrete]
    assert len(recs) == 10 and len(popular) == 10
    assert list(recs["score"]) == sorted(recs["score"], reverse=True)
    assert list(popular["n_ratings"]) == sorted(popular["n_ratings"], reverse=True)
    assert "no retraining" in texts(at) and "Ranked by relevance" in texts(at)
    # The ranking benchmark's chart (figures.ranking_methods, which notebook 04 draws too), in its expander.
    assert any("How each ranking does" in expander.label for expander in at.expander)
    assert len(mine) == 1 and mine["your rating"].iloc[0] == 5.0 and "Harbor" in mine["title"].iloc[0]
    rated = mine["title"].iloc[0]
    assert rated not in list(recs["title"])

    at.button(key="nu-random").click().run()
    assert len(new_user_tables(at)["mine"]) == 6
    at.button(key="nu-clear").click().run()
    assert "Rate a few movies" in texts(at) and not at.dataframe


def test_a_search_without_matches_says_so(open_page, with_runs):
    at = open_page("new_user")
    at.text_input(key="nu-search").input("qqqq zzzz").run()
    assert "No unrated title matches" in texts(at)
    assert at.button(key="nu-add").disabled
