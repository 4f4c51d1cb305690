"""DMF-D's ablation on validation: which way of training the learned quantizer beats rounding DMF's output?

Each variant is one change to DMF-D's quantizer phase (QuantizerConfig), trained on Table 2's split of ML-1M (no
new users or items; seeded). Beside them, plain DMF (the same settings, `--model dmf`) quantized by rounding and by
boundaries fitted on validation (`quantizer.fit_boundaries`, Table 2's third row). Every variant is selected on
validation ratings only; test figures are printed beside, never used to choose.

    python benchmarks/bench_dmfd_ablation.py            # seed 0, every variant (~25 min on 2 idle cores)
    python benchmarks/bench_dmfd_ablation.py --variants dmf,auto-warmup --seeds 1,2
    python benchmarks/bench_dmfd_ablation.py --table    # the saved runs as REPRODUCTION.md's ablation table

DMF's row also gives the "fitted" finish's effect (`QuantizerConfig.finish`): its output with b fitted on validation
by least squares, and by least absolute error (Table 2's fitted row).

Writes benchmarks/results/dmfd-ablation.json (merged with what is there: one entry per variant and seed).
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

from dmf_core.config import ModelConfig, QuantizerConfig, TrainConfig, replace, to_dict
from dmf_core.data import load_dataset
from dmf_core.data.split import TEST, VAL, split_areas
from dmf_core.model.quantizer import fit_boundaries, hard_quantize
from dmf_core.reproduction.plans import split_config
from dmf_core.training.train import fit

OUT = Path(__file__).resolve().parent / "results" / "dmfd-ablation.json"
# Joint training as it was: λ from 2, ×1.2 an epoch, selected among the quantizer's epochs only.
# Selection by the lowest validation RMSE (select_margin 0), as every variant here ran; `bench_dmfd_selection.py`
# checks that rule on held-out validation.
JOINT = {"lambda_start": 2.0, "lambda_growth": 1.2, "select_start": False, "network_lr_scale": 1.0,
         "finish": "learned", "select_margin": 0.0}
# A fine-tune of the converged DMF: b at the midpoints, λ high enough that G ≈ Q_b, the start a candidate.
FINETUNE = {"lambda_start": 50.0, "lambda_growth": 1.2, "select_start": True, "finish": "learned",
            "select_margin": 0.0}
VARIANTS: dict[str, dict] = {
    # The quantizer phase as Table 2 ran it: 3 epochs of warm-up, λ from 2, ×1.2 an epoch.
    "short-warmup": {**JOINT, "warmup_epochs": 3},
    # The app's: warm-up until plain DMF stops improving, from its best weights; then λ from 2.
    "auto-warmup": dict(JOINT),
    "auto-warmup+one-scale": {**JOINT, "loss_scale": "cosine"},
    "auto-warmup+select-settled": {**JOINT, "select_settled": True},
    "short-warmup+one-scale+select-settled": {**JOINT, "warmup_epochs": 3, "loss_scale": "cosine",
                                              "select_settled": True},
    # A fine-tune of the converged DMF: b at the midpoints, λ high enough that G ≈ Q_b, the start a candidate.
    "finetune": {**FINETUNE, "network_lr_scale": 1.0},
    "finetune-lr0.1": {**FINETUNE, "network_lr_scale": 0.1},
    "finetune-frozen": {**FINETUNE, "network_lr_scale": 0.0},
    # The paper's (5) as written: through G from the first epoch, λ from small, and a sum over the ratings, beside
    # which γ2's term weighs nothing (γ2 = 0 here; Adam's steps do not depend on the loss's overall scale).
    "paper-objective-5": {**JOINT, "warmup_epochs": 0, "gamma2": 0.0},
}


LABELS = {
    "short-warmup": "3 warm-up epochs, then λ from 2 (Table 2's DMF-D before)",
    "auto-warmup": "automatic warm-up, then λ from 2 (the default's training)",
    "auto-warmup+one-scale": "… and the quantizer's loss on the warm-up's scale",
    "auto-warmup+select-settled": "… and selection only where G ≈ Q_b on validation",
    "short-warmup+one-scale+select-settled": "3 warm-up epochs, one scale, selection only where G ≈ Q_b",
    "finetune": "fine-tune from λ = 50, the start a candidate, network at full rate",
    "finetune-lr0.1": "… network at 0.1× its rate",
    "finetune-frozen": "… network frozen (b alone trains)",
    "paper-objective-5": "the paper's (5) as written: through G from the first epoch, γ2 ≈ 0",
}


def scores(pred: np.ndarray, true: np.ndarray) -> dict:
    return {"rmse": float(np.sqrt(np.mean((pred - true) ** 2))), "mae": float(np.mean(np.abs(pred - true))),
            "exact": float(np.mean(pred == true))}


def quantized(values: np.ndarray, boundaries: list[float], scale) -> np.ndarray:
    return hard_quantize(torch.as_tensor(values, dtype=torch.float64), torch.as_tensor(boundaries, dtype=torch.float64),
                         scale[0], 1.0).numpy()


def evaluate(result, data, split, fitted: bool) -> dict:
    """Validation and test scores of a trained run: DMF-D through its learned Q_b; DMF by rounding (and fitted b)."""
    model, out = result.model, {}
    roles = {"val": split.role == VAL, "test": split.role == TEST}
    cont = {r: result.predictor.continuous(data.users[m], data.items[m]) for r, m in roles.items()}
    true = {r: data.ratings[m].astype(np.float64) for r, m in roles.items()}
    midpoints = [1.5, 2.5, 3.5, 4.5]
    learned = model.quantizer.boundaries.detach().cpu().tolist() if model.quantizer is not None else midpoints
    ways = {"learned" if model.quantizer is not None else "rounding": learned}
    if fitted:
        ways["fitted"] = fit_boundaries(cont["val"], true["val"], data.rating_scale, 1.0)
        ways["fitted-squared"] = fit_boundaries(cont["val"], true["val"], data.rating_scale, 1.0, squared=True)
    for way, b in ways.items():
        out[way] = {"boundaries": b, **{r: scores(quantized(cont[r], b, data.rating_scale), true[r]) for r in roles}}
    out["continuous_rmse"] = {r: float(np.sqrt(np.mean((cont[r] - true[r]) ** 2))) for r in roles}
    if model.quantizer is not None:  # the variant's own continuous output rounded: what its quantizer must beat
        out["own_rounding"] = {r: scores(quantized(cont[r], midpoints, data.rating_scale), true[r]) for r in roles}
    return out


def run(name: str, seed: int, data, epochs: int) -> dict:
    split = split_areas(data, split_config(2, seed))
    kind = "dmf" if name == "dmf" else "dmf-d"
    quantizer = QuantizerConfig() if kind == "dmf" else replace(QuantizerConfig(), **VARIANTS[name])
    train = TrainConfig(model=kind, seed=seed, epochs=epochs, quantizer=quantizer)
    started = time.perf_counter()
    result = fit(data, split, ModelConfig(companion="none"), train)
    record = {"variant": name, "seed": seed, "quantizer_config": to_dict(quantizer),
              "seconds": time.perf_counter() - started, "epochs_run": len(result.history),
              "best_epoch": result.best_epoch, "stop_reason": result.stop_reason,
              **evaluate(result, data, split, fitted=kind == "dmf")}
    if result.quantizer is not None:
        record["quantizer"] = result.quantizer
        chosen = result.history[result.best_epoch - 1]
        record["selected_lambda"] = chosen.get("lambda")
        record["selected_phase"] = chosen.get("phase")
        # the quantizer's starting point on validation (DMF + rounding of the warm-up's weights)
        record["start_val_rmse"] = next((h["start_val_rmse"] for h in result.history if "start_val_rmse" in h), None)
    return record


def _cells(runs: list[dict], way: str) -> str:
    """Mean over the runs' seeds of validation and test RMSE / MAE / exact stars, as Markdown cells."""
    parts = []
    for role in ("val", "test"):
        for metric in ("rmse", "mae", "exact"):
            values = [r[way][role][metric] for r in runs]
            parts.append(f"{np.mean(values):.4f}")
    return " | ".join(parts)


