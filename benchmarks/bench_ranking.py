"""Top-10 recommendations for new users (issue 24): DMF against most popular, global mean + biases, item-kNN and EASE
on the same held-out users (`dmf_core/ranking/protocol.py`, the `rank-eval` command), on ML-1M (seed 0, n = 5 / 10 / 20) and
on the demo data. k, λ and DMF's popularity weight are chosen on validation users; the test users are read once.

    python benchmarks/bench_ranking.py [--datasets ml-1m,demo] [--seed 0] [--max-seconds 200] [--out PATH]
Writes benchmarks/results/ranking.json (or --out); the New user page reads it for its line on the ranking.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch's import, as dmf_core sets it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from dmf_core.data import load_dataset  # noqa: E402
from dmf_core.files import write_json  # noqa: E402
from dmf_core.ranking.protocol import format_table, rank_eval  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "ranking.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="ml-1m,demo", help="comma-separated --data specs (default ml-1m,demo)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=200.0, help="DMF's training budget per dataset")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    runs = {}
    for name in args.datasets.split(","):
        started = time.monotonic()
        report = rank_eval(load_dataset(name), seed=args.seed, n=(5, 10, 20), max_seconds=args.max_seconds,
                           say=lambda line: print(line, file=sys.stderr, flush=True))
        print(format_table(report), flush=True)
        print(f"{name}: {time.monotonic() - started:.0f} s in all\n", flush=True)
        runs[name] = report
    command = f"python benchmarks/bench_ranking.py --datasets {args.datasets} --seed {args.seed} --max-seconds " \
              f"{args.max_seconds:g}"
    write_json({"machine": f"{torch.get_num_threads()} threads, CPU", "command": command, "runs": runs}, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
