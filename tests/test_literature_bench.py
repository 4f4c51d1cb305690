"""benchmarks/bench_literature.py's `--peers-from`: the peers' figures of an earlier report are reused only for the
same data, the same literature split, today's peer settings and the same seed; anything else is refitted."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import bench_literature as bench  # noqa: E402
import peers  # noqa: E402

DATA = SimpleNamespace(n_users=30, n_items=20, n_ratings=400)


def _report(tmp_path: Path, *, ratings: int = 400, split: dict | None = None, factors: int | None = None) -> Path:
    svd = {k: v for k, v in peers.SVD_SETTINGS["tuned"].items() if k != "random_state"}
    if factors is not None:
        svd["n_factors"] = factors
    runs = [{"seed": seed,
             "svd": {"params": {**svd, "random_state": seed}, "test_rmse": 0.85 + seed / 100, "fit_seconds": 1.0},
             "svdpp": {"params": {**peers.SVDPP_SETTINGS, "random_state": seed}, "test_rmse": 0.86,
                       "fit_seconds": 2.0}} for seed in (0, 1)]
    report = {"started": "2026-11-30 08:02:12 UTC",
              "protocol": {"literature": {**(split or bench.LITERATURE_SPLIT), "description": "x"}},
              "datasets": {"ml-1m": {"found": True, "users": 30, "items": 20, "ratings": ratings,
                                     "literature_runs": runs}}}
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps(report))
    return path


def _peers(path: Path, name: str = "ml-1m") -> dict:
    return bench.earlier_peers(bench.read_report(path), name, DATA)


def test_the_same_data_split_and_settings_reuse_each_seeds_peers(tmp_path):
    found = _peers(_report(tmp_path))
    assert sorted(found) == [0, 1]
    assert found[1]["svd"]["test_rmse"] == 0.86 and found[1]["svdpp"]["test_rmse"] == 0.86
    assert found[0]["svd"]["reused_from"] == "earlier.json, run of 2026-11-30 08:02:12 UTC"


def test_a_figure_reused_twice_names_the_run_that_fitted_it(tmp_path):
    path = _report(tmp_path)
    report = json.loads(path.read_text())
    report["datasets"]["ml-1m"]["literature_runs"][0]["svd"]["reused_from"] = "first.json, run of 07:00"
    path.write_text(json.dumps(report))
    found = _peers(path)
    assert found[0]["svd"]["reused_from"] == "first.json, run of 07:00"
    assert found[1]["svd"]["reused_from"] == "earlier.json, run of 2026-11-30 08:02:12 UTC"


def test_other_data_another_split_or_other_settings_are_refitted(tmp_path):
    assert _peers(_report(tmp_path, ratings=401)) == {}
    assert _peers(_report(tmp_path, split={**bench.LITERATURE_SPLIT, "test_frac": 0.2})) == {}
    assert _peers(_report(tmp_path), "ml-100k") == {}
    changed = _peers(_report(tmp_path, factors=50))
    assert all("svd" not in row and "svdpp" in row for row in changed.values())
    assert bench.earlier_peers(bench.read_report(None), "ml-1m", DATA) == {}


def test_an_unreadable_peers_file_is_one_line_before_anything_runs(tmp_path, capsys):
    (tmp_path / "broken.json").write_text("{not json")
    for path in (tmp_path / "broken.json", tmp_path / "missing.json"):
        with pytest.raises(SystemExit) as stop:
            bench.main(["--datasets", "ml-1m", "--peers-from", str(path), "--out", str(tmp_path / "out.json")])
        assert stop.value.code == 2
        assert f"--peers-from {path}: not a readable report" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()
