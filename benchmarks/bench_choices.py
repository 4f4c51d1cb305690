"""The choices behind the defaults, compared on *validation* ratings only (demo data, seeds 0-2), so that no
default is picked on test scores: bias+cosine vs the paper's cosine, input dropout 0.25 vs 0, the cosine weight
for new rows (fitted on one half of the validation ratings, scored on the other), the quick preset's learning
rate, DMF-D's automatic vs fixed 8-epoch warm-up and the warm-up's share of a short epoch cap, and 4 / 5 / 6 / 9 chunks a side for the blocks; on ML-1M
(seed 0, no new rows and the default 10% new users and items) 4 / 5 / 6 chunks a side, by validation RMSE per
second of training and at convergence.

    python benchmarks/bench_choices.py dmf     # and: quick, dmfd, blocks, warmup-share   (a few minutes each on 2 cores)
    python benchmarks/bench_choices.py blocks-ml1m                          (about 15 minutes on 2 cores)
    python benchmarks/bench_choices.py input-dropout    (demo, ML-1M's 10% and 30% subsamples, ML-1M: ~15 minutes)
    python benchmarks/bench_choices.py companion        (the same data and ML-1M's literature split: ~12 minutes)
Output of the committed runs: benchmarks/results/choices-validation.log, choices-blocks-ml1m.log,
choices-warmup-share.log, choices-input-dropout.log, choices-companion.log.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch's import, as dmf_core sets it (dmf_core/__init__.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
import torch

from dmf_core.config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig, replace
from dmf_core.data.demo import make_demo
from dmf_core.data.split import VAL, split_areas
from dmf_core.scoring.predict import Predictor
from dmf_core.training.train import fit
from studio.presets import quick_preset

PARTS = ("dmf", "quick", "dmfd", "blocks", "warmup-share", "blocks-ml1m", "input-dropout", "companion")
parser = argparse.ArgumentParser(description="The choices behind the defaults, compared on validation ratings only; "
                                 "prints one line per run (see this file's docstring for each part and its time).")
parser.add_argument("part", choices=PARTS, help="which choice to measure")
parser.add_argument("datasets", nargs="?", help="input-dropout and companion: a comma-separated subset of "
                    "demo,ml1m-10,ml1m-30,ml1m,ml1m-literature (default: all)")
args = parser.parse_args()
part = args.part
if part == "blocks-ml1m":
    from dmf_core.data import load_dataset

    torch.set_num_threads(2)
    data = load_dataset("ml-1m")
    for new in (0.0, 0.1):
        split = split_areas(data, SplitConfig(new_user_frac=new, new_item_frac=new, seed=0))
        users, items = int((~split.new_user).sum()), int((~split.new_item).sum())
        for k in (4, 5, 6):
            r = fit(data, split, ModelConfig(companion="none"), TrainConfig(block_users=-(-users // k), block_items=-(-items // k)))
            best = r.history[r.best_epoch - 1]
            print(f"{new:g} new, {k} chunks a side: selected epoch {r.best_epoch} of {r.epochs_run}, val I/II/III/IV",
                  [round(v, 4) if v else None for v in best["val_areas"].values()], f"{r.train_seconds:.0f} s;",
                  "(seconds, val RMSE) per epoch", [(round(h["elapsed"], 1), round(h["val_rmse"], 4)) for h in r.history],
                  flush=True)
    sys.exit(0)
if part == "input-dropout":
    # Issue 17's lead: input dropout 0.4 / 0.5 beat 0.25 on ML-1M's literature split (validation, seed 0). Does the
    # gain hold on the demo data (seeds 0-2), on ML-1M's 10% / 30% user subsamples and on ML-1M (seed 0), with
    # areas II-IV? A third argument picks some of them: `input-dropout ml1m`.
    from bench_defaults import load

    torch.set_num_threads(2)
    plan = {"demo": (0, 1, 2), "ml1m-10": (0,), "ml1m-30": (0,), "ml1m": (0,)}
    for name, seeds in plan.items():
        if args.datasets and name not in args.datasets.split(","):
            continue
        data = load(name)
        for seed in seeds:
            split = split_areas(data, SplitConfig(seed=seed))
            for rate in (0.25, 0.4, 0.5):
                r = fit(data, split, ModelConfig(companion="none"), TrainConfig(seed=seed, input_dropout=rate))
                best = r.history[r.best_epoch - 1]["val_areas"]
                print(name, seed, f"input dropout {rate}: val I/II/III/IV (selected epoch, before calibration)",
                      [round(best[a], 4) if best[a] else None for a in ("I", "II", "III", "IV")],
                      f"epoch {r.best_epoch} of {r.epochs_run}, {r.train_seconds:.0f} s", flush=True)
    sys.exit(0)
if part == "companion":
    # The I-AutoRec companion (ModelConfig.companion): does blending it in win on validation on the demo data (seeds
    # 0-2), ML-1M's 10% / 30% user subsamples and ML-1M (Table-1 split, seed 0), and ML-1M's literature split? The
    # blend's weights are cross-fitted: fitted on one half of an area's validation ratings, scored on the other, and
    # the other way round; DMF alone on the same halves. Areas II and IV are DMF's either way (new users).
    from bench_defaults import load

    torch.set_num_threads(2)
    plan = {"demo": (0, 1, 2), "ml1m-10": (0,), "ml1m-30": (0,), "ml1m": (0,), "ml1m-literature": (0,)}
    for name, seeds in plan.items():
        if args.datasets and name not in args.datasets.split(","):
            continue
        data = load(name.replace("-literature", ""))
        for seed in seeds:
            literature = {"new_user_frac": 0.0, "new_item_frac": 0.0, "val_frac": 0.05, "test_frac": 0.10}
            split = split_areas(data, SplitConfig(seed=seed, **(literature if "literature" in name else {})))
            r = fit(data, split, ModelConfig(companion="i-autorec"), TrainConfig(seed=seed))
            if not r.companion["trained"]:
                print(name, seed, "companion not trained:", r.companion["note"], flush=True)
                continue
            val = np.flatnonzero(split.role == VAL)
            users, items, true, area = data.users[val], data.items[val], data.ratings[val], split.area[val]
            dmf = Predictor(r.model, r.predictor.user_factors, r.predictor.item_factors).continuous(users, items)
            with torch.no_grad():
                ae = r.model.companion.decode_at(r.predictor.companion_codes, torch.as_tensor(items),
                                                 torch.as_tensor(users)).clamp(*data.rating_scale).numpy()
            half = np.random.default_rng(seed).random(len(val)) < 0.5
            line = []
            for k, label in ((0, "I"), (2, "III")):
                alone_se = blend_se = count = 0.0
                for fit_half in (half, ~half):
                    fit_on, score_on = fit_half & (area == k), ~fit_half & (area == k)
                    if fit_on.sum() < 50 or not score_on.any():
                        continue
                    design = np.column_stack([dmf, ae, np.ones(len(dmf))]).astype(np.float64)
                    w = np.linalg.lstsq(design[fit_on], true[fit_on].astype(np.float64), rcond=None)[0]
                    blended = np.clip(design[score_on] @ w, *data.rating_scale)
                    alone_se += float(((dmf[score_on] - true[score_on]) ** 2).sum())
                    blend_se += float(((blended - true[score_on]) ** 2).sum())
                    count += int(score_on.sum())
                if count:
                    line.append(f"area {label}: DMF alone {np.sqrt(alone_se / count):.4f}, blend "
                                f"{np.sqrt(blend_se / count):.4f} ({count:.0f} ratings)")
            dmf_seconds = r.train_seconds - r.companion["seconds"]
            print(name, seed, "validation RMSE, blend cross-fitted on halves:", "; ".join(line),
                  f"| DMF {dmf_seconds:.0f} s + companion {r.companion['seconds']:.0f} s "
                  f"({r.companion['epochs_run']} epochs, selected {r.companion['best_epoch']})", flush=True)
    sys.exit(0)
torch.set_num_threads(1)
data = make_demo(0)
def val_areas(r):
    return [round(r.history[r.best_epoch - 1]["val_areas"][a] or float("nan"), 4) for a in ("I","II","III","IV")]
for seed in (0, 1, 2):
    split = split_areas(data, SplitConfig(seed=seed))
    if part == "dmf":
        for label, mc, tc in (("default", ModelConfig(companion="none"), TrainConfig(seed=seed)),
                              ("input_dropout 0", ModelConfig(companion="none"), TrainConfig(seed=seed, input_dropout=0.0)),
                              ("output cosine", ModelConfig(output="cosine", companion="none"), TrainConfig(seed=seed))):
            r = fit(data, split, mc, tc)
            print(seed, label, "val I/II/III/IV (selected epoch, before calibration)", val_areas(r), flush=True)
            if label == "default":
                # Calibration, cross-fitted inside validation: weights from one half, scored on the other half.
                model = r.model
                model.user_weight.fill_(1.0)
                model.item_weight.fill_(1.0)
                predictor = Predictor.build(model, r.inputs)
                selected = np.flatnonzero(split.role == VAL)
                half = np.random.default_rng(seed).random(len(selected)) < 0.5
                true, area = data.ratings[selected], split.area[selected]
                users, items = torch.as_tensor(data.users[selected]), torch.as_tensor(data.items[selected])
                low, high = model.rating_scale
                cosine = (predictor.user_factors[users] * predictor.item_factors[items]).sum(-1)
                term = (cosine * (high - low) / 2).numpy()
                base = model.base(users, items).numpy()
                left = true - base
                out = {}
                for fit_half in (half, ~half):
                    rho = []
                    for k in (1, 2):
                        s = fit_half & (area == k)
                        rho.append(float(np.clip(term[s] @ left[s] / (term[s] @ term[s]), 0, 1)))
                    weight = np.array([1, rho[0], rho[1], rho[0] * rho[1]])[area]
                    for k in (1, 2, 3):
                        s = ~fit_half & (area == k)
                        raw = np.sqrt(np.mean((np.clip(base + term, low, high)[s] - true[s]) ** 2))
                        cal = np.sqrt(np.mean((np.clip(base + weight * term, low, high)[s] - true[s]) ** 2))
                        out.setdefault(k, []).append((float(raw), float(cal), int(s.sum())))
                print(seed, "calibration cross-fitted on val halves: area: (uncalibrated, calibrated, n) per half",
                      {k: [(round(x, 4), round(y, 4), n) for x, y, n in v] for k, v in out.items()}, flush=True)
    elif part == "quick":
        for lr in (5e-3, 1e-2):
            mc, tc = quick_preset()
            r = fit(data, split, mc, replace(tc, lr=lr, seed=seed))
            print(seed, f"quick lr {lr}", "val I/II/III/IV (last epoch)", [round(r.history[-1]["val_areas"][a], 4) for a in ("I","II","III","IV")], flush=True)
    elif part == "blocks" and seed < 2:
        # The number of chunks per side (derive.CHUNKS_PER_SIDE = 5), as explicit block sizes.
        for k in (4, 5, 6, 9):
            users, items = int((~split.new_user).sum()), int((~split.new_item).sum())
            tc = TrainConfig(seed=seed, block_users=-(-users // k), block_items=-(-items // k))
            r = fit(data, split, ModelConfig(companion="none"), tc)
            print(seed, f"{k} chunks a side", "val I/II/III/IV (selected epoch, before calibration)", val_areas(r),
                  f"{r.train_seconds:.0f} s", flush=True)
    elif part == "warmup-share" and seed < 2:
        # DMF-D's warm-up gets at most phases.WARMUP_SHARE of the epoch cap: compared at caps where it binds.
        from dmf_core.training import phases

        split = split_areas(data, SplitConfig(new_user_frac=0, new_item_frac=0, seed=seed))
        for cap in (8, 16):
            for share in (0.25, 0.5, 0.75):
                phases.WARMUP_SHARE = share
                r = fit(data, split, ModelConfig(companion="none"), TrainConfig(model="dmf-d", seed=seed, epochs=cap))
                print(seed, f"cap {cap} epochs, warm-up share {share}: warm-up {r.quantizer['warmup_epochs']} epochs "
                      f"({r.quantizer['warmup_ended_by']}), discrete val RMSE of the selected epoch "
                      f"{r.val_rmse:.4f} ({r.val_rmse_kind})", flush=True)
    elif part == "dmfd":
        split = split_areas(data, SplitConfig(new_user_frac=0, new_item_frac=0, seed=seed))
        for label, w in (("auto warm-up", None), ("8 epochs", 8)):
            r = fit(data, split, ModelConfig(companion="none"), TrainConfig(model="dmf-d", seed=seed, quantizer=QuantizerConfig(warmup_epochs=w)))
            print(seed, label, "discrete val RMSE of the selected epoch", round(r.val_rmse, 4), flush=True)
