"""The CUDA paths, checked on a machine with a GPU (`bash benchmarks/gpu_check.sh` runs them with `-m cuda`):
device choice, training on cuda against the same run on the CPU, DMF-D, the fused Adam step, checkpoints moved
between devices, and `--device cuda` on the command line. Skipped without CUDA: CI has no GPU.

How close must a CUDA run be to the CPU run? It depends on what differs between them:

- Without dropout (model dropout and input dropout 0), nothing random runs on the device (the weights are drawn on
  the CPU and moved, the block order comes from a CPU generator), so the two runs compute the same thing and differ
  only in floating-point summation order. Measured on the CPU, demo data, default model, 4 epochs: changing the
  thread count, or scaling every initial weight by 1 + 1e-6·N(0, 1), moves every epoch's validation RMSE and every
  area's test RMSE by at most 2e-5. EXACT_TOLERANCE is 100 times that.
- With the default dropout the CUDA generator draws other masks than the CPU one, so the CUDA run is another draw of
  the same training. Measured on the CPU with six dropout streams (same weights and order, 3 epochs): the area-I test
  RMSE has a standard deviation of 0.00065 (range 0.0018), the validation RMSE (area I, ~4k ratings) 0.005; two runs
  then differ by sd 0.0009 and 0.007. The tolerances below are 10 and 4 of those.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

import numpy as np
import pytest
import torch

from dmf_core.config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig
from dmf_core.data import RatingData
from dmf_core.data.demo import make_demo
from dmf_core.data.split import AREAS, TEST, split_areas
from dmf_core.device import describe_device, pick_device
from dmf_core.model.inputs import MatrixInputs
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs.folder import CHECKPOINT_FILE, evaluate_checkpoint, train_run
from dmf_core.scoring.predict import Predictor
from dmf_core.training.train import _adam, build_model
from tests.conftest import REPO_ROOT

HAS_CUDA = torch.cuda.is_available()
NO_CUDA = "no CUDA device on this machine (CI has no GPU; benchmarks/gpu_check.sh runs these on one)"

EXACT_TOLERANCE = 2e-3  # no dropout: float summation order only (measured drift ≤ 2e-5)
NOISY_TEST_TOLERANCE = 0.01  # default dropout, area-I test RMSE (difference sd ≈ 0.0009)
NOISY_VAL_TOLERANCE = 0.03  # default dropout, validation RMSE (difference sd ≈ 0.007)
PREDICTION_TOLERANCE = 1e-4  # the same weights evaluated on two devices

EXACT_MODEL = ModelConfig(dropout=0.0)  # default sizes: the run the app makes, minus the randomness on the device
SPLIT = SplitConfig()  # 10% new users and items: all four areas are scored


def needs_cuda(test):
    return pytest.mark.cuda(pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA)(test))


def exact_config(device: str, **kwargs) -> TrainConfig:
    return TrainConfig(**{"epochs": 4, "patience": 0, "input_dropout": 0.0, "device": device, **kwargs})


@cache
def demo() -> RatingData:
    return make_demo()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """run(kind, device) -> (metrics, TrainResult, checkpoint path) of a small run on the demo data, made once."""
    made: dict[tuple[str, str], tuple] = {}

    def run(kind: str, device: str) -> tuple:
        if (kind, device) not in made:
            if kind == "exact":
                model, config = EXACT_MODEL, exact_config(device)
            elif kind == "exact-dmf-d":
                model, config = EXACT_MODEL, exact_config(device, model="dmf-d", epochs=3,
                                                          quantizer=QuantizerConfig(warmup_epochs=1))
            else:  # "default": the app's settings, dropout included
                model, config = ModelConfig(), TrainConfig(epochs=3, patience=0, device=device)
            out = tmp_path_factory.mktemp(f"{kind}-{device}")
            metrics, result = train_run(demo(), SPLIT, model, config, out)
            made[kind, device] = (metrics, result, out / CHECKPOINT_FILE)
        return made[kind, device]

    return run


def tensors(value):
    """Every tensor inside a checkpoint's nested dicts and lists."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from tensors(item)


def held_out_pairs() -> tuple[np.ndarray, np.ndarray]:
    """The (user, item) pairs of the demo split's test ratings, every area."""
    data = demo()
    selected = split_areas(data, SPLIT).role == TEST
    return data.users[selected], data.items[selected]


# --- device choice ---------------------------------------------------------------------------------------------


