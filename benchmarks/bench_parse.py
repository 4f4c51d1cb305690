"""Time reading ratings: MovieLens-1M (`parse_ml1m_ratings` on ratings.dat's bytes and the whole
`load_dataset(folder)`), and a generated file of ML-25M's format and size (`ratings.csv`, 25M lines with the header
`userId,movieId,rating,timestamp`, half stars, sorted by user then movie as GroupLens ships it, plus a `movies.csv`
with quoted titles) read by `load_dataset(folder)`.

    python benchmarks/bench_parse.py [path/to/ml-1m] [--lines 25000000] [--keep DIR]

Prints the best of a few repeats (the machine is shared, so the minimum is the honest number; the 25M-line load is
timed twice) and writes benchmarks/results/parse.json. The ML-1M part is skipped with a message when MovieLens-1M
is absent. Budgets: ML-1M parsing under 1 s; 25M lines in seconds (under 30 s on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script from anywhere, like the app

from dmf_core.data import dataset_fingerprint, load_dataset  # noqa: E402
from dmf_core.data.demo import make_demo  # noqa: E402
from dmf_core.data.formats import parse_ml1m_ratings, parse_ratings_table  # noqa: E402

DEFAULT_ML1M = REPO_ROOT.parent / "shared" / "data" / "ml-1m"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "parse.json"
REPEATS = 5
PARSE_BUDGET_S = 1.0
ML25M_LINES = 25_000_095
ML25M_USERS, ML25M_MOVIES, ML25M_MAX_MOVIE_ID = 162_541, 59_047, 209_171
ML25M_BUDGET_S = 30.0
# ML-25M's share of each half star, 0.5 .. 5.0 (its README's histogram, rounded).
HALF_STAR_SHARES = (0.016, 0.032, 0.017, 0.068, 0.05, 0.197, 0.13, 0.266, 0.088, 0.146)


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def write_ml25m_like(folder: Path, n_lines: int = ML25M_LINES, seed: int = 0) -> Path:
    """ratings.csv and movies.csv in ML-25M's layout, `n_lines` ratings with ML-25M's numbers of users and movies
    (fewer at small sizes). No Python loop over rows: pairs are drawn as sorted unique user × movie keys."""
    rng = np.random.default_rng(seed)
    n_users = min(ML25M_USERS, max(10, n_lines // 150))
    n_movies = min(ML25M_MOVIES, max(10, n_lines // 400))
    movie_ids = np.sort(rng.choice(np.arange(1, ML25M_MAX_MOVIE_ID + 1), n_movies, replace=False))
    popularity = rng.lognormal(0.0, 1.8, n_movies)
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_lines:  # a few rounds: a pair drawn twice is kept once
        missing = int((n_lines - len(keys)) * 1.1) + 100
        users = rng.integers(0, n_users, missing)
        movies = rng.choice(n_movies, missing, p=popularity / popularity.sum())
        keys = np.sort(np.concatenate([keys, users.astype(np.int64) * n_movies + movies]))
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]  # np.unique is 50x slower on numpy 2.4
    keys = np.sort(rng.choice(keys, n_lines, replace=False))
    stars = rng.choice(10, n_lines, p=np.asarray(HALF_STAR_SHARES) / sum(HALF_STAR_SHARES))
    columns = {"userId": keys // n_movies + 1, "movieId": movie_ids[keys % n_movies],
               "rating": stars, "timestamp": rng.integers(789_652_009, 1_574_327_703, n_lines)}
    folder.mkdir(parents=True, exist_ok=True)
    _write_ratings_csv(folder / "ratings.csv", columns)
    titles = [f'"Movie {i}, The ({1900 + i % 120})"' if i % 7 == 0 else f"Movie {i} ({1900 + i % 120})"
              for i in movie_ids]
    genres = np.array(["Comedy", "Drama|Romance", "Action|Adventure|Sci-Fi", "(no genres listed)"])
    lines = [f"{i},{t},{g}" for i, t, g in zip(movie_ids, titles, genres[movie_ids % 4], strict=True)]
    (folder / "movies.csv").write_text("movieId,title,genres\n" + "\n".join(lines) + "\n")
    return folder


def _write_ratings_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Ratings spelled as ML-25M spells them (0.5 .. 5.0). pyarrow's writer takes 1 s per 2.5M lines, pandas' 10 s."""
    labels = [f"{(star + 1) / 2:.1f}" for star in range(10)]
    path.write_text(",".join(columns) + "\n")
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        frame = pd.DataFrame({**columns, "rating": np.asarray(labels)[columns["rating"]]})
        frame.to_csv(path, mode="a", header=False, index=False, chunksize=1_000_000)
        return
    rating = pa.DictionaryArray.from_arrays(pa.array(columns["rating"].astype(np.int32)), pa.array(labels))
    table = pa.table({**columns, "rating": rating})
    with path.open("ab") as out:
        pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False, quoting_style="none"))


