"""Results page: the saved reproduction tables with the paper's values labelled, and the background demo run."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

import dmf_core.data.demo
from dmf_core.reproduction import plans, runner, tables
from tests.app.conftest import open_app
from tests.app.helpers import texts, wait_until
from tests.helpers import low_rank_ratings
from tests.test_reproduce import TINY

PAGE = "pages/6_Results.py"


@pytest.fixture(autouse=True)
def results_root(tmp_path, monkeypatch):
    """Results are read from (and the demo run writes to) this test's folder, never the repository's results/."""
    root = tmp_path / "results"
    monkeypatch.setenv(tables.RESULTS_ENV, str(root))
    return root


def test_without_results_it_shows_the_papers_tables_labelled(results_root):
    at = open_app(PAGE)
    assert not at.error and "No reproduction saved yet" in texts(at)
    table1, table2 = at.dataframe[0].value, at.dataframe[1].value
    assert set(table1["Source"]) == {"paper"} and set(table2["Source"]) == {"paper"}
    dmf = table1[table1["Model"] == "DMF"].iloc[0]
    assert (dmf["I"], dmf["II"], dmf["III"], dmf["IV"]) == ("0.850", "0.883", "0.864", "0.904")
    assert table2[table2["Model"] == "DMF-D"].iloc[0]["RMSE"] == "0.898"
    assert at.button(key="results-run").label == "Run the demo reproduction"


def test_saved_tables_show_measured_rows_beside_the_paper(results_root):
    data = replace(low_rank_ratings(120, 80, 0.3, seed=2), name="ml-1m")  # stands in for ML-1M: gaps are drawn
    summary = runner.reproduce_table(1, data, results_root, replace(TINY, seeds=2), log=io.StringIO())
    at = open_app(PAGE)
    assert not at.error
    assert at.radio(key="results-source").value == "Full reproduction (MovieLens-1M, 5 seeds)"
    table1 = at.dataframe[0].value
    measured = table1[(table1["Model"] == "DMF") & (table1["Source"] == "measured (2 seeds)")].iloc[0]
    cell = next(r for r in summary["rows"] if r["key"] == "dmf")["cells"]["I"]
    assert measured["I"] == f"{cell['mean']:.4f} ± {cell['std']:.4f}"
    assert {"paper", "gap: measured − paper", "paper only (not run)"} <= set(table1["Source"])
    u_autorec = table1[(table1["Model"] == "U-AutoRec") & table1["Source"].str.startswith("measured")].iloc[0]
    assert u_autorec["III"] == "–" and u_autorec["IV"] == "–"
    assert "Table 2 has not been reproduced" in texts(at)  # only Table 1 was saved


def test_demo_reproduction_runs_in_the_background_and_shows_its_tables(monkeypatch, results_root):
    small = low_rank_ratings(120, 80, 0.3, seed=3)
    monkeypatch.setattr(dmf_core.data.demo, "make_demo", lambda *a, **k: replace(small, name="demo"))
    monkeypatch.setattr(plans, "QUICK_PLAN", replace(TINY, name="quick", seeds=1))
    at = open_app(PAGE)
    at.button(key="results-run").click().run()
    assert at.button(key="results-run").disabled  # no second start while it runs
    wait_until(at, lambda at: any("Finished" in s.value for s in at.success), timeout=120)
    assert at.radio(key="results-source").value == "Quick demo reproduction (generated data)"
    table1, table2 = at.dataframe[0].value, at.dataframe[1].value
    assert "measured (1 seed)" in set(table1["Source"]) and "measured (1 seed)" in set(table2["Source"])
    assert not any(table1["Source"].str.startswith("gap"))  # generated data: no gaps against the paper
    assert "reference only" in texts(at)
    assert (results_root / "tmp" / "quick-demo" / "table2.json").is_file()
    assert not at.button(key="results-run").disabled
