"""The library's commands: `recommend` (a person's ratings -> the best items for them) and `predict` (ratings for
pairs, with the ratings of users or items the model never saw as context), both from a trained run and with no
retraining; and `rank-eval`, which measures `recommend`'s ranking for new users against the ranking baselines
(`ranking.py`). They go through `DMF.load`, so they accept what it accepts: a run folder or a checkpoint.pt written by
`train`, the app or `DMF.save`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..api import DMF
from ..config import RATING_WEIGHT
from ..data import DataError, load_dataset
from ..files import atomic_write, write_json
from ..ranking.protocol import format_table, rank_eval
from ..ranking.rankers import RANKINGS


def add_parsers(subparsers: Any) -> None:
    recommend = subparsers.add_parser(
        "recommend", help="recommend items to a new person from their ratings, or to a known user (no retraining)",
        description="Load RUN, read one person's ratings from a CSV with item and rating columns (the data's own "
        "item ids), or take --user, a user the model knows, and print the K best items they have not rated: columns "
        "item, score (the order, descending; see --by), predicted_rating, n_ratings (how many people rated the item "
        "in training) and title where the data has titles.")
    recommend.add_argument("run", metavar="RUN", help="a run folder or its checkpoint.pt (from train, the app or "
                           "DMF.save)")
    person = recommend.add_mutually_exclusive_group(required=True)
    person.add_argument("--ratings", metavar="CSV", help="a new person's ratings: a CSV with columns item, rating")
    person.add_argument("--user", metavar="ID", help="a user the model knows (the data's own id): their top-N, what "
                        "they rated left out")
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
        "as inputs only: no retraining. Writes user, item, predicted_rating to --out.")
    predict.add_argument("run", metavar="RUN", help="a run folder or its checkpoint.pt")
    predict.add_argument("--pairs", required=True, metavar="CSV", help="a CSV with columns user, item")
    predict.add_argument("--context", metavar="CSV", help="ratings (user, item, rating) of new users and/or items")
    predict.add_argument("--out", required=True, metavar="CSV", help="where to write user, item, predicted_rating")
    predict.add_argument("--discrete", action="store_true", help="DMF-D's hard quantizer (DMF: rounded to the "
                         "scale's levels)")
    predict.add_argument("--data", help="the run's ratings, for a checkpoint saved without its inputs")
    predict.set_defaults(handler=cmd_predict)
    add_rank_eval_parser(subparsers)


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
    ratings = read_table(args.ratings, "item, rating") if args.ratings else None
    try:
        frame = model.recommend(ratings, k=args.k, user=args.user, by=args.by, rating_weight=args.rating_weight)
    except ValueError as error:
        raise _where(args.ratings or "--user", error) from None
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
    out = pairs[["user", "item"]].assign(predicted_rating=pred)
    atomic_write(args.out, lambda name: out.to_csv(name, index=False))
    print(f"wrote {len(out):,} predictions to {args.out}")
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected whole numbers >= 1 separated by commas, e.g. 5,10,20; got {text!r}")
    return sizes


def add_rank_eval_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rank-eval", help="measure top-10 recommendations for new users: DMF against most popular, item-kNN, EASE",
        description="Hold out --users-frac of the users as test users and as many again as validation users, train "
        "DMF (the paper's model, no companion) on the rest for at most --max-seconds, then give each held-out user N "
        "of their ratings (drawn at random with --seed) and rank every other item the model knows. Relevant: the "
        "user's other ratings >= 3/4 of the scale (4 on 1..5). Methods: most popular, global mean + biases, item-kNN "
        "(k chosen on the validation users), EASE (lambda chosen there), DMF by predicted rating, DMF by rating + "
        "a popularity prior (its weight chosen there), and DMF's relevance, co-ratings x rating (what `recommend` "
        "ranks by, with its built-in weight). Prints Recall@10, NDCG@10, "
        "catalogue coverage@10 and the mean popularity percentile, each with a 95% interval over the test users. "
        "Progress goes to stderr. ML-1M takes about 5-8 minutes on 2 CPU cores with the default budget.")
    parser.add_argument("--data", default="demo", help="'demo' (default), 'ml-100k', 'ml-1m', ... or a path, as "
                        "for train")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out users, their contexts and of "
                        "DMF's training (default 0)")
    parser.add_argument("--n", type=_sizes, default=(5, 10, 20), metavar="N[,N...]",
                        help="context sizes: ratings each held-out user gives (default 5,10,20)")
    parser.add_argument("--users-frac", type=float, default=0.1, help="share of users held out as test users, and "
                        "again as validation users (default 0.1)")
    parser.add_argument("--max-seconds", type=float, default=200.0, help="DMF's training budget in seconds "
                        "(default 200)")
    parser.add_argument("--out", metavar="JSON", help="also write the full report (every number, the choices made "
                        "on validation users) to this JSON file")
    parser.set_defaults(handler=cmd_rank_eval)


def cmd_rank_eval(args: argparse.Namespace) -> int:
    data = load_dataset(args.data)
    report = rank_eval(data, seed=args.seed, n=args.n, users_frac=args.users_frac, val_users_frac=args.users_frac,
                       max_seconds=args.max_seconds, say=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_table(report))
    if args.out:
        write_json(report, Path(args.out))
        print(f"wrote {args.out}")
    return 0
