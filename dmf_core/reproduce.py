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
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import torch

from . import paper
from .baselines import evaluate_baseline, make_baseline
from .cli import ProgressBar
from .config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig, to_dict
from .data import RatingData, dataset_fingerprint, load_dataset
from .device import describe_device, pick_device
from .runs import train_run, write_json
from .split import AREAS, split_areas

if TYPE_CHECKING:
    from .jobs import TrainingSlot

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_ENV = "DMF_RESULTS_DIR"  # tests point the app's Results page elsewhere
TABLES = (1, 2)
DASH = "–"

# ---------------------------------------------------------------------------------------------------------------
# The paper's numbers: copied from its Tables 1 and 2, never measured here.

PAPER_TABLE1 = paper.TABLE1
PAPER_TABLE2 = paper.TABLE2
PAPER = {1: PAPER_TABLE1, 2: PAPER_TABLE2}
NOT_RUN_NOTE = {
    1: "Deep U-AutoRec (Kuchaiev & Ginsburg 2017) is not run: it is a different, deeper model; paper's value only.",
    2: "RankK, OPTSPACE, RDMC and ODMC are not run (no faithful implementation here); paper's values only.",
}


@dataclass(frozen=True)
class Entry:
    """One measured row: which model to train, and which row of the paper's table it is compared with."""

    key: str  # model kind and results-file stem: dmf, dmf-d, u-autorec, i-autorec, mf, bias
    label: str
    paper: str | None = None


TABLE_ENTRIES: dict[int, tuple[Entry, ...]] = {
    1: (
        Entry("dmf", "DMF", "DMF"),
        Entry("u-autorec", "U-AutoRec", "U-AutoRec"),
        Entry("i-autorec", "I-AutoRec", "I-AutoRec"),
        Entry("mf", "Biased MF"),
        Entry("bias", "Global mean + biases"),
    ),
    2: (
        Entry("dmf-d", "DMF-D", "DMF-D"),
        Entry("dmf", "DMF + rounding"),
        Entry("mf", "Biased MF + rounding"),
        Entry("bias", "Global mean + biases + rounding"),
    ),
}
TITLES = {
    1: "Table 1: RMSE per area (I seen users × seen items, II new users, III new items, IV new × new)",
    2: "Table 2: discrete matrix completion (predictions on the rating grid)",
}
COLUMNS: dict[int, tuple[str, ...]] = {1: AREAS, 2: ("rmse", "mae", "accuracy", "continuous_rmse")}
COLUMN_LABELS = {"rmse": "RMSE", "mae": "MAE", "accuracy": "exact-match acc.", "continuous_rmse": "RMSE before rounding"}


def split_config(table: int, seed: int) -> SplitConfig:
    """The seeded split of a table: default fractions for Table 1, no new users or items for Table 2."""
    if table == 1:
        return SplitConfig(seed=seed)
    return SplitConfig(new_user_frac=0.0, new_item_frac=0.0, seed=seed)


# ---------------------------------------------------------------------------------------------------------------
# Plans: explicit per-model time budgets


