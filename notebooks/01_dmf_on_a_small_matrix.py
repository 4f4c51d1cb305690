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
# # 01 · DMF on a small matrix
#
# *Matrix Factorization via Deep Learning* (Nguyen, Tsiligianni, Deligiannis) describes a user by **their row of
# ratings** and an item by **its column**. Two small networks (the *branches*) map a row to a vector U_i and a column
# to a vector V_j, both of unit length, and the predicted rating is read from the **cosine** of the angle between
# them: r̂ = 3 + 2·cos θ on a 1-5 scale, so 0° is five stars, 90° three and 180° one.
#
# With a latent size d = 3 every user and every movie is a point on the ordinary unit sphere, and we can look at
# what the model learned. This notebook trains DMF on 12 people × 10 movies with three planted taste groups, puts
# them on the sphere, fills in the blanks and measures the fit against the simplest sensible baseline, the global
# mean plus a bias per user and per movie.

# %% tags=["parameters"]
import os

FAST = os.environ.get("DMF_NOTEBOOK_FAST") == "1"  # what the tests run: the same here, the matrix is tiny
DATA = "planted"  # the Playground's matrix (dmf_core.data.planted); the only data this notebook knows
MAX_SECONDS = None  # no time budget: 40 epochs of this matrix train in about a second on a laptop CPU
SEED = 0
EPOCHS = 40  # the Playground's default

# %%
import numpy as np
import pandas as pd
import torch

from dmf_core import figures
from dmf_core.data import planted as pm
from dmf_core.figures import sphere
from dmf_core.model.biases import fit_biases
from dmf_core.scoring.metrics import rmse
from dmf_core.training.playground import Settings, new_user, train

torch.set_num_threads(1)  # tiny tensors: a second thread only adds waiting

# %% [markdown]
# ## The matrix
#
# Four sci-fi fans, four romance fans and four horror fans. Each rates the movies of their own group 4-5 and the
# others 1-2; about a quarter of the cells are blank. The model is never told the groups.

# %%
assert DATA == "planted", "notebook 01 runs on the Playground's planted matrix"
matrix = pm.planted()
users = [f"{name} ({pm.GROUPS[g]})" for name, g in zip(pm.USERS, pm.USER_GROUPS, strict=True)]
movies = [f"{name} ({pm.GROUPS[g]})" for name, g in zip(pm.MOVIES, pm.MOVIE_GROUPS, strict=True)]
pd.DataFrame(matrix, index=users, columns=pm.MOVIES).fillna("")


# %%
def labelled(fig):
    """The shared heatmap with the names of the people and movies on its axes."""
    fig.update_xaxes(tickvals=list(range(len(movies))), ticktext=list(pm.MOVIES), showticklabels=True, title="")
    fig.update_yaxes(tickvals=list(range(len(users))), ticktext=users, showticklabels=True, title="")
    return fig


labelled(figures.matrix_heatmap(matrix, pm.SCALE, "The given ratings (blank: not rated)"))

# %% [markdown]
# ## Training
#
# The Playground's settings: branches of sizes (32, 3), the paper's pure cosine output, 40 epochs of blocks of half
# the users × half the movies. Every rating is a training target *and* part of the rows and columns the branches
# read; a block's own ratings are hidden from the inputs during its step, so the network never sees the rating it
# must predict.

# %%
settings = Settings(seed=SEED, epochs=EPOCHS)
run = train(matrix, settings)
final = run.final
print(f"{len(run.epochs)} epochs in {run.seconds:.2f} s; training loss {run.losses[0]:.3f} → {run.losses[-1]:.3f}")

# %% [markdown]
# The network: a user branch that reads a row of 10 ratings and an item branch that reads a column of 12, each a
# linear first layer that touches only the rated cells (`EmbeddingBag`; two weights per cell, one for the rating
# and one for "rated at all", so a middling 3 still counts), then 32 → 3. The output normalises both 3-d vectors and
# takes their cosine.

# %%
network = final.predictor.model
print(network)
print(f"{sum(p.numel() for p in network.parameters()):,} weights in all")

# %% [markdown]
# ## Users and movies on the unit sphere
#
# Each frame is one epoch (press ▶ or drag the slider). Users are circles, movies diamonds; a rating is the angle
# between a user and a movie. The groups start mixed and end as three clusters: each fan next to their own
# group's movies and far from the others'.

