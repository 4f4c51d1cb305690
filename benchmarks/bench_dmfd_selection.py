"""DMF-D's selection, checked on validation alone: does a quantizer epoch that beats rounding on validation beat it
on ratings it was not selected on?

Trains Table 2's DMF-D (ML-1M, Table 2's split, its settings) once per seed with early stopping off (patience 0, no
budget), and keeps every epoch's discrete predictions. Training does not depend on the selection rule, so each rule's
choice, early stopping included (patience 6, counted over settled epochs as the engine does), is replayed from them:

- `best`: the lowest discrete validation RMSE among the start (DMF + rounding) and the quantizer's epochs (the
  engine's rule with `QuantizerConfig.select_margin = 0`);
- `margin-k`: an epoch's RMSE plus k standard errors of its paired difference from the start, rating by rating
  (the engine's `select_margin = k`): the start is left only for a gain larger than its noise.

The check: the validation ratings are halved at random (20 halvings per seed); a rule selects on one half, and the
other half scores its choice against the start. A rule whose gains on the selecting half vanish on the other half is
choosing noise. Test ratings are scored too and printed apart, never used to choose. One leaning of the check: the
start itself (the warm-up epoch of best continuous validation RMSE) and whether G has settled are read on all of
validation, as a run reads them, so the other half is not held out from choosing the start; that favours the start,
and so larger margins, by an amount of the order of the differences between margins 2 and 3.

    python benchmarks/bench_dmfd_selection.py --seeds 0,1,2,3,4 --fitted   # ~5 min a seed on 2 idle cores
    python benchmarks/bench_dmfd_selection.py --seeds 0,1,2,3,4 --analyse  # the saved predictions only

With --fitted it also trains Table 2's plain DMF per seed and checks boundaries fitted on one half of validation
(least squares; least absolute error, Table 2's fitted row) on the other half against rounding the same output.
Seeds whose predictions are saved are not trained again.

How it sets DMF-D's defaults: `QuantizerConfig.select_margin` is the margin with the
lowest mean other-half RMSE − start over the seeds (within 0.0001 of it: the smallest such margin, which keeps the
most of the learned quantizer); the fitted boundaries become DMF-D's default finish only if their other-half RMSE and
MAE are both below rounding's.

Predictions are kept in --cache (default /tmp/dmfd-selection; they are MovieLens-derived, never committed). Writes
benchmarks/results/dmfd-selection.json.
"""
import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch's import, as dmf_core sets it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
import torch

from dmf_core.config import replace
from dmf_core.data import load_dataset
from dmf_core.data.split import TEST, VAL, split_areas
from dmf_core.model.quantizer import fit_boundaries
from dmf_core.reproduction.plans import FULL_PLAN, split_config
from dmf_core.scoring.metrics import mae, paired_rmse_difference, rmse, round_to_scale
from dmf_core.scoring.predict import Predictor
from dmf_core.scoring.quantized import quantize
from dmf_core.training.phases import GAP_TOLERANCE, QUANTIZER
from dmf_core.training.stopping import MIN_DELTA
from dmf_core.training.train import fit

OUT = Path(__file__).resolve().parent / "results" / "dmfd-selection.json"
DATA = "ml-1m"  # Table 2's data: its plan (FULL_PLAN), whole stars 1..5 (the saved predictions are int8)
PATIENCE = FULL_PLAN.dmf_d_train.patience
MARGINS = (0.0, 1.0, 2.0, 3.0)
HALVINGS = 20


def train(seed: int, data, cache: Path) -> Path:
    """One DMF-D run of Table 2's settings without early stopping; every epoch's discrete predictions saved."""
    split = split_areas(data, split_config(2, seed))
    config = replace(FULL_PLAN.dmf_config(2, "dmf-d", seed), patience=0, max_seconds=None)
    roles = {"val": split.role == VAL, "test": split.role == TEST}
    kept: dict[str, list[np.ndarray]] = {"val": [], "test": []}

    def monitor(model, inputs) -> dict:
        predictor = Predictor.build(model, inputs)
        for role, mask in roles.items():
            kept[role].append(predictor.discrete(predictor.continuous(data.users[mask], data.items[mask]))
                              .astype(np.int8))
        return {}

    started = time.perf_counter()
    result = fit(data, split, FULL_PLAN.dmf_model, config, monitor=monitor)
    history = [{k: h.get(k) for k in ("epoch", "phase", "lambda", "val_rmse", "val_rmse_continuous",
                                      "quantizer_gap", "start_val_rmse")} for h in result.history]
    path = cache / f"seed{seed}.npz"
    np.savez_compressed(path, val=np.stack(kept["val"]), test=np.stack(kept["test"]),
                        val_true=data.ratings[roles["val"]].astype(np.int8),
                        test_true=data.ratings[roles["test"]].astype(np.int8),
                        history=json.dumps(history), seconds=time.perf_counter() - started)
    return path