@dataclass(frozen=True)
class Plan:
    """Seconds per seed for every (table, model) and the settings each model trains with. DMF stops at its budget
    (`max_seconds`); a baseline stops at its epoch cap or its budget, whichever comes first."""

    name: str
    seeds: int
    budgets: dict[int, dict[str, float]]
    baseline_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    dmf_model: ModelConfig = field(default_factory=ModelConfig)
    dmf_train: TrainConfig = field(default_factory=TrainConfig)

    def budget(self, table: int, key: str) -> float:
        return self.budgets[table][key]

    def planned_seconds(self, table: int, seeds: int) -> float:
        return seeds * sum(self.budgets[table][entry.key] for entry in TABLE_ENTRIES[table])

    def dmf_config(self, table: int, key: str, seed: int, device: str = "auto") -> TrainConfig:
        return replace(self.dmf_train, model=key, seed=seed, device=device, max_seconds=self.budget(table, key))

    def baseline_kwargs(self, table: int, key: str) -> dict[str, Any]:
        kwargs = dict(self.baseline_overrides.get(key, {}))
        if key != "bias":  # the bias fit is closed-form and takes well under a second
            kwargs["max_seconds"] = self.budget(table, key)
        return kwargs

    def settings(self, table: int, key: str) -> dict[str, Any]:
        """Everything a per-seed result depends on besides data and split; a saved result is reused only if equal."""
        if key in ("dmf", "dmf-d"):
            train = to_dict(self.dmf_config(table, key, seed=0))
            train.pop("seed")
            train.pop("device")  # the same run on a GPU is still the same experiment
            return {"model": to_dict(self.dmf_model), "train": train}
        # The resolved config, defaults included: changing a default in baselines.py must not reuse old results.
        config = to_dict(make_baseline(key, seed=0, **self.baseline_kwargs(table, key)).config)
        config.pop("seed", None)
        return {"baseline": config}


# Budgets come from single-seed timings on the 2-core development machine (REPRODUCTION.md). One seed plans 231 s
# for Table 1 and 241 s for Table 2, so 5 seeds of both plan 39.3 min. Splitting, evaluation and the last DMF
# validation pass add ~3 s per DMF run, offset by baselines that stop early: seed 0 of both tables took 7 min 50 s
# in all, so the full run takes ~39 minutes, inside the 45 the issue allows.
# DMF-D's quantizer warm-up is cut from the default 12 epochs to 3, as a 110 s CPU budget gives only ~15 epochs:
# measured on seed 0, discrete RMSE 0.899 / MAE 0.626 (the paper: 0.898 / 0.625).
FULL_PLAN = Plan(
    name="full",
    seeds=5,
    budgets={
        1: {"dmf": 140.0, "u-autorec": 35.0, "i-autorec": 35.0, "mf": 20.0, "bias": 1.0},
        # DMF + rounding gets DMF-D's budget: the rounding-vs-learned-quantizer comparison is only fair that way.
        2: {"dmf-d": 110.0, "dmf": 110.0, "mf": 20.0, "bias": 1.0},
    },
    baseline_overrides={
        "u-autorec": {"epochs": 30},
        "i-autorec": {"epochs": 30},
        "mf": {"epochs": 40},
    },
    dmf_train=TrainConfig(quantizer=QuantizerConfig(warmup_epochs=3)),
)

# One seed and a fraction of the epochs: Table 1 + Table 2 on ML-1M in under 5 minutes on 2 cores (188 s of
# budgets plus overhead).
QUICK_PLAN = Plan(
    name="quick",
    seeds=1,
    budgets={
        1: {"dmf": 50.0, "u-autorec": 15.0, "i-autorec": 15.0, "mf": 8.0, "bias": 1.0},
        2: {"dmf-d": 45.0, "dmf": 45.0, "mf": 8.0, "bias": 1.0},
    },
    baseline_overrides={
        "u-autorec": {"epochs": 8, "lr_decay": 0.8},
        "i-autorec": {"epochs": 8, "lr_decay": 0.8},
        "mf": {"epochs": 10},
    },
    dmf_train=TrainConfig(quantizer=QuantizerConfig(warmup_epochs=2)),
)


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


def seed_path(out_dir: Path, table: int, key: str, seed: int) -> Path:
    return Path(out_dir) / f"table{table}" / f"{key}-seed{seed}.json"


