"""`python -m dmf_core rank-eval`: the top-N protocol for new users (`ranking.py`) from the command line: DMF against
the ranking baselines on the same held-out users, as a table with 95% intervals, and optionally a JSON report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .data import load_dataset
from .files import write_json
from .ranking import format_table, rank_eval


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected whole numbers >= 1 separated by commas, e.g. 5,10,20; got {text!r}")
    return sizes


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rank-eval", help="measure top-10 recommendations for new users: DMF against most popular, item-kNN, EASE",
        description="Hold out --users-frac of the users as test users and as many again as validation users, train "
        "DMF (the paper's model, no companion) on the rest for at most --max-seconds, then give each held-out user N "
        "of their ratings (drawn at random with --seed) and rank every other item the model knows. Relevant: the "
        "user's other ratings >= 3/4 of the scale (4 on 1..5). Methods: most popular, global mean + biases, item-kNN "
        "(k chosen on the validation users), EASE (lambda chosen there), DMF by predicted rating, and DMF by rating + "
        "a popularity prior (its weight chosen there; what `recommend` ranks by). Prints Recall@10, NDCG@10, "
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
