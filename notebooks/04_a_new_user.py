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
# # 04 · A new user: from a few ratings to a top ten
#
# You rate a handful of films. DMF reads your ratings as a new row, the user branch maps it to a vector U_t in one
# forward pass, and every film gets a predicted rating: no retraining (area II of notebook 02, for one person).
#
# Turning those predictions into a *top ten* is its own problem. Sorting by predicted rating sounds right and loses,
# even to "most popular": the highest predictions go to films rated by a handful of enthusiasts. This notebook shows
# the lists side by side, measures them on held-out users with the project's top-N protocol (`rank-eval`), and shows
# what `DMF.recommend` ranks by instead: how likely you are to have seen a film (from how often it is co-rated with
# the films you rated) times how much you would like it.

# %% tags=["parameters"]
import os

from dmf_core.data import DataError, find_ml1m

FAST = os.environ.get("DMF_NOTEBOOK_FAST") == "1"  # the tests' setting: a small demo matrix and a few seconds
try:
    find_ml1m()
    DATA = "ml-1m"
except DataError:
    DATA = "demo"  # `python -m dmf_core download` fetches MovieLens-1M
MAX_SECONDS = 20  # DMF's training budget, for the model that scores you
RANK_SECONDS = 20  # DMF's training budget inside the top-N measurement (`rank_eval` trains its own)
SEED = 0
# Your ratings (title: stars, 1-5); titles missing from the data are skipped. The default is a family-animation fan
# who does not like horror and sci-fi thrillers.
MY_RATINGS = {
    "Toy Story (1995)": 5, "Aladdin (1992)": 5, "Lion King, The (1994)": 4, "Beauty and the Beast (1991)": 5,
    "Alien (1979)": 1, "Silence of the Lambs, The (1991)": 1,
}
if FAST:
    DATA, MAX_SECONDS, RANK_SECONDS = "demo:400x300x30000", 5, 4

# %%
import ipywidgets as widgets
import numpy as np
import pandas as pd
from IPython.display import display

from dmf_core import DMF, figures
from dmf_core.data import load_dataset
from dmf_core.ranking.protocol import RECOMMEND, rank_eval

data = load_dataset(DATA)
model = DMF(max_seconds=MAX_SECONDS, seed=SEED).fit(data)
print(f"DMF on {data.name}: {model.metrics_['epochs_run']} epochs in {model.metrics_['train_seconds']:.0f} s, "
      f"every rating but a 5% validation share")

# %% [markdown]
# ## Your ratings
#
# The titles above, found in the data. On the demo data (made-up titles) or where a title is missing, the most-rated
# films stand in, with the same stars.

# %%
titles = list(data.item_titles or [data.title(i) for i in range(data.n_items)])
index = {title: i for i, title in enumerate(titles)}
popularity = model.observed_.popularity
found = {title: stars for title, stars in MY_RATINGS.items() if title in index}
if len(found) < len(MY_RATINGS):
    stand_ins = [titles[i] for i in np.argsort(-popularity, kind="stable") if titles[i] not in found]
    found.update(zip(stand_ins, [s for t, s in MY_RATINGS.items() if t not in index], strict=False))
mine = {data.item_ids[index[title]]: float(stars) for title, stars in found.items()}
pd.DataFrame({"title": list(found), "your stars": list(found.values())})

# %% [markdown]
# ## Three top tens
#
# - **recommend** (`model.recommend(ratings)`): the relevance ranking, `score` is its sort key;
# - **by predicted rating** (`model.recommend(ratings, by="rating")`): the plain order;
# - **most popular**: the films with the most ratings in training, the baseline every top-N list must beat.
#
# `n_ratings` is how many people rated the film in training.

