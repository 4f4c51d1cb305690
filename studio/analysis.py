"""Looking inside a trained run: its test-set outputs, errors and confusion matrix per area, the cold-start curve
(error for new users as a function of how many of their ratings the model sees), and scoring a brand-new user from
a handful of ratings. All of it is forward passes of the saved model: nothing here trains.

The app's Quantizer, Areas and New-user pages draw these; they are plain functions so tests and notebooks can use
them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmf_core import DMF, paper
from dmf_core.data import RatingData
from dmf_core.data.split import AREAS, TEST, AreaSplit, split_areas
from dmf_core.model.network import DMFNet
from dmf_core.model.quantizer import rating_levels
from dmf_core.runs.checkpoint import check_matches, configs
from dmf_core.scoring import cold_start, context
from dmf_core.scoring.cold_start import KS
from dmf_core.scoring.context import NewUserScores
from dmf_core.scoring.metrics import round_to_scale
from dmf_core.scoring.predict import Predictor

# The paper's Table 1 rows for the models the Areas page marks, labelled as the paper's; drawn as reference marks
# only: a run on other data or settings is not expected to match them.
PAPER_TABLE1: dict[str, dict[str, float]] = {
    f"{model} (paper)": {area: value for area, value in paper.TABLE1[model].items() if value is not None}
    for model in ("DMF", "I-AutoRec", "U-AutoRec")
}


@dataclass
class RunAnalysis:
    """A saved run opened through the library (`DMF.from_checkpoint`: its network, predictor, inputs and item
    popularity, as `DMF.load` gives them), with the run's whole data and split (rebuilt from the stored seed and
    fractions: the test ratings are not in the checkpoint) and its test-set predictions."""

    dmf: DMF
    data: RatingData
    split: AreaSplit
    test_users: np.ndarray
    test_items: np.ndarray
    test_true: np.ndarray
    test_area: np.ndarray  # 0..3 for I..IV
    test_pred: np.ndarray  # continuous, on the rating scale
    test_discrete: np.ndarray | None  # DMF-D's hard Q_b of test_pred; None for DMF

    @property
    def model(self) -> DMFNet:
        return self.dmf.model_

    @property
    def predictor(self) -> Predictor:
        return self.dmf.predictor_

    @property
    def popularity(self) -> np.ndarray:
        """Ratings per item in training: the library's one count (`Observed.popularity`, `recommend`'s n_ratings)."""
        return self.dmf.observed_.popularity

    @classmethod
    def build(cls, checkpoint: dict[str, Any], data: RatingData, device: str = "cpu") -> RunAnalysis:
        """Open the run through the library, rebuild its split from the stored seed and fractions and score every
        test rating once."""
        check_matches(checkpoint, data)
        dmf = DMF.from_checkpoint(checkpoint, data=data, device=device)
        split = split_areas(data, configs(checkpoint)[2])
        test = split.role == TEST
        users, items = data.users[test], data.items[test]
        pred = dmf.predictor_.continuous(users, items)
        discrete = dmf.predictor_.discrete(pred) if dmf.model_.discrete else None
        return cls(dmf, data, split, users, items, data.ratings[test], split.area[test], pred, discrete)

    @property
    def discrete(self) -> bool:
        return self.model.discrete

    @property
    def levels(self) -> list[float]:
        return rating_levels(self.data.rating_scale, self.data.rating_step)

    def errors_by_area(self, discrete: bool = False) -> dict[str, np.ndarray]:
        """Signed errors (prediction − truth) of the test ratings, per area; empty areas are left out."""
        pred = self.test_discrete if discrete and self.test_discrete is not None else self.test_pred
        errors = pred.astype(np.float64) - self.test_true
        return {name: errors[self.test_area == i] for i, name in enumerate(AREAS) if (self.test_area == i).any()}

    def confusion(self) -> np.ndarray:
        """Counts of (true level, predicted level) for the discrete predictions: DMF-D's hard Q_b, or for DMF its
        rounded output (the baseline quantizer)."""
        pred = self.test_discrete
        if pred is None:
            pred = round_to_scale(self.test_pred, self.data.rating_scale, self.data.rating_step)
        return confusion_matrix(pred, self.test_true, self.levels)


def confusion_matrix(pred: np.ndarray, true: np.ndarray, levels: list[float]) -> np.ndarray:
    """matrix[t, p] = how many ratings with true level t were predicted as level p."""
    lookup = np.asarray(levels)
    true_index = np.abs(true[:, None] - lookup[None, :]).argmin(1)
    pred_index = np.abs(pred[:, None] - lookup[None, :]).argmin(1)
    matrix = np.zeros((len(levels), len(levels)), dtype=np.int64)
    np.add.at(matrix, (true_index, pred_index), 1)
    return matrix


def calibration_curve(pred: np.ndarray, true: np.ndarray, scale: tuple[float, float],
                      width: float = 0.1, min_count: int = 30) -> pd.DataFrame:
    """The mean true rating against the continuous output: one row per bin of `width` stars of the output with at
    least `min_count` ratings (mean output, mean true rating, count). A calibrated output lies on the diagonal."""
    low, high = scale
    edges = np.arange(low, high + width, width)
    index = np.clip(np.digitize(pred, edges) - 1, 0, len(edges) - 2)
    counts = np.bincount(index, minlength=len(edges) - 1)
    sums_pred = np.bincount(index, weights=pred.astype(np.float64), minlength=len(edges) - 1)
    sums_true = np.bincount(index, weights=true.astype(np.float64), minlength=len(edges) - 1)
    kept = counts >= min_count
    return pd.DataFrame({"output": sums_pred[kept] / counts[kept], "true": sums_true[kept] / counts[kept],
                         "count": counts[kept]})


def boundary_moves(boundaries: list[float], uniform: list[float], curve: pd.DataFrame,
                   near: float = 0.25) -> list[str]:
    """One line per boundary: where it moved from the uniform midpoint, and what the calibration curve says of the
    outputs around that midpoint (their mean true rating against their mean output)."""
    lines = []
    for v, (b, u) in enumerate(zip(boundaries, uniform, strict=True)):
        around = curve[(curve["output"] - u).abs() <= near]
        if len(around):
            gap = float(np.average(around["true"] - around["output"], weights=around["count"]))
            reading = (f"outputs near {u:g} are on average {abs(gap):.2f} stars "
                       f"{'below' if gap > 0 else 'above'} their true ratings")
        else:
            reading = f"too few outputs near {u:g} to say"
        direction = "down" if b < u else "up" if b > u else "nowhere"
        lines.append(f"b{v + 1} moved {direction} by {abs(b - u):.3f} (to {b:.3f}); {reading}.")
    return lines


# ------------------------------------------------------------------------------------------------- cold start


def cold_start_curve(analysis: RunAnalysis, ks: tuple[int, ...] = KS, seed: int = 0) -> pd.DataFrame:
    """A saved run's cold-start curve (`dmf_core.scoring.cold_start`): area-II test error when the model sees only k
    of each new user's ratings, beside global mean + biases given the same k."""
    return cold_start.cold_start_curve(analysis.predictor, analysis.data, analysis.split, ks, seed)


