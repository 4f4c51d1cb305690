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
# # 02 · The four areas: users and items the model never trained on
#
# A matrix-factorisation model with one learned vector per user id has nothing to say about a user who arrives after
# training. DMF has no per-id vector: a user *is* their row of ratings, read by the user branch. So a trained DMF
# scores people and items it never saw, from their ratings, **with no retraining**.
#
# The paper measures this with four areas of the rating matrix: hold out 10% of the users and 10% of the items
# entirely, train on the rest, then score
#
# | area | users | items |
# |---|---|---|
# | I | seen in training | seen |
# | II | **new** (only their ratings are read) | seen |
# | III | seen | **new** |
# | IV | new | new |
#
# This notebook trains DMF once on that split, scores all four areas beside the global mean + biases baseline, and
# draws the *cold-start curve*: a new user's error as they give the model more of their ratings.

# %% tags=["parameters"]
import os

from dmf_core.data import DataError, find_ml1m

FAST = os.environ.get("DMF_NOTEBOOK_FAST") == "1"  # the tests' setting: a small demo matrix and a few seconds
try:
    find_ml1m()
    DATA = "ml-1m"  # MovieLens-1M: 1,000,209 ratings of 3,706 movies by 6,040 people
except DataError:
    DATA = "demo"  # the built-in MovieLens-shaped demo data (`python -m dmf_core download` fetches ML-1M)
MAX_SECONDS = 90  # DMF's training budget; it stops earlier when validation RMSE stops improving
SEED = 0  # the split and the initial weights
if FAST:
    DATA, MAX_SECONDS = "demo:400x300x30000", 6  # a 400 × 300 demo matrix: dense enough to learn in 6 s

# %%
import numpy as np
import pandas as pd

from dmf_core import DMF, figures, paper
from dmf_core.data import load_dataset
from dmf_core.data.split import AREAS, OBSERVED, TEST
from dmf_core.scoring.cold_start import cold_start_curve

data = load_dataset(DATA)
print(f"{data.name}: {data.n_ratings:,} ratings, {data.n_users:,} users × {data.n_items:,} items")

# %% [markdown]
# ## Train once
#
# `DMF(split="areas")` is the paper's experiment (and the command line's `train`): 10% new users, 10% new items,
# then the remaining ratings split 75 / 5 / 20 into observed (training targets and model inputs), validation (which
# selects the epoch and stops training) and test. The test ratings of every area are scored once, at the end.

# %%
model = DMF(split="areas", max_seconds=MAX_SECONDS, seed=SEED).fit(data)
metrics = model.metrics_
print(f"{metrics['epochs_run']} epochs in {metrics['train_seconds']:.0f} s ({metrics['stop_reason']})")

# %% [markdown]
# The split, drawn as the paper's Figure 2: each block sized by its users and items and labelled with its ratings.

# %%
split = model.observed_.split
counts = split.counts()
figures.area_blocks(counts["users"]["seen"], counts["users"]["new"], counts["items"]["seen"], counts["items"]["new"],
                    {area: counts[area]["total"] for area in AREAS})

# %% [markdown]
# ## RMSE per area, beside global mean + biases
#
# The baseline predicts μ + b_user + b_item; a new user's bias is folded in from their observed ratings, as DMF
# reads them, so both see exactly the same information. Both are scored on the same test ratings. The paper's
# Table 1 (ML-1M) is marked for reference: a run on other data or with a short budget is not expected to match it.

# %%
areas = [a for a in AREAS if metrics["areas"].get(a)]
table = pd.DataFrame({
    "test ratings": [metrics["areas"][a]["n"] for a in areas],
    "DMF (this run)": [metrics["areas"][a]["rmse"] for a in areas],
    "global mean + biases": [metrics["baseline"]["areas"][a]["rmse"] for a in areas],
    "DMF, the paper (ML-1M)": [paper.TABLE1["DMF"][a] for a in areas],
}, index=areas)
table.round(4)

# %%
reference = {"global mean + biases": {a: metrics["baseline"]["areas"][a]["rmse"] for a in areas}}
if data.name == "ml-1m":
    reference["DMF, the paper's Table 1"] = paper.TABLE1["DMF"]
figures.area_scores(metrics["areas"], reference, title=f"Test error per area: DMF on {data.name}")

# %% [markdown]
# ## A new user, scored from their ratings
#
# Take one held-out user. The model never trained on them; `predict(..., context=their_ratings)` reads their
# observed ratings as a row through the user branch and scores their test ratings. This is what area II measures
# for every new user at once.

