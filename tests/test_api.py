"""dmf_core.DMF, the library: fit and predict on the demo data, new users and items from context (against the New
user page's scores and against the model's own held-out rows), save/load round trips, checkpoints of `train`, and
the table of bad inputs (one-line ValueErrors naming the problem)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from dmf_core import DMF
from dmf_core.cli.main import _configs_from_args, build_parser
from dmf_core.cli.main import main as cli_main
from dmf_core.config import SplitConfig
from dmf_core.data import from_triples, load_dataset
from dmf_core.data.split import AREAS, OBSERVED, TEST, split_areas
from dmf_core.flags import FLAGS
from dmf_core.runs import checkpoint as ckpt
from studio.analysis import RunAnalysis, score_new_user
from tests.conftest import SMALL_DEMO

# The area experiment (`split="areas"`): most tests here check the test ratings and held-out rows it keeps aside.
SMALL = {"epochs": 3, "hidden": (32, 16), "quiet": True, "device": "cpu", "split": "areas"}


@pytest.fixture(scope="module")
def demo():
    return load_dataset(SMALL_DEMO)


@pytest.fixture(scope="module")
def frame(demo):
    """The demo ratings as a researcher's DataFrame."""
    return pd.DataFrame({"user": demo.user_ids[demo.users], "item": demo.item_ids[demo.items], "rating": demo.ratings})


@pytest.fixture(scope="module")
def outsiders(frame):
    """(the ratings of 40 users that fit never sees, the rest to fit on)."""
    users = np.sort(frame["user"].unique())[:40]
    return frame[frame["user"].isin(users)], frame[~frame["user"].isin(users)]


@pytest.fixture(scope="module")
def fitted(outsiders):
    _, train = outsiders
    return DMF(**SMALL).fit(train)


def test_fit_predicts_the_run_test_ratings_as_train_scores_them(fitted):
    """predict() with the data's own ids reproduces the test scores train_run computed with its inner indices."""
    data, split = fitted.observed_.data, fitted.observed_.split
    assert fitted.metrics_ is not None
    # observed_ after fit keeps the whole data; the test ratings of area I, by raw ids:
    test = (split.role == TEST) & (split.area == 0)
    pairs = pd.DataFrame({"user": data.user_ids[data.users[test]], "item": data.item_ids[data.items[test]]})
    pred = fitted.predict(pairs)
    assert pred.shape == (int(test.sum()),) and pred.dtype == np.float32
    rmse = float(np.sqrt(np.mean((pred.astype(np.float64) - data.ratings[test]) ** 2)))
    assert rmse == pytest.approx(fitted.metrics_["areas"]["I"]["rmse"], abs=1e-5)
    assert rmse < fitted.metrics_["baseline"]["areas"]["I"]["rmse"] + 0.05
    # Other shapes of the same pairs: renamed columns, rows of tuples.
    renamed = pairs.rename(columns={"user": "u", "item": "i"})
    assert np.array_equal(fitted.predict(renamed, columns=("u", "i")), pred)
    assert np.array_equal(fitted.predict(list(pairs.itertuples(index=False, name=None))[:50]), pred[:50])


def test_history_and_validation_scores(fitted):
    assert len(fitted.history_) == len(fitted.checkpoint_["history"]) >= 1
    assert {"epoch", "train_loss", "val_rmse"} <= set(fitted.history_.columns)
    assert list(fitted.scores_.index) == list(AREAS)
    # The default is DMF alone, the paper's model: no companion, and the validation scores are those of the epoch
    # that early stopping selected on area I's validation RMSE.
    assert "companion" not in fitted.metrics_ and fitted.checkpoint_["model_config"]["companion"] == "none"
    assert fitted.scores_.loc["I", "rmse"] == pytest.approx(fitted.history_["val_rmse"].min(), abs=1e-4)