# %%
scenes = [sphere.Scene(sphere.named_points(epoch.users, epoch.items, pm.USERS, pm.MOVIES, user_text=users,
                                           movie_text=movies), label=f"epoch {epoch.number}")
          for epoch in run.epochs]
sphere.figure(scenes, height=560)

# %% [markdown]
# How clustered are they? The mean cosine between a user and the movies of their own group, against the movies of
# the other two groups:

# %%
cosines = final.users @ final.items.T
same = np.equal.outer(np.asarray(pm.USER_GROUPS), np.asarray(pm.MOVIE_GROUPS))
own_cos, other_cos = float(cosines[same].mean()), float(cosines[~same].mean())
print(f"mean cos(U_i, V_j): own group {own_cos:+.2f} ({np.degrees(np.arccos(own_cos)):.0f}°), "
      f"other groups {other_cos:+.2f} ({np.degrees(np.arccos(other_cos)):.0f}°)")

# %% [markdown]
# ## The completed matrix
#
# The model's prediction in every cell, beside the given ratings: the blanks are filled in from the groups the
# model found.

# %%
labelled(figures.matrix_heatmap(final.predictions, pm.SCALE, "DMF's completed matrix (every cell predicted)"))

# %% [markdown]
# ## Against global mean + biases
#
# The baseline predicts μ + b_user + b_movie: generous and harsh raters, popular and unpopular movies, but no taste.
# Two measures, both RMSE in stars:
#
# - on the **given ratings** (how well each fits what it was shown);
# - on the **blank cells**, against the rule the matrix was planted with (4.5 in a fan's own group, 1.5 elsewhere):
#   no rating exists there, so this measures whether the blanks were filled in with the groups.

# %%
data = pm.rating_data(matrix)
biases = fit_biases(data, pm.all_observed(data))
rows, cols = np.indices(matrix.shape)
baseline = biases.predict(rows.ravel(), cols.ravel()).reshape(matrix.shape)
given, blank = np.isfinite(matrix), ~np.isfinite(matrix)
truth = pm.group_truth()


table = pd.DataFrame({
    "given ratings": [rmse(final.predictions[given], matrix[given]), rmse(baseline[given], matrix[given])],
    "blank cells vs the planted rule": [rmse(final.predictions[blank], truth[blank]),
                                        rmse(baseline[blank], truth[blank])],
}, index=["DMF, d = 3 (this run)", "global mean + biases"])
table.round(3)

# %% [markdown]
# A blank cell is filled in *on the right side* when the prediction is above 3 stars for a fan's own group and below
# 3 for the others:

# %%
right_side = float(np.mean((final.predictions[blank] > 3) == same[blank]))
baseline_right = float(np.mean((baseline[blank] > 3) == same[blank]))
print(f"blank cells on the right side of 3 stars: DMF {right_side:.0%}, global mean + biases {baseline_right:.0%} "
      f"({int(blank.sum())} cells)")

# %% [markdown]
# ## A new user, with no retraining
#
# A person the model never saw gives two sci-fi movies five stars. Their row goes through the user branch once:
# a point on the sphere and a prediction for every movie, nothing retrained.

# %%
row = np.full(len(pm.MOVIES), np.nan)
row[[0, 1]] = 5.0  # Alien Dawn, Robot Heart
factor, scores = new_user(final, row)
ranked = sorted((j for j in range(len(row)) if np.isnan(row[j])), key=lambda j: -scores[j])
pd.DataFrame({"movie": [movies[j] for j in ranked], "predicted": np.round(scores[ranked], 2)})

# %%
RESULTS = {
    "epochs": len(run.epochs),
    "train_seconds": round(run.seconds, 3),
    "rmse_given_dmf": table.iloc[0, 0],
    "rmse_given_baseline": table.iloc[1, 0],
    "rmse_blank_dmf": table.iloc[0, 1],
    "rmse_blank_baseline": table.iloc[1, 1],
    "blank_right_side_dmf": right_side,
    "blank_right_side_baseline": baseline_right,
    "own_group_cosine": own_cos,
    "other_group_cosine": other_cos,
    "new_user_top_is_scifi": bool(pm.MOVIE_GROUPS[ranked[0]] == 0),
}
RESULTS

# %% [markdown]
# ## In the app
#
# The **Playground** page (`streamlit run app.py`, then *Playground*) opens on this very matrix with these
# settings: edit a cell and retrain in a second, select a user and a movie to see their angle, type in a new user
# or a new movie. Its *Copy link* shares any edited state. Next: notebook 02, the four areas, on MovieLens.
