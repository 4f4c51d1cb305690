"""The New user page's line on its ranking: what `DMF.recommend` ranks by, and how that ranking scored on the top-N
protocol for new users (`benchmarks/results/ranking.json`, written by `python benchmarks/bench_ranking.py`). Pure
Python, no Streamlit. `DMF_RANKING_FILE` points at another file (the tests use it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from dmf_core.config import RATING_WEIGHT
from dmf_core.ranking.protocol import RECOMMEND, popularity_percentile

REPO_ROOT = Path(__file__).resolve().parents[1]
RANKING_ENV = "DMF_RANKING_FILE"
COMMAND = "python benchmarks/bench_ranking.py"


def ranking_file() -> Path:
    return Path(os.environ.get(RANKING_ENV) or REPO_ROOT / "benchmarks" / "results" / "ranking.json")


def load(path: Path | None = None) -> dict[str, Any] | None:
    """The benchmark's report, or None when it is missing or unreadable."""
    path = path or ranking_file()
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("runs"), dict) else None


def measured(report: dict[str, Any] | None, data: str = "ml-1m", n: str = "10") -> str:
    """How the ranking scored against most popular and EASE, in one clause; says so when it was not measured."""
    try:
        block = report["runs"][data]["results"][n]
        methods = block["methods"]
        ours, popular, ease = (methods[name]["ndcg"]["mean"] for name in (RECOMMEND, "most popular", "EASE"))
    except (KeyError, TypeError):
        return f"Not measured on the top-N protocol yet: run `{COMMAND}`."
    return (f"On {data}'s held-out users with {n} ratings each it scored NDCG@10 {ours:.3f}, against {popular:.3f} for "
            f"most popular and {ease:.3f} for EASE (`{COMMAND}`, docs/ranking.md).")


def note(popularity: np.ndarray, shown: list[int], report: dict[str, Any] | None) -> str:
    """One line: the ranking, the popularity percentile (among the items' `popularity`) of the items `shown`, and
    the protocol's numbers."""
    percentile = float(popularity_percentile(popularity)[shown].mean()) if shown else float("nan")
    return (f"Ranked by relevance: how often your rated movies are co-rated with a movie in training (how likely "
            f"you are to rate it) times how much you would like it (the predicted rating, weight {RATING_WEIGHT:g}, "
            f"chosen on validation users); these {len(shown)} sit at popularity percentile {percentile:.0f} on "
            "average (100: the most rated). " + measured(report))
