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
block's size needs no memory cap: EmbeddingBag's backward with per-entry weights does not keep a hidden-sized
vector per entry (2M entries into 512 units: 0.44 GiB peak above the inputs, the size of the weight gradient).
Explicit sizes (flags, the form, presets) always win; `derive` records which values were derived and why.

Measured (seed 0, default split, 2-core CPU, bias+cosine output with input dropout 0.25, area I/II/III/IV test
RMSE; see benchmarks/bench_defaults.py for the full table):
- demo data, k = 6 (225 × 150 blocks): 0.838 / 0.921 / 0.922 / 0.931, against the biases' 0.930 / 0.987 / 0.975 /
  0.952. 768 × 768 blocks (k = 2 × 2, 4 steps an epoch): 0.988 / 1.035 / 1.051 / 1.044 with the paper's output.
- ML-1M, k = 6 (906 × 556 blocks, close to the old 768 × 768 there), seed 0: 0.845 / 0.854 / 0.850 / 0.895
  (the paper: 0.850 / 0.883 / 0.864 / 0.904); the biases: 0.909 / 0.906 / 0.909 / 0.938.
- k on validation only (benchmarks/bench_choices.py blocks, demo, seeds 0-1, mean validation RMSE of areas
  I/II/III/IV at the selected epoch): k = 4: 0.829 / 0.881 / 0.872 / 0.929; k = 6: 0.827 / 0.887 / 0.896 / 0.920;
  k = 9: 0.828 / 0.900 / 0.905 / 0.961 (and twice the epoch time). k = 6 is best on area I, the selection
  criterion; k = 4 reads new users and items a little better on this data. Not yet compared on ML-1M.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .config import TrainConfig
from .split import AreaSplit

CHUNKS_PER_SIDE = 6


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