def test_fit_takes_a_rating_data_a_spec_and_other_column_names(demo):
    a = DMF(**{**SMALL, "epochs": 1}).fit(demo)
    b = DMF(**{**SMALL, "epochs": 1}).fit(SMALL_DEMO)
    frame = pd.DataFrame({"who": demo.user_ids[demo.users], "what": demo.item_ids[demo.items], "stars": demo.ratings})
    c = DMF(**{**SMALL, "epochs": 1}).fit(frame, columns=("who", "what", "stars"))
    pairs = pd.DataFrame({"user": demo.user_ids[demo.users[:100]], "item": demo.item_ids[demo.items[:100]]})
    assert np.array_equal(a.predict(pairs), b.predict(pairs))
    assert np.allclose(a.predict(pairs), c.predict(pairs), atol=1e-5)
    recs = a.recommend({demo.item_ids[0]: 5}, k=3)  # the demo data has titles
    assert list(recs.columns) == ["item", "score", "predicted_rating", "n_ratings", "title"]
    assert list(recs["title"]) == [demo.item_titles[i] for i in pd.Index(demo.item_ids).get_indexer(recs["item"])]


def test_context_equals_the_new_user_page(fitted, outsiders):
    """Users fit never saw, scored from half their ratings: the same numbers as the New user page's."""
    held, train = outsiders
    analysis = RunAnalysis.build(fitted.checkpoint_, fitted.observed_.data)
    data = analysis.data
    rng = np.random.default_rng(0)
    known = held[held["item"].isin(data.item_ids)]
    half = rng.random(len(known)) < 0.5
    context, targets = known[half], known[~half]
    pred = fitted.predict(targets[["user", "item"]], context=context)
    item_index = pd.Index(data.item_ids)
    for user, rows in context.groupby("user"):
        page = score_new_user(analysis, item_index.get_indexer(rows["item"]).tolist(), rows["rating"].tolist())
        mine = targets["user"].to_numpy() == user
        expected = page.scores[item_index.get_indexer(targets["item"][mine])]
        np.testing.assert_allclose(pred[mine], expected, atol=1e-5)
    # Better than nothing: the context carries information (RMSE well under the ratings' spread).
    error = np.sqrt(np.mean((pred - targets["rating"].to_numpy()) ** 2))
    assert error < targets["rating"].std()


def test_context_reproduces_the_models_own_held_out_users_and_items(fitted):
    """A held-out user / item of the split, renamed and given by its input row / column as context, is scored
    exactly as the model scores it under its own id: areas II, III and IV."""
    data, split = fitted.observed_.data, fitted.observed_.split
    user = int(np.flatnonzero(split.new_user)[0])
    item = int(np.flatnonzero(split.new_item)[0])
    observed = split.role == OBSERVED
    row = observed & (data.users == user) & ~split.new_item[data.items]
    col = observed & (data.items == item) & ~split.new_user[data.users]
    assert row.sum() >= 3 and col.sum() >= 3
    new_user, new_item = "new-user", "new-item"
    context = pd.concat([
        pd.DataFrame({"user": new_user, "item": data.item_ids[data.items[row]], "rating": data.ratings[row]}),
        pd.DataFrame({"user": data.user_ids[data.users[col]], "item": new_item, "rating": data.ratings[col]}),
    ])
    seen_users = data.user_ids[np.flatnonzero(~split.new_user)[:20]]
    seen_items = data.item_ids[np.flatnonzero(~split.new_item)[:20]]
    own = pd.DataFrame({
        "user": [data.user_ids[user]] * 20 + list(seen_users) + [data.user_ids[user]],
        "item": list(seen_items) + [data.item_ids[item]] * 20 + [data.item_ids[item]],
    })
    renamed = pd.DataFrame({
        "user": [new_user] * 20 + list(seen_users) + [new_user],
        "item": list(seen_items) + [new_item] * 20 + [new_item],
    })
    with_ids = fitted.predict(own)
    from_context = fitted.predict(renamed, context=context)
    np.testing.assert_allclose(from_context, with_ids, atol=1e-4)


