"""Training speed on MovieLens-1M: our sparse block trainer against a naive dense per-pair trainer of the same model.

Targets (issue: dmf_core): area-I test RMSE <= 0.87 within 60 s of training and <= 0.86 within 180 s on a 2-core CPU,
default split (10% new users, 10% new items), seed 0. Test RMSE is measured after every epoch by a monitor whose
time is not counted as training time; a figure "within T s" is the test RMSE of the epoch that the *validation*
RMSE selects among those finished by T (never the best test RMSE), as a user stopping at T would get.

The naive trainer is what most DMF code does (the authors' TensorFlow code and RecBole feed full rows): every batch
of (user, item) ratings builds the dense input row X_i and column Y_j of each pair and runs a dense first layer.
Same layers, encoding, normalisation, target masking, optimiser and learning rate; only the input path differs
(the naive one keeps the paper's pure cosine output; ours runs the defaults, bias+cosine).

The reference: scikit-surprise's SVD, tuned (150 factors, 40 epochs, reg 0.05) and with its defaults, fitted on the
ratings DMF trains on (observed, area I) and scored on the same area-I test ratings; its fit is timed (one thread,
surprise has no other). Reported: its test RMSE, its fit seconds, the training time at which DMF's curve (test RMSE
of the epoch validation selects) first reaches that RMSE, and the ratio of the two times. Skipped, with a line saying
so, when scikit-surprise is not installed (it is a dev requirement, for benchmarks only).

    python benchmarks/bench_speed.py                     # both, 180 s budget for ours, 120 s for the naive one
    python benchmarks/bench_speed.py --budget 60 --naive-budget 30 --device cuda
    python benchmarks/bench_speed.py --new-users 0 --new-items 0 --budget 60 --naive-budget 0   # against SVD
Writes benchmarks/results/speed-<device>.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

# Set before torch is imported, as dmf_core does for its own users (see dmf_core/__init__.py): libgomp's default
# spin-wait makes torch's two threads many times slower whenever other processes keep the cores busy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402  (benchmarks/peers.py: the scikit-surprise peers, shared with bench_literature.py)

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig  # noqa: E402
from dmf_core.data import DataError, load_dataset  # noqa: E402
from dmf_core.data.split import OBSERVED, TEST, VAL, AreaSplit, split_areas  # noqa: E402
from dmf_core.device import describe_device, pick_device  # noqa: E402
from dmf_core.model.inputs import MatrixInputs, scale_ratings, unscale_ratings  # noqa: E402
from dmf_core.model.network import DMFNet  # noqa: E402
from dmf_core.scoring.metrics import rmse  # noqa: E402
from dmf_core.scoring.predict import Predictor  # noqa: E402
from dmf_core.training.train import fit  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def test_area_i(split: AreaSplit, data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    selected = split.mask(TEST, "I")
    return data.users[selected], data.items[selected], data.ratings[selected]


def run_ours(data: Any, split: AreaSplit, budget: float, device: str) -> dict[str, Any]:
    users, items, true = test_area_i(split, data)

    def monitor(model: DMFNet, inputs: MatrixInputs) -> dict[str, Any]:
        return {"test_rmse_I": rmse(Predictor.build(model, inputs).continuous(users, items), true)}

    config = TrainConfig(epochs=10_000, max_seconds=budget, patience=0, device=device)
    result = fit(data, split, ModelConfig(companion="none"), config, monitor=monitor,
                 on_epoch=lambda r: print(f"  ours epoch {r['epoch']}: {r['elapsed']:.1f}s test RMSE(I) "
                                          f"{r['monitor']['test_rmse_I']:.4f}", file=sys.stderr))
    curve = [(h["elapsed"], h["val_rmse"], h["monitor"]["test_rmse_I"]) for h in result.history]
    full_epochs = [h["epoch_seconds"] for h in result.history if not h["partial"]]
    return summarise(curve, float(np.median(full_epochs)) if full_epochs else None, result.device)


def selected(curve: list[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """(time, test RMSE of the model selected on validation so far) at each evaluation of `curve`."""
    out, best = [], None
    for seconds, val, test in curve:
        if best is None or val < best[0]:
            best = (val, test)
        out.append((seconds, best[1]))
    return out


def run_svd(data: Any, split: AreaSplit) -> dict[str, Any] | None:
    """scikit-surprise's SVD (`peers.SVD_SETTINGS`) on DMF's training ratings (observed, area I), scored on the
    area-I test ratings; None when scikit-surprise is not installed."""
    missing = peers.surprise_missing()
    if missing:
        print(f"SVD reference skipped: {missing}")
        return None
    train = peers.trainset(data, split.mask(OBSERVED, "I"))
    test = peers.testset(data, split.mask(TEST, "I"))
    return {name: {key: value for key, value in peers.fit_and_score("SVD", params, train, test, f"SVD {name}").items()
                   if key != "algorithm"}
            for name, params in peers.SVD_SETTINGS.items()}


def against_svd(svd: dict[str, Any], curve: list[tuple[float, float, float]], budget: float) -> dict[str, Any]:
    """When DMF's curve (test RMSE of the validation-selected epoch) first reaches each SVD's test RMSE, and that
    time over the SVD's fit time."""
    chosen = selected(curve)
    out: dict[str, Any] = {}
    for name, row in svd.items():
        reached = next((t for t, test in chosen if test <= row["test_rmse"]), None)
        out[name] = {
            **row,
            "dmf_seconds_to_match": reached,
            "dmf_over_svd_time": reached / row["fit_seconds"] if reached is not None else None,
            "dmf_best_within_budget": chosen[-1][1] if chosen else None,
        }
        if reached is None:
            out[name]["note"] = f"DMF did not reach {row['test_rmse']:.4f} within its {budget:g} s budget"
    return out


