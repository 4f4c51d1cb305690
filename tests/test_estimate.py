"""The epoch-time estimate shown before training starts (dmf_core.estimate)."""

from __future__ import annotations

import math

import pytest
import torch

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.demo import make_demo
from dmf_core.estimate import estimate_epoch_seconds
from dmf_core.split import split_areas


@pytest.fixture(scope="module")
def demo():
    data = make_demo(0)
    return data, split_areas(data, SplitConfig())


def test_estimate_is_a_time_per_epoch(demo, one_thread):
    """A finite, positive number of seconds. How close it comes to a measured epoch is a timing, printed by
    benchmarks/bench_app_training.py (it was a ×3 assertion here, which a loaded machine could fail)."""
    data, split = demo
    config = TrainConfig(epochs=3, patience=0, device="cpu")
    estimate = estimate_epoch_seconds(data, split, ModelConfig(), config)
    assert math.isfinite(estimate) and estimate > 0


def test_estimate_leaves_the_random_state_alone_and_refuses_bad_settings(tiny_data):
    split = split_areas(tiny_data)
    config = TrainConfig(block_users=32, block_items=32, device="cpu")
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    assert estimate_epoch_seconds(tiny_data, split, ModelConfig(hidden=(16, 8)), config) > 0
    assert torch.equal(torch.rand(3), expected)
    with pytest.raises(ValueError):
        estimate_epoch_seconds(tiny_data, split, ModelConfig(), TrainConfig(lr=-1.0))
