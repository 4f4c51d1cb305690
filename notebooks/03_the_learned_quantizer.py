# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · The learned quantizer
#
# Ratings are whole stars, but DMF's output r̂ is a real number. The paper's second model, **DMF-D**, ends in a
# quantizer: the step function Q_b (eq. 3) turns the output x into the star I_v or I_v+1 of its cell, switching at a
# boundary b_v. Rounding is the special case where every b_v is the midpoint b̃_v (1.5, 2.5, 3.5, 4.5).
#
# A step has no gradient, so DMF-D trains through G_λ,b (eq. 4), where each step is a sigmoid of slope λ. λ grows
# epoch by epoch until G *is* Q_b, and the boundaries b are learned with the network, held near b̃ by a penalty
# γ₂‖b − b̃‖² (eq. 5). The paper's claim: quantizing *jointly* beats quantizing afterwards.
#
# This notebook shows G turning into Q_b, trains DMF-D and watches λ and b epoch by epoch, and then measures, on the
# same test ratings, the learned b against rounding and against boundaries fitted on validation, with global mean +
# biases beside them as the simple baseline.

# %% tags=["parameters"]
import os

FAST = os.environ.get("DMF_NOTEBOOK_FAST") == "1"  # what the tests run: a small matrix, a few epochs
DATA = "ml-1m"  # MovieLens-1M where it is on this machine; the built-in demo data otherwise (next cell)
MAX_SECONDS = 60  # training time budget per model (DMF-D, then plain DMF): 134 s for the whole notebook on a 2-core CPU (benchmarks/results/notebooks.json)
SEED = 0  # the split and the initial weights
EPOCHS = None  # None: the defaults' epoch cap (the budget usually ends training first)
WARMUP_EPOCHS = None  # None: DMF-D's own default warm-up of plain DMF before the quantizer starts
HIDDEN = None  # None: the default layer sizes of each branch; e.g. "32,8" for a quick small model
# 0: keep the quantizer epoch with the lowest validation RMSE, so the b below are learned ones. DMF-D's default, 2,
# leaves DMF + rounding only for a gain of more than 2 standard errors on validation (none did on ML-1M's Table 2
# splits, in 5 seeds).
SELECT_MARGIN = 0.0
if FAST:
    DATA, MAX_SECONDS, EPOCHS, WARMUP_EPOCHS, HIDDEN = "demo:400x300x12000", None, 4, 1, "32,8"

# %%
import numpy as np
import pandas as pd
from IPython.display import display
from ipywidgets import FloatLogSlider, interact

from dmf_core import DMF, figures
from dmf_core.data import DataError, find_ml1m, load_dataset
from dmf_core.model.quantizer import rating_levels, uniform_boundaries
from dmf_core.scoring.quantized import FITTED, LEARNED, ROUNDING, compare_quantizers
from dmf_core.training.phases import kept_start_reason

if DATA == "ml-1m":
    try:
        find_ml1m()
    except DataError as missing:
        print(f"{missing}\nUsing the built-in demo data instead.")
        DATA = "demo"
data = load_dataset(DATA)
print(f"{data.name}: {data.n_users:,} users, {data.n_items:,} items, {len(data.ratings):,} ratings")

# %% [markdown]
# ## G_λ,b becomes Q_b as λ grows
#
# Move λ: at small λ the curve is a gentle ramp through every cell (gradients reach the network and b); at large λ
# it is the staircase Q_b. The boundaries here are rounding's midpoints b̃. The slider needs a live kernel; the small
# multiples below show the same for a reader of the saved notebook.

# %%
scale, step = data.rating_scale, data.rating_step
uniform = uniform_boundaries(scale, step)
levels = rating_levels(scale, step)


def g_against_q(lam: float = 3.0):
    return figures.quantizer_static(uniform, uniform, lam, scale, title="G_λ,b against Q_b (b = b̃)")


slider = interact(g_against_q, lam=FloatLogSlider(value=3.0, base=10, min=-1, max=3, step=0.05, description="λ"))

# %%
figures.quantizer_small_multiples(uniform, uniform, scale, lams=(0.5, 2.0, 5.0, 20.0, 100.0, 1000.0))

