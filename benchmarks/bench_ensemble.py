"""Toward issue 17's target (ML-1M ≤ 0.828 on the literature's protocol): K default DMF models trained on the same
split from different initial seeds, their predictions averaged. Every member selects its own epoch on validation;
the ensemble's size is reported for each k ≤ K on validation *and* test, so a choice of k can be made on validation
alone. Nothing is selected on test.

    python benchmarks/bench_ensemble.py [--data ml-1m] [--members 3] [--max-seconds 300] [--out FILE]

Writes benchmarks/results/ensemble-<data>.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch's import, as dmf_core sets it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from bench_literature import LITERATURE_SPLIT  # noqa: E402

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig  # noqa: E402
from dmf_core.data import load_dataset  # noqa: E402
from dmf_core.data.split import TEST, VAL  # noqa: E402
from dmf_core.runs.folder import train_run  # noqa: E402
from dmf_core.scoring.metrics import rmse  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="ml-1m")
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="for all members together")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/ensemble-<data>.json")
    args = parser.parse_args()
    data = load_dataset(args.data)
    split_config = SplitConfig(**LITERATURE_SPLIT, seed=0)
    rows: list[dict] = []
    val_sum = test_sum = None
    spent = 0.0
    for member in range(args.members):
        budget = (args.max_seconds - spent) / (args.members - member)
        started = time.perf_counter()
        metrics, result = train_run(data, split_config, ModelConfig(companion="none"), TrainConfig(seed=member, max_seconds=budget))
        spent += result.train_seconds
        val, test = result.split.role == VAL, result.split.role == TEST
        val_pred = result.predictor.continuous(data.users[val], data.items[val]).astype(np.float64)
        test_pred = result.predictor.continuous(data.users[test], data.items[test]).astype(np.float64)
        val_sum = val_pred if val_sum is None else val_sum + val_pred
        test_sum = test_pred if test_sum is None else test_sum + test_pred
        k = member + 1
        row = {"members": k, "member_val_rmse": metrics["val_rmse"], "member_test_rmse": metrics["areas"]["I"]["rmse"],
               "ensemble_val_rmse": rmse(val_sum / k, data.ratings[val]),
               "ensemble_test_rmse": rmse(test_sum / k, data.ratings[test]),
               "training_seconds_so_far": spent, "wall_seconds": time.perf_counter() - started}
        rows.append(row)
        print(f"{k} member(s): member val {row['member_val_rmse']:.4f} test {row['member_test_rmse']:.4f}; "
              f"ensemble val {row['ensemble_val_rmse']:.4f} test {row['ensemble_test_rmse']:.4f}; "
              f"{spent:.0f} s of training so far", flush=True)
    out = args.out or Path(__file__).parent / "results" / f"ensemble-{data.name}.json"
    out.write_text(json.dumps({"data": data.name, "split": "literature 85/5/10, seed 0", "rows": rows,
                               "load_average": os.getloadavg()}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