# ------------------------------------------------------------------------------------------------- a new user


def score_new_user(analysis: RunAnalysis, items: list[int], ratings: list[float]) -> NewUserScores:
    """Every item's predicted rating for a person the model has never seen, from their ratings alone (area II; area
    IV for items held out of training): the library's `scoring.context.score_new_user`, which `DMF.recommend` reads
    too. One forward pass, no retraining. Raises ValueError for an unknown item, a rating off the scale or a
    repeated item."""
    return context.score_new_user(analysis.predictor, analysis.split.new_item, items, ratings,
                                  analysis.data.rating_scale)


def recommend(analysis: RunAnalysis, items: list[int], ratings: list[float], k: int = 10) -> pd.DataFrame:
    """`DMF.recommend` for one new person's ratings (item indices here), its columns as they are, with `index` (the
    item's index in the run's data) added for the page's own columns."""
    ids = analysis.data.item_ids
    frame = analysis.dmf.recommend(dict(zip(ids[items].tolist(), ratings, strict=True)), k=k)
    frame.insert(0, "index", pd.Index(ids).get_indexer(frame["item"]))
    return frame


def most_popular(analysis: RunAnalysis, scores: NewUserScores, rated: list[int], k: int = 10) -> pd.DataFrame:
    """The `k` unrated items with the most ratings in training (`popularity`), with this person's predicted rating
    of each: the baseline every top-N list is judged against. Columns as `recommend`'s, with no score."""
    data, popularity = analysis.data, analysis.popularity
    order = analysis.dmf.observed_.most_popular(rated, k)
    return pd.DataFrame({"index": order, "item": data.item_ids[order],
                         "predicted_rating": scores.unclamped[order].astype(np.float64),
                         "n_ratings": popularity[order], "title": [data.title(i) for i in order]})


def search_titles(data: RatingData, popularity: np.ndarray, query: str, limit: int = 20) -> list[int]:
    """Item indices whose title contains every word of `query` (case-insensitive), most-rated in training first."""
    words = [w for w in query.lower().split() if w]
    if not words:
        return []
    hits = [i for i in range(data.n_items) if all(w in data.title(i).lower() for w in words)]
    return sorted(hits, key=lambda i: -popularity[i])[:limit]
