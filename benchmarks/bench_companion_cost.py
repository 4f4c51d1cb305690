"""What the I-AutoRec companion (`--companion i-autorec`) costs beside DMF alone (`--companion none`) as the matrix
grows: generated data from 1M ratings to ML-25M's shape (162,000 users x 59,000 items).

Every size runs `python -m dmf_core train` twice, each in its own process (its peak resident memory is its own:
ru_maxrss of a wrapper's only child), capped by --timeout and by a memory guard that kills a run whose resident
memory passes --max-rss-gib (the machine is shared). DMF trains --epochs epochs; the companion then trains in what is
left of --max-seconds, so the companion's seconds per epoch are measured, and its whole cost (up to 30 epochs;
early stopping often ends it sooner) is projected from them. A run whose companion would not fit in memory or whose
epoch would not fit in the budget is refused before training (`estimate.check_companion_fits`): its one line is
recorded. Every size also records the estimate (`estimate.estimate_companion`) made before training, in a third
process. Results go to benchmarks/results/companion-cost.json (or --out).

    python benchmarks/bench_companion_cost.py
    python benchmarks/bench_companion_cost.py --sizes 20000x4000x1000000 --epochs 1 --max-seconds 120
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = ("20000x4000x1000000", "30000x8000x5000000", "162000x59000x25000000")
BUDGETS = {"20000x4000x1000000": 120, "30000x8000x5000000": 300, "162000x59000x25000000": 600}

# Runs `argv` with a memory guard; prints {"rc", "peak_rss_kib", "killed"}: ru_maxrss of its only child is its own.
WRAPPER = """
import json, resource, subprocess, sys, time
cap_kib = int(sys.argv[1]); child = subprocess.Popen(sys.argv[2:]); killed = False
while child.poll() is None:
    try:
        rss = int(next(line for line in open(f"/proc/{child.pid}/status") if line.startswith("VmRSS")).split()[1])
    except (OSError, StopIteration, ValueError):
        rss = 0
    if rss > cap_kib:
        child.kill(); killed = True
    time.sleep(0.5)
print(json.dumps({"rc": child.wait(), "peak_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "killed": killed}))
"""

ESTIMATE = """
import json, sys, time
from dmf_core.config import SplitConfig
from dmf_core.data import load_dataset
from dmf_core.device import pick_device
from dmf_core.training.estimate import available_bytes, estimate_companion
from dmf_core.data.split import split_areas
data = load_dataset(sys.argv[1]); split = split_areas(data, SplitConfig()); device = pick_device("cpu")
started = time.perf_counter(); cost = estimate_companion(data, split, device)
print(json.dumps({"peak_gib": cost.peak_bytes / 2**30, "epoch_seconds": cost.epoch_seconds, "epochs": cost.epochs,
                  "estimate_seconds": time.perf_counter() - started, "available_gib": available_bytes(device) / 2**30,
                  "line": cost.describe()}))
"""


def run_train(size: str, companion: str, epochs: int, max_seconds: float, timeout: float, cap_gib: float) -> dict:
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "dmf_core", "train", "--data", f"demo:{size}", "--epochs", str(epochs),
                "--companion", companion, "--max-seconds", str(max_seconds), "--device", "cpu", "--quiet",
                "--out", out]
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", WRAPPER, str(int(cap_gib * 2**20)), *argv], cwd=ROOT,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"size": size, "companion": companion, "outcome": f"timed out after {timeout:g} s"}
        wall = time.perf_counter() - started
        guard = json.loads(done.stdout.strip().splitlines()[-1])
        row = {"size": size, "companion": companion, "command": " ".join(["python", *argv[1:-2]]),
               "wall_seconds": wall, "peak_rss_gib": guard["peak_rss_kib"] / 2**20}
        metrics_path = Path(out) / "metrics.json"
        if guard["killed"]:
            return {**row, "outcome": f"killed: resident memory over {cap_gib:g} GiB"}
        if guard["rc"] != 0 or not metrics_path.exists():
            errors = [line for line in done.stderr.splitlines() if line.strip()]
            return {**row, "outcome": "refused", "line": errors[-1] if errors else f"exit {guard['rc']}"}
        metrics = json.loads(metrics_path.read_text())
    record = metrics.get("companion") or {}
    area = lambda scores: ((scores.get("areas") or {}).get("I") or {}).get("rmse")  # noqa: E731
    # Area I's test RMSE: the blend's where the companion trained; DMF alone's and the baseline's beside it.
    row.update(outcome="trained", train_seconds=metrics["train_seconds"], dmf_val_rmse=metrics["val_rmse"],
               test_rmse_area_I=area(metrics), baseline_test_rmse_area_I=area(metrics["baseline"]),
               dmf_alone_test_rmse_area_I=(record.get("dmf_alone_areas") or {}).get("I", area(metrics)))
    if record.get("trained"):
        per_epoch = record["seconds"] / record["epochs_run"]
        row["companion_record"] = {k: record.get(k) for k in ("epochs_run", "best_epoch", "stop_reason", "seconds",
                                                              "val_rmse_dmf_alone", "val_rmse_blend")}
        row["companion_seconds_per_epoch"] = per_epoch  # validation included
        row["companion_projected_seconds_30_epochs"] = 30 * per_epoch
    elif record:
        row["companion_record"] = record
    return row


def run_estimate(size: str, timeout: float) -> dict:
    try:
        done = subprocess.run([sys.executable, "-c", ESTIMATE, f"demo:{size}"], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError) as error:
        return {"error": str(error)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="USERSxITEMSxRATINGS of generated data, comma-separated")
    parser.add_argument("--epochs", type=int, default=1, help="DMF epochs per run (default 1)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="every run's time budget (default: per size, 120 / 300 / 600 s)")
    parser.add_argument("--timeout", type=float, default=1200, help="kill a run after this many seconds")
    parser.add_argument("--max-rss-gib", type=float, default=12.0, help="kill a run whose resident memory passes it")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "companion-cost.json"))
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        budget = args.max_seconds or BUDGETS.get(size, 600)
        estimate = run_estimate(size, args.timeout)
        print(f"{size}: estimate {estimate}", flush=True)
        for companion in ("none", "i-autorec"):
            row = run_train(size, companion, args.epochs, budget, args.timeout, args.max_rss_gib)
            row["estimate"] = estimate if companion == "i-autorec" else None
            rows.append(row)
            print(json.dumps(row), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "epochs": args.epochs, "device": "cpu",
                                          "note": "companion_projected_seconds_30_epochs = 30 x measured seconds "
                                                  "per companion epoch (its cap; early stopping may end sooner)"},
                                         indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
