"""New user: rate a handful of movies and get the trained model's predictions and recommendations at once,
without retraining (area II in action)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from dmf_core import figures as plots
from dmf_core.model.quantizer import rating_levels
from studio import cache, latent, ranking_note, runinfo, sphere, state, ui
from studio.analysis import most_popular, recommend, score_new_user, search_titles

ui.setup(
    "New user",
    "You are a user the model has never seen. Your ratings form a new row $M_{t,:}$; the trained user branch maps "
    "it to a latent vector $U_t$ in one forward pass, and every movie is scored from the cosine of $U_t$ with the "
    "movie's vector $V_j$, by the formula of the run below. Nothing is retrained: this is area II of the paper, "
    "live.",
)

run = ui.pick_run("newuser-run")
if run is None:
    ui.no_runs_hint()
    st.stop()
analysis = None
with ui.guard(f"Could not open run {run.run_id}"):
    analysis = cache.analysis(run)
if analysis is None:
    st.stop()

data = analysis.data
ui.show_formula(run.metrics, scale=data.rating_scale)
quantizer = runinfo.quantizer_state(run.metrics)
if quantizer is not None and not quantizer.trained:
    st.warning(f"This run is labelled DMF-D, but its {quantizer.note or runinfo.NEVER_TRAINED}: its predictions "
               "are plain DMF's, with no discrete (Q_b) column.")
elif quantizer is not None and quantizer.selected_start:
    st.info(quantizer.kept_start_message() + " Its discrete column is the rounded prediction.")
levels = rating_levels(data.rating_scale, data.rating_step)
# The tables' columns: `DMF.recommend`'s names (one name per quantity, as the library and the command line print
# them); numbers sized to their header, the title given the room left.
TABLE_COLUMNS = {"recs": ["title", "score", "predicted_rating", "n_ratings", "area"],
                 "popular": ["title", "n_ratings", "predicted_rating", "area"]}
COLUMN_CONFIG = {
    "title": st.column_config.TextColumn(width="large"),
    "score": st.column_config.NumberColumn(format="%.2f", help="what the list is ordered by: relevance "
                                           "(co-ratings x rating)"),
    "predicted_rating": st.column_config.NumberColumn(format="%.2f", help="the model's rating for you, before the "
                                                      "clamp to the scale"),
    "n_ratings": st.column_config.NumberColumn(help="the movie's ratings in training"),
    "area": st.column_config.TextColumn(help="II: a movie seen in training; IV: a movie held out of training, "
                                        "scored from its column of ratings"),
    "discrete": st.column_config.NumberColumn(help="DMF-D's hard quantizer Q_b"),
}
MINE_CONFIG = {**COLUMN_CONFIG, "title": st.column_config.TextColumn(width="medium")}  # beside the form: narrower
popularity = analysis.popularity  # ratings in training, the library's one count (held-out ratings never count)
min_ratings = min(20, int(np.median(popularity)))  # listed movies need this many ratings: obscure ones are noise
# The person's ratings, per dataset (item indices differ between datasets).
book = st.session_state.setdefault(state.NEW_USER, {})
mine: dict[int, float] = book.setdefault(cache.dataset_of(run).key, {})


def label(item: int) -> str:
    held_out = " · held out of training" if analysis.split.new_item[item] else ""
    return f"{data.title(item)} ({popularity[item]:,} ratings{held_out})"


def add() -> None:
    """Read the widgets' current values (not the ones of the last render): the click may come with a change."""
    item, stars = st.session_state.get("nu-pick"), st.session_state.get("nu-stars")
    if isinstance(item, str):
        # The browser sends the label it shows; when the list changed under the click (a rerun in between), Streamlit
        # finds no option with that label and hands the label itself over: find its movie by the label.
        item = next((i for i in range(data.n_items) if label(i) == item), None)
    if item is not None and stars is not None:
        mine[int(item)] = float(stars)


def rate_random(count: int = 5) -> None:
    """Rate a few popular movies at random: a quick start for a demo in front of a class."""
    rng = np.random.default_rng(len(mine) + int(time.time()))
    pool = [i for i in np.argsort(-popularity)[:100].tolist() if i not in mine and not analysis.split.new_item[i]]
    for item in rng.choice(pool, size=min(count, len(pool)), replace=False):
        mine[int(item)] = float(rng.choice(levels))


left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Rate movies")
    query = st.text_input("Search by title", key="nu-search", placeholder="e.g. star wars, toy story, harbor")
    matches = search_titles(data, popularity, query, limit=25) if query.strip() else \
        [int(i) for i in np.argsort(-popularity)[:25]]
    matches = [i for i in matches if i not in mine]
    if query.strip() and not matches:
        st.caption("No unrated title matches those words.")
    pick = st.selectbox("Movie", matches, format_func=label, key="nu-pick",
                        help="Most-rated first. Without a search: the 25 most rated movies.") if matches else None
    stars = levels[0] > 0 and levels[-1] <= 10 and data.rating_step in (0.5, 1.0)  # ★★★½ for half stars
    st.radio("Your rating", levels, index=len(levels) - 2, horizontal=True, key="nu-stars",
             format_func=lambda v: "★" * int(v) + ("½" if v % 1 else "") if stars else f"{v:g}")
    st.button("Add rating", type="primary", key="nu-add", on_click=add, disabled=pick is None)
    cols = st.columns(2)
    cols[0].button("Rate 5 at random", key="nu-random", on_click=rate_random)
    cols[1].button("Clear my ratings", key="nu-clear", on_click=mine.clear)

