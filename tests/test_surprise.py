"""dmf_core.integrations.surprise: DMF inside Surprise's cross-validation, beside SVD, a test set scored in batches.
Skipped where scikit-surprise is not installed (it is optional)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

surprise = pytest.importorskip("surprise")

from surprise.model_selection import cross_validate  # noqa: E402

from dmf_core.data import load_dataset  # noqa: E402
from dmf_core.integrations.surprise import DMFAlgorithm  # noqa: E402

# The epoch cap binds, not the time budget, so a busy machine gives the same result.
SMALL = {"max_seconds": 120, "epochs": 6, "hidden": (32, 16), "device": "cpu"}


@pytest.fixture(scope="module")
def dataset():
    demo = load_dataset("demo:300x200x8000")
    frame = pd.DataFrame({"user": demo.user_ids[demo.users], "item": demo.item_ids[demo.items],
                          "rating": demo.ratings})
    return surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(1, 5))), frame


def test_cross_validation_runs_beside_svd(dataset):
    data, frame = dataset
    dmf = cross_validate(DMFAlgorithm(**SMALL), data, cv=3, measures=["rmse", "mae"])
    svd = cross_validate(surprise.SVD(random_state=0), data, cv=3, measures=["rmse"])
    assert len(dmf["test_rmse"]) == 3 and np.isfinite(dmf["test_rmse"]).all()
    # DMF learns something: well under predicting the mean, and in SVD's range on this small matrix.
    assert dmf["test_rmse"].mean() < frame["rating"].std() - 0.05
    assert dmf["test_rmse"].mean() < svd["test_rmse"].mean() + 0.1


def test_a_test_set_is_scored_in_batches_as_pair_by_pair(dataset):
    data, _ = dataset
    trainset = data.build_full_trainset()
    algo = DMFAlgorithm(**{**SMALL, "epochs": 2}).fit(trainset)
    # The training set is fitted as DMF().fit fits: all of it trains but the validation share; nothing else kept back.
    counts = algo.dmf.metrics_["counts"]
    assert counts["I"]["test"] == 0 and counts["users"]["new"] == 0 and counts["items"]["new"] == 0
    assert counts["I"]["observed"] + counts["I"]["val"] == trainset.n_ratings
    testset = trainset.build_testset()[:200] + [("nobody", trainset.to_raw_iid(0), 3.0)]
    batch = algo.test(testset)
    single = [algo.predict(uid, iid, r_ui) for uid, iid, r_ui in testset]
    assert [p.est for p in batch[:-1]] == pytest.approx([p.est for p in single[:-1]], abs=1e-5)
    assert batch[-1].details["was_impossible"] and batch[-1].est == pytest.approx(trainset.global_mean)
    assert single[-1].details["was_impossible"]