# %% [markdown]
# ## Training DMF-D: λ and b epoch by epoch
#
# DMF-D first trains as plain DMF (the warm-up), then switches the quantizer on with λ = `lambda_start` and grows it
# every epoch. The model kept is the epoch chosen on **validation** ratings; the test ratings are not looked at
# until the end. A plain DMF is trained on the same split with the same budget, for "DMF + rounding" and "DMF +
# boundaries fitted on validation", the two ways the paper compares DMF-D with.
#
# The warm-up may take at most three quarters of the time budget, so a short budget leaves the quantizer few epochs:
# the printout says how far λ got, and how far G still was from the step Q_b on the validation outputs. Raise
# `MAX_SECONDS` to give it more.
#
# Every quantizer epoch is compared with the quantizer's start, DMF + rounding, rating by rating on validation: its
# RMSE minus the start's, with that difference's standard error (the table's last two columns). With `SELECT_MARGIN
# = 0` the lowest validation RMSE wins however small its lead; DMF-D's default asks for more than 2 standard errors.
# On ML-1M's Table 2 splits no quantizer epoch cleared that margin in 5 seeds, and leads smaller than it did not
# hold on held-out validation ratings (REPRODUCTION.md, "The selection, checked on held-out validation").

# %%
split = {"new_users": 0.0, "new_items": 0.0, "val_frac": 0.05, "test_frac": 0.2, "seed": SEED}
extra = {key: value for key, value in {"epochs": EPOCHS, "max_seconds": MAX_SECONDS, "hidden": HIDDEN}.items()
         if value is not None}
dmf_d = DMF(model="dmf-d", verbose=0, select_margin=SELECT_MARGIN, **split, **extra,
            **({} if WARMUP_EPOCHS is None else {"warmup_epochs": WARMUP_EPOCHS})).fit(data)
dmf = DMF(model="dmf", verbose=0, **split, **extra).fit(data)

history = dmf_d.metrics_["history"]
quantized = [h for h in history if h.get("lambda") is not None]
record = dmf_d.metrics_.get("quantizer") or {}
warmup = len(history) - len(quantized)  # the epochs without λ: plain DMF
print(f"DMF-D: {len(history)} epochs, {warmup} of warm-up ({record.get('warmup_ended_by') or 'as recorded'}), "
      f"{len(quantized)} with the quantizer; epoch {dmf_d.metrics_['best_epoch']} kept (validation). "
      f"Stopped: {dmf_d.metrics_['stop_reason']}.")
if quantized:
    print(f"λ grew from {quantized[0]['lambda']:.3g} to {quantized[-1]['lambda']:.3g}"
          + (f"; G's mean distance from Q_b on validation at the end: {record['gap']:.3f} stars (the run's record)"
             if isinstance(record.get("gap"), (int, float)) else "") + ".")
if record.get("selected_start"):
    print(f"Validation kept the quantizer's start ({kept_start_reason(record) or 'the lowest validation RMSE'}), "
          "so this DMF-D is its warm-up's DMF with b at the midpoints. The λ and b below are of epochs validation did "
          "not keep.")
print(f"DMF: {len(dmf.metrics_['history'])} epochs; epoch {dmf.metrics_['best_epoch']} kept (validation).")
pd.DataFrame([{"epoch": h["epoch"], "λ": h["lambda"], **{f"b{v + 1}": b for v, b in enumerate(h["boundaries"])},
               "validation RMSE": h["val_rmse"], "− start": h.get("val_rmse_vs_start"),
               "± SE": h.get("val_rmse_vs_start_se")} for h in quantized]).round(4)

# %%
figures.quantizer_schedule(history, uniform)

# %% [markdown]
# Each quantizer epoch against the start, DMF + rounding, on the validation ratings: a dot is its RMSE minus the
# start's, and its bar adds the run's margin in standard errors. An epoch can be kept over the start only if its bar
# ends below the dotted line; the ringed one is the epoch kept, if any. (With `SELECT_MARGIN = 0` the bars have no
# length; rerun with 2, DMF-D's default, to see how far each dot is from a gain that counts.)

# %%
figures.quantizer_selection(history, record.get("select_margin"), dmf_d.metrics_["best_epoch"])

# %% [markdown]
# ## Where the learned b cut the output
#
# Each colour is the test ratings of one true star, placed at DMF-D's continuous output x for them: every
# quantizer below reads this same x. Rounding cuts at b̃ (dotted), DMF-D at its learned b (solid); the dashed lines
# are boundaries fitted to DMF-D's own output on the validation ratings.

# %%
own = compare_quantizers(dmf_d.predictor_, dmf_d.observed_.data, dmf_d.observed_.split)
figures.star_histogram(own.outputs, own.true, own.levels, own.scale, own.learned, own.uniform, own.fitted)

# %% [markdown]
# ## Learned b, rounding and fitted b, side by side
#
# All rows are scored on the same test ratings. "DMF-D" rows quantize DMF-D's output; "DMF" rows quantize the plain
# DMF's. The fitted boundaries see only validation ratings (the third way to stars in the paper's Table 2).
# `rmse_minus_rounding` is each row's RMSE minus rounding the same model's output, rating by rating on the same
# ratings, with its standard error: a difference within about two of them is noise.