# %%
ratings = model.observed_.data
new_users = np.flatnonzero(split.new_user)
per_user = np.bincount(ratings.users[split.role == TEST], minlength=ratings.n_users)  # test ratings per user
person = int(new_users[np.argmax(per_user[new_users])])
mine = ratings.users == person
seen_item = ~split.new_item[ratings.items]
given = mine & seen_item & (split.role == OBSERVED)  # the ratings this person gives the model
context = pd.DataFrame({"user": ratings.user_ids[person], "item": ratings.item_ids[ratings.items[given]],
                        "rating": ratings.ratings[given]})
test = mine & seen_item & (split.role == TEST)
pairs = pd.DataFrame({"user": ratings.user_ids[person], "item": ratings.item_ids[ratings.items[test]]})
predicted = model.predict(pairs, context=context)
person_rmse = float(np.sqrt(np.mean((predicted - ratings.ratings[test]) ** 2)))
print(f"user {ratings.user_ids[person]}: {len(context)} ratings read, {int(test.sum())} test ratings predicted, "
      f"RMSE {person_rmse:.3f}")

# %% [markdown]
# ## The cold-start curve
#
# How many ratings does a new user need to give? For each k, every new user's input row holds only k of their
# observed ratings, drawn at random, and their area-II test ratings are predicted; the baseline folds the user's
# bias in from the same k ratings. At k = 0 both know nothing about the person. Nothing is retrained for any k.

# %%
curve = cold_start_curve(model.predictor_, ratings, split, seed=SEED)
area_one = metrics["areas"]["I"]["rmse"]
display_curve = curve[["k", "n_users", "n_ratings", "rmse", "baseline_rmse"]].rename(
    columns={"rmse": "DMF RMSE", "baseline_rmse": "global mean + biases RMSE"})
display_curve.round(4)

# %%
figures.cold_start(curve, reference=area_one, reference_name="area I (seen users), this DMF",
                   curve_name="DMF, k ratings of the new user seen")

# %% [markdown]
# Read the two curves together. With a handful of ratings the per-user bias is the easier thing to estimate: an
# offset from three numbers is well defined, a place on the sphere is not, and at k = 0 the user branch still puts
# an empty row somewhere. As the row fills, DMF's reading of *which* films the person liked pulls ahead. The first k
# at which DMF is the better of the two, here:

# %%
ahead = curve[(curve["k"] != "all") & (curve["rmse"] < curve["baseline_rmse"])]
print("DMF ahead of global mean + biases from k =", ahead["k"].iloc[0] if len(ahead) else "(none of the k drawn)",
      f"; with every observed rating (area II): DMF {curve['rmse'].iloc[-1]:.4f}, "
      f"global mean + biases {curve['baseline_rmse'].iloc[-1]:.4f}")

# %%
points = curve[curve["k"] != "all"].set_index("k")
everything = curve[curve["k"] == "all"].iloc[0]
RESULTS = {
    "data": data.name,
    "epochs": int(metrics["epochs_run"]),
    "train_seconds": float(metrics["train_seconds"]),
    **{f"rmse_{a}": float(metrics["areas"][a]["rmse"]) for a in areas},
    **{f"baseline_rmse_{a}": float(metrics["baseline"]["areas"][a]["rmse"]) for a in areas},
    "person_rmse": person_rmse,
    # k = 0, k = 10 and "all" score the same new users wherever every one has 10 observed ratings (n_users says)
    "cold_start_k0_rmse": float(points.loc["0", "rmse"]),
    "cold_start_k0_users": int(points.loc["0", "n_users"]),
    "cold_start_k10_rmse": float(points.loc["10", "rmse"]) if "10" in points.index else -1.0,
    "cold_start_k10_users": int(points.loc["10", "n_users"]) if "10" in points.index else 0,
    "cold_start_all_rmse": float(everything["rmse"]),
    "cold_start_all_baseline_rmse": float(everything["baseline_rmse"]),
}
RESULTS

# %% [markdown]
# ## In the app
#
# The **Areas** page (`streamlit run app.py`, then *Areas*) shows the same table, figure and cold-start curve for any
# run trained on the *Train* page or with `python -m dmf_core train --data ml-1m --out runs/ml1m` (the command line's
# default split is this one). Next: notebook 03, DMF-D's learned quantizer.
