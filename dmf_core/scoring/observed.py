"""What a trained model reads when it predicts: the observed ratings that form every user's input row and every
item's input column, with the ids, titles and held-out users and items of the data it was trained on.

A prediction needs these inputs as much as the weights, so a checkpoint carries them (`observed`, plain tensors and
lists, written by `runs.train_run` and `DMF.save`); a checkpoint from before they were stored rebuilds them from its
data and split (`Observed.from_run`). Ratings held out for validation and testing are never among them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..config import SplitConfig
from ..data import RELEASES, RatingData
from ..data.split import AREAS, OBSERVED, VAL, AreaSplit
from ..model.inputs import MatrixInputs
from ..model.network import DMFNet
from ..training.companion import cross_fitted_area_i
from .metrics import baseline_scores, evaluate
from .predict import Predictor


def _ids_state(ids: np.ndarray) -> torch.Tensor | list[str]:
    if ids.dtype.kind in "iu":
        return torch.as_tensor(ids.astype(np.int64))
    if ids.dtype.kind == "f":
        return torch.as_tensor(ids.astype(np.float64))
    return [str(value) for value in ids.tolist()]


def _ids(state: torch.Tensor | list[str]) -> np.ndarray:
    return state.numpy() if isinstance(state, torch.Tensor) else np.asarray(state, dtype=object)


def training_popularity(data: RatingData, split: AreaSplit) -> np.ndarray:
    """Ratings per item index in training: the observed ratings an item's input column reads (`item_input_mask`: seen
    users only). It ranks "most popular", breaks ties between equal predictions and is what the New user page shows
    as "rated by". Held-out ratings (validation, test) are never counted: a recommendation must not lean on them."""
    return np.bincount(data.items[split.item_input_mask(data)], minlength=data.n_items)


@dataclass(frozen=True)
class Observed:
    """A model's inputs (`data` restricted to what the split lets a model read, or the whole data) and its split."""

    data: RatingData
    split: AreaSplit
    popularity: np.ndarray  # training ratings per item index (ties in recommendations go to popular items)

    @classmethod
    def from_run(cls, data: RatingData, split: AreaSplit) -> Observed:
        return cls(data, split, training_popularity(data, split))

    def most_popular(self, rated: Iterable[int] = (), k: int = 10) -> np.ndarray:
        """Indices of the `k` items with the most training ratings, leaving out the indices in `rated` (ties: the
        lower index first): the baseline every top-N list is judged against."""
        skipped = np.isin(np.arange(len(self.popularity)), np.fromiter(rated, dtype=np.int64))
        order = np.argsort(-self.popularity, kind="stable")
        return order[~skipped[order]][:k]

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any]) -> Observed | None:
        """The inputs a checkpoint carries, or None for one from before they were stored."""
        state = checkpoint.get("observed")
        if not isinstance(state, dict):
            return None
        info = checkpoint["dataset"]
        users = state["users"].numpy().astype(np.int64)
        items = state["items"].numpy().astype(np.int64)
        data = RatingData(
            users=users,
            items=items,
            ratings=state["ratings"].numpy().astype(np.float32),
            user_ids=_ids(state["user_ids"]),
            item_ids=_ids(state["item_ids"]),
            name=str(info["name"]),
            rating_scale=(float(info["rating_scale"][0]), float(info["rating_scale"][1])),
            item_titles=list(state["item_titles"]) if state.get("item_titles") is not None else None,
            rating_step=float(info.get("rating_step", 1.0)),
        )
        new_user = state["new_user"].numpy().astype(bool)
        new_item = state["new_item"].numpy().astype(bool)
        area = (new_user[users].astype(np.int8) + 2 * new_item[items].astype(np.int8)).astype(np.int8)
        # The stored split's own config is the checkpoint's; only the masks and roles matter for the inputs.
        split = AreaSplit(SplitConfig(), new_user, new_item, np.full(len(users), OBSERVED, dtype=np.int8), area)
        return cls(data, split, state["popularity"].numpy().astype(np.int64))

    def state(self) -> dict[str, Any]:
        """The checkpoint's `observed` entry: plain tensors and lists (`torch.load(..., weights_only=True)`)."""
        keep = self.split.role == OBSERVED
        data = self.data
        return {
            "users": torch.as_tensor(data.users[keep].astype(np.int32)),
            "items": torch.as_tensor(data.items[keep].astype(np.int32)),
            "ratings": torch.as_tensor(data.ratings[keep].astype(np.float32)),
            "new_user": torch.as_tensor(self.split.new_user.copy()),
            "new_item": torch.as_tensor(self.split.new_item.copy()),
            "user_ids": _ids_state(data.user_ids),
            "item_ids": _ids_state(data.item_ids),
            "item_titles": list(data.item_titles) if data.item_titles is not None else None,
            "popularity": torch.as_tensor(self.popularity.astype(np.int64)),
        }

    def inputs(self, device: torch.device | str = "cpu") -> MatrixInputs:
        return MatrixInputs.from_split(self.data, self.split, device)

    def user_index(self) -> pd.Index:
        return pd.Index(self.data.user_ids)

    def item_index(self) -> pd.Index:
        return pd.Index(self.data.item_ids)


def area_frame(scores: dict[str, Any] | None, baseline: dict[str, Any] | None = None,
               measured_on: str = "validation") -> pd.DataFrame:
    """Scores per area ({area: {rmse, mae, n} or None}) as a DataFrame, one row per area (NaN where empty), with
    `baseline_rmse`, global mean + biases on the same ratings (NaN where not stored: a checkpoint from before it
    was), and a `measured_on` column (and attr) naming the ratings they were measured on, so that a printed table
    says it."""
    rows = {area: (scores or {}).get(area) or {"rmse": np.nan, "mae": np.nan, "n": 0} for area in AREAS}
    frame = pd.DataFrame.from_dict(rows, orient="index")[["rmse", "mae", "n"]]
    frame["baseline_rmse"] = [((baseline or {}).get(area) or {}).get("rmse", np.nan) for area in AREAS]
    frame["measured_on"] = measured_on
    frame.index.name = "area"
    frame.attrs["measured_on"] = measured_on
    return frame


def library_state(data: RatingData, split: AreaSplit, model: DMFNet, inputs: MatrixInputs,
                  predictor: Predictor | None = None) -> dict[str, Any]:
    """What a checkpoint carries for the library beyond `train`'s keys: the inputs (`observed`) and the validation
    scores per area (`val_scores`) with global mean + biases on the same ratings (`val_baseline`), so that `DMF.load` predicts and reports without the data. Area I's score of a
    model blended with its companion is cross-fitted (`companion.cross_fitted_area_i`): the blend's weights were
    fitted on those validation ratings, and scored on them they would flatter it."""
    predictor = predictor or Predictor.build(model, inputs)
    scores = evaluate(model, data, split, inputs, role=VAL, predictor=predictor)["areas"]
    scores = cross_fitted_area_i(model, data, split, predictor, scores)
    baseline = baseline_scores(data, split, role=VAL)["areas"]
    return {"observed": Observed.from_run(data, split).state(), "val_scores": scores, "val_baseline": baseline}


def data_reference(checkpoint: dict[str, Any]) -> str | None:
    """The `--data` spec that gives a checkpoint's data back when it names built-in data (the demo data or a
    MovieLens release); None for a file or a table, whose ratings must be given."""
    name = str(checkpoint["dataset"]["name"])
    if name == "demo" or name in RELEASES:
        return name
    if name.startswith("demo-"):  # demo:UxIxR is named demo-UxIxR
        return "demo:" + name.removeprefix("demo-")
    return None
