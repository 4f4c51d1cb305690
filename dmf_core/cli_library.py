"""The library's commands: `recommend` (a person's ratings -> the best items for them) and `predict` (ratings for
pairs, with the ratings of users or items the model never saw as context), both from a trained run and with no
retraining. They go through `DMF.load`, so they accept what it accepts: a run folder or a checkpoint.pt written by
`train`, the app or `DMF.save`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from .api import DMF
from .config import RATING_WEIGHT
from .data import DataError
from .files import atomic_write
from .rankers import RANKINGS


def add_parsers(subparsers: Any) -> None:
    recommend = subparsers.add_parser(
        "recommend", help="recommend items to a new person from their ratings (no retraining)",
        description="Load RUN, read one person's ratings from a CSV with item and rating columns (the data's own "
        "item ids), and print the K best items they have not rated, best first (see --by), with the predicted rating "
        "and how many people rated each in training.")
    recommend.add_argument("run", metavar="RUN", help="a run folder or its checkpoint.pt (from train, the app or "
                           "DMF.save)")
    recommend.add_argument("--ratings", required=True, metavar="CSV", help="the person's ratings: a CSV with "
                           "columns item, rating")
    recommend.add_argument("--k", type=int, default=10, help="how many items (default 10)")
    recommend.add_argument("--data", help="the run's ratings, for a checkpoint saved without its inputs (default: "
                           "the built-in data it names)")
    recommend.add_argument("--out", metavar="CSV", help="write the recommendations here instead of printing them")
    recommend.add_argument("--by", choices=RANKINGS, default=RANKINGS[0], help="relevance (default): how likely "
                           "the person is to rate an item (from co-ratings in training) times how much they would "
                           "like it (the predicted rating); rating: the plain predicted-rating order (docs/ranking.md)")
    recommend.add_argument("--rating-weight", type=float, metavar="W", help="the predicted rating's weight in the "
                           f"relevance ranking (default {RATING_WEIGHT}, chosen on validation users)")
    recommend.set_defaults(handler=cmd_recommend)

    predict = subparsers.add_parser(
        "predict", help="predict ratings for (user, item) pairs, new users and items included via --context",
        description="Load RUN and predict a rating for every (user, item) pair of --pairs (the data's own ids). "
        "Users or items the model never saw are scored from their ratings in --context (user, item, rating), read "
        "as inputs only: no retraining. Writes user, item, prediction to --out.")
    predict.add_argument("run", metavar="RUN", help="a run folder or its checkpoint.pt")
    predict.add_argument("--pairs", required=True, metavar="CSV", help="a CSV with columns user, item")
    predict.add_argument("--context", metavar="CSV", help="ratings (user, item, rating) of new users and/or items")
    predict.add_argument("--out", required=True, metavar="CSV", help="where to write user, item, prediction")
    predict.add_argument("--discrete", action="store_true", help="DMF-D's hard quantizer (DMF: rounded to the "
                         "scale's levels)")
    predict.add_argument("--data", help="the run's ratings, for a checkpoint saved without its inputs")
    predict.set_defaults(handler=cmd_predict)


def read_table(path: str, what: str) -> pd.DataFrame:
    """A CSV (or TSV) with a header row; ids stay as written when they are not all numbers."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{path}: no such file ({what})")
    try:
        frame = pd.read_csv(file, sep=None, engine="python")
    except (ValueError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({what}): {error}") from None
    frame.columns = [str(name).strip().lower() for name in frame.columns]
    if frame.empty:
        raise DataError(f"{path}: no rows ({what})")
    return frame


def _where(path: str, error: ValueError) -> DataError:
    message = str(error).replace("predict(..., context=ratings)", "--context CSV").replace("context=", "--context")
    return DataError(f"{path}: {message}")


def cmd_recommend(args: argparse.Namespace) -> int:
    model = DMF.load(args.run, data=args.data)
    ratings = read_table(args.ratings, "item, rating")
    try:
        frame = model.recommend(ratings, k=args.k, by=args.by, rating_weight=args.rating_weight)
    except ValueError as error:
        raise _where(args.ratings, error) from None
    if args.out:
        atomic_write(args.out, lambda name: frame.to_csv(name, index=False))
        print(f"wrote {len(frame)} recommendations to {args.out}")
    else:
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    model = DMF.load(args.run, data=args.data)
    pairs = read_table(args.pairs, "user, item")
    context = read_table(args.context, "user, item, rating") if args.context else None
    try:
        pred = model.predict(pairs, context=context, discrete=args.discrete)
    except ValueError as error:
        raise _where(args.context if "context" in str(error) and args.context else args.pairs, error) from None
    out = pairs[["user", "item"]].assign(prediction=pred)
    atomic_write(args.out, lambda name: out.to_csv(name, index=False))
    print(f"wrote {len(out):,} predictions to {args.out}")
    return 0