# %%
relevance = model.recommend(mine, k=10)
by_rating = model.recommend(mine, k=10, by="rating")
rated = set(index[title] for title in found)
popular = model.observed_.most_popular(rated, k=10)
most_popular = pd.DataFrame({"title": [titles[i] for i in popular], "n_ratings": popularity[popular]})
columns = ["title", "predicted_rating", "n_ratings"]
pd.concat({"recommend (relevance)": relevance[columns].reset_index(drop=True),
           "by predicted rating": by_rating[columns].reset_index(drop=True),
           "most popular": most_popular}, axis=1).round(2)

# %% [markdown]
# The plain rating order picks films few people rated: a film rated five stars by three fans gets a high predicted
# rating, and almost nobody has seen it. Most popular ignores you entirely. The relevance ranking keeps films people
# like you have actually seen, ordered by how much the model thinks you would like them.

# %%
overlap = len(set(relevance["title"]) & set(most_popular["title"]))
median_relevance = float(relevance["n_ratings"].median())
median_rating = float(by_rating["n_ratings"].median())
print(f"recommend shares {overlap} of 10 films with most popular; median ratings in training per film: "
      f"recommend {median_relevance:.0f}, by predicted rating {median_rating:.0f}, "
      f"most popular {float(most_popular['n_ratings'].median()):.0f}")

# %% [markdown]
# ## Try it: change the stars
#
# Move a slider (0 = not rated) and the list is recomputed from your new row, with no retraining. The tables above
# are the static version of the same thing, for a viewer without a running kernel.

# %%
sliders = {title: widgets.IntSlider(value=int(stars), min=0, max=5, description=title[:28],
                                    style={"description_width": "200px"}, layout={"width": "420px"})
           for title, stars in found.items()}


def show(**stars):
    given = {data.item_ids[index[title]]: float(value) for title, value in stars.items() if value > 0}
    if not given:
        print("rate at least one film")
        return
    display(model.recommend(given, k=10)[columns].round(2))


output = widgets.interactive_output(show, sliders)
display(widgets.HBox([widgets.VBox(list(sliders.values())), output]))

# %% [markdown]
# ## Measured: top ten for held-out users
#
# One run of the top-N protocol (`dmf_core.ranking.protocol.rank_eval`, the command line's `rank-eval`): 10% of the
# users are held out; each gives 10 of their ratings as context, and a list is good when it holds their other films
# rated 4 or more. DMF and the baselines (most popular, item-kNN, EASE) learn from the other users only, and every
# setting is chosen on a separate 10% of validation users. Each bar has its 95% interval over the test users.

# %%
report = rank_eval(data, seed=SEED, n=(10,), max_seconds=RANK_SECONDS)
figures.ranking_methods(report)

# %%
methods = report["results"]["10"]["methods"]
ndcg = {name: scores["ndcg"]["mean"] for name, scores in methods.items()}
pd.DataFrame({name: {"NDCG@10": s["ndcg"]["mean"], "Recall@10": s["recall"]["mean"],
                     "popularity percentile": s["popularity_percentile"]["mean"]}
              for name, s in methods.items()}).T.sort_values("NDCG@10", ascending=False).round(3)

# %%
RESULTS = {
    "data": data.name,
    "n_rated": len(mine),
    "overlap_with_most_popular": overlap,
    "median_n_ratings_recommend": median_relevance,
    "median_n_ratings_by_rating": median_rating,
    "rank_eval_users": int(report["results"]["10"]["users"]),
    "ndcg_recommend": ndcg[RECOMMEND],
    "ndcg_by_rating": ndcg["DMF, by rating"],
    "ndcg_most_popular": ndcg["most popular"],
    "ndcg_item_knn": ndcg["item-kNN"],
    "ndcg_ease": ndcg["EASE"],
}
RESULTS

# %% [markdown]
# ## In the app
#
# The **New user** page (`streamlit run app.py`, then *New user*) is this notebook with a search box: rate films of
# any trained run, get the top ten beside most popular, and see where your ratings put you on the latent map. Its
# expander draws the same chart for the ranking benchmark (`python benchmarks/bench_ranking.py`);
# `python -m dmf_core rank-eval --data ml-1m` runs the protocol at its full budget. Next: notebook 05, the paper's
# Table 1.
