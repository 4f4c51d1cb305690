"""The peers our benchmarks rerun beside DMF, from scikit-surprise (a dev requirement, for benchmarks only).

One place for what `bench_speed.py` and `bench_literature.py` share: the settings (the tuned SVD of issue 10, SVD's
defaults, SVD++), building Surprise's train and test sets from a split's ratings, and one timed fit + test RMSE.
Every peer is fitted on the ratings DMF trains on (the split's *observed* ratings) and scored on the same test
ratings; nothing is selected on test (the settings are fixed in advance, there is no early stopping to select).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from dmf_core.data import RatingData

# The tuned SVD of issue 10 (150 factors, 40 epochs, reg 0.05) and SVD's defaults (100 factors, 20 epochs, reg 0.02).
SVD_SETTINGS: dict[str, dict[str, Any]] = {
    "tuned": {"n_factors": 150, "n_epochs": 40, "reg_all": 0.05, "random_state": 0},
    "default": {"random_state": 0},
}
# SVD++ with Surprise's defaults (20 factors, 20 epochs, lr 0.007, reg 0.02) and its rating cache on, which trades
# memory for speed (same result). Its epoch costs O(sum over users of (ratings per user)² × factors): the benchmark
# table in scikit-surprise 1.1.5's README (5-fold CV, an i5 11th Gen laptop) lists 0:01:22 for ML-100K and 0:34:55
# for ML-1M with the cache, about 16 s and 7 minutes per fit. Measured here (bench_literature.py, ML-1M's 85%
# training ratings, shared 2-core CPU): 11 s an epoch, 189 s for the 20 epochs. `--skip-svdpp` leaves it out.
SVDPP_SETTINGS: dict[str, Any] = {"n_factors": 20, "n_epochs": 20, "cache_ratings": True, "random_state": 0}


def surprise_missing() -> str | None:
    """Why the peers cannot run (scikit-surprise not installed), or None when they can."""
    try:
        import surprise  # noqa: F401
    except ImportError:
        return "scikit-surprise is not installed (pip install -r requirements-dev.txt)"
    return None


def trainset(data: RatingData, selected: np.ndarray) -> Any:
    """Surprise's trainset of the selected ratings (user and item indices as raw ids)."""
    import pandas as pd
    from surprise import Dataset, Reader

    frame = pd.DataFrame({"user": data.users[selected], "item": data.items[selected],
                          "rating": data.ratings[selected]})
    return Dataset.load_from_df(frame, Reader(rating_scale=tuple(data.rating_scale))).build_full_trainset()


def testset(data: RatingData, selected: np.ndarray) -> list[tuple[int, int, float]]:
    return list(zip(data.users[selected].tolist(), data.items[selected].tolist(), data.ratings[selected].tolist(),
                    strict=True))


def fit_and_score(algorithm: str, params: dict[str, Any], train: Any, test: list[tuple[int, int, float]],
                  label: str = "") -> dict[str, Any]:
    """Fit Surprise's `algorithm` ("SVD" or "SVDpp") with `params` on `train`, timed (one thread: Surprise has no
    other), and score it on `test`. A user or item the trainset lacks is predicted by Surprise's fallback (the
    global mean), as it would be in use."""
    import surprise
    from surprise import accuracy

    model = getattr(surprise, algorithm)(**params)
    started = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - started
    test_rmse = float(accuracy.rmse(model.test(test), verbose=False))
    result = {"algorithm": algorithm, "params": params, "test_rmse": test_rmse,
              "fit_seconds": fit_seconds, "train_ratings": train.n_ratings, "test_ratings": len(test)}
    print(f"  {label or algorithm} {params}: fit {fit_seconds:.1f}s, test RMSE {result['test_rmse']:.4f}",
          file=sys.stderr)
    return result
