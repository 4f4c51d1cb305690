"""Time the Playground's training on its planted 12 × 10 matrix (target: under 1 s on a CPU).

    python benchmarks/bench_playground.py [--repeats 5]

Trains `studio.playground.train` (the engine's own `dmf_core.training.train.fit`, 3-d latent space, the page's default
settings) --repeats times after one warm-up (the first call in a process also pays torch's start-up), and reports
the best and median of: `fit`'s own training time (what the page shows), and the whole call with the per-epoch
recording of every point (what a reader waits for after an edit); with torch's default thread count (the app's),
then with one thread (tensors this small gain nothing from a second one, and lose much when the cores are busy); and
the sphere the page then draws (one frame an epoch), built and serialised as Streamlit sends it. Also records how
well the planted groups come out (mean cosine within and across groups, RMSE on the typed ratings). Writes
benchmarks/results/playground.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script from anywhere, like the app

import dmf_core  # noqa: E402, F401, I001  (first: passive OpenMP waiting, set before torch starts its threads)
import numpy as np  # noqa: E402
import plotly.io as pio  # noqa: E402
import torch  # noqa: E402

from studio import playground as pg  # noqa: E402
from studio import playground_view as view  # noqa: E402
from studio import sphere  # noqa: E402

OUT = REPO_ROOT / "benchmarks" / "results" / "playground.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    matrix, settings = pg.planted(), pg.Settings()
    threads = sorted({torch.get_num_threads(), 1}, reverse=True)
    timings, runs = {}, []
    for count in threads:  # torch's default thread count (the app's), then one thread
        torch.set_num_threads(count)
        pg.train(matrix, settings)  # warm-up
        runs = [pg.train(matrix, settings) for _ in range(args.repeats)]
        fit_seconds = [run.seconds for run in runs]
        wall_seconds = [run.wall_seconds for run in runs]
        timings[f"{count}_threads"] = {
            "fit_seconds": {"best": min(fit_seconds), "median": statistics.median(fit_seconds), "all": fit_seconds},
            "with_recording_seconds": {"best": min(wall_seconds), "median": statistics.median(wall_seconds),
                                       "all": wall_seconds}}
        print(f"{count} thread(s): fit best {min(fit_seconds):.3f} s, median {statistics.median(fit_seconds):.3f} s; "
              f"with the per-epoch recording best {min(wall_seconds):.3f} s, median "
              f"{statistics.median(wall_seconds):.3f} s (target < 1 s)")
    shared, figure_seconds = pg.default_shared(), []
    for _ in range(args.repeats):
        started = time.perf_counter()
        pio.to_json(sphere.figure(view.scenes(runs[-1], shared, shared.pair)), validate=False)
        figure_seconds.append(time.perf_counter() - started)
    timings["sphere_figure_seconds"] = {"best": min(figure_seconds), "median": statistics.median(figure_seconds),
                                        "all": figure_seconds}
    print(f"the sphere ({settings.epochs} frames), built and serialised: best {min(figure_seconds):.3f} s, median "
          f"{statistics.median(figure_seconds):.3f} s")
    final = runs[-1].final
    cosine = final.users @ final.items.T
    same = np.equal.outer(pg.USER_GROUPS, pg.MOVIE_GROUPS)
    typed = np.isfinite(matrix)
    result = {
        "matrix": f"{matrix.shape[0]} users x {matrix.shape[1]} movies, {int(typed.sum())} ratings",
        "settings": {"hidden": list(settings.hidden), "epochs": settings.epochs, "lr": settings.lr,
                     "output": settings.output, "seed": settings.seed},
        "timings": timings,
        "target_seconds": 1.0,
        "load_average_1min": os.getloadavg()[0],
        "mean_cosine_within_groups": float(cosine[same].mean()),
        "mean_cosine_across_groups": float(cosine[~same].mean()),
        "rmse_on_typed_ratings": float(np.sqrt(np.mean((final.predictions[typed] - matrix[typed]) ** 2))),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"cosine within groups {result['mean_cosine_within_groups']:+.2f}, across "
          f"{result['mean_cosine_across_groups']:+.2f} -> {args.out}")


if __name__ == "__main__":
    main()
