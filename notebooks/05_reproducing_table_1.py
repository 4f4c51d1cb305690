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
# # 05 · Reproducing Table 1
#
# The paper's Table 1 gives the test RMSE of DMF in the four areas on MovieLens-1M (mean of 5 random splits),
# beside AutoRec, which serves only some of them: U-AutoRec reads a user's row, so it cannot score new items, and
# I-AutoRec reads an item's column, so it cannot score new users.
#
# This notebook runs a small version of the reproduction: **one seed and a short budget per model**, with the same
# code as `python -m dmf_core reproduce` (`dmf_core.reproduction`), and sets the paper's numbers beside it. With one
# seed there is no spread to judge a gap by, and a short budget leaves every model a little under-trained: this shows
# the shape of the table, not a verdict. The full reproduction is a command, at the end.

# %% tags=["parameters"]
import os

from dmf_core.data import DataError, find_ml1m

FAST = os.environ.get("DMF_NOTEBOOK_FAST") == "1"  # the tests' setting: a small demo matrix and a few seconds
try:
    find_ml1m()
    DATA = "ml-1m"  # the paper's data: the only one its numbers can be compared with
except DataError:
    DATA = "demo"  # `python -m dmf_core download` fetches MovieLens-1M
MAX_SECONDS = 50  # DMF's training budget; the baselines get the quick plan's (15 s each for AutoRec, 8 s for MF)
SEED = 0  # one seed: split 0 of the reproduction
if FAST:
    DATA, MAX_SECONDS = "demo:400x300x30000", 3

# %%
import dataclasses
import io
import tempfile

import pandas as pd

from dmf_core import figures
from dmf_core.data import load_dataset
from dmf_core.data.split import AREAS
from dmf_core.reproduction import tables
from dmf_core.reproduction.plans import QUICK_PLAN
from dmf_core.reproduction.runner import reproduce_table

data = load_dataset(DATA)
print(f"{data.name}: {data.n_ratings:,} ratings")

# %% [markdown]
# ## The plan
#
# The reproduction's quick plan (the one the app's *Results* page runs), for Table 1 only, with DMF's budget set
# above. Every model trains on the same split and is scored on the same test ratings; each is selected on validation
# ratings, never on test ones.

# %%
budgets = {**QUICK_PLAN.budgets[1], "dmf": float(MAX_SECONDS)}
overrides = QUICK_PLAN.baseline_overrides
if FAST:  # a few seconds and a few epochs each: what the tests check is that the table is built and sane
    budgets = {"dmf": float(MAX_SECONDS), "u-autorec": 1.5, "i-autorec": 1.5, "mf": 1.0, "bias": 1.0}
    overrides = {"u-autorec": {"epochs": 3}, "i-autorec": {"epochs": 3}, "mf": {"epochs": 4}}
plan = dataclasses.replace(QUICK_PLAN, name="notebook", seeds=1, budgets={**QUICK_PLAN.budgets, 1: budgets},
                           baseline_overrides=overrides)
pd.Series(budgets, name="budget (s)")

# %% [markdown]
# ## The run
#
# `reproduce_table` trains each model of the table on split `SEED`, writes one result file per model into a scratch
# folder and aggregates them: what `python -m dmf_core reproduce` does for 5 seeds.

# %%
log = io.StringIO()
with tempfile.TemporaryDirectory() as scratch:
    summary = reproduce_table(1, data, scratch, plan, seeds=1, log=log)
print("\n".join(line.split("\r")[-1] for line in log.getvalue().splitlines() if line.strip() and "[" in line[:3]))

# %% [markdown]
# ## The table, with the paper's numbers beside it
#
# "measured" rows are this run; "paper" rows are copied from the paper (`dmf_core.paper`). On ML-1M a "gap" row gives
# measured − paper, starred where it exceeds the seed-to-seed spread (with one seed there is none, so every gap is
# starred). A dash: the model cannot serve that area.

# %%
pd.DataFrame(tables.display_rows(summary))

# %%
rows = {row["key"]: row for row in summary["rows"]}
runs = [(f"{row['label']} (this run)", {a: {"rmse": row["cells"][a]["mean"]} for a in AREAS if row["cells"].get(a)})
        for row in summary["rows"] if any(row["cells"].values())]
if tables.is_comparable(summary):
    runs.append(("DMF (paper)", {a: {"rmse": v} for a, v in summary["paper"]["DMF"].items() if v is not None}))
figures.compare_areas(runs)

# %%
dmf, bias = rows["dmf"]["cells"], rows["bias"]["cells"]
RESULTS = {
    "data": data.name,
    "comparable_with_paper": tables.is_comparable(summary),
    **{f"dmf_rmse_{a}": float(dmf[a]["mean"]) for a in AREAS if dmf.get(a)},
    **{f"baseline_rmse_{a}": float(bias[a]["mean"]) for a in AREAS if bias.get(a)},
    **{f"paper_dmf_rmse_{a}": float(v) for a, v in summary["paper"]["DMF"].items() if v is not None},
    "i_autorec_serves_II": rows["i-autorec"]["cells"].get("II") is not None,
    "u_autorec_serves_III": rows["u-autorec"]["cells"].get("III") is not None,
    "dmf_epochs": int(rows["dmf"]["epochs_run"][0]),
    "compute_seconds": float(summary["compute_seconds"]),
}
RESULTS

# %% [markdown]
# ## The full reproduction
#
# Five seeds of Table 1 and Table 2 with the full plan (REPRODUCTION.md has its measured time), written to
# `results/` as per-seed JSON files, the aggregate and a Markdown table; a stopped run resumes where it left off:
#
# ```bash
# python -m dmf_core reproduce --data ml-1m
# ```
#
# `REPRODUCTION.md` discusses the gaps. In the app, the **Results** page (`streamlit run app.py`, then *Results*)
# shows the reproduced tables beside the paper's and runs this quick version on the demo data with one click.
