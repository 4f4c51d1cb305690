"""Time reading MovieLens-1M: `parse_ml1m_ratings` on ratings.dat's bytes and the whole `load_dataset(folder)`.

    python benchmarks/bench_parse.py [path/to/ml-1m]

Prints the best of a few repeats (the machine is shared, so the minimum is the honest number) and writes
benchmarks/results/parse.json. Skips with a message when MovieLens-1M is absent. Budget: parsing under 1 s.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script from anywhere, like the app

from dmf_core.data import dataset_fingerprint, load_dataset  # noqa: E402
from dmf_core.data.demo import make_demo  # noqa: E402
from dmf_core.data.formats import parse_ml1m_ratings  # noqa: E402

DEFAULT_ML1M = REPO_ROOT.parent / "shared" / "data" / "ml-1m"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "parse.json"
REPEATS = 5
PARSE_BUDGET_S = 1.0


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else DEFAULT_ML1M
    ratings_path = folder / "ratings.dat"
    if not ratings_path.is_file():
        print(f"skipped: MovieLens-1M not found at {folder} (pass its folder as the first argument)")
        return 0
    raw = ratings_path.read_bytes()
    data = load_dataset(folder)
    results = {
        "dataset": str(folder),
        "n_ratings": data.n_ratings,
        "ratings_dat_mb": round(len(raw) / 1e6, 1),
        "parse_ml1m_ratings_s": best_of(lambda: parse_ml1m_ratings(raw, str(ratings_path))),
        "load_dataset_s": best_of(lambda: load_dataset(folder)),
        "dataset_fingerprint_s": best_of(lambda: dataset_fingerprint(data)),
        "make_demo_s": best_of(make_demo),
        "repeats": REPEATS,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    results = {key: round(value, 4) if isinstance(value, float) else value for key, value in results.items()}
    for key, value in results.items():
        print(f"{key:24} {value:.3f}" if isinstance(value, float) else f"{key:24} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO_ROOT)}")
    if results["parse_ml1m_ratings_s"] > PARSE_BUDGET_S:
        print(f"over budget: parsing took more than {PARSE_BUDGET_S} s")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
