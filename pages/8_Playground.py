"""Playground: a 12 × 10 rating matrix to edit, a 3-d DMF trained on it in about a second, the unit sphere its users
and movies live on, epoch by epoch, and a link that opens the same state anywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dmf_core.figures import sphere
from studio import playground as pg
from studio import playground_view as view
from studio import share, ui

ui.setup(
    "Playground",
    "DMF in miniature. Twelve people rate ten movies; three taste groups are planted in the ratings. A DMF with a "
    "**3-dimensional** latent space learns them in about a second, so every user and every movie is a point on the "
    "unit sphere, and with the paper's output a rating *is* an angle: $\\hat r = 3 + 2\\cos\\theta$ (0° gives 5 ★, "
    "90° gives 3 ★, 180° gives 1 ★). Edit any rating and watch the sphere move; type a new user or movie and see "
    "where it lands, with no retraining.",
)

BASE, LAST, EDITOR, NEW_USER, NEW_MOVIE = "pg-base", "pg-last", "pg-matrix", "pg-new-user", "pg-new-movie"
EPOCH, PLAYING = "pg-epoch", "pg-playing"

# The editors show their edits on top of a base state: a shared link's (read once per session), the planted
# matrix, or, back from another page (whose visit cleared the editors), the state last shown here.
params = share.read_once("pg-url-read")
if params is not None:
    st.session_state[BASE], problems = pg.from_params(params)
    for problem in problems:
        st.warning(f"Ignored part of the link ({problem}); the default is used instead.")
    for key in (EDITOR, NEW_USER, NEW_MOVIE, LAST, "pg-hidden", "pg-epochs", "pg-lr", "pg-seed", "pg-output",
                "pg-user", "pg-movie"):
        st.session_state.pop(key, None)
elif EDITOR not in st.session_state:
    st.session_state[BASE] = st.session_state.get(LAST) or st.session_state.get(BASE) or pg.default_shared()
base: pg.Shared = st.session_state[BASE]
for key, value in (("pg-hidden", base.settings.hidden), ("pg-epochs", base.settings.epochs),
                   ("pg-lr", base.settings.lr), ("pg-seed", base.settings.seed), ("pg-output", base.settings.output),
                   ("pg-user", base.pair[0]), ("pg-movie", base.pair[1])):
    st.session_state.setdefault(key, value)


def restore_planted() -> None:
    st.session_state[BASE] = st.session_state[LAST] = pg.default_shared()
    for key in (EDITOR, NEW_USER, NEW_MOVIE):
        st.session_state.pop(key, None)


stars = st.column_config.NumberColumn(min_value=1, max_value=5, step=1, format="%d ★")
st.subheader("1. The ratings")
st.caption("Rows are people (4 sci-fi, 4 romance, 4 horror fans), columns movies. Click a cell and type 1-5 to "
           "change it, Delete to clear it. Empty cells are what the model predicts. Every edit retrains.")
frame = pd.DataFrame(base.matrix, index=list(pg.USERS), columns=list(pg.MOVIES))
edited = st.data_editor(frame, key=EDITOR, column_config={m: stars for m in pg.MOVIES}, width="stretch",
                        height=35 * (len(pg.USERS) + 1) + 3,
                        placeholder="·")
st.caption("A **new user** (one row) and a **new movie** (one column, rated by the 12 people): never trained on, "
           "placed on the sphere by one pass through the trained branches.")
left, middle, right = st.columns([6, 2, 3], gap="medium")
with left:
    user_frame = pd.DataFrame([base.new_user], index=[pg.NEW_USER_NAME], columns=list(pg.MOVIES))
    typed_user = st.data_editor(user_frame, key=NEW_USER, column_config={m: stars for m in pg.MOVIES},
                                width="stretch", placeholder="·")
with middle:
    movie_frame = pd.DataFrame({pg.NEW_MOVIE_NAME: base.new_movie}, index=list(pg.USERS))
    with st.popover("New movie's column", width="stretch"):
        typed_movie = st.data_editor(movie_frame, key=NEW_MOVIE, column_config={pg.NEW_MOVIE_NAME: stars},
                                     placeholder="·")
with right, st.popover("Settings", width="stretch"):
    hidden = st.selectbox("hidden layers (the last is d = 3)", pg.HIDDEN_CHOICES, key="pg-hidden",
                          format_func=lambda h: " → ".join(map(str, h)))
    epochs = st.slider("epochs", 5, 100, key="pg-epochs")
    lr = st.select_slider("learning rate", [0.003, 0.01, 0.03, 0.05, 0.1], key="pg-lr")
    seed = st.number_input("seed", 0, 10_000, step=1, key="pg-seed",
                           help="Another seed starts from other random weights; a few land in a poorer fit.")
    output = st.radio("output", ["cosine", "bias+cosine"], key="pg-output", horizontal=True,
                      help="cosine: the paper's r̂ = 3 + 2·cos θ. bias+cosine: the app's default, μ + b_user + "
                           "b_movie + 2·cos θ: the angle then carries only what the averages leave over.")
    st.button("Restore the planted matrix", on_click=restore_planted, key="pg-restore")

matrix = np.round(edited.to_numpy(dtype=float, na_value=np.nan).clip(1, 5))
shared = pg.Shared(matrix, np.round(typed_user.to_numpy(dtype=float, na_value=np.nan)[0].clip(1, 5)),
                   np.round(typed_movie.to_numpy(dtype=float, na_value=np.nan)[:, 0].clip(1, 5)),
                   pg.Settings(hidden=tuple(hidden), epochs=int(epochs), lr=float(lr), seed=int(seed), output=output),
                   (st.session_state.get("pg-user", pg.USERS[0]), st.session_state.get("pg-movie", pg.MOVIES[0])))
share.write(shared.to_params())
st.session_state[LAST] = shared


@st.cache_resource(max_entries=16, show_spinner="Training the 3-d DMF…")
def trained(code: str, settings: pg.Settings) -> pg.PlaygroundRun:
    return pg.train(pg.decode_matrix(code, len(pg.USERS), len(pg.MOVIES)), settings)


run = None
with ui.guard("Could not train"):
    run = trained(pg.encode_matrix(matrix), shared.settings)
if run is None:
    st.stop()
n_epochs = len(run.epochs)
if st.session_state.get(EPOCH, n_epochs) > n_epochs or st.session_state.get("pg-run") is not run:
    st.session_state[EPOCH] = n_epochs  # a new model: show its last epoch
    st.session_state["pg-run"] = run
playing = bool(st.session_state.get(PLAYING))


def step(by: int | None = None, to: int | None = None, play: bool | None = None) -> None:
    current = st.session_state.get(EPOCH, n_epochs)
    st.session_state[EPOCH] = int(np.clip(to if to is not None else current + (by or 0), 1, n_epochs))
    if play is not None:
        st.session_state[PLAYING] = play
        if play and current >= n_epochs:
            st.session_state[EPOCH] = 1


@st.fragment(run_every=0.6 if playing else None)
def watch() -> None:
    if st.session_state.get(PLAYING):
        if st.session_state[EPOCH] >= n_epochs:
            st.session_state[PLAYING] = False
            st.rerun()  # the whole page, to turn the timer off
        elif playing:
            st.session_state[EPOCH] += 1
    st.subheader("2. The sphere, epoch by epoch")
    controls = st.columns([1, 1, 1, 1, 4], vertical_alignment="bottom")
    if controls[0].button("Play", icon=":material/play_arrow:", key="pg-play", on_click=step,
                          kwargs={"play": True}, width="stretch", help="Step through the epochs, the page included."):
        st.rerun()
    if controls[1].button("Pause", icon=":material/pause:", key="pg-pause", on_click=step, kwargs={"play": False},
                          width="stretch"):
        st.rerun()
    controls[2].button("Step", icon=":material/skip_next:", key="pg-step", on_click=step, kwargs={"by": 1},
                       width="stretch", help="One epoch on.")
    controls[3].button("Reset", icon=":material/replay:", key="pg-reset", on_click=step,
                       kwargs={"to": 1, "play": False}, width="stretch", help="Back to epoch 1.")
    epoch_number = controls[4].slider("epoch", 1, n_epochs, key=EPOCH)
    epoch = run.epochs[epoch_number - 1]
    chart, about = st.columns([3, 2], gap="medium")
    user = about.selectbox("user", [*pg.USERS, pg.NEW_USER_NAME], key="pg-user")
    movie = about.selectbox("movie", [*pg.MOVIES, pg.NEW_MOVIE_NAME], key="pg-movie")
    colour = about.selectbox("colour movies by", view.COLOUR_CHOICES, key="pg-colour")
    selected = (user, movie)
    figure = sphere.figure(view.scenes(run, shared, selected, colour), start=epoch_number - 1,
                           scale=pg.SCALE, revision="playground")
    chart.plotly_chart(figure, width="stretch", key="pg-sphere")
    about.markdown(view.describe_pair(pg.pair(epoch, shared, user, movie), shared.settings.output))
    about.caption(f"Trained with `dmf_core.training.train.fit` in {run.seconds:.2f} s ({n_epochs} epochs, hidden "
                  f"{' → '.join(map(str, shared.settings.hidden))}, loss {run.losses[-1]:.3f} at the end). "
                  "● users, ◆ movies; open symbols: the new user and movie; the two arrows are the selected "
                  "pair's U and V, the red arc their angle. The chart's own ▶ and slider replay the epochs in the "
                  "browser; the buttons above move the whole page.")
    st.subheader("3. The completed matrix")
    st.caption(f"Epoch {epoch_number}: each cell is the model's r̂, coloured red (1 ★) to blue (5 ★); "
               "typed ratings in brackets. The last row and column are the new user and movie.")
    predictions, observed = view.completed(epoch, shared)
    st.dataframe(view.styled(predictions, observed), key="pg-completed", width="stretch",
                 height=35 * (len(pg.USERS) + 2) + 3)
    ranked = pg.ranked_for_new_user(epoch, shared.new_user)
    if ranked:
        st.markdown("**For the new user**, best first: " + ", ".join(ranked[:5]))
    st.subheader("4. Share")
    params = {**shared.to_params(), "pair": f"{user}|{movie}"}
    share.write(params)
    share.copy_link(params, "Playground")


watch()
