"""DMF as a Surprise algorithm: `DMFAlgorithm(**train flags)` subclasses `surprise.AlgoBase`, so Surprise's
`cross_validate`, `GridSearchCV` and accuracy functions run it beside SVD and the rest.

    from surprise.model_selection import cross_validate
    from dmf_core.integrations.surprise import DMFAlgorithm
    cross_validate(DMFAlgorithm(max_seconds=30), data, cv=3)

scikit-surprise is optional: only this module imports it, and nothing in dmf_core imports this module. A test set
is scored in batches (`test`), not one pair at a time; a pair whose user or item the training set never saw gets
Surprise's default prediction (the training mean), flagged `was_impossible`, as Surprise's own algorithms do.

Surprise holds its own test ratings out, so the training set is fitted as `DMF().fit` fits (the library's
`split="fit"`): every rating of it trains but the validation share that selects the epoch (`config.VAL_FRAC`); no
user, item or test share is held back. Any keyword overrides that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from surprise import AlgoBase, PredictionImpossible
from surprise.prediction_algorithms.predictions import Prediction

from ..api import DMF

SURPRISE_DEFAULTS = {"split": "fit", "quiet": True}


class DMFAlgorithm(AlgoBase):
    """Deep matrix factorisation for Surprise. Keywords: `train`'s flags, as for `dmf_core.DMF`."""

    def __init__(self, **flags: Any) -> None:
        super().__init__()
        self.flags = {**SURPRISE_DEFAULTS, **flags}
        DMF(**self.flags)  # a bad setting fails here, as Surprise's own algorithms do
        self.dmf: DMF | None = None

    def fit(self, trainset: Any) -> DMFAlgorithm:
        AlgoBase.fit(self, trainset)
        triples = np.array(list(trainset.all_ratings()), dtype=np.float64).reshape(-1, 3)
        inner_users, inner_items = triples[:, 0].astype(np.int64), triples[:, 1].astype(np.int64)
        frame = pd.DataFrame({"user": inner_users, "item": inner_items, "rating": triples[:, 2]})
        low, high = trainset.rating_scale
        self.dmf = DMF(**{"rating_scale": (low, high), **self.flags}).fit(frame)  # on inner ids
        return self

    def estimate(self, u: Any, i: Any) -> float:
        if not (self.trainset.knows_user(u) and self.trainset.knows_item(i)):
            raise PredictionImpossible("user and/or item is unknown")
        return float(self.dmf.predict(pd.DataFrame({"user": [u], "item": [i]}))[0])

    def test(self, testset: list[tuple[Any, Any, float]], verbose: bool = False) -> list[Prediction]:
        """Every pair of `testset` scored in batches; unknown users or items get the default prediction."""
        inner_users, inner_items, known = [], [], []
        for uid, iid, _ in testset:
            u, i = _inner(self.trainset.to_inner_uid, uid), _inner(self.trainset.to_inner_iid, iid)
            known.append(u is not None and i is not None)
            inner_users.append(u if u is not None else -1)
            inner_items.append(i if i is not None else -1)
        known_mask = np.asarray(known, dtype=bool)
        estimates = np.full(len(testset), self.default_prediction(), dtype=np.float64)
        if known_mask.any():
            pairs = pd.DataFrame({"user": np.asarray(inner_users)[known_mask], "item": np.asarray(inner_items)[known_mask]})
            estimates[known_mask] = self.dmf.predict(pairs)
        low, high = self.trainset.rating_scale
        predictions = []
        for (uid, iid, r_ui), est, ok in zip(testset, np.clip(estimates, low, high), known_mask, strict=True):
            details = {"was_impossible": not ok} | ({} if ok else {"reason": "user and/or item is unknown"})
            predictions.append(Prediction(uid, iid, r_ui, float(est), details))
            if verbose:
                print(predictions[-1])
        return predictions


def _inner(to_inner: Any, raw: Any) -> int | None:
    try:
        return int(to_inner(raw))
    except ValueError:
        return None
