import math

import numpy as np
import pytest
import torch

from dmf_core.config import QuantizerConfig
from dmf_core.model.quantizer import (
    Quantizer,
    fit_boundaries,
    hard_quantize,
    lambda_after,
    lambda_curve,
    rating_levels,
    smooth_quantize,
    uniform_boundaries,
)

SCALE = (1.0, 5.0)
UNIFORM = torch.tensor([1.5, 2.5, 3.5, 4.5])


def test_levels_and_uniform_boundaries():
    assert rating_levels(SCALE) == [1.0, 2.0, 3.0, 4.0, 5.0]
    quantizer = Quantizer(SCALE)
    assert torch.equal(quantizer.boundaries.detach(), UNIFORM)
    assert quantizer.penalty().item() == 0.0


def test_hard_quantizer_rounds_with_uniform_boundaries():
    x = torch.tensor([1.0, 1.49, 1.5, 2.2, 2.51, 3.49, 3.5, 4.4, 4.5, 4.99, 5.0])
    expected = torch.tensor([1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 5.0])
    assert torch.equal(hard_quantize(x, UNIFORM, 1.0, 1.0), expected)


def test_learned_boundary_moves_the_switch_point_inside_its_cell():
    boundaries = torch.tensor([1.5, 2.5, 3.2, 4.5])
    x = torch.tensor([3.1, 3.3])
    assert hard_quantize(x, boundaries, 1.0, 1.0).tolist() == [3.0, 4.0]


@pytest.mark.parametrize("lam", [1e3, 1e5, 1e8, 1e30])
def test_smooth_tends_to_hard_without_overflow(lam):
    x = torch.linspace(1.0, 5.0, 4001)
    x = x[(x - UNIFORM.view(-1, 1)).abs().min(0).values > 1e-2]  # away from the jumps
    smooth = smooth_quantize(x, UNIFORM, lam, 1.0, 1.0)
    assert torch.isfinite(smooth).all()
    assert torch.allclose(smooth, hard_quantize(x, UNIFORM, 1.0, 1.0), atol=1e-4)


def test_small_lambda_is_smooth_and_between_levels():
    x = torch.linspace(1.0, 4.999, 200)
    out = smooth_quantize(x, UNIFORM, 1.0, 1.0, 1.0)
    assert (out > 1.0).all() and (out < 5.0).all()
    assert len(torch.unique(out)) > 100  # not a staircase


@pytest.mark.parametrize("lam", [0.5, 4.0, 20.0])
def test_gradients_match_finite_differences(lam):
    x = torch.tensor([1.3, 2.45, 3.6, 4.2], dtype=torch.float64, requires_grad=True)
    b = UNIFORM.double().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x_, b_: smooth_quantize(x_, b_, lam, 1.0, 1.0), (x, b))


def test_gradients_stay_finite_at_huge_lambda():
    x = torch.tensor([1.3, 2.5, 3.6, 4.2], requires_grad=True)
    quantizer = Quantizer(SCALE)
    quantizer(x, 1e5).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(quantizer.boundaries.grad).all()


def test_penalty_is_mean_squared_deviation():
    quantizer = Quantizer(SCALE)
    with torch.no_grad():
        quantizer.boundaries += torch.tensor([0.2, 0.0, -0.2, 0.0])
    assert quantizer.penalty().item() == pytest.approx(0.02)


def test_fixed_boundaries_get_no_gradient():
    quantizer = Quantizer(SCALE, learn_boundaries=False)
    assert not quantizer.boundaries.requires_grad


def test_lambda_schedules():
    exp = QuantizerConfig(lambda_start=0.1, lambda_growth=1.015, lambda_max=1e30, warmup_epochs=0)
    assert lambda_after(0, exp) == pytest.approx(0.1)
    assert lambda_after(1000, exp) == pytest.approx(0.1 * 1.015**1000, rel=1e-9)
    step = QuantizerConfig(lambda_start=1.0, lambda_growth=25.0, schedule="step", step_every=30, warmup_epochs=0)
    assert [lambda_after(e, step) for e in (0, 29, 30, 60)] == pytest.approx([1.0, 1.0, 25.0, 625.0])
    capped = QuantizerConfig(lambda_start=2.0, lambda_growth=10.0, lambda_max=1e5, warmup_epochs=0)
    curve = lambda_curve(capped, 2000)
    assert max(curve) == 1e5 and all(math.isfinite(v) for v in curve)
    assert curve == sorted(curve)


@pytest.mark.parametrize(
    "kwargs", [{"lambda_growth": 0.9}, {"lambda_start": 0.0}, {"gamma2": -1.0}, {"lambda_max": 0.5}]
)
def test_invalid_quantizer_settings_are_rejected(kwargs):
    with pytest.raises(ValueError):
        QuantizerConfig(**kwargs).validate()


def test_lambda_counts_from_the_end_of_the_warmup():
    """The warm-up's delay itself is applied in training (test_train: test_dmf_d_warm_up_trains_plain_dmf_first and
    the automatic warm-up test); the schedule starts at lambda_start whatever the warm-up."""
    config = QuantizerConfig(lambda_start=2.0, lambda_growth=2.0, warmup_epochs=3)
    assert [lambda_after(e, config) for e in range(2)] == [2.0, 4.0]
    assert lambda_curve(config, 2) == [2.0, 4.0]


def test_fitted_boundaries_follow_a_biased_output_and_lower_its_absolute_error():
    """An output 0.3 stars too high: the fitted thresholds move up by about as much, and the absolute error and the
    exact-level accuracy beat midpoint rounding on fresh pairs; an unbiased output keeps the midpoints."""
    rng = np.random.default_rng(0)

    def pairs(bias: float, n: int = 20000) -> tuple[np.ndarray, np.ndarray]:
        true = rng.integers(1, 6, n).astype(float)
        return np.clip(true + rng.normal(0, 0.5, n) + bias, 1, 5), true

    x, y = pairs(0.3)
    fitted = fit_boundaries(x, y, (1.0, 5.0))
    assert np.allclose(fitted, np.array(uniform_boundaries((1.0, 5.0))) + 0.3, atol=0.1)
    x, y = pairs(0.3)  # fresh pairs: no fitting on what is scored
    quantized = hard_quantize(torch.as_tensor(x), torch.as_tensor(fitted), 1.0, 1.0).numpy()
    rounded = np.clip(np.rint(x), 1, 5)
    assert np.abs(quantized - y).mean() < np.abs(rounded - y).mean() - 0.02
    assert (quantized == y).mean() > (rounded == y).mean() + 0.02
    x, y = pairs(0.0)
    assert np.allclose(fit_boundaries(x, y, (1.0, 5.0)), uniform_boundaries((1.0, 5.0)), atol=0.1)
