"""Training settings that depend on the data, derived from its shape. The rule, and the measurements behind it.

A training step embeds a block of users × items and regresses every observed rating inside the block (train.py).
Cutting the seen users into k_u chunks and the seen items into k_i chunks makes an epoch k_u·k_i steps, and:
- every input row is embedded k_i times an epoch and every column k_u times, so an epoch costs about
  (k_u + k_i) × (input entries) first-layer lookups: **the cost per rating depends on k, not on the matrix size**.
  Fixed block sizes (the old 768 × 768) instead made k grow with the matrix: ×15.7 the epoch time for ×5 the
  ratings (1M → 5M generated ratings);
- a block's own targets are hidden from its inputs, so a training row lacks 1/k_i of its entries while an
  evaluation row lacks none: k keeps that gap the same on every dataset (768 × 768 on the demo hid 85% of each row:
  area-I test RMSE 0.988, worse than the biases' 0.930);
- an epoch is k_u·k_i optimizer steps on every dataset, so the learning-rate decay per epoch, the epoch cap and
  the patience in epochs mean the same number of steps *and* the same passes over the ratings at 100k and 25M.

The rule: k = CHUNKS_PER_SIDE on both sides; blocks are ceil(seen / k) rows (train.py evens the chunks out). A
block's size needs no memory cap: the first layer's backward (model._SparseLinear) keeps no hidden-sized vector per
entry, only the weight gradient's size (2M entries into 512 units: 0.44 GiB peak above the inputs), and a block's
cosines are one product U·Vᵀ only while it stays under 16M cells (step.block_cosines).
Explicit sizes (flags, the form, presets) always win; `derive` records which values were derived and why.

Why k = 5 (6 before the CPU path got faster; chosen on validation RMSE only, area I first, as the model
is selected on it):
- ML-1M, seed 0, 2-core CPU (benchmarks/bench_choices.py blocks-ml1m), validation RMSE
  of area I at convergence (patience 6) with no new rows: k = 4: 0.8369, k = 5: 0.8369, k = 6: 0.8378 (k = 3:
  0.8374); with 10% new users and items, areas I/II/III/IV: k = 4: 0.8443 / 0.8456 / 0.8481 / 0.8708, k = 5:
  0.8438 / 0.8490 / 0.8492 / 0.8749, k = 6: 0.8442 / 0.8475 / 0.8474 / 0.8689.
- Per second of training (no new rows): an epoch costs about (2k lookups per input entry) 1.9 / 2.8 / 3.7 / 4.4 s at
  k = 3 / 4 / 5 / 6, and progress per epoch grows with the steps (k²); validation RMSE after two epochs: k = 5:
  0.8532 at 7.6 s, k = 6: 0.8533 at 9.4 s; k = 4 needs three epochs for 0.8505 (8.7 s); k = 3 five for 0.8537
  (9.9 s); k = 8 two for 0.8491 (12.7 s).
- Demo data (bench_choices.py blocks, seeds 0-1, mean validation RMSE of areas I/II/III/IV at the selected
  epoch): k = 4: 0.8272 / 0.8864 / 0.8816 / 0.9320; k = 5: 0.8250 / 0.8825 / 0.8861 / 0.9312; k = 6: 0.8272 /
  0.8832 / 0.8903 / 0.9274; k = 9: 0.8294 / 0.8937 / 0.8869 / 0.9094.
k = 5 is best or tied on area I everywhere and reaches a given validation RMSE soonest on ML-1M; the areas of new
rows move by a few thousandths either way, in both directions (one seed on ML-1M: within its noise).

Test RMSE measured when k was 6 (not re-measured with k = 5; seed 0, default split, bias+cosine output with input dropout 0.25, area I/II/III/IV; see
benchmarks/bench_defaults.py for the full table): demo data (225 × 150 blocks): 0.838 / 0.921 / 0.922 / 0.931,
against the biases' 0.930 / 0.987 / 0.975 / 0.952; 768 × 768 blocks (k = 2 × 2, 4 steps an epoch) gave 0.988 /
1.035 / 1.051 / 1.044 with the paper's output. ML-1M (906 × 556 blocks): 0.845 / 0.854 / 0.850 / 0.895 (the
paper: 0.850 / 0.883 / 0.864 / 0.904); the biases: 0.909 / 0.906 / 0.909 / 0.938.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..config import TrainConfig
from ..data.split import AreaSplit

CHUNKS_PER_SIDE = 5


@dataclass(frozen=True)
class DataShape:
    """What the rule reads: how many users and items the training matrix has."""

    seen_users: int
    seen_items: int

    @classmethod
    def of(cls, split: AreaSplit) -> DataShape:
        return cls(seen_users=int((~split.new_user).sum()), seen_items=int((~split.new_item).sum()))


def derive(config: TrainConfig, shape: DataShape) -> tuple[TrainConfig, dict[str, str]]:
    """`config` with every setting left to the data (None) filled in, and {setting: how it was derived}."""
    k = CHUNKS_PER_SIDE
    derived: dict[str, str] = {}
    changes: dict[str, int] = {}
    for name, seen, side in (("block_users", shape.seen_users, "users"), ("block_items", shape.seen_items, "items")):
        if getattr(config, name) is None:
            changes[name] = max(1, math.ceil(seen / k))
            derived[name] = f"{seen:,} seen {side} / {k} chunks"
    return replace(config, **changes), derived


def steps_per_epoch(config: TrainConfig, shape: DataShape) -> int:
    """Optimizer steps in one epoch with these (resolved) block sizes."""
    assert config.block_users is not None and config.block_items is not None
    return math.ceil(shape.seen_users / config.block_users) * math.ceil(shape.seen_items / config.block_items)


__all__ = ["CHUNKS_PER_SIDE", "DataShape", "derive", "steps_per_epoch"]
