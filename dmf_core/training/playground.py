"""The Playground's training: a 3-d DMF with the paper's cosine output trained on a small matrix (the planted one of
`data.planted`, or any edit of it) by the engine's own `fit`, every epoch's model recorded: its predictor, where each
user U_i and movie V_j sits on the unit sphere, and the completed matrix; and new users and movies scored from their
ratings through one branch, with no retraining.

The Playground page (`studio/playground.py`) and notebook 01 train with it; `benchmarks/bench_playground.py` times it.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..config import ModelConfig, TrainConfig
from ..data.planted import SCALE, all_observed, rating_data
from ..model.inputs import single_row
from ..model.network import DMFNet
from ..scoring.predict import Predictor
from .train import fit


@dataclass(frozen=True)
class Settings:
    """What the Playground trains with. Chosen on the planted matrix: (32, 3) and 40 epochs of 4 blocks (6 users
    × 5 movies) at a constant lr 0.05 train in about a second on a CPU (benchmarks/bench_playground.py, idle 2-core
    machine, best of 5: 0.94 s with torch's 2 threads, 0.31 s with one; benchmarks/results/playground.json) and separate
    the groups: with seeds 0-11, a new user who gives two of a group's movies five stars gets the
    group's other movies ranked first for all three groups with 10 seeds, against 8 at lr 0.03 (a few seeds end
    in a poorer fit, where two groups share one side of the sphere)."""

    hidden: tuple[int, ...] = (32, 3)
    epochs: int = 40
    lr: float = 0.05
    seed: int = 0
    # The paper's exact output: r̂ = 3 + 2·cos θ, so a rating *is* an angle (0° five stars, 90° three, 180° one).
    output: str = "cosine"

    def model_config(self) -> ModelConfig:
        # No companion: the Playground shows the cosine's geometry on its sphere, and a blend would blur it.
        return ModelConfig(hidden=self.hidden, dropout=0.0, output=self.output,  # type: ignore[arg-type]
                           companion="none")

    def train_config(self, n_users: int, n_items: int) -> TrainConfig:
        # Blocks of half the users × half the movies: 4 steps an epoch. A block is never the whole matrix, whose
        # targets would all be masked out of the inputs. No input dropout: every rating of 12 users counts. A
        # constant learning rate: the default decay (×0.93 an epoch) leaves 40 epochs a twentieth of it at the end.
        return TrainConfig(epochs=self.epochs, lr=self.lr, patience=0, seed=self.seed, device="cpu",
                           block_users=max(2, math.ceil(n_users / 2)), block_items=max(2, math.ceil(n_items / 2)),
                           input_dropout=0.0, lr_decay=1.0)



@dataclass(frozen=True)
class Epoch:
    """The model after one epoch: its predictor (for new rows) and every seen point on the sphere."""

    number: int
    predictor: Predictor
    users: np.ndarray  # (n_users, 3) unit vectors U_i
    items: np.ndarray  # (n_items, 3) unit vectors V_j
    predictions: np.ndarray  # (n_users, n_items) r̂


@dataclass(frozen=True)
class PlaygroundRun:
    matrix: np.ndarray
    settings: Settings
    epochs: list[Epoch]
    seconds: float  # training time as `fit` counts it (the per-epoch recording excluded)
    wall_seconds: float  # everything, recording included
    losses: list[float]

    @property
    def final(self) -> Epoch:
        return self.epochs[-1]


def train(matrix: np.ndarray, settings: Settings = Settings()) -> PlaygroundRun:
    """Train the Playground's DMF on `matrix` with `dmf_core.training.train.fit`, recording every epoch's model and points."""
    data = rating_data(matrix)
    split = all_observed(data)
    grid_users = np.repeat(np.arange(data.n_users), data.n_items)
    grid_items = np.tile(np.arange(data.n_items), data.n_users)
    epochs: list[Epoch] = []

    def record(model: DMFNet, inputs) -> dict:
        frozen = copy.deepcopy(model).eval()
        predictor = Predictor.build(frozen, inputs)
        predictions = predictor.continuous(grid_users, grid_items).reshape(data.n_users, data.n_items)
        epochs.append(Epoch(len(epochs) + 1, predictor, predictor.user_factors.numpy().astype(np.float64),
                            predictor.item_factors.numpy().astype(np.float64), predictions.astype(np.float64)))
        return {}

    started = time.perf_counter()
    with warnings.catch_warnings():
        # No validation ratings (see `all_observed`): the validation RMSE of an empty set is NaN, by design.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = fit(data, split, settings.model_config(),
                     settings.train_config(data.n_users, data.n_items), monitor=record)
    wall = time.perf_counter() - started
    if not epochs:
        raise ValueError("no epoch could train on these ratings: type a few more")
    return PlaygroundRun(matrix.copy(), settings, epochs, result.train_seconds, wall,
                         [h["train_loss"] for h in result.history])



def _placed(values: np.ndarray, factor_of, scores_of) -> tuple[np.ndarray, np.ndarray] | None:
    """(the row's latent factor, its predicted ratings) through one branch; None when nothing is rated."""
    rated = np.flatnonzero(np.isfinite(values))
    if len(rated) == 0:
        return None
    sparse = single_row(rated, values[rated], len(values), SCALE)
    factor = factor_of(sparse)
    return factor[0].numpy().astype(np.float64), scores_of(sparse, factor).astype(np.float64)


def new_user(epoch: Epoch, row: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(U_t, predicted rating of every movie) for a user typed in as `row` (NaN = unrated), or None when empty.
    One forward pass of the user branch: nothing is retrained."""
    return _placed(row, epoch.predictor.new_user_factor, epoch.predictor.new_user_scores)


def new_movie(epoch: Epoch, column: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(V_t, predicted rating by every user) for a movie typed in as `column`, through the item branch."""
    return _placed(column, epoch.predictor.new_item_factor, epoch.predictor.new_item_scores)

