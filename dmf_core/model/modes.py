"""A module's train / eval mode, borrowed and given back: `evaluating(model)` runs a block in eval mode and restores
the mode the model had, whatever happens inside.

Why: a model can be shared (the app keeps one per run in `cache_resource` for every session; a notebook holds `DMF`'s
`model_` while it trains another step). A function that only reads the model (embedding every row, scoring a new
user) must not leave it in another mode than it found it, or dropout and batch norm behave differently for the next
caller without anything saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def evaluating(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """`module` in eval mode for the block, then back in the mode it was in (also when the block raises)."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