def test_a_cuda_index_beyond_the_devices_is_refused_in_one_line(monkeypatch):
    """Runs everywhere (CUDA faked): the index check itself."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert pick_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ValueError, match=r"^device 'cuda:2' requested but this machine has 2 CUDA devices "
                                         r"\(cuda:0 to cuda:1\)$"):
        pick_device("cuda:2")


@needs_cuda
def test_auto_picks_cuda_and_an_index_out_of_range_is_refused():
    assert pick_device("auto").type == "cuda"
    assert pick_device("cuda").type == "cuda"
    assert pick_device("cuda:0") == torch.device("cuda:0")
    assert torch.cuda.get_device_name(0) in describe_device(pick_device("auto"))
    count = torch.cuda.device_count()
    with pytest.raises(ValueError) as error:
        pick_device(f"cuda:{count}")
    message = str(error.value)
    assert "\n" not in message and f"'cuda:{count}'" in message and f"{count} CUDA device" in message


# --- training on cuda against the CPU ----------------------------------------------------------------------------


@needs_cuda
def test_without_dropout_a_cuda_run_matches_the_cpu_run(runs):
    cpu_metrics, cpu, _ = runs("exact", "cpu")
    gpu_metrics, gpu, _ = runs("exact", "cuda")
    assert gpu.device.startswith("cuda") and cpu.device == "cpu"
    assert next(gpu.model.parameters()).is_cuda
    for before, after in zip(cpu.history, gpu.history, strict=True):
        assert after["val_rmse"] == pytest.approx(before["val_rmse"], abs=EXACT_TOLERANCE), after["epoch"]
        assert after["train_loss"] == pytest.approx(before["train_loss"], rel=EXACT_TOLERANCE), after["epoch"]
    assert gpu.best_epoch == cpu.best_epoch
    for area in AREAS:
        assert gpu_metrics["areas"][area]["rmse"] == pytest.approx(cpu_metrics["areas"][area]["rmse"],
                                                                  abs=EXACT_TOLERANCE), area
    for name, weight in cpu.calibration.items():
        assert gpu.calibration[name] == pytest.approx(weight, abs=10 * EXACT_TOLERANCE), name


@needs_cuda
def test_with_the_default_dropout_a_cuda_run_is_another_draw_of_the_cpu_run(runs):
    cpu_metrics, cpu, _ = runs("default", "cpu")
    gpu_metrics, gpu, _ = runs("default", "cuda")
    assert gpu_metrics["areas"]["I"]["rmse"] == pytest.approx(cpu_metrics["areas"]["I"]["rmse"],
                                                              abs=NOISY_TEST_TOLERANCE)
    assert gpu.val_rmse == pytest.approx(cpu.val_rmse, abs=NOISY_VAL_TOLERANCE)
    for area in AREAS:
        assert np.isfinite(gpu_metrics["areas"][area]["rmse"]), area
    # Better than global mean + biases on the same test ratings after 3 epochs, as on the CPU.
    assert gpu_metrics["areas"]["I"]["rmse"] < gpu_metrics["baseline"]["areas"]["I"]["rmse"]


@needs_cuda
def test_dmf_d_on_cuda_gives_finite_outputs_and_matches_the_cpu(runs):
    cpu_metrics, cpu, _ = runs("exact-dmf-d", "cpu")
    gpu_metrics, gpu, _ = runs("exact-dmf-d", "cuda")
    assert [h["lambda"] for h in gpu.history] == pytest.approx([None, 2.0, 2.4])
    for before, after in zip(cpu.history, gpu.history, strict=True):
        assert np.isfinite(after["train_loss"]) and np.isfinite(after["val_rmse"])
        assert after["val_rmse_continuous"] == pytest.approx(before["val_rmse_continuous"], abs=EXACT_TOLERANCE)
        assert after["boundaries"] == pytest.approx(before["boundaries"], abs=EXACT_TOLERANCE)
    boundaries = gpu_metrics["boundaries"]
    assert all(np.isfinite(boundaries)) and boundaries == sorted(boundaries)
    for area in AREAS:
        row = gpu_metrics["discrete"][area]
        assert np.isfinite(row["rmse"]) and 0.0 <= row["accuracy"] <= 1.0, area
    predictor = Predictor.build(gpu.model, gpu.inputs)
    levels = predictor.discrete(predictor.continuous(*held_out_pairs()))
    assert set(np.unique(levels).tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


@needs_cuda
def test_training_on_cuda_uses_the_fused_adam_and_it_steps_like_the_reference_adam(runs):
    _, gpu, _ = runs("exact", "cuda")
    assert gpu.optimizer_state["param_groups"][0]["fused"] is True  # what fit() trained with
    config = TrainConfig(weight_decay=1e-4)  # so the fused kernel's decay term is compared too
    torch.manual_seed(0)
    model = build_model(demo(), ModelConfig(hidden=(32, 16)), config).to("cuda")
    reference = build_model(demo(), ModelConfig(hidden=(32, 16)), config)
    reference.load_state_dict({k: v.cpu() for k, v in model.state_dict().items()})
    fused = _adam(model, config, torch.device("cuda"))
    assert fused.defaults["fused"] is True
    plain = torch.optim.Adam(reference.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=False)
    generator = torch.Generator().manual_seed(1)
    for _ in range(3):
        for on_gpu, on_cpu in zip(model.parameters(), reference.parameters(), strict=True):
            grad = torch.randn(on_cpu.shape, generator=generator)
            on_cpu.grad, on_gpu.grad = grad, grad.to("cuda")
        fused.step()
        plain.step()
    for (name, on_gpu), on_cpu in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert torch.allclose(on_gpu.detach().cpu(), on_cpu.detach(), atol=1e-5, rtol=1e-5), name


# --- checkpoints moved between devices ---------------------------------------------------------------------------


@needs_cuda
def test_a_cuda_checkpoint_loads_on_the_cpu_and_predicts_the_same(runs, tmp_path):
    gpu_metrics, gpu, path = runs("exact", "cuda")
    loaded = ckpt.load(path)  # torch.load(path, weights_only=True, map_location="cpu")
    assert all(tensor.device.type == "cpu" for tensor in tensors(loaded))
    assert loaded["optimizer_state"]["state"]  # saved with the run, now on the CPU
    model = ckpt.restore_model(loaded, "cpu")
    inputs = MatrixInputs.from_split(demo(), split_areas(demo(), SPLIT), "cpu")
    users, items = held_out_pairs()
    on_gpu = Predictor.build(gpu.model, gpu.inputs).continuous(users, items)
    on_cpu = Predictor.build(model, inputs).continuous(users, items)
    assert np.abs(on_gpu - on_cpu).max() < PREDICTION_TOLERANCE
    again = evaluate_checkpoint(loaded, demo(), "cpu")
    for area in AREAS:
        assert again["areas"][area]["rmse"] == pytest.approx(gpu_metrics["areas"][area]["rmse"],
                                                            abs=PREDICTION_TOLERANCE), area
    # Training goes on on the CPU from the CUDA run's weights and optimizer state.
    metrics, _ = train_run(demo(), SPLIT, EXACT_MODEL, exact_config("cpu", epochs=5), tmp_path, resume=loaded)
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3, 4, 5]
    assert np.isfinite(metrics["history"][-1]["val_rmse"]) and metrics["device"] == "cpu"


@needs_cuda
def test_a_cpu_checkpoint_loads_onto_cuda_and_predicts_the_same(runs, tmp_path):
    cpu_metrics, cpu, path = runs("exact", "cpu")
    loaded = ckpt.load(path, map_location="cuda")
    model = ckpt.restore_model(loaded, "cuda")
    assert next(model.parameters()).is_cuda
    inputs = MatrixInputs.from_split(demo(), split_areas(demo(), SPLIT), "cuda")
    users, items = held_out_pairs()
    on_cpu = Predictor.build(cpu.model, cpu.inputs).continuous(users, items)
    on_gpu = Predictor.build(model, inputs).continuous(users, items)
    assert np.abs(on_gpu - on_cpu).max() < PREDICTION_TOLERANCE
    again = evaluate_checkpoint(ckpt.load(path), demo(), "cuda")
    assert again["device"].startswith("cuda")
    for area in AREAS:
        assert again["areas"][area]["rmse"] == pytest.approx(cpu_metrics["areas"][area]["rmse"],
                                                            abs=PREDICTION_TOLERANCE), area
    # Training goes on on cuda (fused Adam) from the CPU run's weights and optimizer state.
    metrics, result = train_run(demo(), SPLIT, EXACT_MODEL, exact_config("cuda", epochs=5), tmp_path,
                                resume=ckpt.load(path))
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3, 4, 5]
    assert np.isfinite(metrics["history"][-1]["val_rmse"]) and result.device.startswith("cuda")


# --- the command line ---------------------------------------------------------------------------------------------


@needs_cuda
def test_the_cli_trains_on_cuda_and_its_checkpoint_evaluates_on_either_device(tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dmf_core", *args], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=300)

    trained = cli("train", "--data", "demo", "--epochs", "2", "--hidden", "64,32", "--device", "cuda",
                  "--out", str(tmp_path / "run"), "--quiet")
    assert trained.returncode == 0, trained.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["device"].startswith("cuda") and metrics["epochs_run"] == 2
    for device in ("cuda:0", "cpu"):
        target = tmp_path / f"again-{device.replace(':', '')}.json"
        done = cli("evaluate", str(tmp_path / "run" / CHECKPOINT_FILE), "--data", "demo", "--device", device,
                   "--out", str(target))
        assert done.returncode == 0, done.stderr
        again = json.loads(target.read_text())
        assert again["areas"]["I"]["rmse"] == pytest.approx(metrics["areas"]["I"]["rmse"], abs=PREDICTION_TOLERANCE)
