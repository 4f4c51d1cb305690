"""Issue 16's "done when", as a notebook would do it, with only the library's names (`DMF`, `fit`, `predict`,
`context=`, `recommend`, `save`, `load`) and pandas:

1. read a real dataset (MovieLens-1M's ratings.dat) into a DataFrame and hold out 10% of its users;
2. of the other users' ratings, keep 10% back as "seen pairs" to predict, and fit on the rest;
3. predict the seen pairs; predict each held-out user's ratings from the other half of their ratings, given as
   `context` (no retraining); compare both with global mean + biases (`dmf_core/model/biases.py`'s closed form, the
   held-out users' biases folded in from the same context half);
4. save and load: identical predictions; `recommend` for one held-out user: k items they have not rated, best first.

    python benchmarks/notebook_check.py [--ratings ../shared/data/ml-1m/ratings.dat] [--max-seconds 60]

Prints its numbers and writes benchmarks/results/notebook_check.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dmf_core import DMF  # noqa: E402
from dmf_core.model.biases import REG_ITEM, REG_USER, shrunk_mean  # noqa: E402


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - true) ** 2)))


def biases_baseline(train: pd.DataFrame, seen: pd.DataFrame, context: pd.DataFrame, targets: pd.DataFrame,
                    passes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Global mean + user and item biases fitted on `train` (as biases.fit_biases does), for the seen pairs; the
    held-out users' biases folded in from `context` with the item biases fixed."""
    users, items = pd.Index(train["user"].unique()), pd.Index(train["item"].unique())
    u, i, r = users.get_indexer(train["user"]), items.get_indexer(train["item"]), train["rating"].to_numpy(float)
    mu = r.mean()
    bu, bi = np.zeros(len(users)), np.zeros(len(items))
    for _ in range(passes):
        bi = shrunk_mean(r - mu - bu[u], i, len(items), REG_ITEM)
        bu = shrunk_mean(r - mu - bi[i], u, len(users), REG_USER)

    def item_bias(values: pd.Series) -> np.ndarray:
        index = items.get_indexer(values)
        return np.where(index >= 0, bi[np.maximum(index, 0)], 0.0)

    seen_pred = mu + bu[np.maximum(users.get_indexer(seen["user"]), 0)] + item_bias(seen["item"])
    new = pd.Index(context["user"].unique())
    residual = context["rating"].to_numpy(float) - mu - item_bias(context["item"])
    folded = shrunk_mean(residual, new.get_indexer(context["user"]), len(new), REG_USER)
    held_pred = mu + folded[new.get_indexer(targets["user"])] + item_bias(targets["item"])
    return np.clip(seen_pred, 1, 5), np.clip(held_pred, 1, 5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", default=str(ROOT.parent / "shared" / "data" / "ml-1m" / "ratings.dat"))
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "notebook_check.json"))
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    ratings = pd.read_csv(args.ratings, sep="::", engine="python", names=["user", "item", "rating", "time"])
    ratings = ratings[["user", "item", "rating"]]
    all_users = ratings["user"].unique()
    held_users = rng.choice(all_users, size=len(all_users) // 10, replace=False)
    held = ratings[ratings["user"].isin(held_users)]
    rest = ratings[~ratings["user"].isin(held_users)]
    back = rng.random(len(rest)) < 0.10
    train, seen = rest[~back], rest[back]
    seen = seen[seen["item"].isin(train["item"])]  # pairs of users and items that fit sees

    started = time.perf_counter()
    model = DMF(max_seconds=args.max_seconds, seed=0, quiet=True).fit(train)
    fit_seconds = time.perf_counter() - started

    seen_pred = model.predict(seen[["user", "item"]])
    half = rng.random(len(held)) < 0.5
    context, targets = held[half], held[~half]
    targets = targets[targets["user"].isin(context["user"]) & targets["item"].isin(train["item"])]
    held_pred = model.predict(targets[["user", "item"]], context=context)
    base_seen, base_held = biases_baseline(train, seen, context, targets)

    with tempfile.TemporaryDirectory() as folder:
        path = model.save(Path(folder) / "checkpoint.pt")
        loaded = DMF.load(path)
        same_seen = bool(np.array_equal(loaded.predict(seen[["user", "item"]]), seen_pred))
        same_held = bool(np.array_equal(loaded.predict(targets[["user", "item"]], context=context), held_pred))

    person = context[context["user"] == context["user"].iloc[0]]
    k = 10
    recs = model.recommend(dict(zip(person["item"], person["rating"], strict=True)), k=k)
    rec_ok = len(recs) == k and not set(recs["item"]) & set(person["item"]) and recs["score"].is_monotonic_decreasing

    result = {
        "ratings": len(ratings), "held_out_users": len(held_users), "fit_ratings": len(train),
        "fit_seconds": fit_seconds, "epochs": len(model.history_), "max_seconds": args.max_seconds,
        "seen_pairs": {"n": len(seen), "dmf_rmse": rmse(seen_pred, seen["rating"].to_numpy()),
                       "biases_rmse": rmse(base_seen, seen["rating"].to_numpy())},
        "held_out_users_from_context": {"n": len(targets), "context_ratings": len(context),
                                        "dmf_rmse": rmse(held_pred, targets["rating"].to_numpy()),
                                        "biases_rmse": rmse(base_held, targets["rating"].to_numpy())},
        "save_load_identical": same_seen and same_held,
        "recommend": {"k": k, "rated": len(person), "ok": bool(rec_ok), "items": recs["item"].tolist(),
                      "titles": recs["title"].tolist() if "title" in recs else None},
    }
    result["dmf_beats_biases"] = (result["seen_pairs"]["dmf_rmse"] < result["seen_pairs"]["biases_rmse"]
                                  and result["held_out_users_from_context"]["dmf_rmse"]
                                  < result["held_out_users_from_context"]["biases_rmse"])
    print(json.dumps(result, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0 if result["dmf_beats_biases"] and result["save_load_identical"] and rec_ok else 1


if __name__ == "__main__":
    sys.exit(main())
