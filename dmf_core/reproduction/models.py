"""The baselines by their results-file key: bias, mf, u-autorec, i-autorec (DMF and DMF-D are `dmf.DMFModel`)."""

from __future__ import annotations

from typing import Any

from .autorec import AutoRec, AutoRecConfig
from .base import Model
from .means import BiasConfig, GlobalBias
from .mf import BiasedMF, MFConfig

BASELINES = ("bias", "mf", "u-autorec", "i-autorec")


def make_baseline(name: str, seed: int = 0, **overrides: Any) -> Model:
    """A baseline by its results-file name, with `overrides` of its config's defaults."""
    if name == "bias":
        return GlobalBias(BiasConfig(**overrides))
    if name == "mf":
        return BiasedMF(MFConfig(seed=seed, **overrides))
    if name in ("u-autorec", "i-autorec"):
        return AutoRec(AutoRecConfig(side="user" if name == "u-autorec" else "item", seed=seed, **overrides))
    raise ValueError(f"unknown baseline {name!r} ({', '.join(BASELINES)})")
