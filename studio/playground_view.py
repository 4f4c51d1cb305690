"""What the Playground page shows, built from a trained `PlaygroundRun`: the sphere's scenes (one per epoch), the
completed matrix coloured by prediction, and the selected pair's numbers. No Streamlit: the page draws these."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dmf_core.figures import sphere
from studio.latent import ITEM_SYMBOLS, USER_SYMBOLS
from studio.playground import (
    GROUPS,
    MOVIE_GROUPS,
    MOVIES,
    NEW_MOVIE_NAME,
    NEW_USER_NAME,
    SCALE,
    USER_GROUPS,
    USERS,
    Epoch,
    Pair,
    PlaygroundRun,
    Shared,
    new_movie,
    new_user,
    pair,
)

KIND = "users and movies"
RATINGS_OF = "predicted ratings of the selected user"
COLOUR_CHOICES = (KIND, RATINGS_OF)


def user_label(index: int) -> str:
    return f"{USERS[index]} ({GROUPS[USER_GROUPS[index]]} fan)"


def movie_label(index: int) -> str:
    return f"{MOVIES[index]} ({GROUPS[MOVIE_GROUPS[index]]})"


def scene(epoch: Epoch, shared: Shared, selected: tuple[str, str], colour: str = KIND) -> sphere.Scene:
    """The sphere after one epoch: the 12 users and 10 movies, the new user and movie when typed in, the pair."""
    typed_user = new_user(epoch, shared.new_user)
    typed_movie = new_movie(epoch, shared.new_movie)
    chosen = pair(epoch, shared, *selected)
    movie_ratings = None
    if colour == RATINGS_OF and chosen is not None:
        if selected[0] == NEW_USER_NAME and typed_user is not None:
            movie_ratings = typed_user[1]
        elif selected[0] != NEW_USER_NAME:
            movie_ratings = epoch.predictions[USERS.index(selected[0])]
    user_text = [f"<b>{user_label(i)}</b><br>user" for i in range(len(USERS))]
    movie_text = [f"<b>{movie_label(j)}</b><br>movie" for j in range(len(MOVIES))]
    if movie_ratings is not None:
        movie_text = [f"{t}<br>{selected[0]}: r̂ = {r:.2f}" for t, r in zip(movie_text, movie_ratings, strict=True)]
    points = [
        *sphere.named_points(epoch.users, epoch.items, USERS, MOVIES, user_text=user_text, movie_text=movie_text,
                             movie_ratings=movie_ratings),
        sphere.Points(typed_user[0] if typed_user else np.empty((0, 3)), [NEW_USER_NAME] if typed_user else [],
                      "new user (no retraining)", sphere.NEW_USER_COLOR, USER_SYMBOLS[1], size=9),
        sphere.Points(typed_movie[0] if typed_movie else np.empty((0, 3)), [NEW_MOVIE_NAME] if typed_movie else [],
                      "new movie (no retraining)", sphere.NEW_MOVIE_COLOR, ITEM_SYMBOLS[1], size=9),
    ]
    arrows = (chosen.u, chosen.v) if chosen is not None else None
    names = (f"U: {selected[0]}", f"V: {selected[1]}")
    label = f"epoch {epoch.number}"
    if chosen is not None:
        label += f" · {selected[0]} × {selected[1]}: angle {chosen.angle:.0f}°, r̂ = {chosen.rating:.2f}"
    return sphere.Scene(points, arrows, names, label)


def scenes(run: PlaygroundRun, shared: Shared, selected: tuple[str, str], colour: str = KIND) -> list[sphere.Scene]:
    return [scene(epoch, shared, selected, colour) for epoch in run.epochs]


def completed(epoch: Epoch, shared: Shared) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(predictions, observed) tables: the 12 users plus the new user as rows, the 10 movies plus the new movie as
    columns; predictions everywhere the model can score (a new user × a new movie is left empty)."""
    predictions = epoch.predictions.copy()
    observed = shared.matrix.copy()
    typed_user = new_user(epoch, shared.new_user)
    typed_movie = new_movie(epoch, shared.new_movie)
    user_row = typed_user[1] if typed_user else np.full(len(MOVIES), np.nan)
    movie_col = typed_movie[1] if typed_movie else np.full(len(USERS), np.nan)
    predictions = np.vstack([np.column_stack([predictions, movie_col]), [*user_row, np.nan]])
    observed = np.vstack([np.column_stack([observed, shared.new_movie]), [*shared.new_user, np.nan]])
    index = [*USERS, NEW_USER_NAME]
    columns = [*MOVIES, NEW_MOVIE_NAME]
    return (pd.DataFrame(predictions, index=index, columns=columns),
            pd.DataFrame(observed, index=index, columns=columns))


def styled(predictions: pd.DataFrame, observed: pd.DataFrame):
    """The completed matrix as text "r̂" for predicted cells and "r̂ (typed r)" for observed ones, every cell's
    background on the rating scale's diverging colours."""
    text = predictions.map(lambda v: "" if not np.isfinite(v) else f"{v:.1f}")
    for row in predictions.index:
        for col in predictions.columns:
            typed = observed.loc[row, col]
            if np.isfinite(typed):
                text.loc[row, col] = f"{text.loc[row, col]} ({typed:g})".strip()

    def colours(_frame: pd.DataFrame) -> pd.DataFrame:
        return predictions.map(lambda v: f"background-color: {sphere.rating_colour(v, SCALE)}; color: black")

    return text.style.apply(colours, axis=None)


def describe_pair(chosen: Pair | None, output: str) -> str:
    if chosen is None:
        return "Type the new user's row (or the new movie's column) to place them on the sphere first."
    typed = f"; typed: {chosen.observed:g} ★" if np.isfinite(chosen.observed) else "; not rated: predicted"
    formula = ("r̂ = 3 + 2·cos θ" if output == "cosine" else "r̂ = μ + b_user + b_movie + 2·cos θ (weighted)")
    return (f"**{chosen.user}** × **{chosen.movie}**: cos θ = {chosen.cosine:+.3f}, θ = {chosen.angle:.0f}°, "
            f"{formula} = **{chosen.rating:.2f} ★**{typed}.")
