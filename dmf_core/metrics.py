"""Error measures, per area, for continuous and discrete predictions. Pure functions over numpy arrays, except
`Predictor`, which turns a trained model plus its inputs into rating predictions for any (user, item) pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .biases import Biases, fit_biases
from .data import RatingData
from .inputs import MatrixInputs, SparseRows
from .model import DMF, Outside
from .split import AREAS, TEST, AreaSplit


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - true) ** 2)))


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(pred, np.float64) - true)))


def accuracy(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.isclose(pred, true)))


def round_to_scale(pred: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    """DMF + rounding: the baseline quantizer with fixed uniform boundaries."""
    return np.clip(np.rint(pred), scale[0], scale[1])


def per_area(
    pred: np.ndarray, true: np.ndarray, area: np.ndarray, discrete: bool = False
) -> dict[str, dict[str, float | int] | None]:
    """{area: {rmse, mae, n} (plus accuracy when discrete)}, None where the area holds no rating."""
    table: dict[str, dict[str, float | int] | None] = {}
    for index, name in enumerate(AREAS):
        selected = area == index
        if not selected.any():
            table[name] = None
            continue
        row: dict[str, float | int] = {
            "rmse": rmse(pred[selected], true[selected]),
            "mae": mae(pred[selected], true[selected]),
            "n": int(selected.sum()),
        }
        if discrete:
            row["accuracy"] = accuracy(pred[selected], true[selected])
        table[name] = row
    return table


def overall(pred: np.ndarray, true: np.ndarray, discrete: bool = False) -> dict[str, float | int]:
    row: dict[str, float | int] = {"rmse": rmse(pred, true), "mae": mae(pred, true), "n": int(len(true))}
    if discrete:
        row["accuracy"] = accuracy(pred, true)
    return row


@dataclass
class Predictor:
    """Latent factors for every user and item of a dataset, computed once; predictions are dot products."""

    model: DMF
    user_factors: torch.Tensor
    item_factors: torch.Tensor
    # Biases and weights of the rows of `user_factors` when they are not the model's own users.
    outside: Outside | None = None

    @classmethod
    def build(cls, model: DMF, inputs: MatrixInputs) -> Predictor:
        was_training = model.training
        model.eval()
        users = model.embed_all(inputs.user_rows, users=True)
        items = model.embed_all(inputs.item_cols, users=False)
        model.train(was_training)
        return cls(model, users, items)

    @torch.no_grad()
    def continuous(self, users: np.ndarray, items: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
        out = np.empty(len(users), dtype=np.float32)
        device = self.user_factors.device
        for start in range(0, len(users), chunk):
            u = torch.as_tensor(users[start : start + chunk], device=device)
            i = torch.as_tensor(items[start : start + chunk], device=device)
            cosine = (self.user_factors[u] * self.item_factors[i]).sum(-1)
            rating = self.model.rating(cosine, u, i, self.outside).clamp(*self.model.rating_scale)
            out[start : start + chunk] = rating.cpu().numpy()
        return out

    @torch.no_grad()
    def discrete(self, continuous: np.ndarray) -> np.ndarray:
        """DMF-D's exact hard quantizer Q_b (λ → ∞) applied to continuous predictions."""
        if self.model.quantizer is None:
            raise ValueError("this model has no quantizer (train with --model dmf-d)")
        x = torch.as_tensor(continuous, device=self.model.quantizer.boundaries.device)
        return self.model.quantizer.hard(x).cpu().numpy()

    @torch.no_grad()
    def new_user_factor(self, row: SparseRows) -> torch.Tensor:
        """U_t, the unit latent vector (1, d) the user branch gives one unseen user from their ratings alone."""
        was_training = self.model.training
        self.model.eval()
        device = self.user_factors.device
        factor = self.model.embed_users(row.to(device).gather(torch.zeros(1, dtype=torch.long, device=device)))
        self.model.train(was_training)
        return factor

    @torch.no_grad()
    def new_user_scores(self, row: SparseRows, factor: torch.Tensor | None = None) -> np.ndarray:
        """Predicted rating of every item for one unseen user given only their ratings (area II / IV); `factor` is
        their `new_user_factor`, when the caller already has it."""
        device = self.user_factors.device
        row = row.to(device)
        factor = self.new_user_factor(row) if factor is None else factor
        items = torch.arange(self.model.n_items, device=device)
        user = torch.zeros_like(items)
        scores = self.model.rating((factor @ self.item_factors.T)[0], user, items, self.model.outside_users(row))
        return scores.clamp(*self.model.rating_scale).cpu().numpy()


def score(pred: np.ndarray, true: np.ndarray, area: np.ndarray, scale: tuple[float, float]) -> dict[str, Any]:
    """The shape of every result's scores: per area and overall, as predicted and rounded to the rating scale."""
    rounded = round_to_scale(pred, scale)
    return {
        "areas": per_area(pred, true, area),
        "overall": overall(pred, true) if len(true) else None,
        "rounded": per_area(rounded, true, area, discrete=True),
        "rounded_overall": overall(rounded, true, discrete=True) if len(true) else None,
    }


def baseline_scores(data: RatingData, split: AreaSplit, biases: Biases | None = None, role: int = TEST) -> dict[str, Any]:
    """Global mean + biases (biases.py) on one role's ratings: the numbers a sceptical reader compares any result
    with. `biases` are the ones training already fitted on this split, if any."""
    biases = biases or fit_biases(data, split)
    selected = split.role == role
    pred = np.clip(biases.predict(data.users[selected], data.items[selected]), *data.rating_scale)
    return {"model": "global mean + biases",
            **score(pred, data.ratings[selected], split.area[selected], data.rating_scale)}


def evaluate(
    model: DMF,
    data: RatingData,
    split: AreaSplit,
    inputs: MatrixInputs,
    role: int = TEST,
    predictor: Predictor | None = None,
) -> dict[str, Any]:
    """Scores on one role's ratings: per area and overall, continuous, rounded and (for DMF-D) discrete."""
    predictor = predictor or Predictor.build(model, inputs)
    selected = split.role == role
    users, items, true = data.users[selected], data.items[selected], data.ratings[selected]
    area = split.area[selected]
    pred = predictor.continuous(users, items)
    result = score(pred, true, area, data.rating_scale)
    if model.discrete:
        hard = predictor.discrete(pred)
        result["discrete"] = per_area(hard, true, area, discrete=True)
        result["discrete_overall"] = overall(hard, true, discrete=True)
    return result
