"""Top-N for new users: the metrics on hand-made lists, EASE and item-kNN on a tiny matrix, the protocol's split
(no leakage), and `recommend` on planted groups (users who like group A get group A's unseen items first)."""

from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_ranking import build_parser as bench_parser
from dmf_core import DMF
from dmf_core.cli.main import build_parser, main
from dmf_core.data import from_triples
from dmf_core.ranking.protocol import (
    EASE_GRID,
    RECOMMEND,
    WEIGHT_GRID,
    RankingTask,
    coverage,
    held_out,
    make_task,
    per_user,
    popularity_percentile,
    split_users,
    top_items,
    training_part,
)
from dmf_core.ranking.rankers import cosine_similarity, ease_weights, nearest, rated_gram, training_matrix
from studio import ranking_note
from tests.conftest import REPO_ROOT

GROUP = 12  # items 0..11 are group A, 12..23 group B


def planted(n_users: int = 120, seed: int = 0):
    """Half the users like group A (4-5 stars) and dislike B (1-2 stars), half the reverse; each rates ~60%."""
    rng = np.random.default_rng(seed)
    users, items = np.nonzero(rng.random((n_users, 2 * GROUP)) < 0.6)
    likes_a = users % 2 == 0
    in_a = items < GROUP
    high, low = rng.integers(4, 6, len(users)), rng.integers(1, 3, len(users))
    ratings = np.where(likes_a == in_a, high, low).astype(np.float32)
    return from_triples(users + 1, items + 100, ratings, name="planted")


@pytest.fixture(scope="module")
def model(one_thread) -> DMF:
    return DMF(companion="none", epochs=20, hidden=(32, 8), seed=0, quiet=True, device="cpu").fit(planted())


@pytest.fixture(scope="module")
def report(one_thread, tmp_path_factory) -> dict:
    """`rank-eval` through the command line (which calls the library's `rank_eval`) on planted groups."""
    folder = tmp_path_factory.mktemp("rank-eval")
    data = planted(200, seed=1)
    pd.DataFrame({"user": data.user_ids[data.users], "item": data.item_ids[data.items],
                  "rating": data.ratings}).to_csv(folder / "planted.csv", index=False)
    assert main(["rank-eval", "--data", str(folder / "planted.csv"), "--n", "3,5", "--users-frac", "0.15",
                 "--max-seconds", "3", "--out", str(folder / "report.json")]) == 0
    return json.loads((folder / "report.json").read_text())


def test_metrics_on_hand_made_lists():
    relevant = np.zeros((2, 6), dtype=bool)
    relevant[0, [1, 5]] = True  # user 0: hit at rank 2 of 3, one relevant item missed
    relevant[1, [0, 1, 2, 3]] = True  # user 1: every recommended item relevant
    top = np.array([[0, 1, 2], [0, 1, 2]])
    values = per_user(top, relevant, np.arange(6, dtype=float) * 10)
    assert values["recall"] == pytest.approx([1 / 2, 1.0])  # hits / min(k, relevant)
    ideal = 1 + 1 / np.log2(3)
    assert values["ndcg"] == pytest.approx([(1 / np.log2(3)) / ideal, 1.0])
    assert values["popularity_percentile"] == pytest.approx([10.0, 10.0])
    assert coverage(np.array([[0, 1], [1, 2]]), 4, seed=0)["mean"] == 0.75
    assert popularity_percentile(np.array([1, 5, 5, 9])) == pytest.approx([12.5, 50.0, 50.0, 87.5])


def test_top_items_leave_the_context_out():
    task = RankingTask(np.array([0, 1]), np.array([3, 0]), np.array([5.0, 5.0]), np.zeros((2, 5), bool), 5, 0)
    scores = np.array([[1, 2, 3, 9, 0], [9, 1, 2, 3, 4]], dtype=float)
    assert top_items(scores, task, k=2).tolist() == [[2, 1], [4, 3]]


def test_item_knn_and_ease_on_a_tiny_matrix():
    data = from_triples(np.array([1, 1, 2, 2, 3, 3, 3]), np.array([1, 2, 1, 2, 2, 3, 1]),
                        np.array([5, 4, 3, 2, 1, 5, 4], dtype=np.float32), name="tiny")
    x = training_matrix(data).toarray().astype(np.float64)  # users x items: [[5,4,0],[3,2,0],[4,1,5]]
    sim = cosine_similarity(training_matrix(data))
    expected = (x.T @ x) / np.outer(np.linalg.norm(x, axis=0), np.linalg.norm(x, axis=0))
    np.fill_diagonal(expected, 0)
    assert sim == pytest.approx(expected, abs=1e-6)
    kept = nearest(sim, 1)
    assert (np.count_nonzero(kept, axis=1) == 1).all() and kept.max(1) == pytest.approx(sim.max(1))
    lam = 2.0
    weights = ease_weights(rated_gram(training_matrix(data)), lam)
    rated = (x != 0).astype(np.float64)
    gram = rated.T @ rated
    for j in range(3):  # EASE's column j: ridge regression of item j's column on the other items' columns
        others = [i for i in range(3) if i != j]
        column = np.linalg.solve(gram[np.ix_(others, others)] + lam * np.eye(2), gram[others, j])
        assert weights[others, j] == pytest.approx(column, abs=1e-5) and weights[j, j] == 0


