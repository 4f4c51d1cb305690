"""DMF against the literature on the literature's own protocol (issue 17).

Published rating-prediction results on MovieLens use a random 90/10 split of all ratings, with no user or item held
out. Here: `SplitConfig(new_user_frac=0, new_item_frac=0, val_frac=0.05, test_frac=0.10, seed=s)`, i.e. 10% of the
ratings for test and 5% for validation taken from the 90 (85/5/10). For each dataset and seed:

- **DMF**, default flags, and **DMF + I-AutoRec** (`--companion i-autorec`), from the same runs (DMF is selected
  first, then blended): the test RMSE (area I: with nobody held out, every rating is area I) of the epoch that
  *validation* selects; nothing is selected on test.
- **Peers, rerun on the same split** (scikit-surprise, `benchmarks/peers.py`): the tuned SVD of issue 10 (150
  factors, 40 epochs, reg 0.05) and SVD++ (Surprise's defaults, rating cache on; 189 s a fit on ML-1M on 2 busy
  cores: `--skip-svdpp` leaves it out).
  They are fitted on the *observed* ratings, the same 85% DMF trains on (DMF uses the 5% validation only to pick its
  epoch; the peers' settings are fixed in advance, so they select nothing), and scored on the same test ratings.
- **Global mean + biases** (`dmf_core/model/biases.py`), the simple baseline: from the same DMF run's metrics.
- **Areas II-IV**: DMF on the paper's Table-1 split (`SplitConfig()` defaults: 10% new users, 10% new items, 75/5/20),
  where no published method reports numbers (`--skip-areas` leaves it out).

Beside them, the best published numbers (from issue 17's table) as data, labelled "published, not rerun", with each
paper's protocol, whether it selected on test and whether it scores users unseen in training.
A dataset not found on this machine (ML-100K is not on the project's machine) is reported as such in the output and in
the JSON; its figures are measured elsewhere.

    python benchmarks/bench_literature.py                                   # ml-100k and ml-1m, 5 seeds
    python benchmarks/bench_literature.py --datasets ml-1m --seeds 1 --max-seconds 300 --skip-svdpp
    python benchmarks/bench_literature.py --peers-from benchmarks/results/literature.json   # DMF rerun, peers kept
Writes benchmarks/results/literature.json (or --out); the Results page and docs/literature.md read it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch, as dmf_core does (see bench_speed.py)

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402  (benchmarks/peers.py: the scikit-surprise peers)

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig  # noqa: E402
from dmf_core.data import DataError, load_dataset  # noqa: E402
from dmf_core.data.split import AREAS, OBSERVED, TEST, split_areas  # noqa: E402
from dmf_core.runs.folder import train_run  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ("ml-100k", "ml-1m")
# DMF's default flags with the I-AutoRec companion: the blend's row, and DMF alone's (the default) from the same run.
BLEND = ModelConfig(companion="i-autorec")
LITERATURE_SPLIT = {"new_user_frac": 0.0, "new_item_frac": 0.0, "val_frac": 0.05, "test_frac": 0.10}
TARGETS = {  # issue 17's "done when": seed 0, default flags + the literature split, 2 CPU cores
    "ml-1m": {"test_rmse": 0.828, "within_seconds": 300},
    "ml-100k": {"test_rmse": 0.885, "within_seconds": 120},
}
PUBLISHED_LABEL = "published, not rerun"
# The best published area-I RMSEs, as issue 17 lists them (numbers as the papers or their official code report them).
# selected_on_test: True / False, or None where issue 17 does not say; scores_new_users as the issue says.
PUBLISHED: list[dict[str, Any]] = [
    {"method": "GLocal-K (2021)", "ml-100k": 0.8889, "ml-100k_split": "u1 split", "ml-1m": 0.8227,
     "protocol": "ML-1M: random 90/10; ML-100K: the u1.base/u1.test split", "selected_on_test": True,
     "scores_new_users": "no", "note": "its official code reports the best test RMSE over epochs"},
    {"method": "Sparse FC", "ml-100k": None, "ml-1m": 0.824, "protocol": "random 90/10", "selected_on_test": True,
     "scores_new_users": "no", "note": "its reported figure is on the held-out 10% it calls validation"},
    {"method": "CF-NADE", "ml-100k": None, "ml-1m": 0.829, "protocol": "random 90/10", "selected_on_test": None,
     "scores_new_users": "unknown", "note": ""},
    {"method": "I-AutoRec", "ml-100k": None, "ml-1m": 0.831, "protocol": "random 90/10", "selected_on_test": None,
     "scores_new_users": "new items only", "note": ""},
    {"method": "GC-MC", "ml-100k": 0.910, "ml-1m": 0.832, "protocol": "random 90/10", "selected_on_test": None,
     "scores_new_users": "no", "note": ""},
    {"method": "NNMF", "ml-100k": 0.903, "ml-1m": 0.843, "protocol": "random 90/10", "selected_on_test": None,
     "scores_new_users": "no", "note": ""},
    {"method": "IGMC", "ml-100k": 0.905, "ml-1m": 0.857, "protocol": "random 90/10", "selected_on_test": None,
     "scores_new_users": "yes", "note": ""},
    {"method": "F-EAE", "ml-100k": 0.920, "ml-1m": 0.860, "protocol": "random 90/10", "selected_on_test": None,
     "scores_new_users": "yes", "note": ""},
]
PUBLISHED_NOTE = ("Copied from the papers (as collected in issue 17), not rerun here. Their protocols differ in "
                  "detail (which split, how many runs, where the model is selected); ML-100K figures often use the "
                  "canonical u1.base/u1.test 80/20 split rather than a random 90/10 one. selected_on_test: null "
                  "where not checked.")


def summary(values: list[float]) -> dict[str, Any]:
    """mean ± std (sample std; null for one value) over seeds, with the values themselves."""
    return {"mean": statistics.fmean(values) if values else None,
            "std": statistics.stdev(values) if len(values) > 1 else None, "n": len(values), "values": values}


def print_epoch(tag: str) -> Any:
    def on_epoch(record: dict[str, Any]) -> None:
        print(f"  {tag} epoch {record['epoch']}: {record['elapsed']:.1f}s, validation RMSE "
              f"{record.get('val_rmse') or float('nan'):.4f}", file=sys.stderr, flush=True)

    return on_epoch


def read_report(path: Path | None) -> dict[str, Any] | None:
    """An earlier report (`--peers-from`), or None; raises OSError / ValueError when it cannot be read."""
    return None if path is None else {**json.loads(path.read_text()), "_path": path}


def earlier_peers(report: dict[str, Any] | None, name: str, data: Any) -> dict[int, dict[str, Any]]:
    """{seed: {"svd": ..., "svdpp": ...}} from an earlier report (`read_report`) for the same data and protocol,
    each kept only where its settings are today's: the peers do not depend on DMF's settings, so a rerun of DMF
    need not refit them (SVD++ is most of the benchmark's time)."""
    if report is None:
        return {}
    path = report["_path"]
    result = report.get("datasets", {}).get(name) or {}
    protocol = {k: v for k, v in ((report.get("protocol") or {}).get("literature") or {}).items() if k in LITERATURE_SPLIT}
    if protocol != LITERATURE_SPLIT or (result.get("users"), result.get("items"), result.get("ratings")) != (
            data.n_users, data.n_items, data.n_ratings):
        print(f"  {name}: {path} is another split or dataset; the peers are refitted", file=sys.stderr)
        return {}

    def unseeded(params: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in params.items() if k != "random_state"}

    wanted = {"svd": unseeded(peers.SVD_SETTINGS["tuned"]), "svdpp": unseeded(peers.SVDPP_SETTINGS)}
    found: dict[int, dict[str, Any]] = {}
    for run in result.get("literature_runs", []):
        for method, settings in wanted.items():
            row = run.get(method) or {}
            if unseeded(row.get("params") or {}) == settings and (row.get("params") or {}).get("random_state") == \
                    run["seed"]:
                started = report.get("started") or report.get("written")
                # A figure that report itself reused keeps the run that fitted it.
                source = row.get("reused_from") or f"{path.name}, run of {started}"
                found.setdefault(run["seed"], {})[method] = {**row, "reused_from": source}
    return found


def dmf_rows(metrics: dict[str, Any]) -> dict[str, Any]:
    """A DMF run's rows of the report: "dmf" (what `train` reports: the blend when the companion trained), "biases",
    and "dmf_alone" (the same run's DMF without the blend) where the companion trained. Each row pairs its model's
    test RMSE with the same model's validation RMSE."""
    out: dict[str, Any] = {
        "dmf": {"test_rmse": metrics["areas"]["I"]["rmse"], "val_rmse": metrics["val_rmse"],
                "train_seconds": metrics["train_seconds"], "epochs_run": metrics["epochs_run"],
                "best_epoch": metrics["best_epoch"], "stop_reason": metrics["stop_reason"],
                "test_ratings": metrics["counts"]["I"]["test"]},
        "biases": {"test_rmse": metrics["baseline"]["areas"]["I"]["rmse"]},
    }
    companion = metrics.get("companion") or {}
    if companion.get("trained"):
        # The blend of DMF with its I-AutoRec companion (area I): its validation RMSE is the blend's, on the
        # ratings its three weights were fitted on (and cross-fitted on halves of them, where recorded); DMF
        # alone keeps the validation RMSE its epoch was selected on.
        out["dmf"].update(val_rmse=companion["val_rmse_blend"], val_rmse_blend=companion["val_rmse_blend"],
                          companion=True, companion_seconds=companion["seconds"],
                          companion_epochs=companion["epochs_run"])
        if companion.get("val_rmse_blend_cross_fitted") is not None:
            out["dmf"]["val_rmse_cross_fitted"] = companion["val_rmse_blend_cross_fitted"]
        out["dmf_alone"] = {"test_rmse": companion["dmf_alone_areas"]["I"], "val_rmse": metrics["val_rmse"]}
    elif companion:
        out["dmf"]["companion_note"] = companion.get("note")
    return out


def seed_line(name: str, out: dict[str, Any]) -> str:
    """The progress line of one seed, each figure named with the model that produced it."""
    dmf = out["dmf"]
    model = "DMF + I-AutoRec blend" if dmf.get("companion") else "DMF"
    return (f"  {name} seed {out['seed']}: {model} test RMSE {dmf['test_rmse']:.4f} (validation {dmf['val_rmse']:.4f}, "
            f"{dmf['train_seconds']:.0f}s, {dmf['stop_reason']}); "
            + (f"DMF alone test RMSE {out['dmf_alone']['test_rmse']:.4f} (validation "
               f"{out['dmf_alone']['val_rmse']:.4f}); " if "dmf_alone" in out else "")
            + f"global mean + biases test RMSE {out['biases']['test_rmse']:.4f}")


def run_literature_seed(data: Any, seed: int, max_seconds: float, skip_svdpp: bool,
                        reuse: dict[str, Any] | None = None) -> dict[str, Any]:
    """DMF, the biases and the peers on one seed's literature split (a peer in `reuse` is taken as it is)."""
    reuse = reuse or {}
    config = SplitConfig(**LITERATURE_SPLIT, seed=seed)
    # One run gives both of our rows: the blend (`--companion i-autorec`) and DMF alone, the default, as selected.
    metrics, _ = train_run(data, config, BLEND, TrainConfig(seed=seed, max_seconds=max_seconds),
                           on_epoch=print_epoch(f"{data.name} seed {seed} DMF"))
    out: dict[str, Any] = {"seed": seed, **dmf_rows(metrics)}
    print(seed_line(data.name, out), file=sys.stderr, flush=True)
    for method in ("svd", "svdpp"):
        if method in reuse:
            out[method] = reuse[method]
            print(f"  {method}: test RMSE {out[method]['test_rmse']:.4f}, reused from {reuse[method]['reused_from']}",
                  file=sys.stderr, flush=True)
    if "svd" in out and ("svdpp" in out or skip_svdpp):
        out.setdefault("svdpp", {"skipped": "--skip-svdpp"})
        return out
    missing = peers.surprise_missing()
    if missing:
        out.setdefault("svd", {"skipped": missing})
        out.setdefault("svdpp", {"skipped": missing})
        return out
    split = split_areas(data, config)
    train, test = peers.trainset(data, split.role == OBSERVED), peers.testset(data, split.role == TEST)
    if "svd" not in out:
        out["svd"] = peers.fit_and_score("SVD", {**peers.SVD_SETTINGS["tuned"], "random_state": seed}, train, test,
                                         "SVD (tuned)")
    if "svdpp" not in out:
        out["svdpp"] = ({"skipped": "--skip-svdpp"} if skip_svdpp else peers.fit_and_score(
            "SVDpp", {**peers.SVDPP_SETTINGS, "random_state": seed}, train, test, "SVD++"))
    return out


def run_areas_seed(data: Any, seed: int, max_seconds: float) -> dict[str, Any]:
    """DMF on the Table-1 split (SplitConfig defaults): areas I-IV, beside global mean + biases."""
    metrics, _ = train_run(data, SplitConfig(seed=seed), BLEND, TrainConfig(seed=seed, max_seconds=max_seconds),
                           on_epoch=print_epoch(f"{data.name} seed {seed} DMF, Table-1 split"))
    out = {"seed": seed, "train_seconds": metrics["train_seconds"], "stop_reason": metrics["stop_reason"],
           "dmf": {a: metrics["areas"][a]["rmse"] for a in AREAS if a in metrics["areas"]},
           "biases": {a: metrics["baseline"]["areas"][a]["rmse"] for a in AREAS if a in metrics["baseline"]["areas"]}}
    if (metrics.get("companion") or {}).get("trained"):  # "dmf" is the blend in area I only (seen users, items)
        out["dmf_alone"] = dict(metrics["companion"]["dmf_alone_areas"])
    print(f"  {data.name} seed {seed}, Table-1 split: DMF " + " / ".join(f"{a} {v:.4f}" for a, v in out["dmf"].items()),
          file=sys.stderr, flush=True)
    return out


def run_dataset(name: str, seeds: int, max_seconds: float, skip_svdpp: bool, skip_areas: bool,
                peers_from: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        data = load_dataset(name)
    except DataError as error:
        note = f"not found on this machine ({error}); its figures are measured elsewhere"
        print(f"{name}: {note}", flush=True)
        return {"found": False, "note": note}
    print(f"{name}: {data.n_users:,} users, {data.n_items:,} items, {data.n_ratings:,} ratings; {seeds} seed(s)",
          flush=True)
    started = time.perf_counter()
    reuse = earlier_peers(peers_from, name, data)
    runs = [run_literature_seed(data, seed, max_seconds, skip_svdpp, reuse.get(seed)) for seed in range(seeds)]
    literature: dict[str, Any] = {}
    for method in ("dmf", "dmf_alone", "biases", "svd", "svdpp"):
        if not all(method in run for run in runs):
            continue  # DMF alone is recorded only where the companion trained in every seed
        rows = [run[method] for run in runs]
        if any("skipped" in row for row in rows):
            literature[method] = {"skipped": rows[0].get("skipped", "skipped")}
            continue
        literature[method] = {"test_rmse": summary([row["test_rmse"] for row in rows])}
        for key in ("val_rmse", "val_rmse_blend", "val_rmse_cross_fitted", "train_seconds", "companion_seconds",
                    "fit_seconds"):
            if key in rows[0]:
                literature[method][key] = summary([row[key] for row in rows])
        if "params" in rows[0]:
            literature[method]["params"] = {k: v for k, v in rows[0]["params"].items() if k != "random_state"}
        if all(row.get("companion") for row in rows):
            literature[method]["companion"] = True
        reused = sorted({row["reused_from"] for row in rows if "reused_from" in row})
        if reused:
            literature[method]["reused_from"] = "; ".join(reused)
    out: dict[str, Any] = {"found": True, "source": data.extra.get("source", name), "users": data.n_users,
                           "items": data.n_items, "ratings": data.n_ratings, "seeds": list(range(seeds)),
                           "literature": literature, "literature_runs": runs}
    if name in TARGETS:
        target = TARGETS[name]
        seed0 = runs[0]["dmf"]
        out["target"] = {**target, "seed_0_test_rmse": seed0["test_rmse"], "seed_0_seconds": seed0["train_seconds"],
                         "met": seed0["test_rmse"] <= target["test_rmse"]
                         and seed0["train_seconds"] <= target["within_seconds"]}
    if not skip_areas:
        area_runs = [run_areas_seed(data, seed, max_seconds) for seed in range(seeds)]
        out["table1_split"] = {
            "dmf": {a: summary([run["dmf"][a] for run in area_runs if a in run["dmf"]]) for a in AREAS},
            "biases": {a: summary([run["biases"][a] for run in area_runs if a in run["biases"]]) for a in AREAS},
            **({"dmf_alone": {a: summary([run["dmf_alone"][a] for run in area_runs]) for a in AREAS}}
               if all("dmf_alone" in run for run in area_runs) else {}),
            "train_seconds": summary([run["train_seconds"] for run in area_runs]), "runs": area_runs}
    out["wall_seconds"] = time.perf_counter() - started
    return out


def cell(stats: dict[str, Any] | None) -> str:
    if not stats or stats.get("mean") is None:
        return "–"
    return f"{stats['mean']:.4f}" + (f" ± {stats['std']:.4f}" if stats.get("std") is not None else "")


def print_table(report: dict[str, Any]) -> None:
    print("\nLiterature protocol (85/5/10, nobody held out), test RMSE, selected on validation:")
    print(f"{'dataset':10} {'method':28} {'RMSE (mean ± std)':22} {'seconds':>9}")
    names = {"dmf": "DMF (ours, default flags)", "dmf_alone": "DMF alone (same runs)", "svd": "SVD (tuned, Surprise)",
             "svdpp": "SVD++ (Surprise)", "biases": "global mean + biases"}
    for name, result in report["datasets"].items():
        if not result["found"]:
            print(f"{name:10} {result['note']}")
            continue
        for method, label in names.items():
            if method not in result["literature"]:
                continue
            row = result["literature"][method]
            if method == "dmf" and row.get("companion"):
                label = "DMF + I-AutoRec blend (ours)"
            seconds = (row.get("train_seconds") or row.get("fit_seconds") or {}).get("mean")
            print(f"{name:10} {label:28} {row.get('skipped') or cell(row.get('test_rmse')):22} "
                  f"{'' if seconds is None else f'{seconds:9.1f}'}")
        if "table1_split" in result:
            areas = result["table1_split"]["dmf"]
            print(f"{name:10} {'DMF, Table-1 split I-IV':28} " + " / ".join(cell(areas[a]) for a in AREAS))
    print(f"\n{PUBLISHED_LABEL}:")
    for row in PUBLISHED:
        flag = {True: "selected on test", False: "selected on validation", None: "selection not checked"}
        print(f"  {row['method']:16} ML-100K {row['ml-100k'] or '–'!s:7} ML-1M {row['ml-1m']!s:7} "
              f"new users: {row['scores_new_users']:15} {flag[row['selected_on_test']]}")


def markdown_table(report: dict[str, Any]) -> str:
    """docs/literature.md's table: our rows from the report (or "not measured here"), then the published rows."""
    results = report["datasets"]

    def ours(name: str, method: str) -> str:
        result = results.get(name) or {}
        row = (result.get("literature") or {}).get(method) or {}
        if not result.get("found") or "test_rmse" not in row:
            return "not measured here" + (f" ({row['skipped']})" if row.get("skipped") else "")
        seconds = (row.get("train_seconds") or row.get("fit_seconds") or {}).get("mean")
        seeds = len(result["seeds"])
        timing = "" if seconds is None else f", {seconds:.0f} s"
        return f"{cell(row['test_rmse'])} ({seeds} seed{'s' * (seeds > 1)}{timing})"

    lines = ["| method | ML-100K | ML-1M | selected on | scores users unseen in training? | source |",
             "|---|---|---|---|---|---|"]
    blend = any(((result.get("literature") or {}).get("dmf") or {}).get("companion") for result in results.values())
    for method, label, selected, new_users in (
            *((("dmf_alone", "**DMF (ours)**, default flags", "validation", "yes (areas II–IV)"),
               ("dmf", "DMF + I-AutoRec blend (ours), `--companion i-autorec`: the same runs",
                "validation (epochs and blend weights)", "yes (areas II–IV, by DMF alone)")) if blend else
              (("dmf", "**DMF (ours)**, default flags", "validation", "yes (areas II–IV)"),)),
            ("svd", "SVD, tuned (Surprise)", "nothing (fixed settings)", "no"),
            ("svdpp", "SVD++ (Surprise)", "nothing (fixed settings)", "no"),
            ("biases", "global mean + biases", "nothing", "yes (folded in)")):
        lines.append(f"| {label} | {ours('ml-100k', method)} | {ours('ml-1m', method)} | {selected} | {new_users} "
                     "| bench_literature.py |")
    flag = {True: "test", False: "validation", None: "not checked"}

    def published(value: float | None, split: str = "") -> str:
        text = "–" if value is None else f"{value:.4f}".removesuffix("0")  # 0.910 as printed, 0.8889
        return f"{text} ({split})" if split else text

    for row in report["published"]["rows"]:
        lines.append(f"| {row['method']} | {published(row['ml-100k'], row.get('ml-100k_split', ''))} | "
                     f"{published(row['ml-1m'])} | "
                     f"{flag[row['selected_on_test']]} | {row['scores_new_users']} | published, not rerun"
                     + (f": {row['note']}" if row["note"] else "") + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated (default %(default)s)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="training-time cap per DMF run (default %(default)s; early stopping usually ends sooner)")
    parser.add_argument("--skip-svdpp", action="store_true", help="leave out SVD++ (about 3 minutes a fit on ML-1M here)")
    parser.add_argument("--skip-areas", action="store_true", help="leave out the Table-1 split runs (areas I-IV)")
    parser.add_argument("--out", type=Path, default=RESULTS / "literature.json")
    parser.add_argument("--peers-from", type=Path, metavar="FILE",
                        help="take SVD's and SVD++'s figures from an earlier report of the same data, split and peer "
                             "settings instead of refitting them (they do not depend on DMF's settings)")
    parser.add_argument("--markdown", action="store_true", help="print docs/literature.md's table from --out and exit")
    args = parser.parse_args(argv)
    try:
        earlier = read_report(args.peers_from)
    except (OSError, ValueError) as error:
        parser.error(f"--peers-from {args.peers_from}: not a readable report ({error})")
    if args.markdown:
        print(markdown_table(json.loads(args.out.read_text())))
        return 0
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    load_at_start = os.getloadavg()
    report: dict[str, Any] = {
        "command": "python benchmarks/bench_literature.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "protocol": {
            "literature": {**LITERATURE_SPLIT, "description": "random 85/5/10 of all ratings: 10% test, 5% "
                           "validation taken from the 90%, no user or item held out; seeds 0..N-1"},
            "table1": {"new_user_frac": 0.1, "new_item_frac": 0.1, "val_frac": 0.05, "test_frac": 0.2,
                       "description": "the paper's Table-1 split (SplitConfig defaults): areas I-IV"},
            "selection": "DMF: test RMSE of the epoch with the best validation RMSE (selected on validation, never "
                         "on test); with default flags the I-AutoRec companion's epoch is selected on validation too "
                         "and the blend's weights are fitted on area I's validation ratings; peers: fixed settings, "
                         "no selection",
            "peers": "Surprise's SVD (tuned) and SVD++ fitted on the observed ratings (the 85% DMF trains on) and "
                     "scored on the same test ratings",
        },
        "datasets": {name: run_dataset(name, args.seeds, args.max_seconds, args.skip_svdpp, args.skip_areas,
                                       earlier) for name in names},
        "published": {"label": PUBLISHED_LABEL, "note": PUBLISHED_NOTE, "rows": PUBLISHED},
    }
    report["load_average_at_start_and_end"] = [load_at_start, os.getloadavg()]
    report["written"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print_table(report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
