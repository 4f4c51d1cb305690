"""Toward issue 17's target: does averaging one run over its last epochs help? Judged on VALIDATION only.

One default DMF run on the literature's split (85/5/10, nobody held out, seed 0; patience 10 so the run goes on past
the default's stop) and, after every epoch, the validation RMSE of:
- `raw`: the weights as trained (what the defaults select from);
- `avgK`: the mean of the last K epochs' predictions (snapshot averaging, K = 3, 5);
- `emaH`: an exponential moving average of every weight and batch-norm statistic, updated after each step, with a
  half-life of H epochs (H = 0.5, 1, 2), started after the first epoch.
Reported: each one's best validation RMSE over the epochs. Test ratings are not read.

    python benchmarks/bench_averaging.py [--data ml-1m] [--patience 10] [--epochs 60] [--out FILE]
Writes benchmarks/results/averaging-<data>.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch's import, as dmf_core sets it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_literature import LITERATURE_SPLIT  # noqa: E402

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig  # noqa: E402
from dmf_core.data import load_dataset  # noqa: E402
from dmf_core.data.split import VAL, split_areas  # noqa: E402
from dmf_core.scoring.metrics import rmse  # noqa: E402
from dmf_core.scoring.predict import Predictor  # noqa: E402
from dmf_core.training.train import fit  # noqa: E402

HALF_LIVES = (0.5, 1.0, 2.0)  # in epochs
SNAPSHOTS = (3, 5)


class Averages:
    """The moving averages of one run's weights and its last epochs' validation predictions."""

    def __init__(self, val_users: np.ndarray, val_items: np.ndarray, val_true: np.ndarray):
        self.val_users, self.val_items, self.val_true = val_users, val_items, val_true
        self.model: Any = None
        self.steps_per_epoch = 1
        self.emas: dict[float, dict[str, torch.Tensor]] = {}
        self.predictions: list[np.ndarray] = []
        self.epochs: list[dict[str, float]] = []

    def on_step(self, step: int, steps: int) -> None:
        self.steps_per_epoch = steps
        if self.model is None:
            return
        state = self.model.state_dict()
        for half_life, ema in self.emas.items():
            keys = list(ema)
            torch._foreach_lerp_([ema[k] for k in keys], [state[k].detach().float() for k in keys],
                                 1 - 0.5 ** (1 / (steps * half_life)))

    def _val_rmse(self, model: Any, inputs: Any) -> tuple[float, np.ndarray]:
        model.eval()
        predicted = Predictor.build(model, inputs).continuous(self.val_users, self.val_items)
        return rmse(predicted, self.val_true), predicted

    def monitor(self, model: Any, inputs: Any) -> dict[str, float]:
        raw_state = {k: v.clone() for k, v in model.state_dict().items()}
        if self.model is None:  # the first epoch's end: the averages start from here
            self.model = model
            self.emas = {h: {k: v.float().clone() for k, v in raw_state.items() if v.dtype.is_floating_point}
                         for h in HALF_LIVES}
        record: dict[str, float] = {}
        record["raw"], predicted = self._val_rmse(model, inputs)
        self.predictions = (self.predictions + [predicted])[-max(SNAPSHOTS):]
        for k in SNAPSHOTS:
            if len(self.predictions) >= k:
                record[f"avg{k}"] = rmse(np.mean(self.predictions[-k:], axis=0), self.val_true)
        for half_life, ema in self.emas.items():
            model.load_state_dict({**raw_state, **ema})
            record[f"ema{half_life:g}"] = self._val_rmse(model, inputs)[0]
        model.load_state_dict(raw_state)
        self.epochs.append(record)
        print(f"epoch {len(self.epochs)}: " + ", ".join(f"{k} {v:.4f}" for k, v in record.items()), flush=True)
        return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="ml-1m")
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="the epoch cap (default %(default)s)")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/averaging-<data>.json")
    args = parser.parse_args()
    data = load_dataset(args.data)
    split = split_areas(data, SplitConfig(**LITERATURE_SPLIT, seed=0))
    val = split.role == VAL
    averages = Averages(data.users[val], data.items[val], data.ratings[val])
    started = time.perf_counter()
    result = fit(data, split, ModelConfig(companion="none"), TrainConfig(seed=0, patience=args.patience, epochs=args.epochs),
                 on_step=averages.on_step, monitor=averages.monitor)
    kinds = list(averages.epochs[-1])
    best = {kind: min(e[kind] for e in averages.epochs if kind in e) for kind in kinds}
    print("best validation RMSE over the epochs: " + ", ".join(f"{k} {v:.4f}" for k, v in best.items()))
    out = args.out or Path(__file__).parent / "results" / f"averaging-{data.name}.json"
    out.write_text(json.dumps({
        "command": "python benchmarks/bench_averaging.py " + " ".join(sys.argv[1:]),
        "data": data.name, "split": "literature 85/5/10, seed 0", "judged_on": "validation RMSE only",
        "patience": args.patience, "epochs_run": result.epochs_run, "selected_epoch": result.best_epoch,
        "steps_per_epoch": averages.steps_per_epoch, "train_seconds": result.train_seconds,
        "wall_seconds": time.perf_counter() - started, "best_val_rmse": best, "epochs": averages.epochs,
        "load_average": os.getloadavg()}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