def markdown() -> str:
    """The ablation table from the saved runs: each variant's learned quantizer, and DMF's rounding and fitted b."""
    runs = json.loads(OUT.read_text())["runs"]
    lines = ["| variant | seeds | val RMSE | val MAE | val exact | test RMSE | test MAE | test exact | test RMSE − "
             "rounding | test RMSE before quantizing | selected λ |", "|---" * 11 + "|"]
    dmf = {r["seed"]: r for r in runs if r["variant"] == "dmf"}
    rows = [("DMF + rounding", "dmf", "rounding"), ("DMF + b fitted on validation (least absolute error)", "dmf",
            "fitted"), ("DMF + b fitted on validation (least squares)", "dmf", "fitted-squared")]
    rows += [(f"DMF-D: {LABELS.get(name, name)} (`{name}`)", name, "learned") for name in VARIANTS]
    for label, variant, way in rows:
        mine = sorted((r for r in runs if r["variant"] == variant and way in r and r["seed"] in dmf),
                      key=lambda r: r["seed"])
        if not mine:
            continue
        paired = np.mean([r[way]["test"]["rmse"] - dmf[r["seed"]]["rounding"]["test"]["rmse"] for r in mine])
        seeds = ",".join(str(r["seed"]) for r in mine)
        before = np.mean([r["continuous_rmse"]["test"] for r in mine])
        lams = ", ".join("start" if r.get("selected_phase") == "warm-up" else f"{r['selected_lambda']:.3g}"
                         for r in mine if "selected_phase" in r) or "–"
        lines.append(f"| {label} | {seeds} | {_cells(mine, way)} | {paired:+.4f} | {before:.4f} | {lams} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--variants", default="dmf," + ",".join(VARIANTS))
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    parser.add_argument("--data", default="ml-1m")
    parser.add_argument("--table", action="store_true", help="print the saved runs as a Markdown table, and stop")
    args = parser.parse_args()
    if args.table:
        print(markdown())
        return
    torch.set_num_threads(2)
    data = load_dataset(args.data)
    saved = json.loads(OUT.read_text()) if OUT.exists() else {"runs": []}
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in args.variants.split(","):
            load = os.getloadavg()[0]
            record = run(name, seed, data, args.epochs)
            record["load_before"] = load
            print(json.dumps({k: record[k] for k in ("variant", "seed", "seconds", "best_epoch")}),
                  {w: (record[w]["val"], record[w]["test"]) for w in ("learned", "rounding", "fitted", "fitted-squared", "own_rounding")
                   if w in record}, flush=True)
            saved["runs"] = [r for r in saved["runs"] if (r["variant"], r["seed"]) != (name, seed)] + [record]
            command = "python benchmarks/bench_dmfd_ablation.py " + " ".join(sys.argv[1:])
            commands = saved.get("metadata", {}).get("commands", [])
            saved["metadata"] = {**saved.get("metadata", {}), "written": datetime.now(UTC).isoformat(timespec="seconds"),
                                 "data": args.data,
                                 "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                                 f"torch {torch.__version__} with {torch.get_num_threads()} threads",
                                 "load_average_1min_at_end": os.getloadavg()[0],
                                 "commands": commands + ([command] if command not in commands else [])}
            OUT.parent.mkdir(exist_ok=True)
            OUT.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