# %%
plain = compare_quantizers(dmf.predictor_, dmf.observed_.data, dmf.observed_.split)
table = pd.concat([
    own.table.loc[[LEARNED, ROUNDING, FITTED]].rename(index=lambda name: f"DMF-D, {name}"),
    plain.table.loc[[ROUNDING, FITTED]].rename(index=lambda name: f"DMF, {name}"),
    plain.table.drop(index=[ROUNDING, FITTED]),
])
continuous = pd.DataFrame({"DMF-D": own.continuous, "DMF": plain.continuous}).T
display(table.round(4))
for other in (f"DMF-D, {ROUNDING}", f"DMF, {ROUNDING}"):
    delta = table.loc[f"DMF-D, {LEARNED}"] - table.loc[other]
    print(f"DMF-D's learned b minus {other}: RMSE {delta['rmse']:+.4f}, MAE {delta['mae']:+.4f}, exact stars "
          f"{100 * delta['exact_stars']:+.2f} points (learned b is better where RMSE/MAE are negative, stars positive)")
print(f"The first, rating by rating: RMSE {own.table.loc[LEARNED, 'rmse_minus_rounding']:+.4f} ± "
      f"{own.table.loc[LEARNED, 'rmse_minus_rounding_se']:.4f} (standard error of the paired difference)")
print("Before quantizing (continuous output):")
continuous.round(4)

# %%
figures.quantizer_scores(table, own.continuous)

# %% [markdown]
# ## What each boundary's move did
#
# Between rounding and the learned b, only the test ratings whose output lies between b̃_v and b_v change star, by
# one step each. Of those, some become right (the new star is their true one) and some become wrong (rounding had
# it right); the rest were wrong either way. The nets add up to the exact-stars difference of the two rows.

# %%
figures.boundary_effects(own.effects)

# %%
own.effects.round(4)

# %%
learned = own.table.loc[LEARNED]
rounded = own.table.loc[ROUNDING]
RESULTS = {
    "data": data.name,
    "n_test": int(learned["n"]),
    "n_epochs": len(history),
    "warmup_epochs": warmup,
    "quantizer_epochs": len(quantized),
    "quantizer_trained": bool(record.get("trained", bool(quantized))),
    "lambda_start": float(quantized[0]["lambda"]) if quantized else float("nan"),
    "lambda_end": float(quantized[-1]["lambda"]) if quantized else float("nan"),
    "b_inside_cells": all(lo <= b <= hi for b, lo, hi in zip(own.learned, levels[:-1], levels[1:], strict=True)),
    "b_max_move": float(np.abs(own.effects["moved"]).max()),
    "net_right": int(own.effects["net_right"].sum()),
    "selected_start": bool(record.get("selected_start")),
    "rmse_minus_rounding_se": float(own.table.loc[LEARNED, "rmse_minus_rounding_se"]),
    "exact_gain_count": round(float(learned["exact_stars"] - rounded["exact_stars"]) * int(learned["n"])),
    "continuous_rmse_dmf_d": float(own.continuous["rmse"]),
    "continuous_rmse_dmf": float(plain.continuous["rmse"]),
    **{f"{metric}_{key}": float(table.loc[row, metric])
       for key, row in (("learned", f"DMF-D, {LEARNED}"), ("rounding", f"DMF-D, {ROUNDING}"),
                        ("fitted", f"DMF-D, {FITTED}"), ("dmf_rounding", f"DMF, {ROUNDING}"),
                        ("dmf_fitted", f"DMF, {FITTED}"), ("baseline", table.index[-1]))
       for metric in ("rmse", "mae", "exact_stars")},
}
RESULTS

# %%
# The Quantizer page's sandbox with this run's learned b at λ = 1000 (the page's own link format: lam and b).
print("http://localhost:8501/Quantizer?lam=1000&b=" + ",".join(f"{b:.3g}" for b in own.learned))

# %% [markdown]
# ## Where next
#
# The app's **Quantizer** page (`streamlit run app.py`, then *Quantizer*) shows the same figures for any DMF-D run
# you train on the Train page, with a replay of λ and b over the run's outputs, the confusion matrix and a sandbox
# where you move λ and each b yourself; the link printed above opens that sandbox with this run's learned b.
#
# Does joint training beat rounding? On ML-1M, over 5 seeds, no gain of a quantizer epoch over DMF + rounding held
# on validation ratings it was not selected on, so DMF-D's default keeps DMF + rounding there.
# `python benchmarks/bench_dmfd_selection.py --seeds 0,1,2,3,4 --fitted` reruns that check, and REPRODUCTION.md
# ("DMF-D: what the learned quantizer buys and what it costs") has the tables.
