"""The Train page's epoch-time estimate (dmf_core.training.estimate) against real epochs of the same settings, measured back to
back: the estimate, then a 3-epoch run, whose median epoch is the reference. A timing, so a benchmark and not a test.

    python benchmarks/bench_estimate.py [--data demo] [--threads 2]

Writes benchmarks/results/estimate-<data>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch's import, as dmf_core sets it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig  # noqa: E402
from dmf_core.data import load_dataset  # noqa: E402
from dmf_core.data.split import split_areas  # noqa: E402
from dmf_core.training.estimate import estimate_epoch_seconds  # noqa: E402
from dmf_core.training.train import fit  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="demo")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset(args.data)
    split = split_areas(data, SplitConfig())
    config = TrainConfig(epochs=3, patience=0, device="cpu")
    estimate = estimate_epoch_seconds(data, split, ModelConfig(companion="none"), config)
    epochs = [h["epoch_seconds"] for h in fit(data, split, ModelConfig(companion="none"), config).history]
    median = statistics.median(epochs)
    result = {"data": data.name, "threads": args.threads, "estimate_seconds": estimate, "epoch_seconds": epochs,
              "ratio": estimate / median, "load_average": os.getloadavg()[0]}
    print(f"{data.name}: estimate {estimate:.2f} s, epochs {[round(e, 2) for e in epochs]} s, "
          f"ratio to the median {estimate / median:.2f} (load average {os.getloadavg()[0]:.1f})")
    out = Path(__file__).parent / "results" / f"estimate-{data.name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
