"""Areas page: per-area scores with the paper's Table 1 marks, error distributions, cold start, DMF-D metrics."""

from __future__ import annotations

import json

import pytest

from tests.app.helpers import chart_specs, texts


def test_without_runs_it_points_to_the_train_page(open_page):
    at = open_page("areas")
    assert "No saved runs yet" in texts(at)


@pytest.mark.parametrize("kind", ["dmf", "dmf-d"])
def test_scores_per_area_match_the_run_and_the_paper_is_labelled(open_page, with_runs, kind):
    folder = next(f for f in with_runs.iterdir() if f"-{kind}-demo-" in f.name)
    metrics = json.loads((folder / "metrics.json").read_text())
    at = open_page("areas")
    at.selectbox(key="areas-run").set_value(folder.name).run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    for area in ("I", "II", "III", "IV"):
        assert table.loc[area, "RMSE"] == pytest.approx(metrics["areas"][area]["rmse"], abs=1e-4)
        assert table.loc[area, "test ratings"] == metrics["areas"][area]["n"]
    scores = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Test error per area"))
    marks = {t["name"]: t["y"] for t in scores["data"] if t["type"] == "scatter"}
    assert marks["DMF (paper)"] == [0.850, 0.883, 0.864, 0.904]
    assert "the paper's reported values" in texts(at) and "not results of this run" in texts(at)
    at.toggle(key="areas-paper").set_value(False).run()
    scores = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Test error per area"))
    assert not [t for t in scores["data"] if t["type"] == "scatter"]

    errors = next(s for s in chart_specs(at) if s["layout"]["title"]["text"] == "Error distribution per area")
    assert len(errors["data"]) == 4
    curve = at.dataframe[-1].value
    assert list(curve["k"])[-1] == "all" and (curve["n_users"] > 0).all()
    assert any(s["layout"]["title"]["text"].startswith("Cold start") for s in chart_specs(at))
    if kind == "dmf-d":
        assert "DMF-D: discrete predictions per area" in texts(at)
        discrete = at.dataframe[1].value
        assert discrete.loc["I", "RMSE"] == pytest.approx(metrics["discrete"]["I"]["rmse"], abs=1e-4)
        assert "accuracy" in discrete.columns
        at.toggle(key="areas-discrete").set_value(True).run()
        assert not at.exception
    else:
        assert "DMF-D: discrete predictions per area" not in texts(at)
