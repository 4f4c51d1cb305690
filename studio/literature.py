"""The Results page's "DMF against the literature" section: `benchmarks/results/literature.json` as table rows.

The file is written by `python benchmarks/bench_literature.py` (the literature's 85/5/10 protocol, several seeds,
selected on validation, peers rerun on the same splits, the published table as data). Pure Python, no Streamlit:
the page lays the rows out. `DMF_LITERATURE_FILE` points at another file (the tests use it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
LITERATURE_ENV = "DMF_LITERATURE_FILE"
COMMAND = "python benchmarks/bench_literature.py"
METHODS = {  # key in the file -> label ("dmf" with a trained companion: `dmf_label`)
    "dmf": "DMF (ours, default flags)",
    "dmf_alone": "DMF (ours, default flags: DMF alone; the blend's runs)",
    "svd": "SVD, tuned (Surprise, rerun here)",
    "svdpp": "SVD++ (Surprise, rerun here)",
    "biases": "global mean + biases (rerun here)",
}
DATASET_LABELS = {"ml-100k": "MovieLens-100K", "ml-1m": "MovieLens-1M"}
AREAS = ("I", "II", "III", "IV")


def literature_file() -> Path:
    return Path(os.environ.get(LITERATURE_ENV) or REPO_ROOT / "benchmarks" / "results" / "literature.json")


def load(path: Path | None = None) -> tuple[dict[str, Any] | None, str]:
    """(the report, "") or (None, a plain message saying why there is none)."""
    path = path or literature_file()
    if not path.is_file():
        return None, f"No literature benchmark saved yet (`{path.name}` is missing): run `{COMMAND}`."
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return None, f"`{path.name}` cannot be read ({error}): run `{COMMAND}` again."
    if not isinstance(report, dict) or not isinstance(report.get("datasets"), dict):
        return None, f"`{path.name}` is not a literature benchmark: run `{COMMAND}` again."
    return report, ""


def label(name: str) -> str:
    return DATASET_LABELS.get(name, name)


def mean_std(stats: dict[str, Any] | None) -> str:
    """0.8331 ± 0.0012; a single seed has no ±; "–" when absent."""
    if not isinstance(stats, dict) or stats.get("mean") is None:
        return "–"
    std = stats.get("std")
    return f"{stats['mean']:.4f}" + (f" ± {std:.4f}" if std is not None else "")


def _seconds(row: dict[str, Any]) -> str:
    stats = row.get("train_seconds") or row.get("fit_seconds") or {}
    return f"{stats['mean']:.0f}" if stats.get("mean") is not None else "–"


def dmf_label(row: dict[str, Any]) -> str:
    """DMF's row: the blend with its I-AutoRec companion (`--companion i-autorec`) where the file says so."""
    return "DMF + I-AutoRec blend (ours, --companion i-autorec)" if row.get("companion") else METHODS["dmf"]


def ours_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    """Our figures on the literature protocol: one row per dataset measured and method (skipped ones say so)."""
    rows = []
    for name, result in report["datasets"].items():
        if not result.get("found"):
            continue
        seeds = len(result.get("seeds") or [])
        for key, method in METHODS.items():
            row = (result.get("literature") or {}).get(key)
            if not isinstance(row, dict):
                continue
            skipped = row.get("skipped")
            rows.append({
                "Dataset": label(name), "Method": dmf_label(row) if key == "dmf" else method,
                "Test RMSE (mean ± std)": f"not run ({skipped})" if skipped else mean_std(row.get("test_rmse")),
                "Seeds": str(seeds),
                "Training or fit seconds (mean)": "–" if skipped else _seconds(row),
                "Selection": ("selected on validation" if key in ("dmf", "dmf_alone")
                              else "fixed settings (nothing selected)"),
                "Measured": f"reused from {row['reused_from']}" if row.get("reused_from") else "in this run",
            })
    return rows


def area_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    """DMF's areas I-IV on the Table-1 split, beside global mean + biases, where the file has them."""
    rows = []
    for name, result in report["datasets"].items():
        table1 = result.get("table1_split") if result.get("found") else None
        if not table1:
            continue
        seeds = len(result.get("seeds") or [])
        blended = bool(((result.get("literature") or {}).get("dmf") or {}).get("companion"))
        for key, method in (("dmf", "DMF + I-AutoRec blend (ours)" if blended else "DMF (ours)"),
                            ("dmf_alone", METHODS["dmf_alone"]), ("biases", "global mean + biases")):
            if key in table1:
                rows.append({"Dataset": label(name), "Method": method, "Seeds": str(seeds),
                             **{area: mean_std(table1.get(key, {}).get(area)) for area in AREAS}})
    return rows


def missing(report: dict[str, Any], expected: tuple[str, ...] = tuple(DATASET_LABELS)) -> list[str]:
    """A plain line for every dataset whose figures the file lacks (not found where it ran, or not run at all)."""
    lines = []
    for name in expected:
        result = report["datasets"].get(name)
        if result is None:
            lines.append(f"{label(name)}: not measured in this file (run `{COMMAND} --datasets {name}`).")
        elif not result.get("found"):
            lines.append(f"{label(name)}: not measured here: {result.get('note') or 'not found'}.")
    return lines


def _yes_no(value: Any) -> str:
    return {True: "yes", False: "no"}.get(value, "not checked")


def _published(value: float | None) -> str:
    """As the papers print them: 0.8889, 0.910 (three decimals at least, four where given)."""
    if value is None:
        return "–"
    text = f"{value:.4f}"
    return text[:-1] if text.endswith("0") else text


def published_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    """The published table the file carries, every row labelled as copied (published, not rerun)."""
    published = report.get("published") or {}
    source = published.get("label") or "published, not rerun"
    rows = []
    for row in published.get("rows") or []:
        rows.append({
            "Method": row["method"], "Source": source,
            "ML-100K": _published(row.get("ml-100k")), "ML-1M": _published(row.get("ml-1m")),
            "Protocol": row.get("protocol", ""), "Selected on test": _yes_no(row.get("selected_on_test")),
            "Scores new users": row.get("scores_new_users", "unknown"), "Note": row.get("note", ""),
        })
    return rows


def protocol_caption(report: dict[str, Any]) -> str:
    protocol = report.get("protocol") or {}
    literature = (protocol.get("literature") or {}).get("description", "")
    parts = [f"Protocol: {literature}." if literature else "",
             f"Selection: {protocol['selection']}." if protocol.get("selection") else "",
             f"Peers: {protocol['peers']}." if protocol.get("peers") else "",
             f"Measured on {report['machine']}, written {report['written']}." if report.get("machine") else "",
             f"Command: `{report['command']}`." if report.get("command") else ""]
    return "  \n".join(part for part in parts if part)
