"""Time the latent map on MovieLens-1M: projecting a trained run's 6,040 user and 3,706 item vectors and building
the WebGL figure, once the run is loaded.

    python benchmarks/bench_latent.py                         # trains a short ML-1M run into runs/ if none is there
    python benchmarks/bench_latent.py --run runs/my-ml1m-run  # any run folder (or checkpoint.pt) trained on ML-1M

Without --run it reuses runs/bench-latent-ml1m, training it first when missing (default DMF, 2 epochs at most, capped
by --max-seconds: the map's cost does not depend on how well the model is trained, only on the sizes).

Measured, best of --repeats (the machine is shared, so the minimum is the honest number):
  - loading (not part of the target): the checkpoint and RunAnalysis.build (restore, embed every user and item once,
    score the test set), and Predictor.build alone (the embedding pass);
  - the map (target < 2 s in all): `latent.build_map` (the PCA fit on the seen rows, projecting every row, the hover
    text), `latent.figure` and its JSON as Streamlit sends it (`plotly.io.to_json(fig, validate=False)`), for the
    default colouring and for the widest (occupation: 21 categories × seen/new);
  - a new user on the New user page: score_new_user + place + nearest_items + the figure with the star;
  - the PCA alone at the authors' width (d = 1024), on random unit vectors of the same count.
Writes benchmarks/results/latent.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import plotly.io as pio
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a plain script from anywhere, like the app

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig  # noqa: E402
from dmf_core.data import DataError, load_dataset  # noqa: E402
from dmf_core.device import describe_device  # noqa: E402
from dmf_core.runs.checkpoint import load as load_checkpoint  # noqa: E402
from dmf_core.runs.folder import CHECKPOINT_FILE, train_run  # noqa: E402
from dmf_core.scoring.predict import Predictor  # noqa: E402
from studio import latent  # noqa: E402
from studio.analysis import RunAnalysis, score_new_user  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results" / "latent.json"
DEFAULT_RUN = REPO_ROOT / "runs" / "bench-latent-ml1m"
TARGET_S = 2.0


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def checkpoint_path(run: Path) -> Path:
    return run if run.suffix == ".pt" else run / CHECKPOINT_FILE


def train_short_run(data, out: Path, epochs: int, max_seconds: float) -> float:
    print(f"no run given: training DMF on ML-1M into {out} ({epochs} epochs at most, {max_seconds:g} s budget)…")
    started = time.perf_counter()
    train_run(data, SplitConfig(), ModelConfig(), TrainConfig(epochs=epochs, max_seconds=max_seconds, device="cpu"),
              out)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="a run folder or checkpoint.pt trained on --data")
    parser.add_argument("--data", default="ml-1m", help="the run's dataset (default ml-1m)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the short run trained when --run is absent")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time budget of that short run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    try:
        data = load_dataset(args.data)
    except DataError as error:
        print(f"skipped: {error}")
        return 0
    run = args.run or DEFAULT_RUN
    trained_s = None
    if not checkpoint_path(run).is_file():
        if args.run is not None:
            print(f"error: no checkpoint at {checkpoint_path(run)}")
            return 1
        trained_s = train_short_run(data, run, args.epochs, args.max_seconds)

    torch.set_grad_enabled(False)
    r = args.repeats
    load_s, checkpoint = best_of(lambda: load_checkpoint(checkpoint_path(run)), r)
    analysis_s, analysis = best_of(lambda: RunAnalysis.build(checkpoint, data), min(r, 3))
    embed_s, _ = best_of(lambda: Predictor.build(analysis.model, analysis.inputs), r)

    build_s, latent_map = best_of(lambda: latent.build_map(analysis), r)
    fit_s, _ = best_of(lambda: latent.fit_projection(np.concatenate([
        analysis.predictor.user_factors.numpy()[~analysis.split.new_user],
        analysis.predictor.item_factors.numpy()[~analysis.split.new_item]])), r)
    colours: dict[str, dict[str, Any]] = {}
    for colour in dict.fromkeys([latent.SEEN_NEW, *latent_map.colour_choices()]):
        genre = next(iter(latent_map.genre_members), None) if colour == latent.GENRE else None
        figure_s, fig = best_of(lambda c=colour, g=genre: latent.figure(latent_map, c, g), r)
        json_s, payload = best_of(lambda f=fig: pio.to_json(f, validate=False), r)
        colours[colour] = {"figure_s": figure_s, "to_json_s": json_s, "traces": len(fig.data),
                           "points": int(sum(len(t.x) for t in fig.data)), "json_mb": len(payload) / 1e6}
    widest = max(colours, key=lambda c: colours[c]["figure_s"] + colours[c]["to_json_s"])
    map_total = build_s + colours[latent.SEEN_NEW]["figure_s"] + colours[latent.SEEN_NEW]["to_json_s"]
    map_total_widest = build_s + colours[widest]["figure_s"] + colours[widest]["to_json_s"]

    popular = np.argsort(-analysis.popularity)  # ratings in training, as the New user page ranks them
    rated = [int(i) for i in popular[:40] if not analysis.split.new_item[i]][:5]

    def new_user() -> str:
        result = score_new_user(analysis, rated, [5.0, 4.0, 3.0, 5.0, 1.0][: len(rated)])
        factor = result.factor[0].cpu().numpy()  # U_t, as the New user page places it
        nearest = latent.nearest_items(latent_map, factor, exclude=rated)
        fig = latent.figure(latent_map, you=latent_map.place(factor), nearest=nearest["item"].tolist())
        return pio.to_json(fig, validate=False)

    new_user_s, _ = best_of(new_user, r)
    wide = torch.nn.functional.normalize(torch.randn(data.n_users + data.n_items, 1024,
                                                     generator=torch.Generator().manual_seed(0)), dim=1).numpy()
    wide_s, _ = best_of(lambda: latent.fit_projection(wide), min(r, 3))

    results: dict[str, Any] = {
        "dataset": data.name,
        "run": str(run),
        "users": data.n_users,
        "items": data.n_items,
        "points": data.n_users + data.n_items,
        "latent_dims": latent_map.dims,
        "model": checkpoint["kind"],
        "pca_kept": [round(float(k), 4) for k in latent_map.projection.kept],
        "short_run_trained_s": trained_s,
        "load_checkpoint_s": load_s,
        "run_analysis_build_s": analysis_s,
        "embed_all_users_and_items_s": embed_s,
        "build_map_s": build_s,
        "pca_fit_s": fit_s,
        "colours": colours,
        "map_total_s": map_total,
        "map_total_widest_colouring": widest,
        "map_total_widest_s": map_total_widest,
        "target_s": TARGET_S,
        "meets_target": bool(max(map_total, map_total_widest) < TARGET_S),
        "new_user_point_and_figure_s": new_user_s,
        "pca_fit_d1024_s": wide_s,
        "repeats": r,
        "device": describe_device(torch.device("cpu")),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    results = json.loads(json.dumps(results, default=float),
                         parse_float=lambda text: round(float(text), 4))
    for key, value in results.items():
        if key != "colours":
            print(f"{key:>32}: {value}")
    for colour, row in results["colours"].items():
        print(f"{'colour = ' + colour:>32}: {row}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
