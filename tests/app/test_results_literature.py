"""Results page, "DMF against the literature": our figures from a small hand-made literature.json beside the published
table (labelled published, not rerun), a plain line for a dataset without figures, and the missing-file case."""

from __future__ import annotations

import json

import pytest

from dmf_core.reproduction import tables
from studio import literature
from tests.app.conftest import open_app
from tests.app.helpers import texts

PAGE = "pages/6_Results.py"


def stats(*values: float) -> dict:
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else None
    return {"mean": mean, "std": std, "n": len(values), "values": list(values)}


REPORT = {
    "command": "python benchmarks/bench_literature.py --seeds 2",
    "written": "2026-11-30 06:30:00 UTC",
    "machine": "x86_64, 2 CPUs, 2 torch threads",
    "protocol": {"literature": {"description": "random 85/5/10 of all ratings"},
                 "selection": "DMF: test RMSE of the epoch with the best validation RMSE",
                 "peers": "fitted on the observed ratings"},
    "datasets": {
        "ml-100k": {"found": False, "note": "not found on this machine (MovieLens-100K not found); its figures are "
                    "measured elsewhere"},
        "ml-1m": {
            "found": True, "seeds": [0, 1],
            "literature": {
                "dmf": {"test_rmse": stats(0.831, 0.833), "train_seconds": stats(54.0, 60.0)},
                "svd": {"test_rmse": stats(0.851, 0.853), "fit_seconds": stats(20.0, 22.0),
                        "reused_from": "literature.json, run of 2026-11-30 05:00:00 UTC"},
                "svdpp": {"skipped": "--skip-svdpp"},
                "biases": {"test_rmse": stats(0.905, 0.907)},
            },
            "table1_split": {"dmf": {"I": stats(0.84, 0.842), "II": stats(0.86, 0.862), "III": stats(0.85, 0.856),
                                     "IV": stats(0.89, 0.9)},
                             "biases": {a: stats(0.91, 0.912) for a in ("I", "II", "III", "IV")}},
        },
    },
    "published": {"label": "published, not rerun", "note": "Copied from the papers.", "rows": [
        {"method": "GLocal-K (2021)", "ml-100k": 0.8889, "ml-1m": 0.8227, "protocol": "random 90/10",
         "selected_on_test": True, "scores_new_users": "no", "note": "best test RMSE over epochs"},
        {"method": "GC-MC", "ml-100k": 0.910, "ml-1m": 0.832, "protocol": "random 90/10", "selected_on_test": None,
         "scores_new_users": "no", "note": ""},
        {"method": "IGMC", "ml-100k": 0.905, "ml-1m": 0.857, "protocol": "random 90/10", "selected_on_test": False,
         "scores_new_users": "yes", "note": ""},
    ]},
}


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    """No saved reproduction, and the literature file read from this test's folder."""
    monkeypatch.setenv(tables.RESULTS_ENV, str(tmp_path / "results"))
    path = tmp_path / "literature.json"
    monkeypatch.setenv(literature.LITERATURE_ENV, str(path))
    return path


def test_our_figures_stand_beside_the_published_table(folders):
    folders.write_text(json.dumps(REPORT))
    at = open_app(PAGE)
    ours = at.dataframe[2].value  # after the paper's two tables
    dmf = ours[ours["Method"] == "DMF (ours, default flags)"].iloc[0]
    assert dmf["Dataset"] == "MovieLens-1M" and dmf["Test RMSE (mean ± std)"] == "0.8320 ± 0.0014"
    assert dmf["Seeds"] == "2" and dmf["Selection"] == "selected on validation"
    assert dmf["Measured"] == "in this run"
    assert dmf["Training or fit seconds (mean)"] == "57"
    svd = ours[ours["Method"].str.startswith("SVD, tuned")].iloc[0]
    assert svd["Measured"] == "reused from literature.json, run of 2026-11-30 05:00:00 UTC"
    svdpp = ours[ours["Method"].str.startswith("SVD++")].iloc[0]
    assert svdpp["Test RMSE (mean ± std)"] == "not run (--skip-svdpp)"
    areas = at.dataframe[3].value
    assert areas[areas["Method"] == "DMF (ours)"].iloc[0]["IV"] == "0.8950 ± 0.0071"
    published = at.dataframe[4].value
    assert set(published["Source"]) == {"published, not rerun"}
    glocal = published[published["Method"] == "GLocal-K (2021)"].iloc[0]
    assert (glocal["ML-1M"], glocal["Selected on test"], glocal["Scores new users"]) == ("0.8227", "yes", "no")
    assert published[published["Method"] == "GC-MC"].iloc[0]["ML-100K"] == "0.910"
    assert published[published["Method"] == "GC-MC"].iloc[0]["Selected on test"] == "not checked"
    shown = texts(at)
    assert "MovieLens-100K: not measured here: not found on this machine" in shown
    assert "selected on validation" in shown and "Published, not rerun" in shown
    assert not at.error


def test_missing_file_and_missing_dataset_get_a_plain_message(folders):
    at = open_app(PAGE)
    assert "No literature benchmark saved yet" in texts(at) and "bench_literature.py" in texts(at)
    assert len(at.dataframe) == 2 and not at.error  # only the paper's tables
    report = {**REPORT, "datasets": {"ml-1m": REPORT["datasets"]["ml-1m"]}}
    folders.write_text(json.dumps(report))
    at = open_app(PAGE)
    assert "MovieLens-100K: not measured in this file" in texts(at)
    folders.write_text("{not json")
    at = open_app(PAGE)
    assert "cannot be read" in texts(at) and not at.exception