def test_save_load_round_trip_predicts_identically(fitted, outsiders, tmp_path):
    held, _ = outsiders
    data = fitted.observed_.data
    pairs = pd.DataFrame({"user": data.user_ids[data.users[:500]], "item": data.item_ids[data.items[:500]]})
    known = held[held["item"].isin(data.item_ids)]
    path = fitted.save(tmp_path / "model.pt")
    loaded = DMF.load(path)
    assert np.array_equal(loaded.predict(pairs), fitted.predict(pairs))
    assert np.array_equal(loaded.predict(known[["user", "item"]], context=known),
                          fitted.predict(known[["user", "item"]], context=known))
    mine = dict(zip(known["item"][:5], known["rating"][:5], strict=True))
    pd.testing.assert_frame_equal(loaded.recommend(mine, k=7), fitted.recommend(mine, k=7))
    pd.testing.assert_frame_equal(loaded.history_, fitted.history_)
    pd.testing.assert_frame_equal(loaded.scores_, fitted.scores_)
    # The file is train's format: the checkpoint module reads it and restores the network.
    checkpoint = ckpt.load(path)
    assert checkpoint["kind"] == "dmf" and ckpt.restore_model(checkpoint).n_users == data.n_users


def test_recommend_best_first_without_rated_items(fitted):
    data = fitted.observed_.data
    popular = data.item_ids[np.argsort(-fitted.observed_.popularity)[:6]]
    mine = {popular[0]: 5, popular[1]: 5, popular[2]: 1, popular[3]: 2}
    recs = fitted.recommend(mine, k=10, by="rating")  # the plain predicted-rating order (the default adds co-ratings)
    assert list(recs.columns) == ["item", "score", "predicted_rating", "n_ratings"] and len(recs) == 10  # no titles
    assert not set(recs["item"]) & set(mine)
    assert list(recs["score"]) == sorted(recs["score"], reverse=True)
    assert np.array_equal(recs["score"], recs["predicted_rating"])  # by="rating": the sort key is the rating
    # The best-scored unrated item over every item, found independently through predict with context (clamped).
    context = pd.DataFrame({"user": "me", "item": list(mine), "rating": list(mine.values())})
    others = np.asarray([i for i in data.item_ids if i not in mine])
    scores = fitted.predict(pd.DataFrame({"user": "me", "item": others}), context=context)
    assert recs["item"].iloc[0] in set(others[scores >= scores.max() - 1e-6])
    assert min(recs["predicted_rating"].iloc[0], 5.0) == pytest.approx(float(scores.max()), abs=1e-5)
    # every row is the item's own prediction (predict clamps to the scale), and no item left out scores higher
    shown = fitted.predict(pd.DataFrame({"user": "me", "item": recs["item"]}), context=context)
    np.testing.assert_allclose(np.clip(recs["predicted_rating"], 1.0, 5.0), shown, atol=1e-5)
    left_out = scores[~np.isin(others, recs["item"])]
    assert left_out.max() <= min(recs["predicted_rating"].iloc[-1], 5.0) + 1e-5
    # n_ratings: the item's training ratings, the one popularity (`Observed.popularity`).
    index = pd.Index(data.item_ids).get_indexer(recs["item"])
    assert np.array_equal(recs["n_ratings"], fitted.observed_.popularity[index])


