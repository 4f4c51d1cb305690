"""`python -m dmf_core reproduce --table {1,2,all}`: the paper's two tables, measured on the same seeded splits.

Table 1 (RMSE per area, 10% new users / 10% new items): DMF, U-AutoRec, I-AutoRec, biased MF and global mean +
biases. Table 2 (discrete completion, no held-out users or items): DMF-D, DMF + rounding, MF + rounding and
biases + rounding. Each (model, seed) writes `OUT/tableN/<model>-seed<k>.json` as soon as it finishes; a rerun
skips the files whose settings match, so an interrupted reproduction resumes. The aggregate goes to
`OUT/tableN.json` and `OUT/tableN.md`: mean ± std over seeds, the paper's values alongside, time and hardware.

Every model has an explicit time budget per seed (`FULL_PLAN`, `QUICK_PLAN`): DMF is cut by
`TrainConfig.max_seconds`, the baselines by an epoch cap plus the same time cap. The plan's total is printed first.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import torch

from ..config import to_dict
from ..data import RatingData, load_dataset
from ..data.split import AREAS, split_areas
from ..device import describe_device, pick_device
from ..files import write_json
from ..progress import ProgressBar
from .plans import FULL_PLAN, QUICK_PLAN, TABLE_ENTRIES, TABLES, Plan, split_config
from .tables import DASH, aggregate, dataset_record, default_out, saved_result, seed_path, to_markdown, write_outputs

# ---------------------------------------------------------------------------------------------------------------
# Hardware


def hardware_info(device: str = "auto") -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "dmf_device": describe_device(pick_device(device)),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }



# ---------------------------------------------------------------------------------------------------------------
# Running one (model, seed)


def _pick(row: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    return None if row is None else {k: row[k] for k in keys if k in row}


def scores_from_metrics(table: int, key: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The numbers a table shows, from DMF's or a baseline's metrics dict (same shape)."""
    if table == 1:
        return {area: _pick(metrics["areas"][area], ("rmse", "mae", "n")) for area in AREAS}
    # a DMF-D whose quantizer never trained has no discrete scores: its rounded ones are plain DMF's, and its record
    # says so (fit.quantizer_trained, the tables' quantizer_never_trained)
    discrete = (metrics.get("discrete_overall") if key == "dmf-d" else None) or metrics["rounded_overall"]
    scores = dict(_pick(discrete, ("rmse", "mae", "accuracy", "n")) or {})
    scores["continuous_rmse"] = metrics["overall"]["rmse"]
    scores["continuous_mae"] = metrics["overall"]["mae"]
    if key == "dmf-d" and metrics.get("quantizer"):  # validation: DMF-D's selected model and its start (rounding)
        scores["val_rmse"] = metrics.get("val_rmse")
        scores["start_val_rmse"] = metrics["quantizer"].get("start_val_rmse")
        scores["selected_start"] = metrics["quantizer"].get("selected_start")
    if metrics.get("fitted"):  # DMF's output with boundaries fitted on validation (reproduction.dmf)
        for name, value in _pick(metrics["fitted"]["overall"], ("rmse", "mae", "accuracy")).items():
            scores[f"fitted_{name}"] = value
        scores["fitted_continuous_rmse"] = scores["continuous_rmse"]
    return scores