def _pick(row: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    return None if row is None else {k: row[k] for k in keys if k in row}


def scores_from_metrics(table: int, key: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The numbers a table shows, from DMF's or a baseline's metrics dict (same shape)."""
    if table == 1:
        return {area: _pick(metrics["areas"][area], ("rmse", "mae", "n")) for area in AREAS}
    discrete = metrics["discrete_overall"] if key == "dmf-d" else metrics["rounded_overall"]
    scores = dict(_pick(discrete, ("rmse", "mae", "accuracy", "n")) or {})
    scores["continuous_rmse"] = metrics["overall"]["rmse"]
    scores["continuous_mae"] = metrics["overall"]["mae"]
    return scores


class _EpochLine:
    """One redrawn stderr line per baseline run: epoch, training loss, validation RMSE, seconds."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def __call__(self, report: dict[str, Any]) -> None:
        loss = f" loss {report['train_loss']:.4f}" if report.get("train_loss") is not None else ""
        val = f" val RMSE {report['val_rmse']:.4f}" if report.get("val_rmse") is not None else ""
        self.stream.write(f"\r  epoch {report['epoch']}/{report['epochs']}{loss}{val} {report['elapsed']:.0f}s  ")
        self.stream.flush()


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
    if key in ("dmf", "dmf-d"):
        train_cfg = plan.dmf_config(table, key, seed, device)
        bar = ProgressBar(train_cfg.epochs, stream=log)  # the train command's bar: both commands look alike
        metrics, result = train_run(data, split_cfg, plan.dmf_model, train_cfg, None,
                                    on_step=bar.step, on_epoch=bar.epoch_done, stop_event=stop_event)
        if result.stop_reason == "stopped":
            return None
        fit = {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "stop_reason": result.stop_reason,
               "train_seconds": result.train_seconds, "device": result.device, "best_val_rmse": result.best_val_rmse}
    else:
        split = split_areas(data, split_cfg)
        model = make_baseline(key, seed, **plan.baseline_kwargs(table, key))
        info = model.fit(data, split, on_epoch=_EpochLine(log))
        metrics = evaluate_baseline(model, data, split)
        fit = {"epochs_run": info.epochs_run, "best_epoch": info.best_epoch, "stop_reason": info.stop_reason,
               "train_seconds": info.seconds, "device": "cpu", "best_val_rmse": info.best_val_rmse}
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


def dataset_record(data: RatingData) -> dict[str, Any]:
    """Size and name for the tables, plus a content fingerprint so results of other data are never reused."""
    return {**data.summary(), "fingerprint": dataset_fingerprint(data)}


def _reusable(path: Path, dataset: dict[str, Any], plan: Plan, table: int, key: str) -> dict[str, Any] | None:
    """A saved per-seed result, if it was made on this data with these settings (JSON round-trip for equality)."""
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    wanted = json.loads(json.dumps({"dataset": dataset, "settings": plan.settings(table, key)}))
    if saved.get("dataset") == wanted["dataset"] and saved.get("settings") == wanted["settings"]:
        return saved
    return None


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
        if _reusable(path, dataset, plan, table, entry.key) is not None:
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
# Aggregation and the table writer


def mean_std(values: list[float]) -> dict[str, Any]:
    """Mean and sample standard deviation (None for one value: one seed shows no spread)."""
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "n": len(values),
        "values": values,
    }


def aggregate(
    table: int,
    out_dir: str | Path,
    seeds: int,
    data: RatingData,
    plan: Plan,
    *,
    command: str = "",
    session_seconds: float | None = None,
) -> dict[str, Any]:
    """Mean ± std per cell over the saved seeds 0..seeds-1 that match this data and plan."""
    out_dir = Path(out_dir)
    dataset = dataset_record(data)
    rows: list[dict[str, Any]] = []
    hardware: dict[str, Any] | None = None
    for entry in TABLE_ENTRIES[table]:
        records = []
        for seed in range(seeds):
            record = _reusable(seed_path(out_dir, table, entry.key, seed), dataset, plan, table, entry.key)
            if record is not None:
                records.append(record)
        cells: dict[str, Any] = {}
        for column in COLUMNS[table]:
            values = [r["scores"][column] for r in records]
            if table == 1:  # area cells hold {rmse, mae, n} or None where the model cannot serve the area
                values = [v["rmse"] for v in values if v is not None]
            values = [float(v) for v in values if v is not None]
            cells[column] = mean_std(values) if values else None
        paper = PAPER[table].get(entry.paper) if entry.paper else None
        rows.append({
            "key": entry.key,
            "label": entry.label,
            "paper_label": entry.paper,
            "seeds": [r["seed"] for r in records],
            "cells": cells,
            "paper": paper,
            "seconds_per_seed": mean_std([r["seconds"] for r in records]) if records else None,
            "epochs_run": [r["fit"]["epochs_run"] for r in records],
            "stop_reasons": sorted({r["fit"]["stop_reason"] for r in records}),
        })
        if records and hardware is None:
            hardware = records[-1]["hardware"]
    measured = {entry.paper for entry in TABLE_ENTRIES[table] if entry.paper}
    compute = sum(r["seconds_per_seed"]["mean"] * r["seconds_per_seed"]["n"] for r in rows if r["seconds_per_seed"])
    return {
        "table": table,
        "title": TITLES[table],
        "dataset": dataset,
        "plan": plan.name,
        "seeds_requested": seeds,
        "columns": list(COLUMNS[table]),
        "rows": rows,
        "paper": PAPER[table],
        "paper_only": [name for name in PAPER[table] if name not in measured],
        "not_run_note": NOT_RUN_NOTE[table],
        "compute_seconds": compute,
        "planned_seconds": plan.planned_seconds(table, seeds),
        "session_seconds": session_seconds,
        "hardware": hardware,
        "command": command,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def format_cell(cell: dict[str, Any] | None, digits: int = 4) -> str:
    if cell is None:
        return DASH
    if cell["std"] is None:
        return f"{cell['mean']:.{digits}f}"
    return f"{cell['mean']:.{digits}f} ± {cell['std']:.{digits}f}"


def _paper_value(value: float | None, table: int) -> str:
    if value is not None:
        return f"{value:.3f}"
    return DASH if table == 1 else "n/r"  # Table 1: cannot serve the area; Table 2: not reported by the paper


def _gap(cell: dict[str, Any] | None, paper: float | None) -> str:
    """ours − paper; starred where it exceeds the seed-to-seed std (or with one seed, where there is no spread)."""
    if cell is None or paper is None:
        return DASH
    gap = cell["mean"] - paper
    gap = 0.0 if abs(gap) < 5e-4 else gap  # no "-0.000"
    spread = cell["std"]
    star = "*" if spread is None or abs(gap) > spread else ""
    return f"{gap:+.3f}{star}"


def is_comparable(summary: dict[str, Any]) -> bool:
    """The paper's numbers are for MovieLens-1M: gaps against them mean nothing on other data (the demo)."""
    return summary["dataset"]["name"] == "ml-1m"


def display_rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """The table as rows of strings (Model, Source, one column per metric): shared by Markdown and the app."""
    table = summary["table"]
    columns = [(c, COLUMN_LABELS.get(c, c)) for c in summary["columns"]]
    out: list[dict[str, str]] = []

    def add(model: str, source: str, cell: Callable[[str], str]) -> None:
        out.append({"Model": model, "Source": source, **{label: cell(c) for c, label in columns}})

    comparable = is_comparable(summary)
    for row in summary["rows"]:
        seeds = len(row["seeds"])
        add(row["label"], f"measured ({seeds} seed{'s' if seeds != 1 else ''})",
            lambda c, row=row: format_cell(row["cells"][c]))
        if row["paper"] is not None:
            add(row["paper_label"], "paper", lambda c, row=row: _paper_value(row["paper"].get(c), table))
            if comparable:
                add(row["label"], "gap: measured − paper",
                    lambda c, row=row: _gap(row["cells"][c], row["paper"].get(c)))
    for name in summary["paper_only"]:
        add(name, "paper only (not run)", lambda c, name=name: _paper_value(summary["paper"][name].get(c), table))
    return out


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def paper_rows(table: int) -> list[dict[str, str]]:
    """The paper's table alone, in the same row format, for when nothing has been reproduced yet."""
    labels = [(c, COLUMN_LABELS.get(c, c)) for c in COLUMNS[table]]
    return [{"Model": name, "Source": "paper", **{label: _paper_value(values.get(c), table) for c, label in labels}}
            for name, values in PAPER[table].items()]


def to_markdown(summary: dict[str, Any]) -> str:
    rows = display_rows(summary)
    headers = list(rows[0].keys()) if rows else ["Model", "Source"]
    lines = [
        f"# {summary['title']}",
        "",
        f"Dataset: {summary['dataset']['name']} ({summary['dataset']['ratings']:,} ratings). "
        f"Plan: {summary['plan']}, seeds 0..{summary['seeds_requested'] - 1}; "
        "mean ± sample std over seeds. Rows whose source is *paper* are copied from the paper, not measured.",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(row.get(h, "") for h in headers) + " |" for row in rows]
    lines += [
        "",
        f"{DASH}: the model cannot score that area; n/r: not reported by the paper. "
        "Gaps marked * exceed the seed-to-seed standard deviation (or there is only one seed).",
        summary["not_run_note"],
    ]
    if not is_comparable(summary):
        lines.append(f"The paper's values are for MovieLens-1M; {summary['dataset']['name']} is other data, so they "
                     "are shown for reference only and no gaps are computed.")
    lines += [
        "",
        f"Training + evaluation time of the saved runs: {summary['compute_seconds'] / 60:.1f} min "
        f"(planned training budget {summary['planned_seconds'] / 60:.1f} min).",
    ]
    per_model = ", ".join(
        f"{row['label']} {row['seconds_per_seed']['mean']:.0f} s" for row in summary["rows"] if row["seconds_per_seed"]
    )
    if per_model:
        lines.append(f"Mean wall time per seed: {per_model}.")
    epochs = "; ".join(
        f"{row['label']} {_span(row['epochs_run'])} ({', '.join(row['stop_reasons'])})"
        for row in summary["rows"] if row["epochs_run"] and row["key"] != "bias"
    )
    if epochs:
        lines.append(f"Epochs run per seed (why training ended): {epochs}.")
    if summary["hardware"]:
        hw = summary["hardware"]
        threads = hw["torch_threads"]
        lines.append(f"Hardware: {hw['cpu']}, {hw['cpu_count']} CPUs, torch {hw['torch']} with {threads} "
                     f"thread{'s' if threads != 1 else ''}; DMF on {hw['dmf_device']}.")
    if summary["command"]:
        lines.append(f"Command: `{summary['command']}`")
    lines.append(f"Written {summary['written']}.")
    return "\n".join(lines) + "\n"


def write_outputs(summary: dict[str, Any], out_dir: str | Path) -> None:
    out_dir = Path(out_dir)
    write_json(summary, out_dir / f"table{summary['table']}.json")
    path = out_dir / f"table{summary['table']}.md"
    path.write_text(to_markdown(summary))


def load_summary(out_dir: str | Path, table: int) -> dict[str, Any] | None:
    """A saved `tableN.json`, or None if that table has not been reproduced in `out_dir`."""
    path = Path(out_dir) / f"table{table}.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


class _LastLine:
    """A text stream that keeps only its latest line (progress bars redraw with \r): what the app shows live."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._line = ""
        self._partial = ""

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            pieces = self._partial.replace("\r", "\n").split("\n")
            self._partial = pieces[-1]
            complete = [p.strip() for p in pieces[:-1] if p.strip()]
            if self._partial.strip():
                self._line = self._partial.strip()
            elif complete:
                self._line = complete[-1]
        return len(text)

    def flush(self) -> None:
        pass

    @property
    def line(self) -> str:
        with self._lock:
            return self._line


class ReproductionJob:
    """A reproduction in a daemon thread, for the app: tables run in order, progress is read via `snapshot()`.
    With a `slot` (the app's `JobRegistry.slot`) it waits for its turn, so it never competes with a training run
    for the same CPU cores. Stopping is honoured between runs and within a DMF step; finished seeds stay saved."""

    def __init__(self, data: RatingData, out_dir: str | Path, plan: Plan, *, tables: tuple[int, ...] = TABLES,
                 seeds: int | None = None, slot: TrainingSlot | None = None, job_id: str = "reproduction"):
        self.data = data
        self.out_dir = Path(out_dir)
        self.plan = plan
        self.tables = tables
        self.seeds = plan.seeds if seeds is None else seeds
        self.job_id = job_id
        self._slot = slot
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._log = _LastLine()
        self._state: dict[str, Any] = {"status": "queued", "done": 0, "current": "", "error": "",
                                       "started": None, "finished": None}
        self.total = sum(self.seeds * len(TABLE_ENTRIES[t]) for t in tables)
        self._thread = threading.Thread(target=self._run, name=f"dmf-{job_id}", daemon=True)

    def start(self) -> ReproductionJob:
        if self._slot is not None:
            self._slot.enqueue(self.job_id)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            state = dict(self._state)
        state.update(total=self.total, line=self._log.line, active=state["status"] in ("queued", "running"),
                     stop_requested=self._stop.is_set())
        started = state["started"]
        state["elapsed"] = ((state["finished"] or time.time()) - started) if started else 0.0
        return state

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._state.update(changes)

    def _run(self) -> None:
        if self._slot is not None and not self._slot.acquire(self.job_id, self._stop):
            self._set(status="stopped", finished=time.time())
            return
        self._set(status="running", started=time.time())
        offset = 0
        try:
            for table in self.tables:
                def progress(event: dict[str, Any], offset: int = offset) -> None:
                    self._set(done=offset + event["done"], current=f"Table {event['table']}: {event['model']}, "
                              f"seed {event['seed']}")

                reproduce_table(table, self.data, self.out_dir, self.plan, seeds=self.seeds, log=self._log,
                                on_progress=progress, stop_event=self._stop)
                offset += self.seeds * len(TABLE_ENTRIES[table])
                self._set(done=offset)
                if self._stop.is_set():
                    break
        except Exception as error:  # the app shows one line; the finished seeds are already saved
            text = str(error).strip()
            self._set(status="failed", error=text.splitlines()[0] if text else type(error).__name__,
                      finished=time.time())
            return
        finally:
            if self._slot is not None:
                self._slot.release(self.job_id)
        self._set(status="stopped" if self._stop.is_set() else "finished", finished=time.time(), current="")


def results_root() -> Path:
    """The committed full ML-1M run lives here: $DMF_RESULTS_DIR or results/ in the repository."""
    return Path(os.environ.get(RESULTS_ENV) or REPO_ROOT / "results")


def default_out(data_name: str, quick: bool) -> Path:
    """results/ for the full ML-1M run; anything else goes to the git-ignored results/tmp/<quick-><data>/."""
    if data_name == "ml-1m" and not quick:
        return results_root()
    return results_root() / "tmp" / f"{'quick-' if quick else ''}{data_name}"


# ---------------------------------------------------------------------------------------------------------------
# CLI


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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.seeds is not None and args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    data = load_dataset(args.data)
    out_dir = Path(args.out) if args.out else default_out(data.name, args.quick)
    tables = TABLES if args.table == "all" else (int(args.table),)
    command = "python -m dmf_core " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["reproduce"] else ""
    started = time.perf_counter()
    for table in tables:
        summary = reproduce_table(table, data, out_dir, plan, seeds=args.seeds, device=args.device,
                                  command=command)
        print(to_markdown(summary))
    print(f"wrote {', '.join(str(out_dir / f'table{t}.md') for t in tables)} in "
          f"{(time.perf_counter() - started) / 60:.1f} min")
    return 0
