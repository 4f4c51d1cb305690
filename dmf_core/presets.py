"""Named settings the app offers one click away. `quick_preset` is small enough that the Home page's demo run
finishes in a few seconds on two CPU cores; the others are `config`'s defaults and the authors' settings."""

from __future__ import annotations

from .config import ModelConfig, QuantizerConfig, TrainConfig, authors_preset

__all__ = ["PRESETS", "quick_preset", "studio_preset", "authors_preset"]


def quick_preset() -> tuple[ModelConfig, TrainConfig]:
    """A small net, a high learning rate and a few large blocks per epoch: a visible result in seconds on the demo
    data (~1 s per epoch on 2 CPU cores), not the best RMSE. For DMF-D the warm-up is cut to 2 epochs so the
    quantizer is on for most of this short run (the default 12 would outlast it)."""
    model = ModelConfig(hidden=(128, 64), dropout=0.2)
    train = TrainConfig(epochs=6, lr=1e-2, block_users=256, block_items=256, patience=0,
                        quantizer=QuantizerConfig(warmup_epochs=2))
    return model, train


def studio_preset() -> tuple[ModelConfig, TrainConfig]:
    """DMF Studio's own defaults (`config.ModelConfig()` / `TrainConfig()`)."""
    return ModelConfig(), TrainConfig()


PRESETS = {
    "quick": ("Quick demo", quick_preset),
    "studio": ("DMF Studio defaults", studio_preset),
    "authors": ("Authors' defaults", authors_preset),
}
