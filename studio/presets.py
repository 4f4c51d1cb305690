"""Named settings the app offers one click away. `quick_preset` is small enough that the Home page's demo run
finishes in a few seconds on two CPU cores; the others are `config`'s defaults and the authors' settings."""

from __future__ import annotations

from dmf_core.config import ModelConfig, QuantizerConfig, TrainConfig, authors_preset

__all__ = ["PRESETS", "quick_preset", "studio_preset", "authors_preset"]


def quick_preset() -> tuple[ModelConfig, TrainConfig]:
    """A small net and 8 epochs: a visible result in seconds on the demo data, with blocks derived from the data.
    lr 1e-2 as before: on the demo's *validation* ratings (seeds 0-2, area I / II / III / IV means) it ties 5e-3,
    0.846 / 0.917 / 0.877 / 0.965 against 0.846 / 0.917 / 0.874 / 0.967. Seed 0's test scores, 2 CPU cores, about
    4 s: 0.850 / 0.938 / 0.922 / 0.931, against the biases' 0.930 / 0.987 / 0.975 / 0.952.
    For DMF-D the warm-up is 2 epochs and λ starts at 1 and grows ×4 an epoch, so the 6 quantizer epochs sweep λ
    over three orders of magnitude (1 → 1024): the Quantizer page's replay shows the ramp becoming steps."""
    model = ModelConfig(hidden=(128, 64), dropout=0.2)
    train = TrainConfig(epochs=8, lr=1e-2, patience=0,
                        quantizer=QuantizerConfig(warmup_epochs=2, lambda_start=1.0, lambda_growth=4.0))
    return model, train


def studio_preset() -> tuple[ModelConfig, TrainConfig]:
    """DMF Studio's own defaults (`config.ModelConfig()` / `TrainConfig()`)."""
    return ModelConfig(), TrainConfig()


PRESETS = {
    "quick": ("Quick demo", quick_preset),
    "studio": ("DMF Studio defaults", studio_preset),
    "authors": ("Authors' defaults", authors_preset),
}
