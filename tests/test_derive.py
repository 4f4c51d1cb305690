"""The rule that derives training settings from the data's shape (derive.py), on tiny, small and large shapes."""

import math

import numpy as np
import pytest
import torch

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.split import split_areas
from dmf_core.training.derive import CHUNKS_PER_SIDE, DataShape, derive, steps_per_epoch
from dmf_core.training.train import _chunks, fit
from tests.helpers import low_rank_ratings


def shape(users: int, items: int, ratings: int) -> DataShape:
    return DataShape(seen_users=users, seen_items=items)


SHAPES = [
    (1_350, 900, 60_000),  # the demo's training matrix
    (5_436, 3_335, 610_000),  # ML-1M's
    (145_800, 53_100, 15_000_000),  # ML-25M-sized
    (26, 1_000_003, 2_000_000),  # very uneven sides
]


@pytest.mark.parametrize(("users", "items", "ratings"), SHAPES)
def test_an_epoch_is_the_same_number_of_steps_on_every_shape(users, items, ratings):
    """The rule's promise, whatever the matrix: CHUNKS_PER_SIDE² steps an epoch, blocks that cover every row, and
    a report naming what was derived from what."""
    config, derived = derive(TrainConfig(), shape(users, items, ratings))
    assert steps_per_epoch(config, shape(users, items, ratings)) == CHUNKS_PER_SIDE**2
    assert set(derived) == {"block_users", "block_items"}
    assert f"{users:,} seen users" in derived["block_users"] and f"{items:,} seen items" in derived["block_items"]
    # The last chunk of each side is not empty, and no block is the whole side.
    for size, rows in ((config.block_users, users), (config.block_items, items)):
        assert (CHUNKS_PER_SIDE - 1) * size < rows <= CHUNKS_PER_SIDE * size


def test_a_side_with_fewer_rows_than_chunks_gets_one_row_blocks():
    config, _ = derive(TrainConfig(), shape(3, 900, 2_000))
    assert config.block_users == 1 and steps_per_epoch(config, shape(3, 900, 2_000)) == 3 * CHUNKS_PER_SIDE


def test_training_takes_that_many_steps_an_epoch(one_thread):
    """Counted in the loop itself, on real data of two shapes: the optimizer steps of one epoch."""
    for users, items in ((60, 40), (150, 90)):
        data = low_rank_ratings(users, items, 0.3, seed=1)
        split = split_areas(data, SplitConfig(new_user_frac=0, new_item_frac=0))
        steps: list[tuple[int, int]] = []
        fit(data, split, ModelConfig(hidden=(8, 4)), TrainConfig(epochs=1, device="cpu"),
            on_step=lambda step, total, steps=steps: steps.append((step, total)))
        assert len(steps) == CHUNKS_PER_SIDE**2 and {total for _, total in steps} == {CHUNKS_PER_SIDE**2}


def test_cost_per_rating_does_not_grow_with_the_matrix():
    """Every row is embedded once per chunk of the other side: lookups per epoch / ratings is constant."""
    per_rating = []
    for users, items, ratings in ((6_040, 3_706, 1_000_000), (162_000, 59_000, 25_000_000)):
        config, _ = derive(TrainConfig(), shape(users, items, ratings))
        item_chunks = math.ceil(items / config.block_items)
        user_chunks = math.ceil(users / config.block_users)
        per_rating.append((ratings * item_chunks + ratings * user_chunks) / ratings)
    assert per_rating[0] == per_rating[1] == 2 * CHUNKS_PER_SIDE


@pytest.mark.parametrize(("users", "items"), [(1_350, 900), (5_436, 3_335)])
def test_explicit_sizes_win_and_are_not_reported_as_derived(users, items):
    config, derived = derive(TrainConfig(block_users=100), shape(users, items, 0))
    assert config.block_users == 100 and set(derived) == {"block_items"}
    both, derived = derive(TrainConfig(block_users=100, block_items=7), shape(users, items, 0))
    assert (both.block_users, both.block_items) == (100, 7) and derived == {}
    assert steps_per_epoch(both, shape(users, items, 0)) == math.ceil(users / 100) * math.ceil(items / 7)


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


@pytest.mark.parametrize("size", [1, 2, 3, 134, 135, 200])
def test_no_chunk_has_a_single_row_for_batch_norm(size):
    """Every side is cut into chunks of at least two rows, as even as possible and covering it once."""
    for n in (2, 3, 135, 1_349, 1_350):
        chunks = _chunks(torch.arange(n), size)
        lengths = [len(c) for c in chunks]
        assert min(lengths) >= 2 and max(lengths) - min(lengths) <= 1
        assert max(lengths) <= max(size, 2) or len(chunks) == n // 2
        assert torch.equal(torch.cat(chunks), torch.arange(n))


def test_a_block_size_one_short_of_the_side_trains(tiny_data, one_thread):
    """135 seen users in blocks of 134 used to leave a one-row block: 'Expected more than 1 value per channel'."""
    split = split_areas(tiny_data, SplitConfig())
    assert int((~split.new_user).sum()) == 135
    config = TrainConfig(epochs=1, block_users=134, block_items=7, device="cpu")
    result = fit(tiny_data, split, ModelConfig(hidden=(16, 8)), config)
    assert np.isfinite(result.history[0]["train_loss"])
