"""Latent map: a trained run's user vectors U_i and movie vectors V_j in 2-D, seen and new ones alike, coloured by
seen/new, genre or a user attribute."""

from __future__ import annotations

import streamlit as st

from studio import cache, latent, runinfo, sphere, state, ui

ui.setup(
    "Latent map",
    "The user branch turns each user's row of ratings into a latent vector $U_i$, the item branch each movie's "
    "column into $V_j$, and both are scaled to length 1: every user and every movie is a point on one sphere, and "
    "the prediction is built on the **cosine of the angle between the two points**: 1 when they point the same "
    "way, 0 at a right angle, −1 when opposite (rescaled to stars), by the formula of the run below.",
)

run = ui.pick_run("latent-run")
if run is None:
    ui.no_runs_hint()
    st.stop()
analysis = latent_map = None
with ui.guard(f"Could not open run {run.run_id}"):
    analysis = cache.analysis(run)
    latent_map = cache.latent_map(run)
if analysis is None or latent_map is None:
    st.stop()
ui.show_formula(run.metrics, scale=analysis.data.rating_scale)

if latent_map.discrete and not runinfo.quantizer_trained(run.metrics):
    st.info(f"This run is labelled DMF-D, but its {runinfo.quantizer_state(run.metrics).summary()}: the map shows "
            "a plain DMF model's vectors.")
elif latent_map.discrete:
    st.info("This is a **DMF-D** run: the map shows the branches' continuous outputs $U_i, V_j$. The quantizer "
            "$Q_b$ acts after the cosine, on the rating axis only, so it moves no point on this map.")

controls, chart = st.columns([1, 4], gap="medium")
with controls:
    colour = st.selectbox("Colour by", latent_map.colour_choices(), key="latent-colour",
                          help="Seen/new: rows the branches trained on against rows held out (areas II and III). "
                               "Genre: the movies of one genre. A user attribute: users by gender, age, ….")
    genre = None
    if colour == latent.GENRE:
        genre = st.selectbox("Genre", list(latent_map.genre_members), key="latent-genre")
    show = st.radio("Show", ["users and movies", "users", "movies"], key="latent-show")
    data = analysis.data
    st.caption(f"● users ({data.n_users:,}) · ◆ movies ({data.n_items:,}) · filled: seen in training · "
               f"open: held out ({int(latent_map.new_user.sum()):,} new users, "
               f"{int(latent_map.new_item.sum()):,} new movies)")
    if colour == latent.GENRE or colour in latent_map.user_attributes:
        st.caption("Click a legend entry to hide it, double-click to see it alone.")
with chart:
    if latent_map.dims == 3:  # the exact sphere, no PCA (coloured seen / new)
        st.plotly_chart(sphere.latent_sphere(latent_map, analysis.predictor.user_factors.cpu().numpy(),
                                             users=show != "movies", items=show != "users"),
                        width="stretch", key="latent-sphere")
    else:
        st.plotly_chart(latent.figure(latent_map, colour, genre, users=show != "movies", items=show != "users"),
                        width="stretch", key="latent-map")
st.caption(sphere.describe_exact(latent_map) if latent_map.dims == 3 else latent.describe(latent_map))
st.markdown(
    "**What to look for.** New users and movies (open symbols) were never trained on: their vectors come from "
    "one forward pass of their observed ratings, yet they land among the seen ones. On the **New user** page your "
    "own ratings become such a point, and the map shows where it lands as you add them."
)
st.page_link(ui.PAGES["New user"], label="New user: rate movies and watch your point move", icon=ui.ICONS["New user"],
             query_params=state.url_params())
