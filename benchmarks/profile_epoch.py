"""Where a training epoch's time goes: `fit()` itself, unchanged, with timers around its parts.

The real training code runs (dmf_core.training.train.fit); this script only wraps the functions it calls with exclusive
timers (a part nested in another is counted once, in the inner one; validation counts as a whole):

- gathers: SparseRows.gather, the sparse batches of a block's user rows and item columns (the first layer's input);
- input prep: hiding the block's targets and input dropout (step.kept);
- first layer, forward: SparseInput (nn.EmbeddingBag over the entries);
- dense layers, forward: the rest of each branch (Linear, BatchNorm, ELU, dropout);
- cosine: the block's cosines between user and item factors (step.block_cosines);
- backward: loss.backward(), split into the first layer's (EmbeddingBag) and the rest (dense layers, cosine, loss) by
  the share torch.profiler gives their autograd nodes over one extra epoch;
- optimizer: zero_grad + Adam's step (fused or not, as train._adam chooses);
- validation: the per-epoch Predictor build (every user and item embedded) and the scoring of the validation ratings;
- python and the rest: the epoch's wall time less all of the above (the step's masks and target selection, the
  cosine and loss, the loop).

    python benchmarks/profile_epoch.py                          # ML-1M, 0/0 split, seed 0, 4 epochs, cpu
    python benchmarks/profile_epoch.py --data demo --epochs 2
Writes benchmarks/results/profile-<device>.json (or --out).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as dmf_core sets it; it must come before torch's import

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig, replace  # noqa: E402
from dmf_core.data import load_dataset  # noqa: E402
from dmf_core.data.split import split_areas  # noqa: E402
from dmf_core.device import describe_device, pick_device  # noqa: E402
from dmf_core.model import inputs as inputs_module  # noqa: E402
from dmf_core.model import network as model_module  # noqa: E402
from dmf_core.scoring import predict as predict_module  # noqa: E402
from dmf_core.training import step as step_module  # noqa: E402
from dmf_core.training import train as train_module  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = ("gathers", "input prep", "first layer fwd", "dense layers fwd", "cosine", "backward", "optimizer",
         "validation")


class Timers:
    """Exclusive wall-clock time per label; a label entered inside another is subtracted from the outer one.
    Inside an opaque label (validation) nothing nested is timed separately."""

    def __init__(self, device: torch.device):
        self.device = device
        self.totals: dict[str, float] = {}
        self.stack: list[list[Any]] = []  # [label, start, time spent in children, opaque]
        self.opaque = 0

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def enter(self, label: str, opaque: bool = False) -> bool:
        if self.opaque:
            return False
        self.sync()
        self.stack.append([label, time.perf_counter(), 0.0, opaque])
        self.opaque += opaque
        return True

    def exit(self) -> None:
        self.sync()
        name, start, children, opaque = self.stack.pop()
        self.opaque -= opaque
        spent = time.perf_counter() - start
        self.totals[name] = self.totals.get(name, 0.0) + spent - children
        if self.stack:
            self.stack[-1][2] += spent

    def wrap(self, label: str, function: Any, opaque: bool = False) -> Any:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.enter(label, opaque):
                return function(*args, **kwargs)
            try:
                return function(*args, **kwargs)
            finally:
                self.exit()

        return timed

    def take(self) -> dict[str, float]:
        out, self.totals = self.totals, {}
        return out


def instrument(timers: Timers) -> list[torch.optim.Optimizer]:
    """Wrap what fit() calls. Class attributes are patched, so the real objects fit builds use the timers."""
    rows = inputs_module.SparseRows
    rows.gather = timers.wrap("gathers", rows.gather)
    step_module.kept = timers.wrap("input prep", step_module.kept)
    model_module.SparseInput.forward = timers.wrap("first layer fwd", model_module.SparseInput.forward)
    model_module.Branch.forward = timers.wrap("dense layers fwd", model_module.Branch.forward)
    step_module.block_cosines = timers.wrap("cosine", step_module.block_cosines)
    predictor = predict_module.Predictor
    predictor.build = classmethod(timers.wrap("validation", predictor.build.__func__, opaque=True))
    predictor.continuous = timers.wrap("validation", predictor.continuous, opaque=True)
    train_module.per_area = timers.wrap("validation", train_module.per_area, opaque=True)
    torch.Tensor.backward = timers.wrap("backward", torch.Tensor.backward)
    optimizer = torch.optim.Optimizer
    optimizer.zero_grad = timers.wrap("optimizer", optimizer.zero_grad)
    entered: list[bool] = []
    register_optimizer_step_pre_hook(
        lambda optimizer, args, kwargs: entered.append(timers.enter("optimizer")))
    register_optimizer_step_post_hook(
        lambda optimizer, args, kwargs: timers.exit() if entered.pop() else None)
    original_adam = train_module._adam
    made_optimizers: list[torch.optim.Optimizer] = []

    def adam(*args: Any, **kwargs: Any) -> torch.optim.Optimizer:
        made_optimizers.append(original_adam(*args, **kwargs))
        return made_optimizers[-1]

    train_module._adam = adam
    return made_optimizers


def backward_shares(data: Any, split: Any, model_config: ModelConfig, config: TrainConfig) -> dict[str, float]:
    """Share of the backward pass spent in the first layers' EmbeddingBag backward, from torch.profiler over one
    epoch (autograd nodes' total CPU time)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_module.fit(data, split, model_config, replace(config, epochs=1))
    first = other = 0.0
    for event in prof.key_averages():
        if not event.key.startswith("autograd::engine::evaluate_function:"):
            continue
        if "EmbeddingBag" in event.key or "SparseLinear" in event.key:
            first += event.cpu_time_total
        else:
            other += event.cpu_time_total
    total = first + other
    return {"first layer": first / total if total else 0.0, "the rest": other / total if total else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="ml-1m")
    parser.add_argument("--new-users", type=float, default=0.0)
    parser.add_argument("--new-items", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=4, help="epochs timed (the first is reported apart)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--out", type=Path, help="result file (default benchmarks/results/profile-<device>.json)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset(args.data)
    split = split_areas(data, SplitConfig(new_user_frac=args.new_users, new_item_frac=args.new_items, seed=0))
    device = pick_device(args.device)
    model_config = ModelConfig(companion="none")
    config = TrainConfig(epochs=args.epochs, patience=0, device=args.device)
    shares = backward_shares(data, split, model_config, config)  # before the timers: the profiler run is apart

    timers = Timers(device)
    optimizers = instrument(timers)
    epochs: list[dict[str, float]] = []

    def on_epoch(report: dict[str, Any]) -> None:
        parts = timers.take()
        row = {part: parts.get(part, 0.0) for part in PARTS}
        backward = row.pop("backward")
        row = {**{k: v for k, v in row.items() if k not in ("optimizer", "validation")},
               "backward, first layer": backward * shares["first layer"],
               "backward, the rest": backward * shares["the rest"],
               "optimizer": row["optimizer"], "validation": row["validation"]}
        row["python and the rest"] = report["epoch_seconds"] - sum(row.values())
        row["epoch"] = report["epoch_seconds"]
        epochs.append(row)
        print(f"  epoch {report['epoch']}: {report['epoch_seconds']:.2f} s, val RMSE {report['val_rmse']:.4f}",
              file=sys.stderr)

    load_before = os.getloadavg()
    result = train_module.fit(data, split, model_config, config, on_epoch=on_epoch)
    load_after = os.getloadavg()
    steady = epochs[1:] or epochs
    median = {part: float(np.median([e[part] for e in steady])) for part in steady[0]}
    print(f"{data.name}, {args.new_users:g}/{args.new_items:g} split, {describe_device(device)}, "
          f"blocks {result.train_config.block_users} x {result.train_config.block_items}; median of epochs 2-{len(epochs)} "
          f"(first epoch {epochs[0]['epoch']:.2f} s); load average {load_before[0]:.2f} -> {load_after[0]:.2f}")
    print(f"{'part':<26}{'s / epoch':>10}{'share':>8}")
    for part, seconds in median.items():
        if part != "epoch":
            print(f"{part:<26}{seconds:>10.3f}{seconds / median['epoch']:>8.1%}")
    print(f"{'epoch':<26}{median['epoch']:>10.3f}")
    groups = {
        "sparse first layer (gathers, target masking + input dropout, EmbeddingBag fwd + bwd)":
            median["gathers"] + median["input prep"] + median["first layer fwd"] + median["backward, first layer"],
        "dense layers and cosine (fwd + bwd)":
            median["dense layers fwd"] + median["cosine"] + median["backward, the rest"],
        "optimizer": median["optimizer"],
        "validation": median["validation"],
        "python and the rest": median["python and the rest"],
    }
    print(f"\n{'grouped':<88}{'s / epoch':>10}{'share':>8}")
    for group, seconds in groups.items():
        print(f"{group:<88}{seconds:>10.3f}{seconds / median['epoch']:>8.1%}")
    report = {
        "dataset": data.name,
        "split": {"new_users": args.new_users, "new_items": args.new_items, "seed": 0},
        "device": describe_device(device),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "torch": torch.__version__,
        "blocks": [result.train_config.block_users, result.train_config.block_items],
        "optimizer": {k: optimizers[-1].defaults.get(k) for k in ("lr", "fused", "foreach")},
        "load_average_before_after": [load_before, load_after],
        "backward_shares": shares,
        "median_seconds_per_epoch": median,
        "grouped_seconds_per_epoch": groups,
        "epochs": epochs,
        "val_rmse": [h["val_rmse"] for h in result.history],
    }
    out = args.out or RESULTS / f"profile-{device.type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