def test_the_protocol_does_not_leak():
    data = planted(200, seed=1)
    role = split_users(data.n_users, 0.15, 0.15, seed=0)
    assert (role == 2).sum() == 30 and (role == 1).sum() == 30  # test and validation users, disjoint by role
    train, item_map = training_part(data, role == 0)
    trained_on = set(train.user_ids.tolist())
    assert trained_on.isdisjoint(data.user_ids[role > 0].tolist())
    users = held_out(data, role == 2, item_map, seed=0)
    task = make_task(users, 5, 4.0, train.n_items)
    assert np.bincount(task.rows).tolist() == [5] * task.n_rows  # n context ratings each
    assert not task.relevant[task.rows, task.items].any()  # a context item is never a relevant one
    assert not np.isin(top_items(np.ones((task.n_rows, train.n_items)), task), task.items[task.rows == 0])[0].any()


def test_rank_eval_reports_every_method_with_intervals(report):
    for block in report["results"].values():
        methods = block["methods"]
        assert {"most popular", "mean + biases, by rating", "item-kNN", "EASE", "DMF, by rating", RECOMMEND} <= set(
            methods)
        for row in methods.values():
            for value in row.values():
                assert value["low"] <= value["mean"] <= value["high"]
        # Popularity knows nothing of the planted groups; DMF's order does.
        assert methods[RECOMMEND]["ndcg"]["mean"] > methods["most popular"]["ndcg"]["mean"] + 0.2
    assert report["chosen"]["rating_weight"] in WEIGHT_GRID and report["chosen"]["ease_lambda"] in EASE_GRID


def test_users_who_like_group_a_get_group_a_first(model):
    mine = {100: 5, 101: 5, 102: 4, 100 + GROUP: 1, 101 + GROUP: 2}
    unseen_a = GROUP - 3
    recs = model.recommend(mine, k=unseen_a)
    assert set(recs["item"]) == set(range(103, 100 + GROUP))
    assert not set(recs["item"]) & set(mine)
    assert (recs["n_ratings"] > 0).all()
    assert list(recs["score"]) == sorted(recs["score"], reverse=True)  # the relevance it was ordered by


def test_by_rating_is_the_plain_predicted_order(model):
    mine = {100: 5, 112: 1}
    recs = model.recommend(mine, k=5, by="rating")
    others = [i for i in model.observed_.data.item_ids if i not in mine]
    context = pd.DataFrame({"user": "me", "item": list(mine), "rating": list(mine.values())})
    scores = model.predict(pd.DataFrame({"user": "me", "item": others}), context=context)
    assert list(recs["score"]) == sorted(recs["score"], reverse=True)
    assert np.array_equal(recs["score"], recs["predicted_rating"])  # by="rating": the key is the rating, unclamped
    assert min(recs["score"].iloc[0], 5.0) == pytest.approx(float(scores.max()), abs=1e-5)  # predict clamps
    shown = model.predict(pd.DataFrame({"user": "me", "item": recs["item"]}), context=context)
    np.testing.assert_allclose(np.clip(recs["score"], 1.0, 5.0), shown, atol=1e-5)  # every row, not the first alone
    assert scores[~np.isin(others, recs["item"])].max() <= min(recs["score"].iloc[-1], 5.0) + 1e-5
    assert model.recommend(mine, k=5, by="relevance", rating_weight=1e6)["item"].tolist() == recs["item"].tolist()
    with pytest.raises(ValueError, match="by must be one of"):
        model.recommend(mine, by="stars")


def test_the_docs_commands_parse():
    """docs/ranking.md's commands take minutes (ML-1M), so they are checked here by parsing their flags, not run."""
    text = (REPO_ROOT / "docs" / "ranking.md").read_text()
    commands = [line for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S) for line in block.splitlines()
                if line.strip() and not line.startswith("#")]
    assert len(commands) >= 2
    for command in commands:
        words = shlex.split(command)
        if words[:3] == ["python", "-m", "dmf_core"]:
            assert build_parser().parse_args(words[3:]).command == "rank-eval"
        else:
            assert words[:2] == ["python", "benchmarks/bench_ranking.py"]
            bench_parser().parse_args(words[2:])


def test_the_new_user_page_line_says_how_the_ranking_scored(tmp_path):
    popularity = np.array([1, 10, 100, 1000])
    line = ranking_note.note(popularity, [2, 3], ranking_note.load())  # the committed benchmark
    assert "Ranked by relevance" in line and "percentile 75" in line and "NDCG@10" in line
    assert "Not measured" in ranking_note.note(popularity, [2], ranking_note.load(tmp_path / "missing.json"))
