"""The rule that derives training settings from the data's shape (derive.py), on tiny, small and large shapes."""

import math

import numpy as np
import pytest

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.derive import CHUNKS_PER_SIDE, DataShape, derive, steps_per_epoch
from dmf_core.split import split_areas
from dmf_core.train import fit


def shape(users: int, items: int, ratings: int) -> DataShape:
    return DataShape(seen_users=users, seen_items=items)


@pytest.mark.parametrize(
    ("users", "items", "ratings"),
    [
        (7, 5, 20),  # tiny: fewer users than chunks would need
        (1_350, 900, 60_000),  # the demo's training matrix
        (5_436, 3_335, 610_000),  # ML-1M's
        (145_800, 53_100, 15_000_000),  # ML-25M-sized
    ],
)
def test_blocks_cut_each_side_into_a_fixed_number_of_chunks(users, items, ratings):
    config, derived = derive(TrainConfig(), shape(users, items, ratings))
    assert config.block_users == math.ceil(users / CHUNKS_PER_SIDE)
    assert config.block_items == math.ceil(items / CHUNKS_PER_SIDE)
    assert set(derived) == {"block_users", "block_items"}
    assert f"{users:,} seen users" in derived["block_users"]
    # An epoch is the same number of steps on every size (fewer only where a side has too few rows to fill k
    # chunks of ceil(rows / k): 7 users in blocks of 2 are 4 chunks, not 5).
    steps = steps_per_epoch(config, shape(users, items, ratings))
    assert steps <= CHUNKS_PER_SIDE**2
    if users >= CHUNKS_PER_SIDE**2 and items >= CHUNKS_PER_SIDE**2:
        assert steps == CHUNKS_PER_SIDE**2


def test_cost_per_rating_does_not_grow_with_the_matrix():
    """Every row is embedded once per chunk of the other side: lookups per epoch / ratings is constant."""
    per_rating = []
    for users, items, ratings in ((6_040, 3_706, 1_000_000), (162_000, 59_000, 25_000_000)):
        config, _ = derive(TrainConfig(), shape(users, items, ratings))
        item_chunks = math.ceil(items / config.block_items)
        user_chunks = math.ceil(users / config.block_users)
        per_rating.append((ratings * item_chunks + ratings * user_chunks) / ratings)
    assert per_rating[0] == per_rating[1] == 2 * CHUNKS_PER_SIDE


def test_explicit_sizes_win_and_are_not_reported_as_derived():
    config, derived = derive(TrainConfig(block_users=100), shape(1_350, 900, 60_000))
    assert config.block_users == 100 and config.block_items == math.ceil(900 / CHUNKS_PER_SIDE)
    assert set(derived) == {"block_items"}


def test_data_shape_counts_the_training_matrix(tiny_data):
    split = split_areas(tiny_data, SplitConfig())
    got = DataShape.of(split)
    assert got == DataShape(seen_users=135, seen_items=81)
    assert got.seen_users == int((~split.new_user).sum()) and got.seen_items == int((~split.new_item).sum())


def test_fit_reports_the_settings_it_derived(tiny_data, one_thread):
    split = split_areas(tiny_data, SplitConfig())
    result = fit(tiny_data, split, ModelConfig(hidden=(16, 8)), TrainConfig(epochs=1, device="cpu"))
    assert result.train_config is not None and result.train_config.block_users is not None
    assert set(result.derived) == {"block_users", "block_items"}
    assert len(result.history) == 1 and np.isfinite(result.history[0]["train_loss"])


@pytest.mark.parametrize("block_users", [1, 2, 134])
def test_no_block_has_a_single_row_for_batch_norm(tiny_data, one_thread, block_users):
    """135 seen users in blocks of 134 used to leave a one-row block: 'Expected more than 1 value per channel'."""
    split = split_areas(tiny_data, SplitConfig())
    assert int((~split.new_user).sum()) == 135
    config = TrainConfig(epochs=1, block_users=block_users, block_items=7, device="cpu")
    result = fit(tiny_data, split, ModelConfig(hidden=(16, 8)), config)
    assert np.isfinite(result.history[0]["train_loss"])