with right:
    if not mine:
        st.info("Rate a few movies on the left (or press *Rate 5 at random*). Predictions appear "
                "as soon as there is one rating.")
        st.stop()
    items, ratings = list(mine), list(mine.values())
    try:
        started = time.perf_counter()
        result = score_new_user(analysis, items, ratings)
        elapsed_ms = (time.perf_counter() - started) * 1000
        recs = recommend(analysis, items, ratings, k=10)
    except ValueError as error:
        st.error(f"Could not score these ratings: {error}")
        st.stop()
    factor = result.factor[0].cpu().numpy()  # U_t, the point the map places
    # Q_b of a quantizer that never trained is no DMF-D figure: no discrete column then.
    discrete = analysis.predictor.discrete(result.scores) if analysis.discrete and runinfo.quantizer_trained(
        run.metrics) else None
    st.subheader("Your ratings and what the model now predicts for them")
    st.caption(f"Scored all {data.n_items:,} movies from your {len(result.used)} rating(s) in {elapsed_ms:.0f} ms "
               f"with the model of run `{run.run_id}`, no retraining. predicted_rating is the model's output before "
               "it is clamped to the scale; n_ratings, the movie's ratings in training.")
    if result.ignored:
        st.caption(f"{len(result.ignored)} of your ratings are on movies held out of training; the user branch has "
                   "no trained weights for them, so they are not used as input.")
    mine_frame = pd.DataFrame({
        "title": [data.title(i) for i in items],
        "your rating": ratings,
        "predicted_rating": result.unclamped[items].astype(float),
    })
    if discrete is not None:
        mine_frame["discrete"] = discrete[items].astype(float)
    st.dataframe(mine_frame, hide_index=True, width="stretch", key="nu-mine", column_config=MINE_CONFIG)

# The two top-10 tables at the page's full width, one under the other: every column shows in a 1400-px window.
popular = most_popular(analysis, result, items, k=10)
recs["title"] = [data.title(i) for i in recs["index"]]  # data without titles: the page's own "item 12" labels
for frame in (recs, popular):
    frame["area"] = ["IV" if analysis.split.new_item[i] else "II" for i in frame["index"]]
    if discrete is not None:
        frame["discrete"] = discrete[frame["index"]].astype(np.float64)
extra = ["discrete"] if discrete is not None else []
st.subheader("Recommended for you")
st.dataframe(recs[TABLE_COLUMNS["recs"] + extra], hide_index=True, width="stretch", key="nu-recs",
             column_config=COLUMN_CONFIG)
ranking_report = ranking_note.load()
st.caption(ranking_note.note(popularity, recs["index"].tolist(), ranking_report))
benchmark = (ranking_report or {}).get("runs", {}).get("ml-1m")
if benchmark and "10" in benchmark.get("results", {}):
    with st.expander("How each ranking does for new users on MovieLens-1M (the ranking benchmark)"):
        st.plotly_chart(plots.ranking_methods(benchmark), width="stretch", key="nu-ranking-chart")
        st.caption(f"`{ranking_note.COMMAND}` measures it; `python -m dmf_core rank-eval` runs the protocol.")
st.markdown("**Most popular** (the baseline), with what the model predicts for you")
st.dataframe(popular[TABLE_COLUMNS["popular"] + extra], hide_index=True, width="stretch", key="nu-popular",
             column_config=COLUMN_CONFIG)

st.subheader("Where your ratings put you on the latent map")
with ui.guard("Could not draw the latent map"):
    latent_map = cache.latent_map(run)
    you = latent_map.place(factor)
    nearest = latent.nearest_items(latent_map, factor, exclude=items, min_ratings=min_ratings)
    map_col, near_col = st.columns([3, 2], gap="large")
    if latent_map.dims == 3:  # the exact sphere: your U_t where the model puts it, no PCA
        map_col.plotly_chart(sphere.latent_sphere(latent_map, analysis.predictor.user_factors.cpu().numpy(),
                                                  you=factor, nearest=nearest["item"].tolist(), height=520),
                             width="stretch", key="nu-sphere")
        map_col.caption(f"Your point U_t = ({factor[0]:+.3f}, {factor[1]:+.3f}, "
                        f"{factor[2]:+.3f}), the open circle. " + sphere.describe_exact(latent_map))
    else:
        map_col.plotly_chart(latent.figure(latent_map, you=you, nearest=nearest["item"].tolist(), height=520),
                             width="stretch", key="nu-map")
        map_col.caption(
            f"Your point: ({you[0]:+.3f}, {you[1]:+.3f}). The star is your latent vector $U_t$, the user branch's "
            f"output for your {len(result.used)} rating(s), projected onto the plane of the seen users and movies: "
            "nothing is refitted, so it moves as you add ratings. " + latent.describe(latent_map)
            + (" DMF-D: these are the continuous outputs, before the quantizer." if latent_map.discrete else ""))
    near_col.markdown("**Nearest movies to you by cosine** (the model's own measure, in all "
                      f"{latent_map.dims} dimensions; ringed on the map)")
    near_col.dataframe(nearest.drop(columns=["item"]), hide_index=True, width="stretch", key="nu-nearest",
                       column_config={"title": st.column_config.TextColumn(width="medium"),
                                      "cosine": st.column_config.NumberColumn(width="small"),
                                      "angle": st.column_config.TextColumn(width="small")})
    if analysis.model.uses_biases:
        near_col.caption("This run adds each movie's bias to the cosine (bias + cosine output), so its "
                         "recommendations above need not be the movies nearest to you.")
