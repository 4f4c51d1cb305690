"""How long each notebook takes with its default parameters (MovieLens-1M where it is on this machine, the demo data
otherwise): what README.md and notebooks/README.md promise ("at most 3 minutes each on a 2-core CPU").

Each notebook runs headless, top to bottom, in a fresh kernel of this environment (the tests' runner,
`tests/test_notebooks.execute`, without DMF_NOTEBOOK_FAST), and its wall time is recorded with the numbers it
shows (its RESULTS).

    python benchmarks/bench_notebooks.py              # all five (~7 min on 2 cores with MovieLens-1M)
    python benchmarks/bench_notebooks.py --only 03    # one

Writes benchmarks/results/notebooks.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_notebooks import NOTEBOOKS, execute  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "notebooks.json"
LIMIT_SECONDS = 180  # the docs' promise per notebook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="a notebook's number, e.g. 03")
    args = parser.parse_args()
    os.environ.pop("DMF_NOTEBOOK_FAST", None)  # the defaults a reader runs
    runs = {}
    for path in NOTEBOOKS:
        if args.only and not path.name.startswith(args.only):
            continue
        started = time.perf_counter()
        _, results = execute(path, timeout=600)
        seconds = time.perf_counter() - started
        runs[path.stem] = {"seconds": round(seconds, 1), "within_limit": seconds <= LIMIT_SECONDS,
                           "data": results.get("data"), "results": results}
        print(f"{path.stem}: {seconds:.1f} s", flush=True)
    saved = json.loads(OUT.read_text()) if OUT.exists() else {"runs": {}}
    saved["runs"] = {**saved.get("runs", {}), **runs}
    saved["limit_seconds"] = LIMIT_SECONDS
    saved["metadata"] = {"written": datetime.now(UTC).isoformat(timespec="seconds"),
                         "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
                         "load_average_1min_at_end": os.getloadavg()[0],
                         "command": "python benchmarks/bench_notebooks.py " + " ".join(sys.argv[1:])}
    OUT.write_text(json.dumps(saved, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