def summarise(curve: list[tuple[float, float, float]], epoch_seconds: float | None, device: str) -> dict[str, Any]:
    chosen = selected(curve)

    def best_within(seconds: float) -> float | None:
        values = [test for t, test in chosen if t <= seconds]
        return values[-1] if values else None

    def time_to(threshold: float) -> float | None:
        return next((t for t, test in chosen if test <= threshold), None)

    return {
        "device": device,
        "epoch_seconds": epoch_seconds,
        "rmse_within_60s": best_within(60),
        "rmse_within_180s": best_within(180),
        "time_to_0.87": time_to(0.87),
        "time_to_0.86": time_to(0.86),
        "curve": curve,
    }


class DenseBranch(nn.Module):
    """The same branch as dmf_core.model.network.Branch, fed a dense [batch, n_cols] row instead of sparse entries."""

    def __init__(self, n_cols: int, config: ModelConfig):
        super().__init__()
        sizes = list(config.hidden)
        self.first = nn.Linear(2 * n_cols, sizes[0])  # value channel and rated-indicator channel
        layers: list[nn.Module] = []
        for index, size in enumerate(sizes):
            if index > 0:
                layers.append(nn.Linear(sizes[index - 1], size))
            layers.append(nn.BatchNorm1d(size))
            if index < len(sizes) - 1:
                layers += [nn.ELU(), nn.Dropout(config.dropout)]
        self.rest = nn.Sequential(*layers)

    def forward(self, values: torch.Tensor, rated: torch.Tensor) -> torch.Tensor:
        norm = rated.sum(1, keepdim=True).clamp_min(1).rsqrt()
        return self.rest(self.first(torch.cat([values * norm, rated * norm], dim=1)))


