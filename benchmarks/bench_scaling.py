"""How an epoch's cost grows with the matrix: generated data from 1M to 25M ratings (ML-25M's 162,000 × 59,000).

Each size runs in its own process, so its peak memory (ru_maxrss) is its own. A size trains `--epochs` epochs of
default DMF (blocks derived from the data) with the validation pass, and reports the epoch time, the time per
training rating, the time to generate the data and the whole fit (setup, epochs, validation, calibration), and the
peak resident memory (and the peak GPU memory on cuda). Results go to benchmarks/results/scaling-<device>.json (or --out), the curves to a Plotly HTML
file beside it when plotly is installed. Exits 1 when a size fails.

    python benchmarks/bench_scaling.py                      # 1M, 5M, 25M
    python benchmarks/bench_scaling.py --sizes 6040x3706x1000000 --epochs 1
    python benchmarks/bench_scaling.py --sizes 6040x3706x1000000,162000x59000x25000000 --device cuda
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = ("6040x3706x1000000", "30000x8000x5000000", "162000x59000x25000000")


def measure(size: str, epochs: int, device: str, threads: int) -> dict:
    import torch

    from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
    from dmf_core.data import load_dataset
    from dmf_core.data.split import split_areas
    from dmf_core.training.derive import DataShape, derive, steps_per_epoch
    from dmf_core.training.train import fit

    torch.set_num_threads(threads)
    started = time.perf_counter()
    data = load_dataset(f"demo:{size}")
    generate_seconds = time.perf_counter() - started
    split = split_areas(data, SplitConfig())
    shape = DataShape.of(split)
    train_ratings = int(split.train_mask().sum())
    config, derived = derive(TrainConfig(epochs=epochs, patience=0, device=device), shape)
    epoch_times: list[float] = []
    fit_started = time.perf_counter()
    result = fit(data, split, ModelConfig(companion="none"), config, on_epoch=lambda r: epoch_times.append(r["epoch_seconds"]))
    fit_seconds = time.perf_counter() - fit_started
    epoch = min(epoch_times)
    gpu = {}
    if result.device.startswith("cuda"):
        gpu = {"gpu": torch.cuda.get_device_name(result.device),
               "peak_gpu_gib": torch.cuda.max_memory_allocated(result.device) / 2**30,
               "peak_gpu_reserved_gib": torch.cuda.max_memory_reserved(result.device) / 2**30}
    return {
        "size": size,
        "n_ratings": data.n_ratings,
        "train_ratings": train_ratings,
        "block_users": config.block_users,
        "block_items": config.block_items,
        "steps_per_epoch": steps_per_epoch(config, shape),
        "epoch_seconds": epoch,
        "epoch_seconds_all": epoch_times,
        "us_per_train_rating": epoch / train_ratings * 1e6,
        "generate_seconds": generate_seconds,
        # fit() from start to end: biases, inputs to the device, every epoch with its validation pass, calibration
        "fit_seconds": fit_seconds,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "val_rmse": result.val_rmse,
        "device": result.device,
        "threads": threads,
        "derived": derived,
        **gpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated USERSxITEMSxRATINGS")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per size; the fastest is reported (default 2)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="result file (default benchmarks/results/scaling-<device>.json)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one size in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.epochs, args.device, args.threads)))
        return 0
    rows = []
    for size in args.sizes.split(","):
        command = [sys.executable, __file__, "--one", size, "--epochs", str(args.epochs), "--device", args.device,
                   "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{size}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            rows.append({"size": size, "error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"})
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        gpu = f", peak GPU {row['peak_gpu_gib']:.2f} GiB allocated" if "peak_gpu_gib" in row else ""
        print(f"{size:>24}: {row['train_ratings']:>10,} training ratings, blocks {row['block_users']}×"
              f"{row['block_items']} ({row['steps_per_epoch']} steps), epoch {row['epoch_seconds']:.1f} s = "
              f"{row['us_per_train_rating']:.2f} µs/rating, peak {row['peak_rss_gib']:.2f} GiB{gpu}", flush=True)
        print(f"{'':>24}  generated in {row['generate_seconds']:.1f} s; fit {row['fit_seconds']:.1f} s in all "
              f"(epochs {', '.join(f'{t:.2f}' for t in row['epoch_seconds_all'])} s); best validation RMSE "
              f"{row['val_rmse']:.4f}; {row['device']}{' (' + row['gpu'] + ')' if 'gpu' in row else ''}", flush=True)
    ok = [r for r in rows if "error" not in r]
    growth = ok[-1]["us_per_train_rating"] / ok[0]["us_per_train_rating"] if len(ok) > 1 else None
    if growth is not None:
        print(f"cost per training rating, largest / smallest: ×{growth:.2f} (target ≤ ×2)")
    out = args.out or ROOT / "benchmarks" / "results" / f"scaling-{args.device.split(':')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "cost_growth": growth}, indent=1))
    print(f"wrote {out}")
    if ok:
        try:
            figure = draw(ok)
        except ImportError:
            print("figure skipped: plotly is not installed")
        else:
            figure.write_html(out.with_suffix(".html"), include_plotlyjs="cdn")
            print(f"wrote {out.with_suffix('.html')}")
    return 0 if len(ok) == len(rows) else 1


def draw(rows: list[dict]):
    """Epoch time per training rating and peak memory against the number of ratings, from the results rows."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ratings = [r["n_ratings"] for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("epoch time per training rating (µs)", "peak memory (GiB)"))
    fig.add_trace(go.Scatter(x=ratings, y=[r["us_per_train_rating"] for r in rows], mode="lines+markers",
                             name="µs / rating"), row=1, col=1)
    fig.add_trace(go.Scatter(x=ratings, y=[r["peak_rss_gib"] for r in rows], mode="lines+markers",
                             name="peak RSS"), row=1, col=2)
    fig.update_xaxes(type="log", title_text="ratings")
    fig.update_layout(showlegend=False, height=380)
    return fig


if __name__ == "__main__":
    raise SystemExit(main())