def run_entry(
    table: int,
    key: str,
    seed: int,
    data: RatingData,
    plan: Plan,
    *,
    device: str = "auto",
    log: TextIO | None = None,
    stop_event: threading.Event | None = None,
) -> dict[str, Any] | None:
    """Train and score one model on one seed's split. Returns the per-seed record, or None if stopped midway."""
    log = log if log is not None else sys.stderr
    started = time.perf_counter()
    split_cfg = split_config(table, seed)
    split = split_areas(data, split_cfg)
    model = plan.make_model(table, key, seed, device)
    # The train command's bar, redrawn in place: DMF and the baselines look alike, and the log stays short.
    bar = ProgressBar(model.max_epochs, stream=log, keep_epochs=False)
    info = model.fit(data, split, on_epoch=bar.epoch_done, on_step=bar.step, stop_event=stop_event)
    if info.stop_reason == "stopped":
        return None
    metrics = model.evaluate(data, split)
    fit = {"epochs_run": info.epochs_run, "best_epoch": info.best_epoch, "stop_reason": info.stop_reason,
           "train_seconds": info.seconds, "device": info.device, "best_val_rmse": info.best_val_rmse}
    if info.quantizer_trained is not None:  # DMF-D: a seed whose quantizer never trained is flagged in the tables
        fit["quantizer_trained"] = info.quantizer_trained
    log.write("\n")
    return {
        "table": table,
        "model": key,
        "seed": seed,
        "plan": plan.name,
        "dataset": dataset_record(data),
        "split": to_dict(split_cfg),
        "settings": plan.settings(table, key),
        "scores": scores_from_metrics(table, key, metrics),
        "fit": fit,
        "seconds": time.perf_counter() - started,
        "hardware": hardware_info(device),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _describe(scores: dict[str, Any], table: int) -> str:
    if table == 1:
        return " ".join(f"{a} {s['rmse']:.4f}" if s else f"{a} {DASH}" for a, s in scores.items())
    return f"RMSE {scores['rmse']:.4f} MAE {scores['mae']:.4f} acc {scores['accuracy']:.3f}"


ProgressCallback = Callable[[dict[str, Any]], None]


def reproduce_table(
    table: int,
    data: RatingData,
    out_dir: str | Path,
    plan: Plan,
    *,
    seeds: int | None = None,
    device: str = "auto",
    command: str = "",
    log: TextIO | None = None,
    on_progress: ProgressCallback | None = None,
    stop_event: threading.Event | None = None,
) -> dict[str, Any]:
    """Run every (model, seed) of a table that has no matching saved result, then write the aggregate.
    `on_progress` gets {"table", "done", "total", "model", "seed", "status"} before and after each run."""
    log = log if log is not None else sys.stderr
    out_dir = Path(out_dir)
    n_seeds = plan.seeds if seeds is None else seeds
    entries = TABLE_ENTRIES[table]
    budgets = ", ".join(f"{e.label} {plan.budget(table, e.key):.0f} s" for e in entries)
    log.write(f"table {table} on {data.name} ({data.n_ratings:,} ratings), plan {plan.name}: {n_seeds} seed(s) × "
              f"{len(entries)} models; training budget {plan.planned_seconds(table, n_seeds) / 60:.1f} min "
              f"({budgets} per seed)\n")
    started = time.perf_counter()
    dataset = dataset_record(data)
    runs = [(seed, entry) for seed in range(n_seeds) for entry in entries]
    for done, (seed, entry) in enumerate(runs):
        progress = {"table": table, "done": done, "total": len(runs), "model": entry.label, "seed": seed}
        if stop_event is not None and stop_event.is_set():
            break
        path = seed_path(out_dir, table, entry.key, seed)
        prefix = f"[{done + 1}/{len(runs)}] {entry.label}, seed {seed}"
        if saved_result(path, dataset, plan, table, entry.key) is not None:
            log.write(f"{prefix}: reusing {path}\n")
            continue
        log.write(f"{prefix} (budget {plan.budget(table, entry.key):.0f} s)\n")
        log.flush()
        if on_progress is not None:
            on_progress({**progress, "status": "running"})
        record = run_entry(table, entry.key, seed, data, plan, device=device, log=log, stop_event=stop_event)
        if record is None:
            log.write(f"{prefix}: stopped, nothing saved\n")
            break
        record["label"] = entry.label
        write_json(record, path)
        log.write(f"{prefix}: {_describe(record['scores'], table)} in {record['seconds']:.0f} s\n")
        if on_progress is not None:
            on_progress({**progress, "done": done + 1, "status": "finished"})
    summary = aggregate(table, out_dir, n_seeds, data, plan, command=command,
                        session_seconds=time.perf_counter() - started)
    write_outputs(summary, out_dir)
    return summary


# ---------------------------------------------------------------------------------------------------------------
# CLI


MAX_SEEDS = 100  # a reproduction of more seeds is a mistyped number, not an experiment
MAX_THREADS = 1024


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="reproduce the paper's Table 1 / Table 2 with the baselines, over seeded splits",
        description="Train DMF (or DMF-D) and the baselines on the same seeded splits, write per-seed JSON "
        "(finished seeds are reused on a rerun) and the aggregated OUT/tableN.md + .json with the paper's values.",
    )
    parser.add_argument("--table", choices=["1", "2", "all"], default="all", help="which table (default: both)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_PLAN.seeds} seed, a few epochs: both tables on ML-1M in under 5 minutes")
    parser.add_argument("--data", default="ml-1m", help="'ml-1m' (default), 'demo', or a path to MovieLens data")
    parser.add_argument("--seeds", type=int, help=f"number of seeds, 0..N-1 (default {FULL_PLAN.seeds}; "
                        f"{QUICK_PLAN.seeds} with --quick)")
    parser.add_argument("--out", help="results folder (default: results/ for the full ML-1M run, "
                        "results/tmp/<quick-><data>/ otherwise)")
    parser.add_argument("--device", default="auto", help="device for DMF / DMF-D (baselines run on the CPU)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice, one per core)")
    parser.add_argument("--check", action="store_true", help="check the flags and the data, print the plan, and stop")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Every flag is checked before anything loads or trains.
    if args.seeds is not None and not 1 <= args.seeds <= MAX_SEEDS:
        raise ValueError(f"--seeds must be in 1..{MAX_SEEDS}, got {args.seeds}")
    if args.threads is not None and not 1 <= args.threads <= MAX_THREADS:
        raise ValueError(f"--threads must be in 1..{MAX_THREADS}, got {args.threads}")
    pick_device(args.device)
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    data = load_dataset(args.data)
    out_dir = Path(args.out) if args.out else default_out(data.name, args.quick)
    tables = TABLES if args.table == "all" else (int(args.table),)
    if args.check:
        seeds = args.seeds or plan.seeds
        minutes = sum(plan.planned_seconds(table, seeds) for table in tables) / 60
        print(f"flags OK: plan {plan.name}, {seeds} seed(s), tables {', '.join(map(str, tables))} on {data.name} "
              f"({data.n_ratings:,} ratings), about {minutes:.0f} min of training, into {out_dir}")
        return 0
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    command = "python -m dmf_core " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["reproduce"] else ""
    started = time.perf_counter()
    for table in tables:
        summary = reproduce_table(table, data, out_dir, plan, seeds=args.seeds, device=args.device,
                                  command=command)
        print(to_markdown(summary))
    print(f"wrote {', '.join(str(out_dir / f'table{t}.md') for t in tables)} in "
          f"{(time.perf_counter() - started) / 60:.1f} min")
    return 0
