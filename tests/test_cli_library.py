"""The library's commands end to end: `recommend` and `predict` (with --context) on a run written by `train`, and
their one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmf_core import DMF
from dmf_core.cli.main import main
from dmf_core.data import load_dataset


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--data", "demo", "--epochs", "2", "--hidden", "32,16", "--device", "cpu", "--quiet",
                 "--out", str(out)]) == 0
    return out


def test_recommend_prints_k_unrated_items_best_first(run, tmp_path, capsys):
    demo = load_dataset("demo")
    mine = pd.DataFrame({"item": demo.item_ids[:3], "rating": [5, 4, 1]})
    mine.to_csv(tmp_path / "mine.csv", index=False)
    capsys.readouterr()
    assert main(["recommend", str(run), "--ratings", str(tmp_path / "mine.csv"), "--k", "4",
                 "--out", str(tmp_path / "recs.csv")]) == 0
    recs = pd.read_csv(tmp_path / "recs.csv")
    expected = DMF.load(run).recommend(dict(zip(mine["item"], mine["rating"], strict=True)), k=4)
    assert list(recs["item"]) == list(expected["item"]) and len(recs) == 4
    assert not set(recs["item"]) & set(mine["item"])
    assert main(["recommend", str(run), "--ratings", str(tmp_path / "mine.csv"), "--k", "2"]) == 0
    printed = capsys.readouterr().out
    assert expected["title"].iloc[0] in printed and expected["title"].iloc[2] not in printed


def test_recommend_for_a_known_user_prints_the_apis_columns(run, tmp_path):
    model = DMF.load(run)
    user = model.observed_.data.user_ids[3]
    assert main(["recommend", str(run), "--user", str(user), "--k", "5", "--out", str(tmp_path / "recs.csv")]) == 0
    recs = pd.read_csv(tmp_path / "recs.csv")
    expected = model.recommend(user=user, k=5)
    assert list(recs.columns) == list(expected.columns) == ["item", "score", "predicted_rating", "n_ratings", "title"]
    assert list(recs["item"]) == list(expected["item"])
    assert list(recs["score"]) == sorted(recs["score"], reverse=True)


def test_predict_with_context_writes_one_row_per_pair(run, tmp_path):
    demo = load_dataset("demo")
    pairs = pd.DataFrame({"user": [demo.user_ids[0], "newcomer", "newcomer"],
                          "item": [demo.item_ids[0], demo.item_ids[5], demo.item_ids[6]]})
    context = pd.DataFrame({"user": "newcomer", "item": demo.item_ids[10:14], "rating": [5, 5, 4, 1]})
    pairs.to_csv(tmp_path / "pairs.csv", index=False)
    context.to_csv(tmp_path / "known.csv", index=False)
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(run), "--pairs", str(tmp_path / "pairs.csv"), "--context", str(tmp_path / "known.csv"),
                 "--out", str(out)]) == 0
    written = pd.read_csv(out, dtype={"user": str})
    assert list(written.columns) == ["user", "item", "predicted_rating"] and len(written) == 3
    model = DMF.load(run)
    expected = model.predict(pairs.astype({"user": str}).replace({"user": {str(demo.user_ids[0]): demo.user_ids[0]}}),
                             context=context)
    np.testing.assert_allclose(written["predicted_rating"].to_numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["predict", "RUN", "--pairs", "PAIRS", "--out", "OUT"], r"PAIRS: user 'newcomer' is not known .*--context"),
        (["predict", "RUN", "--pairs", "MISSING", "--out", "OUT"], r"MISSING: no such file"),
        (["recommend", "RUN", "--ratings", "BAD"], r"BAD: rating 9 is outside the scale 1\.\.5"),
        (["recommend", "NORUN", "--ratings", "BAD"], r"no such checkpoint file"),
        (["recommend", "RUN", "--user", "nobody"], r"--user: user 'nobody' is not known to the model"),
    ],
)
def test_errors_are_one_line(run, tmp_path, capsys, args, pattern):
    pd.DataFrame({"user": ["newcomer"], "item": [1]}).to_csv(tmp_path / "pairs.csv", index=False)
    pd.DataFrame({"item": [1, 2], "rating": [4, 9]}).to_csv(tmp_path / "bad.csv", index=False)
    paths = {"RUN": str(run), "PAIRS": str(tmp_path / "pairs.csv"), "OUT": str(tmp_path / "out.csv"),
             "MISSING": str(tmp_path / "missing.csv"), "BAD": str(tmp_path / "bad.csv"),
             "NORUN": str(tmp_path / "norun")}
    capsys.readouterr()
    assert main([paths.get(arg, arg) for arg in args]) == 2
    err = capsys.readouterr().err.strip()
    pattern = pattern.replace("PAIRS", "pairs.csv").replace("MISSING", "missing.csv").replace("BAD", "bad.csv")
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and __import__("re").search(pattern, err), err
