"""The epoch-time estimate shown before training starts (dmf_core.training.estimate)."""

from __future__ import annotations

import math
import threading

import pytest

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.split import split_areas
from dmf_core.runs.folder import check_run
from dmf_core.training.estimate import estimate_epoch_seconds
from dmf_core.training.train import fit


def test_estimate_beside_a_run_leaves_its_figures_unchanged(tiny_data, one_thread):
    """The Train page estimates the next run's epoch on its own thread while a job trains on another: the estimate
    draws from its own generators, so the run's figures are those of a run with nothing beside it. (How close it
    comes to a measured epoch is a timing: benchmarks/bench_estimate.py.)"""
    split = split_areas(tiny_data)
    config = TrainConfig(epochs=3, block_users=32, block_items=32, device="cpu", patience=0)
    alone = fit(tiny_data, split, ModelConfig(hidden=(16, 8)), config)
    estimates: list[float] = []

    def estimate_repeatedly(stop: threading.Event) -> None:
        while not stop.is_set():
            estimates.append(estimate_epoch_seconds(tiny_data, split, ModelConfig(hidden=(16, 8)), config))

    stop = threading.Event()
    beside = threading.Thread(target=estimate_repeatedly, args=(stop,))
    beside.start()
    try:
        together = fit(tiny_data, split, ModelConfig(hidden=(16, 8)), config)
    finally:
        stop.set()
        beside.join()
    assert estimates and all(math.isfinite(e) and e > 0 for e in estimates)
    assert [h["train_loss"] for h in together.history] == [h["train_loss"] for h in alone.history]
    assert [h["val_rmse"] for h in together.history] == [h["val_rmse"] for h in alone.history]


def test_estimate_refuses_bad_settings(tiny_data):
    with pytest.raises(ValueError, match="learning rate"):
        estimate_epoch_seconds(tiny_data, split_areas(tiny_data), ModelConfig(), TrainConfig(lr=-1.0))


def test_a_dmf_d_budget_too_short_for_its_quantizer_is_refused_up_front(tiny_data, tmp_path):
    """A budget shorter than a warm-up epoch and a quantizer epoch is refused in one line before anything trains;
    one long enough is accepted."""
    config = TrainConfig(model="dmf-d", max_seconds=1e-3, block_users=32, block_items=32, device="cpu")
    with pytest.raises(ValueError, match="too short for DMF-D to train its quantizer") as refused:
        check_run(tiny_data, SplitConfig(), ModelConfig(hidden=(16, 8)), config)
    assert "\n" not in str(refused.value) and "--max-seconds" in str(refused.value)
    assert not any(tmp_path.iterdir())
    check_run(tiny_data, SplitConfig(), ModelConfig(hidden=(16, 8)), TrainConfig(**{**config.__dict__,
                                                                                  "max_seconds": 600.0}))
