"""The library's speed on MovieLens-1M (issue 16), on 2 CPU threads:

- `DMF().fit` against `python -m dmf_core train` with the same settings: target within 10% of the command's time.
  Both are timed from the start (the command's interpreter start and imports included; `fit`'s data loading
  included) to the trained model, with the same epoch cap and time budget; epochs run and seconds per epoch are
  reported beside, since a time budget stops both at the same training time;
- `recommend` once the model is loaded (`DMF.load` of the command's run folder): target under 50 ms;
- `predict` of 1,000,000 (user, item) pairs with the data's own ids: target under 2 s.

    python benchmarks/bench_api.py [--epochs 8] [--max-seconds 60] [--threads 2]

Writes benchmarks/results/api.json (or --out). Tests never time anything; this script does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as dmf_core sets it, before torch is imported

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dmf_core import DMF  # noqa: E402
from dmf_core.data import load_dataset  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def time_cli(args: argparse.Namespace, out: Path) -> dict:
    command = [sys.executable, "-m", "dmf_core", "train", "--data", args.data, "--epochs", str(args.epochs),
               "--max-seconds", str(args.max_seconds), "--device", "cpu", "--quiet", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, env=env, capture_output=True)
    wall = time.perf_counter() - started
    metrics = json.loads((out / "metrics.json").read_text())
    return {"wall_seconds": wall, "train_seconds": metrics["train_seconds"], "epochs": metrics["epochs_run"],
            "seconds_per_epoch": metrics["train_seconds"] / max(1, metrics["epochs_run"]),
            "test_rmse_area_I": metrics["areas"]["I"]["rmse"]}


def time_fit(args: argparse.Namespace) -> tuple[dict, DMF]:
    started = time.perf_counter()
    # split="areas": the train command's split, so that both train on the same ratings and report test RMSE.
    model = DMF(epochs=args.epochs, max_seconds=args.max_seconds, device="cpu", quiet=True, split="areas").fit(args.data)
    wall = time.perf_counter() - started
    metrics = model.metrics_
    return {"wall_seconds": wall, "train_seconds": metrics["train_seconds"], "epochs": metrics["epochs_run"],
            "seconds_per_epoch": metrics["train_seconds"] / max(1, metrics["epochs_run"]),
            "test_rmse_area_I": metrics["areas"]["I"]["rmse"]}, model


def time_recommend(run: Path, repeats: int = 30) -> dict:
    started = time.perf_counter()
    model = DMF.load(run)
    load = time.perf_counter() - started
    data = model.observed_.data
    popular = data.item_ids[np.argsort(-model.observed_.popularity)[:200]]
    rng = np.random.default_rng(0)
    times = []
    for _ in range(repeats):
        mine = {item: float(rng.integers(1, 6)) for item in rng.choice(popular, size=10, replace=False)}
        started = time.perf_counter()
        recs = model.recommend(mine, k=10)
        times.append(time.perf_counter() - started)
        assert len(recs) == 10
    return {"load_seconds": load, "median_ms": 1000 * float(np.median(times)), "max_ms": 1000 * float(np.max(times)),
            "repeats": repeats}, model


def time_predict(model: DMF, n: int = 1_000_000, repeats: int = 3) -> dict:
    data = model.observed_.data
    rng = np.random.default_rng(0)
    pairs = pd.DataFrame({"user": data.user_ids[rng.integers(0, data.n_users, n)],
                          "item": data.item_ids[rng.integers(0, data.n_items, n)]})
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        pred = model.predict(pairs)
        times.append(time.perf_counter() - started)
    assert pred.shape == (n,) and np.isfinite(pred).all()
    return {"pairs": n, "median_seconds": float(np.median(times)), "min_seconds": float(np.min(times))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="ml-1m")
    parser.add_argument("--epochs", type=int, default=8, help="epoch cap of both runs (default 8)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time budget of both runs (default 60)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS / "api.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_dataset(args.data)  # a first read warms the file cache for both runs
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        cli = time_cli(args, run)
        print(f"train command: {cli['wall_seconds']:.1f} s ({cli['epochs']} epochs, {cli['seconds_per_epoch']:.2f} s "
              "each)", flush=True)
        fit, _ = time_fit(args)
        print(f"DMF().fit:     {fit['wall_seconds']:.1f} s ({fit['epochs']} epochs, {fit['seconds_per_epoch']:.2f} s "
              "each)", flush=True)
        recommend, model = time_recommend(run)
        print(f"recommend after load: median {recommend['median_ms']:.1f} ms (load {recommend['load_seconds']:.2f} s)")
        predict = time_predict(model)
        print(f"predict 1M pairs: median {predict['median_seconds']:.2f} s")
    ratio = fit["wall_seconds"] / cli["wall_seconds"]
    per_epoch = fit["seconds_per_epoch"] / cli["seconds_per_epoch"]
    result = {
        "data": args.data, "threads": args.threads, "epochs_cap": args.epochs, "max_seconds": args.max_seconds,
        "machine": platform.platform(), "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
        "cli": cli, "fit": fit, "fit_over_cli_wall": ratio, "fit_over_cli_seconds_per_epoch": per_epoch,
        "recommend": recommend, "predict": predict,
        "targets": {"fit_within_10_percent": ratio <= 1.10, "recommend_under_50_ms": recommend["median_ms"] < 50,
                    "predict_1m_under_2_s": predict["median_seconds"] < 2.0},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"fit / command: {ratio:.3f} wall, {per_epoch:.3f} per epoch; targets: {result['targets']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