def train_dmf(seed: int, data, cache: Path) -> Path:
    """Table 2's plain DMF (its settings and budget); its continuous outputs on the validation ratings saved, for the
    fitted boundaries' check."""
    split = split_areas(data, split_config(2, seed))
    result = fit(data, split, FULL_PLAN.dmf_model, FULL_PLAN.dmf_config(2, "dmf", seed))
    val = split.role == VAL
    path = cache / f"dmf-seed{seed}.npz"
    np.savez_compressed(path, val=result.predictor.continuous(data.users[val], data.items[val]).astype(np.float32),
                        val_true=data.ratings[val].astype(np.int8))
    return path


def analyse_fitted(seed: int, cache: Path, scale: tuple[float, float]) -> dict:
    """Boundaries fitted on one half of validation (least squares, and least absolute error: Table 2's fitted row),
    scored on the other half against rounding the same output."""
    saved = np.load(cache / f"dmf-seed{seed}.npz")
    x, y = saved["val"].astype(np.float64), saved["val_true"].astype(np.float64)
    rng = np.random.default_rng(seed)
    out = {}
    for name, squared in (("least squares", True), ("least absolute error", False)):
        d_rmse, d_mae = [], []
        for _ in range(HALVINGS):
            order = rng.permutation(len(y))
            a, b = order[: len(y) // 2], order[len(y) // 2:]
            fitted = quantize(x[b], fit_boundaries(x[a], y[a], scale, 1.0, squared=squared), scale)
            rounded = round_to_scale(x[b], scale)
            d_rmse.append(rmse(fitted, y[b]) - rmse(rounded, y[b]))
            d_mae.append(mae(fitted, y[b]) - mae(rounded, y[b]))
        out[name] = {"other_half_rmse_minus_rounding": float(np.mean(d_rmse)),
                     "other_half_mae_minus_rounding": float(np.mean(d_mae))}
    return out


def start_epoch(history: list[dict]) -> int:
    """The warm-up epoch the quantizer started from: plain DMF's best continuous validation RMSE (phases.Discrete's
    own early stopping, with its min-delta)."""
    best, index = np.inf, -1
    for i, h in enumerate(history):
        if h["phase"] != QUANTIZER and h["val_rmse_continuous"] < best - MIN_DELTA:
            best, index = h["val_rmse_continuous"], i
    return index


def select(start: np.ndarray, epochs: np.ndarray, true: np.ndarray, settled: list[bool], margin: float) -> int:
    """The rule's choice among the start (-1) and the quantizer epochs (their index), early stopping replayed."""
    start_sq = (start.astype(np.float64) - true) ** 2
    start_rmse = float(np.sqrt(start_sq.mean()))
    best, chosen, stale = start_rmse, -1, 0
    for e, predicted in enumerate(epochs):
        diff, se = paired_rmse_difference((predicted.astype(np.float64) - true) ** 2, start_sq)
        value = start_rmse + diff + margin * se  # the engine's BlockTask._selection_value
        if value < best - MIN_DELTA:
            best, chosen, stale = value, e, 0
        else:
            stale += 1
        if not settled[e]:
            stale = 0
        if stale >= PATIENCE:
            break
    return chosen


def analyse(seed: int, cache: Path) -> dict:
    saved = np.load(cache / f"seed{seed}.npz")
    history = json.loads(str(saved["history"]))
    val, test, val_true, test_true = saved["val"], saved["test"], saved["val_true"], saved["test_true"]
    s = start_epoch(history)
    quantizer = [i for i, h in enumerate(history) if h["phase"] == QUANTIZER]
    settled = [history[i]["quantizer_gap"] is not None and history[i]["quantizer_gap"] < GAP_TOLERANCE
               for i in quantizer]
    recorded = next(h["start_val_rmse"] for h in history if h.get("start_val_rmse") is not None)
    assert abs(rmse(val[s], val_true) - recorded) < 1e-9, "the start is not the recorded one"
    out = {"seed": seed, "start_epoch": s + 1, "quantizer_epochs": len(quantizer), "rules": {}}
    rng = np.random.default_rng(seed)
    halvings = [rng.permutation(len(val_true)) for _ in range(HALVINGS)]
    for margin in MARGINS:
        rule = f"margin-{margin:g}" if margin else "best"
        chosen = select(val[s], val[quantizer], val_true, settled, margin)
        pick = s if chosen < 0 else quantizer[chosen]
        held: dict[str, list[float]] = {"rmse": [], "mae": [], "left_start": []}
        for order in halvings:
            a, b = order[: len(order) // 2], order[len(order) // 2:]
            c = select(val[s][a], val[quantizer][:, a], val_true[a], settled, margin)
            p = s if c < 0 else quantizer[c]
            held["rmse"].append(rmse(val[p][b], val_true[b]) - rmse(val[s][b], val_true[b]))
            held["mae"].append(mae(val[p][b], val_true[b]) - mae(val[s][b], val_true[b]))
            held["left_start"].append(float(c >= 0))
        out["rules"][rule] = {
            "selected": "start" if chosen < 0 else f"quantizer epoch {chosen + 1} (λ {history[pick]['lambda']:.3g})",
            "val_rmse_minus_start": rmse(val[pick], val_true) - rmse(val[s], val_true),
            "other_half": {"rmse_minus_start": float(np.mean(held["rmse"])),
                           "mae_minus_start": float(np.mean(held["mae"])),
                           "share_leaving_start": float(np.mean(held["left_start"]))},
            "test_not_used_to_choose": {"rmse_minus_start": rmse(test[pick], test_true) - rmse(test[s], test_true),
                                        "mae_minus_start": mae(test[pick], test_true) - mae(test[s], test_true)},
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--cache", default="/tmp/dmfd-selection")
    parser.add_argument("--analyse", action="store_true", help="only replay the rules on the saved predictions")
    parser.add_argument("--fitted", action="store_true", help="also train Table 2's DMF per seed and check "
                        "boundaries fitted on half of validation on the other half")
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    if not args.analyse:
        torch.set_num_threads(2)
        data = load_dataset(DATA)
        for seed in seeds:
            if not (cache / f"seed{seed}.npz").exists():  # saved predictions are reused: training is the cost
                print(f"seed {seed}: training ...", flush=True)
                print(f"seed {seed}: saved {train(seed, data, cache)}", flush=True)
    if args.fitted and not args.analyse:
        for seed in seeds:
            if not (cache / f"dmf-seed{seed}.npz").exists():
                print(f"seed {seed}: plain DMF saved {train_dmf(seed, data, cache)}", flush=True)
    runs = [analyse(seed, cache) for seed in seeds]
    fitted = {}
    if all((cache / f"dmf-seed{seed}.npz").exists() for seed in seeds):
        per_seed = [analyse_fitted(seed, cache, (1.0, 5.0)) for seed in seeds]
        for name in per_seed[0]:
            fitted[name] = {k: float(np.mean([r[name][k] for r in per_seed])) for k in per_seed[0][name]}
            print(f"DMF + b fitted on one half ({name}): other half RMSE "
                  f"{fitted[name]['other_half_rmse_minus_rounding']:+.5f}, MAE "
                  f"{fitted[name]['other_half_mae_minus_rounding']:+.5f} against rounding")
    summary = {}
    for rule in runs[0]["rules"]:
        mine = [r["rules"][rule] for r in runs]
        summary[rule] = {
            "val_rmse_minus_start": float(np.mean([m["val_rmse_minus_start"] for m in mine])),
            "other_half_rmse_minus_start": float(np.mean([m["other_half"]["rmse_minus_start"] for m in mine])),
            "other_half_mae_minus_start": float(np.mean([m["other_half"]["mae_minus_start"] for m in mine])),
            "share_leaving_start": float(np.mean([m["other_half"]["share_leaving_start"] for m in mine])),
            "test_rmse_minus_start": float(np.mean([m["test_not_used_to_choose"]["rmse_minus_start"] for m in mine])),
            "test_mae_minus_start": float(np.mean([m["test_not_used_to_choose"]["mae_minus_start"] for m in mine])),
        }
        print(f"{rule:>10}: selected on all of validation − start {summary[rule]['val_rmse_minus_start']:+.5f}; "
              f"other half RMSE {summary[rule]['other_half_rmse_minus_start']:+.5f}, MAE "
              f"{summary[rule]['other_half_mae_minus_start']:+.5f}, leaves the start in "
              f"{summary[rule]['share_leaving_start']:.0%} | test (not used) RMSE "
              f"{summary[rule]['test_rmse_minus_start']:+.5f} MAE {summary[rule]['test_mae_minus_start']:+.5f}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({
        "what": "DMF-D (Table 2's settings) selected by each rule; differences from its start (DMF + rounding), "
                "mean over seeds; other half: validation halved at random 20 times, selected on one half and "
                "scored on the other",
        "summary": summary, "runs": runs, "fitted_boundaries": fitted,
        "metadata": {"written": datetime.now(UTC).isoformat(timespec="seconds"), "data": DATA,
                     "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
                                f"{torch.__version__}",
                     "command": "python benchmarks/bench_dmfd_selection.py " + " ".join(sys.argv[1:])},
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