def dense_matrix(rows: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    values = torch.zeros(rows.n_rows, rows.n_cols, device=device)
    row_index = torch.repeat_interleave(torch.arange(rows.n_rows, device=device), rows.indptr[1:] - rows.indptr[:-1])
    values[row_index, rows.indices] = rows.values
    rated = torch.zeros_like(values)
    rated[row_index, rows.indices] = 1.0
    return values, rated


def run_naive(data: Any, split: AreaSplit, budget: float, device_name: str, batch: int = 1024,
              eval_every: float = 30.0) -> dict[str, Any]:
    device = pick_device(device_name)
    torch.manual_seed(0)
    config = ModelConfig(companion="none")
    inputs = MatrixInputs.from_split(data, split, device)
    x_values, x_rated = dense_matrix(inputs.user_rows, device)  # full dense copies, as the authors' loader keeps
    y_values, y_rated = dense_matrix(inputs.item_cols, device)
    user_branch = DenseBranch(data.n_items, config).to(device)
    item_branch = DenseBranch(data.n_users, config).to(device)
    parameters = list(user_branch.parameters()) + list(item_branch.parameters())
    optimizer = torch.optim.Adam(parameters, lr=TrainConfig().lr)
    train = split.mask(OBSERVED, "I")
    users = torch.as_tensor(data.users[train], device=device)
    items = torch.as_tensor(data.items[train], device=device)
    targets = torch.as_tensor(scale_ratings(data.ratings[train], data.rating_scale), device=device)
    test_users, test_items, test_true = test_area_i(split, data)
    val = split.mask(VAL, "I")
    val_users, val_items, val_true = data.users[val], data.items[val], data.ratings[val]

    def evaluate() -> tuple[float, float]:
        user_branch.eval()
        item_branch.eval()
        with torch.no_grad():
            u = torch.cat([F.normalize(user_branch(x_values[i:i + 2048], x_rated[i:i + 2048]), dim=1)
                           for i in range(0, data.n_users, 2048)])
            v = torch.cat([F.normalize(item_branch(y_values[i:i + 2048], y_rated[i:i + 2048]), dim=1)
                           for i in range(0, data.n_items, 2048)])
        user_branch.train()
        item_branch.train()

        def score(users: np.ndarray, items: np.ndarray, true: np.ndarray) -> float:
            cosine = (u[users] * v[items]).sum(1)
            return rmse(unscale_ratings(cosine, data.rating_scale).cpu().numpy(), true)

        return score(val_users, val_items, val_true), score(test_users, test_items, test_true)

    curve: list[tuple[float, float, float]] = []
    trained = 0.0
    steps = 0
    next_eval = eval_every
    while trained < budget:
        started = time.perf_counter()
        pick = torch.randint(0, len(users), (batch,), device=device)
        u, i = users[pick], items[pick]
        xv, xr = x_values[u].clone(), x_rated[u].clone()
        yv, yr = y_values[i].clone(), y_rated[i].clone()
        rows = torch.arange(batch, device=device)
        xv[rows, i] = 0.0  # hide the target from its own input row and column, as our trainer does
        xr[rows, i] = 0.0
        yv[rows, u] = 0.0
        yr[rows, u] = 0.0
        cosine = (F.normalize(user_branch(xv, xr), dim=1) * F.normalize(item_branch(yv, yr), dim=1)).sum(1)
        loss = torch.mean((cosine - targets[pick]) ** 2)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        trained += time.perf_counter() - started
        steps += 1
        if trained >= next_eval or trained >= budget:
            curve.append((trained, *evaluate()))
            print(f"  naive {trained:.0f}s, {steps} steps: test RMSE(I) {curve[-1][2]:.4f}", file=sys.stderr)
            next_eval += eval_every
    step_seconds = trained / steps
    epoch_seconds = step_seconds * len(users) / batch  # one pass over every training rating
    summary = summarise(curve, epoch_seconds, str(device))
    summary["steps"] = steps
    summary["batch"] = batch
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="ml-1m")
    parser.add_argument("--budget", type=float, default=180.0, help="training seconds for our trainer")
    parser.add_argument("--naive-budget", type=float, default=120.0, help="training seconds for the naive one; 0 skips")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--new-users", type=float, default=SplitConfig().new_user_frac,
                        help="share of users held out as new (default %(default)s; 0 for the SVD comparison)")
    parser.add_argument("--new-items", type=float, default=SplitConfig().new_item_frac,
                        help="share of items held out as new (default %(default)s)")
    parser.add_argument("--no-svd", action="store_true", help="skip the scikit-surprise SVD reference")
    parser.add_argument("--out", type=Path, help="result file (default benchmarks/results/speed-<device>.json)")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    try:
        data = load_dataset(args.data)
    except DataError as error:
        print(f"skipped: {error}")
        return 0
    split_config = SplitConfig(new_user_frac=args.new_users, new_item_frac=args.new_items, seed=0)
    split = split_areas(data, split_config)
    device = pick_device(args.device)
    print(f"{data.name}: {data.n_ratings} ratings, {args.new_users:g}/{args.new_items:g} new users/items; "
          f"device {describe_device(device)}", file=sys.stderr)
    svd = None if args.no_svd else run_svd(data, split)
    ours = run_ours(data, split, args.budget, args.device)
    naive = run_naive(data, split, args.naive_budget, args.device) if args.naive_budget > 0 else None
    report: dict[str, Any] = {
        "dataset": data.name,
        "device": describe_device(device),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_average_at_start_and_end": [load_at_start, os.getloadavg()],
        "torch": torch.__version__,
        "split": {"new_users": args.new_users, "new_items": args.new_items, "seed": 0},
        "ours": ours,
        "naive_dense_per_pair": naive,
        "targets": {"rmse_within_60s": 0.87, "rmse_within_180s": 0.86},
    }
    if naive and ours["epoch_seconds"] and naive["epoch_seconds"]:
        report["epoch_time_ratio_naive_over_ours"] = naive["epoch_seconds"] / ours["epoch_seconds"]
    if naive and ours["time_to_0.87"]:
        report["time_to_0.87_ratio_naive_over_ours"] = (
            naive["time_to_0.87"] / ours["time_to_0.87"] if naive["time_to_0.87"] else
            f"> {args.naive_budget / ours['time_to_0.87']:.1f} (naive did not reach 0.87 in {args.naive_budget:g} s)"
        )
    if svd is not None:
        report["svd_reference"] = against_svd(svd, ours["curve"], args.budget)
    elif not args.no_svd:
        report["svd_reference"] = {"skipped": "scikit-surprise is not installed"}
    out = args.out or RESULTS / f"speed-{device.type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    brief = {k: v for k, v in ours.items() if k != "curve"}
    print(json.dumps({"ours": brief, **{k: v for k, v in report.items() if "ratio" in k}}, indent=1))
    if naive:
        print(json.dumps({"naive": {k: v for k, v in naive.items() if k != "curve"}}, indent=1))
    for name, row in (report["svd_reference"] if svd is not None else {}).items():
        reached = (f"DMF reaches it after {row['dmf_seconds_to_match']:.1f} s of training: "
                   f"{row['dmf_over_svd_time']:.2f}x the SVD's fit time" if row["dmf_seconds_to_match"] is not None
                   else f"{row['note']} (it got to {row['dmf_best_within_budget']:.4f})")
        print(f"SVD {name}: test RMSE {row['test_rmse']:.4f}, fit {row['fit_seconds']:.2f} s; {reached}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