def bench_ml1m(folder: Path) -> dict[str, object]:
    ratings_path = folder / "ratings.dat"
    if not ratings_path.is_file():
        print(f"skipped ML-1M: not found at {folder} (pass its folder as the first argument)")
        return {}
    raw = ratings_path.read_bytes()
    data = load_dataset(folder)
    return {
        "dataset": str(folder),
        "n_ratings": data.n_ratings,
        "ratings_dat_mb": round(len(raw) / 1e6, 1),
        "parse_ml1m_ratings_s": best_of(lambda: parse_ml1m_ratings(raw, str(ratings_path))),
        "load_dataset_s": best_of(lambda: load_dataset(folder)),
        "dataset_fingerprint_s": best_of(lambda: dataset_fingerprint(data)),
        "make_demo_s": best_of(make_demo),
    }


def bench_ml25m_like(n_lines: int, keep: Path | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ml-25m-like-") as scratch:
        folder = (keep or Path(scratch)) / "ml-25m"  # the folder's name makes it ML-25M (name, not format)
        start = time.perf_counter()
        if not (folder / "ratings.csv").is_file():
            write_ml25m_like(folder, n_lines)
        written_s = time.perf_counter() - start
        raw = (folder / "ratings.csv").read_bytes()
        print(f"{n_lines:,} lines ({len(raw) / 1e6:.0f} MB) ready in {written_s:.1f} s; timing the load…")
        data = load_dataset(folder)
        assert data.n_ratings == n_lines and data.rating_step == 0.5 and data.name == "ml-25m", data.summary()
        assert data.item_titles is not None and any("," in title for title in data.item_titles)
        return {
            "ml25m_like_lines": n_lines,
            "ml25m_like_ratings_csv_mb": round(len(raw) / 1e6, 1),
            "ml25m_like_users": data.n_users,
            "ml25m_like_items": data.n_items,
            "ml25m_like_scale": data.summary()["rating_scale"],
            "ml25m_like_parse_ratings_table_s": best_of(lambda: parse_ratings_table(raw, "ratings.csv"), 2),
            "ml25m_like_load_dataset_s": best_of(lambda: load_dataset(folder), 2),
            "ml25m_like_write_s": written_s,
        }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ml1m", nargs="?", default=str(DEFAULT_ML1M))
    parser.add_argument("--lines", type=int, default=ML25M_LINES, help="ratings in the generated ML-25M-like file")
    parser.add_argument("--keep", type=Path, default=None, help="write (or reuse) the generated folder here")
    args = parser.parse_args(argv)
    results = {**bench_ml1m(Path(args.ml1m)), **bench_ml25m_like(args.lines, args.keep), "repeats": REPEATS,
               "python": platform.python_version(), "pandas": pd.__version__, "machine": platform.machine()}
    results = {key: round(value, 4) if isinstance(value, float) else value for key, value in results.items()}
    for key, value in results.items():
        print(f"{key:34} {value:.3f}" if isinstance(value, float) else f"{key:34} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO_ROOT)}")
    over = results.get("parse_ml1m_ratings_s", 0) > PARSE_BUDGET_S
    over |= args.lines >= ML25M_LINES and results["ml25m_like_load_dataset_s"] > ML25M_BUDGET_S
    if over:
        print(f"over budget: ML-1M parsing above {PARSE_BUDGET_S} s or 25M lines above {ML25M_BUDGET_S} s")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