def test_discrete_predictions(fitted, demo):
    data = fitted.observed_.data
    own = pd.DataFrame({"user": data.user_ids[data.users[:300]], "item": data.item_ids[data.items[:300]]})
    rounded = fitted.predict(own, discrete=True)
    assert set(np.unique(rounded)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert np.abs(rounded - fitted.predict(own)).max() <= 0.5 + 1e-6
    pairs = pd.DataFrame({"user": demo.user_ids[demo.users[:300]], "item": demo.item_ids[demo.items[:300]]})
    dmfd = DMF(**SMALL, model="dmf-d", warmup_epochs=1).fit(demo)
    hard = dmfd.predict(pairs, discrete=True)
    assert set(np.unique(hard)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    boundaries = dmfd.model_.quantizer.boundaries.detach().numpy()
    continuous = dmfd.predict(pairs)
    assert np.array_equal(hard, 1.0 + (continuous[:, None] > boundaries[None, :]).sum(1))


def test_a_checkpoint_written_by_train_loads(tmp_path):
    out = tmp_path / "run"
    assert cli_main(["train", "--data", SMALL_DEMO, "--epochs", "2", "--hidden", "32,16", "--device", "cpu", "--quiet",
                     "--out", str(out), "--val-frac", "0.1", "--test-frac", "0.25"]) == 0  # `python -m dmf_core train`
    metrics = ckpt.load(out / "checkpoint.pt")
    assert metrics["split_config"]["val_frac"] == 0.1 and metrics["split_config"]["test_frac"] == 0.25
    loaded = DMF.load(out)
    demo = load_dataset(SMALL_DEMO)
    split = loaded.observed_.split
    assert split.new_user.sum() == round(0.1 * demo.n_users)
    full = split_areas(demo, SplitConfig(val_frac=0.1, test_frac=0.25))
    test = (full.role == TEST) & (full.area == 0)
    pred = loaded.predict(pd.DataFrame({"user": demo.user_ids[demo.users[test]],
                                        "item": demo.item_ids[demo.items[test]]}))
    written = json.loads((out / "metrics.json").read_text())
    rmse = float(np.sqrt(np.mean((pred.astype(np.float64) - demo.ratings[test]) ** 2)))
    assert rmse == pytest.approx(written["areas"]["I"]["rmse"], abs=1e-5)
    # A checkpoint from before the inputs were stored: rebuilt from the data it names (the demo data).
    old = {k: v for k, v in ckpt.load(out / "checkpoint.pt").items() if k not in ("observed", "val_scores")}
    ckpt.save(old, tmp_path / "old.pt")
    again = DMF.load(tmp_path / "old.pt")
    pairs = pd.DataFrame({"user": demo.user_ids[demo.users[:400]], "item": demo.item_ids[demo.items[:400]]})
    assert np.array_equal(again.predict(pairs), loaded.predict(pairs))
    pd.testing.assert_frame_equal(again.scores_, loaded.scores_)


def test_an_old_checkpoint_of_a_table_asks_for_its_data(fitted, outsiders, tmp_path):
    old = {k: v for k, v in fitted.checkpoint_.items() if k != "observed"}
    ckpt.save(old, tmp_path / "old.pt")
    with pytest.raises(ValueError, match=r"data=") as error:
        DMF.load(tmp_path / "old.pt")
    assert "\n" not in str(error.value)
    _, train = outsiders
    data = from_triples(train["user"].to_numpy(), train["item"].to_numpy(), train["rating"].to_numpy(),
                        name="ratings")
    loaded = DMF.load(tmp_path / "old.pt", data=data)
    pairs = train[["user", "item"]].iloc[:300]
    assert np.array_equal(loaded.predict(pairs), fitted.predict(pairs))


def test_the_settings_are_the_train_commands():
    """DMF's keywords and defaults are train's flags and defaults: a flag added to one is missed by the other."""
    args = build_parser().parse_args(["train"])
    flags = {k: v for k, v in vars(args).items() if k not in ("command", "data", "out", "resume", "check")}
    assert flags == FLAGS
    assert DMF(split="areas")._configs == _configs_from_args(args)
    custom = DMF(split="areas", val_frac=0.1, test_frac=0.3, hidden="64,32", model="dmf-d", warmup_epochs="auto")
    parsed = build_parser().parse_args(["train", "--val-frac", "0.1", "--test-frac", "0.3", "--hidden", "64,32",
                                        "--model", "dmf-d", "--warmup-epochs", "auto"])
    assert custom._configs == _configs_from_args(parsed)
    assert custom._configs[0].val_frac == 0.1 and custom._configs[0].test_frac == 0.3


def _one_line(call, pattern: str) -> None:
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message and re.search(pattern, message), message


@pytest.mark.parametrize(
    ("case", "pattern"),
    [
        ("unknown user", r"user 'nobody' is not known to the model.*context="),
        ("unknown item", r"item 'nothing' is not known to the model.*context="),
        ("unknown with context", r"user 'nobody' is not known to the model, nor rated in context="),
        ("context off the scale", r"context: rating 7 is outside the scale 1\.\.5"),
        ("context NaN rating", r"context: row 1: missing rating"),
        ("recommend off the scale", r"rating 0 is outside the scale 1\.\.5"),
        ("recommend unknown item", r"item 'nothing' is not known to the model"),
        ("empty pairs", r"pairs: the table is empty"),
        ("empty context", r"context: the table is empty"),
        ("empty fit", r"ratings: the table is empty"),
        ("empty recommend", r"no ratings given"),
        ("repeated pair in context", r"context: user 'x' rates item .* more than once"),
        ("fit off the given scale", r"rating 9 is outside the scale 1\.\.5"),
        ("missing column", r"pairs: no column 'user'"),
        ("bad setting", r"hidden sizes must be"),
        ("unknown setting", r"unknown setting 'epoch'"),
        ("bad k", r"k must be a whole number"),
    ],
)
def test_bad_inputs_get_one_line_errors(fitted, case, pattern):
    data = fitted.observed_.data
    user, item = data.user_ids[0], data.item_ids[0]
    calls = {
        "unknown user": lambda: fitted.predict(pd.DataFrame({"user": ["nobody"], "item": [item]})),
        "unknown item": lambda: fitted.predict(pd.DataFrame({"user": [user], "item": ["nothing"]})),
        "unknown with context": lambda: fitted.predict(
            pd.DataFrame({"user": ["nobody"], "item": [item]}),
            context=pd.DataFrame({"user": ["x"], "item": [item], "rating": [4.0]})),
        "context off the scale": lambda: fitted.predict(
            pd.DataFrame({"user": ["x"], "item": [item]}),
            context=pd.DataFrame({"user": ["x", "x"], "item": [item, data.item_ids[1]], "rating": [4.0, 7.0]})),
        "context NaN rating": lambda: fitted.predict(
            pd.DataFrame({"user": ["x"], "item": [item]}),
            context=pd.DataFrame({"user": ["x", "x"], "item": [item, data.item_ids[1]], "rating": [4.0, np.nan]})),
        "recommend off the scale": lambda: fitted.recommend({item: 0}),
        "recommend unknown item": lambda: fitted.recommend({"nothing": 4}),
        "empty pairs": lambda: fitted.predict(pd.DataFrame(columns=["user", "item"])),
        "empty context": lambda: fitted.predict(pd.DataFrame({"user": [user], "item": [item]}),
                                                context=pd.DataFrame(columns=["user", "item", "rating"])),
        "empty fit": lambda: DMF(**SMALL).fit(pd.DataFrame(columns=["user", "item", "rating"])),
        "empty recommend": lambda: fitted.recommend({}),
        "repeated pair in context": lambda: fitted.predict(
            pd.DataFrame({"user": ["x"], "item": [item]}),
            context=pd.DataFrame({"user": ["x", "x"], "item": [item, item], "rating": [4.0, 3.0]})),
        "fit off the given scale": lambda: DMF(**SMALL, rating_scale="1:5").fit(
            pd.DataFrame({"user": [1, 2], "item": [1, 1], "rating": [4.0, 9.0]})),
        "missing column": lambda: fitted.predict(pd.DataFrame({"who": [user], "item": [item]})),
        "bad setting": lambda: DMF(hidden=(0,)),
        "unknown setting": lambda: DMF(epoch=3),
        "bad k": lambda: fitted.recommend({item: 4}, k=0),
    }
    _one_line(calls[case], pattern)
