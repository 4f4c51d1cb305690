"""Do the default settings hold up beyond ML-1M? DMF and DMF-D with default flags against the simple baselines.

For each dataset and seed, with nothing tuned per dataset:
- Table-1 split (10% new users, 10% new items): DMF's test RMSE per area beside global mean + biases (every area)
  and our biased MF (area I);
- Table-2 split (no new users or items): DMF-D's discrete test RMSE beside DMF + rounding and biases + rounding.
Every figure is a *test* score of the model selected on validation. Results are appended to
benchmarks/results/defaults.json as each run ends (a rerun skips what is there); the summary is printed and saved.

    python benchmarks/bench_defaults.py                       # everything (about 30 min on 2 cores)
    python benchmarks/bench_defaults.py --datasets demo --seeds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig  # noqa: E402
from dmf_core.data import RatingData, from_triples, load_dataset  # noqa: E402
from dmf_core.data.split import AREAS, split_areas  # noqa: E402
from dmf_core.reproduction.models import make_baseline  # noqa: E402
from dmf_core.runs.folder import train_run  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "defaults.json"
# dataset -> (seeds of Table 1, seeds of Table 2)
PLAN = {"demo": (5, 3), "ml1m-10": (1, 1), "ml1m-30": (1, 1), "ml1m": (5, 1)}


def subsample_users(data: RatingData, fraction: float, seed: int) -> RatingData:
    """A seeded share of the users with all their ratings (items nobody left drop out)."""
    rng = np.random.default_rng(seed)
    keep_user = np.zeros(data.n_users, dtype=bool)
    keep_user[rng.permutation(data.n_users)[: round(fraction * data.n_users)]] = True
    keep = keep_user[data.users]
    return from_triples(data.user_ids[data.users[keep]], data.item_ids[data.items[keep]], data.ratings[keep],
                        name=f"{data.name}-{round(fraction * 100)}%users", rating_scale=(*data.rating_scale, data.rating_step))


def load(name: str) -> RatingData:
    if name == "demo":
        return load_dataset("demo")
    full = load_dataset("ml-1m")
    if name == "ml1m":
        return full
    return subsample_users(full, int(name.split("-")[1]) / 100, seed=0)


def areas(scores: dict[str, Any], key: str = "rmse") -> dict[str, float | None]:
    return {area: (row[key] if row else None) for area, row in scores.items()}


def table1(data: RatingData, seed: int) -> dict[str, Any]:
    split_config = SplitConfig(seed=seed)
    started = time.perf_counter()
    metrics, result = train_run(data, split_config, ModelConfig(), TrainConfig(seed=seed))
    dmf_seconds = time.perf_counter() - started
    split = split_areas(data, split_config)
    mf = make_baseline("mf", seed)
    mf.fit(data, split)
    companion = metrics.get("companion") or {}
    return {
        "dmf": areas(metrics["areas"]),  # with the companion trained: area I is the blend (the default's output)
        **({"dmf_alone": dict(companion["dmf_alone_areas"])} if companion.get("trained") else {}),
        "bias": areas(metrics["baseline"]["areas"]),
        "mf": areas(mf.evaluate(data, split)["areas"]),
        "dmf_epochs": result.epochs_run,
        "dmf_best_epoch": result.best_epoch,
        "dmf_seconds": dmf_seconds,
        "derived": metrics["derived"],
    }


def table2(data: RatingData, seed: int) -> dict[str, Any]:
    split_config = SplitConfig(new_user_frac=0.0, new_item_frac=0.0, seed=seed)
    # DMF's own output, rounded, against DMF-D's quantizer of it: both without the companion (DMF-D has none).
    dmf, _ = train_run(data, split_config, ModelConfig(companion="none"), TrainConfig(seed=seed))
    dmfd, result = train_run(data, split_config, ModelConfig(), TrainConfig(model="dmf-d", seed=seed))
    return {
        "dmf-d": dmfd["discrete_overall"]["rmse"],
        "dmf+rounding": dmf["rounded_overall"]["rmse"],
        "bias+rounding": dmf["baseline"]["rounded"]["I"]["rmse"],
        "dmf_continuous": dmf["overall"]["rmse"],
        "dmf-d_epochs": result.epochs_run,
        "dmf-d_lambda": dmfd["lambda"],
    }


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, runs in results.items():
        t1 = [r for key, r in runs.items() if key.startswith("t1-")]
        t2 = [r for key, r in runs.items() if key.startswith("t2-")]
        row: dict[str, Any] = {"t1_seeds": len(t1), "t2_seeds": len(t2)}
        if t1:
            for model in ("dmf", "dmf_alone", "bias", "mf"):
                if not all(model in r for r in t1):
                    continue
                row[model] = {a: statistics.fmean(r[model][a] for r in t1) if t1[0][model][a] is not None else None
                              for a in AREAS}
            row["dmf_area_I_std"] = statistics.stdev(r["dmf"]["I"] for r in t1) if len(t1) > 1 else None
            row["dmf_beats_bias_every_area"] = all(row["dmf"][a] < row["bias"][a] for a in AREAS
                                                   if row["dmf"][a] is not None)
            row["dmf_beats_mf_area_I"] = row["dmf"]["I"] < row["mf"]["I"]
        if t2:
            for model in ("dmf-d", "dmf+rounding", "bias+rounding"):
                row[model] = statistics.fmean(r[model] for r in t2)
            row["dmfd_beats_roundings"] = row["dmf-d"] < min(row["dmf+rounding"], row["bias+rounding"])
        summary[name] = row
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    print(f"\n{'dataset':<9} {'model':<14} {'I':>7} {'II':>7} {'III':>7} {'IV':>7}")
    for name, row in summary.items():
        for model in ("dmf", "dmf_alone", "bias", "mf"):
            if model in row:
                cells = " ".join(f"{row[model][a]:7.4f}" if row[model][a] is not None else "      -" for a in AREAS)
                print(f"{name:<9} {model:<14} {cells}   ({row['t1_seeds']} seeds)")
        if "dmf-d" in row:
            print(f"{name:<9} discrete RMSE: DMF-D {row['dmf-d']:.4f}, DMF+rounding {row['dmf+rounding']:.4f}, "
                  f"biases+rounding {row['bias+rounding']:.4f}   ({row['t2_seeds']} seeds)")
        verdicts = {k: v for k, v in row.items() if k.startswith(("dmf_beats", "dmfd_beats"))}
        print(f"{name:<9} {verdicts}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(PLAN), help=f"comma-separated, from {', '.join(PLAN)}")
    parser.add_argument("--seeds", type=int, help="seeds per dataset and table (default: the plan's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results: dict[str, Any] = json.loads(args.out.read_text()).get("runs", {}) if args.out.exists() else {}
    for name in args.datasets.split(","):
        if name not in PLAN:
            parser.error(f"unknown dataset {name!r}")
        data = load(name)
        seeds1, seeds2 = (args.seeds, args.seeds) if args.seeds else PLAN[name]
        runs = results.setdefault(name, {})
        for table, seeds, fn in ((1, seeds1, table1), (2, seeds2, table2)):
            for seed in range(seeds):
                key = f"t{table}-seed{seed}"
                if key in runs:
                    continue
                started = time.perf_counter()
                runs[key] = fn(data, seed)
                print(f"{name} {key}: {time.perf_counter() - started:.0f}s {json.dumps(runs[key], default=str)[:300]}",
                      flush=True)
                payload = {"machine": f"{torch.get_num_threads()} threads, CPU", "runs": results,
                           "summary": summarise(results)}
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(payload, indent=1))
    summary = summarise(results)
    print_summary(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
