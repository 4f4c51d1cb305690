"""The reproduction's results: per-seed result files (`OUT/tableN/<model>-seed<k>.json`), their aggregate (mean ± std
over seeds beside the paper's values) and the written tables `OUT/tableN.md` / `.json`. The paper's numbers come
from `dmf_core.paper` only."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import paper
from ..data import RatingData, dataset_fingerprint
from ..files import project_root, write_json
from .plans import COLUMN_LABELS, COLUMNS, DERIVED_ENTRIES, PAIRED, TABLE_ENTRIES, TITLES, Plan

REPO_ROOT = project_root()  # the checkout, or the current directory for an installed package
RESULTS_ENV = "DMF_RESULTS_DIR"  # tests point the app's Results page elsewhere
DASH = "–"
PAPER = {1: paper.TABLE1, 2: paper.TABLE2}  # copied from the paper's Tables 1 and 2, never measured here
NOT_RUN_NOTE = {
    1: "Deep U-AutoRec (Kuchaiev & Ginsburg 2017) is not run: it is a different, deeper model; paper's value only.",
    2: "RankK, OPTSPACE, RDMC and ODMC are not run (no faithful implementation here); paper's values only.",
}



def results_root() -> Path:
    """The committed full ML-1M run lives here: $DMF_RESULTS_DIR or results/ in the repository."""
    return Path(os.environ.get(RESULTS_ENV) or REPO_ROOT / "results")


def default_out(data_name: str, quick: bool) -> Path:
    """results/ for the full ML-1M run; anything else goes to the git-ignored results/tmp/<quick-><data>/."""
    if data_name == "ml-1m" and not quick:
        return results_root()
    return results_root() / "tmp" / f"{'quick-' if quick else ''}{data_name}"



def seed_path(out_dir: Path, table: int, key: str, seed: int) -> Path:
    return Path(out_dir) / f"table{table}" / f"{key}-seed{seed}.json"



def dataset_record(data: RatingData) -> dict[str, Any]:
    """Size and name for the tables, plus a content fingerprint so results of other data are never reused."""
    return {**data.summary(), "fingerprint": dataset_fingerprint(data)}


def saved_result(path: Path, dataset: dict[str, Any], plan: Plan, table: int, key: str) -> dict[str, Any] | None:
    """A saved per-seed result, if it was made on this data with these settings (JSON round-trip for equality)."""
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    wanted = json.loads(json.dumps({"dataset": dataset, "settings": plan.settings(table, key)}))
    settings = saved.get("settings")
    if key != "dmf-d" and isinstance(settings, dict) and isinstance(settings.get("train"), dict):
        # DMF's files from before its settings left out the quantizer, which DMF never reads
        settings = {**settings, "train": {k: v for k, v in settings["train"].items() if k != "quantizer"}}
    if saved.get("dataset") == wanted["dataset"] and settings == wanted["settings"]:
        return saved
    return None



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
    records_of: dict[str, list[dict[str, Any]]] = {}
    for entry in TABLE_ENTRIES[table]:
        records_of[entry.key] = [record for seed in range(seeds) if (record := saved_result(
            seed_path(out_dir, table, entry.key, seed), dataset, plan, table, entry.key)) is not None]
        rows.append(_row(table, entry.key, entry.label, entry.paper, records_of[entry.key], ""))
        if records_of[entry.key] and hardware is None:
            hardware = records_of[entry.key][-1]["hardware"]
    for key, source, prefix, label in DERIVED_ENTRIES[table]:
        rows.append(_row(table, key, label, None, records_of.get(source, []), prefix))
    paired = [_paired(table, key, base, label, records_of) for key, base, label in PAIRED[table]]
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
        "paired": [p for p in paired if p is not None],
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


def _row(table: int, key: str, label: str, paper_label: str | None, records: list[dict[str, Any]],
         prefix: str) -> dict[str, Any]:
    """A table row: mean ± std per column over the seeds' records (`prefix`: a row derived from another's runs)."""
    cells: dict[str, Any] = {}
    for column in COLUMNS[table]:
        values = [r["scores"].get(prefix + column) for r in records]
        if table == 1:  # area cells hold {rmse, mae, n} or None where the model cannot serve the area
            values = [v["rmse"] for v in values if v is not None]
        values = [float(v) for v in values if v is not None]
        cells[column] = mean_std(values) if values else None
    return {
        "key": key,
        "label": label,
        "paper_label": paper_label,
        "seeds": [r["seed"] for r in records if not prefix or r["scores"].get(prefix + COLUMNS[table][0]) is not None],
        "cells": cells,
        "paper": PAPER[table].get(paper_label) if paper_label else None,
        "seconds_per_seed": mean_std([r["seconds"] for r in records]) if records and not prefix else None,
        "epochs_run": [r["fit"]["epochs_run"] for r in records],
        "stop_reasons": sorted({r["fit"]["stop_reason"] for r in records}),
        # DMF-D seeds whose quantizer never trained (fit.quantizer_trained false): their figures are plain DMF's
        "quantizer_never_trained": [r["seed"] for r in records if r["fit"].get("quantizer_trained") is False],
    }


def _paired(table: int, key: str, base: str, label: str,
            records_of: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """Row `key` minus row `base`, seed by seed over the seeds both have (the same split): mean ± std of the
    differences per column, with the per-seed values. None where no seed has both. A seed pairs only where the
    difference is the one the row names: DMF-D's quantizer trained (else its figures are plain DMF's), and the base
    ended by its own rule, not its time budget (DMF-D's warm-up replays DMF's run only up to where DMF stops early;
    a budget cuts them differently)."""
    base_of = {r["seed"]: r for r in records_of.get(base, []) if r["fit"]["stop_reason"] != "time_budget"}
    pairs = [(r, base_of[r["seed"]]) for r in records_of.get(key, [])
             if r["seed"] in base_of and r["fit"].get("quantizer_trained") is not False]
    if not pairs:
        return None
    cells: dict[str, Any] = {}
    for column in COLUMNS[table]:
        diffs = [float(a["scores"][column]) - float(b["scores"][column]) for a, b in pairs
                 if a["scores"].get(column) is not None and b["scores"].get(column) is not None]
        cells[column] = mean_std(diffs) if diffs else None
    return {"key": key, "base": base, "label": label, "seeds": [a["seed"] for a, _ in pairs], "cells": cells}


def _signed(cell: dict[str, Any] | None, digits: int = 4) -> str:
    if cell is None:
        return DASH
    spread = "" if cell["std"] is None else f" ± {cell['std']:.{digits}f}"
    return f"{cell['mean']:+.{digits}f}{spread}"


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


NEVER_TRAINED = "quantizer never trained"


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
        untrained = row.get("quantizer_never_trained") or []
        if untrained:  # never shown as DMF-D results
            note = f"{NEVER_TRAINED} ({len(untrained)} of {seeds} seeds)"
            add(row["label"], f"measured ({seeds} seed{'s' if seeds != 1 else ''})", lambda c, note=note: note)
            if row["paper"] is not None:
                add(row["paper_label"], "paper", lambda c, row=row: _paper_value(row["paper"].get(c), table))
            continue
        add(row["label"], f"measured ({seeds} seed{'s' if seeds != 1 else ''})",
            lambda c, row=row: format_cell(row["cells"][c]))
        if row["paper"] is not None:
            add(row["paper_label"], "paper", lambda c, row=row: _paper_value(row["paper"].get(c), table))
            if comparable:
                add(row["label"], "gap: measured − paper",
                    lambda c, row=row: _gap(row["cells"][c], row["paper"].get(c)))
    for pair in summary.get("paired", []):
        seeds = len(pair["seeds"])
        add(pair["label"], f"paired difference ({seeds} seed{'s' if seeds != 1 else ''})",
            lambda c, pair=pair: _signed(pair["cells"][c]))
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
    for pair in summary.get("paired", []):
        per_seed = "; ".join(
            f"{COLUMN_LABELS.get(c, c)} " + ", ".join(f"{v:+.4f}" for v in cell["values"])
            for c, cell in pair["cells"].items() if cell is not None)
        lines.append(f"{pair['label']}, seed by seed on the same split (seeds {', '.join(map(str, pair['seeds']))}): "
                     f"{per_seed}. Negative: lower error, or for exact-match accuracy fewer exact stars.")
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
