"""End to end, seeded: default settings beat what averages alone get, on the demo data every visitor sees first.

The margins are loose on purpose (measured: bench_defaults.py); what is checked is the direction, through the same
`train_run` the command line and the app use, scored on the test ratings of the model selected on validation."""

import pytest
import torch

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.demo import make_demo
from dmf_core.data.split import AREAS, split_areas
from dmf_core.runs.folder import train_run
from studio.presets import quick_preset


@pytest.fixture(scope="module")
def demo():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield make_demo()
    torch.set_num_threads(previous)


def rmse_by_area(metrics: dict, key: str = "areas") -> dict[str, float]:
    return {area: metrics[key][area]["rmse"] for area in AREAS}


@pytest.mark.slow  # the default model on the full demo data, 15 epochs (of 60 at most): about 12 s on 2 cores
def test_default_dmf_beats_global_mean_and_biases_in_every_area(demo):
    metrics, result = train_run(demo, SplitConfig(seed=0), ModelConfig(), TrainConfig(seed=0, device="cpu", epochs=15))
    dmf, biases = rmse_by_area(metrics), rmse_by_area(metrics["baseline"])
    # Measured: 0.836 / 0.921 / 0.921 / 0.930 against 0.930 / 0.987 / 0.975 / 0.952.
    assert dmf["I"] < biases["I"] - 0.05
    assert all(dmf[area] < biases[area] for area in AREAS), (dmf, biases)
    assert set(metrics["derived"]) == {"block_users", "block_items"}
    # The reported ρ is the one the model predicts with: every new user's cosine weight.
    new_users = torch.as_tensor(split_areas(demo, SplitConfig(seed=0)).new_user)
    weights = result.model.user_weight.cpu()[new_users]
    assert torch.allclose(weights, torch.tensor(metrics["calibration"]["new_user_weight"]))


def test_the_home_demo_preset_beats_the_averages_in_seconds(demo):
    model_config, train_config = quick_preset()
    metrics, result = train_run(demo, SplitConfig(seed=0), model_config, train_config)
    dmf, biases = rmse_by_area(metrics), rmse_by_area(metrics["baseline"])
    assert all(dmf[area] < biases[area] for area in AREAS), (dmf, biases)
    assert result.epochs_run == train_config.epochs


def test_quick_dmf_d_sweeps_lambda_over_three_orders_of_magnitude(demo):
    model_config, train_config = quick_preset()
    config = TrainConfig(**{**train_config.__dict__, "model": "dmf-d", "device": "cpu"})
    metrics, result = train_run(demo, SplitConfig(new_user_frac=0, new_item_frac=0), model_config, config)
    lambdas = [h["lambda"] for h in result.history if h["lambda"] is not None]
    assert lambdas[-1] / lambdas[0] >= 1000
    # One loss unit throughout (squared stars): no jump where the warm-up ends.
    losses = [h["train_loss"] for h in result.history]
    warm = config.quantizer.warmup_epochs
    assert losses[warm] < 2 * losses[warm - 1]
