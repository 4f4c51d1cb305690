"""One optimizer step of DMF or DMF-D on one block of seen users × seen items (`train.BlockTask` runs an epoch of
them): the block's rows and columns are embedded with the block's own ratings hidden from the inputs (and input
dropout drawn from the run's generator), and the predicted ratings, through G_λ,b for DMF-D's quantizer phase,
regress onto every observed rating inside the block.
"""

from __future__ import annotations

import torch

from ..config import TrainConfig
from ..model.inputs import SparseBatch, unscale_ratings
from ..model.network import DMFNet

# A block's cosines as one product U·Vᵀ when at least 1 cell in DENSE_BLOCK_DENSITY is a target (and the product
# stays under DENSE_BLOCK_CELLS cells): on ML-1M (3.5% of a block's cells are targets) that is 2.2× cheaper, forward and
# backward, than gathering two factor rows per target (22k × 256 floats each, beyond the cache); at 1% it is 1.5×
# dearer (1 CPU thread, benchmarks/profile_epoch.py). Sparser blocks (ML-25M: 0.3%) keep the gather.
DENSE_BLOCK_DENSITY = 64
DENSE_BLOCK_CELLS = 1 << 24


def block_cosines(user_factors: torch.Tensor, item_factors: torch.Tensor, rows: torch.Tensor,
                  cols: torch.Tensor) -> torch.Tensor:
    """cos(U_rows[k], V_cols[k]) for each target k of a block (the factors are unit vectors)."""
    cells = len(user_factors) * len(item_factors)
    if cells <= DENSE_BLOCK_CELLS and len(rows) * DENSE_BLOCK_DENSITY >= cells:
        return (user_factors @ item_factors.T).flatten()[rows * len(item_factors) + cols]
    return (user_factors[rows] * item_factors[cols]).sum(-1)


def kept(batch: SparseBatch, hidden: torch.Tensor | None, dropout: float,
         generator: torch.Generator | None = None) -> SparseBatch:
    """A step's input entries: all but the `hidden` ones (the block's own targets), each kept with probability
    1 - `dropout` (input dropout, drawn from the run's `generator`); selected in one pass."""
    keep = None if hidden is None else ~hidden
    if dropout > 0:
        drawn = torch.rand(len(batch.indices), device=batch.indices.device, generator=generator) >= dropout
        keep = drawn if keep is None else keep & drawn
    return batch if keep is None else batch.keep(keep)


def train_step(
    model: DMFNet,
    optimizer: torch.optim.Optimizer,
    user_chunk: torch.Tensor,
    user_batch: SparseBatch,
    in_block_user: torch.Tensor,
    item_chunk: torch.Tensor,
    item_batch: SparseBatch,
    config: TrainConfig,
    lam: float | None,
    generator: torch.Generator | None = None,
) -> float | None:
    device = item_chunk.device
    in_block_item = torch.zeros(model.n_items, dtype=torch.bool, device=device)
    in_block_item[item_chunk] = True
    target_sel = in_block_item[user_batch.indices]
    if not bool(target_sel.any()):
        return None
    item_position = torch.empty(model.n_items, dtype=torch.long, device=device)
    item_position[item_chunk] = torch.arange(len(item_chunk), device=device)
    target_rows = user_batch.bags[target_sel]
    target_cols = item_position[user_batch.indices[target_sel]]
    targets = user_batch.values[target_sel]

    user_in = kept(user_batch, target_sel if config.mask_targets else None, config.input_dropout, generator)
    item_in = kept(item_batch, in_block_user[item_batch.indices] if config.mask_targets else None,
                    config.input_dropout, generator)
    user_factors = model.embed_users(user_in)
    item_factors = model.embed_items(item_in)
    cosine = block_cosines(user_factors, item_factors, target_rows, target_cols)
    predicted = model.rating(cosine, user_chunk[target_rows], item_chunk[target_cols])
    true = unscale_ratings(targets, model.rating_scale)
    half = (model.rating_scale[1] - model.rating_scale[0]) / 2
    if model.quantizer is None or lam is None:
        # On the [-1, 1] scale of the cosine (for the paper's output, exactly (cos - scaled rating)²), so the
        # learning rate means the same on any rating scale.
        mse = torch.mean((predicted - true) ** 2)
        loss = mse / half**2
    else:
        mse = torch.mean((model.quantizer(predicted, lam) - true) ** 2)
        loss = mse + config.quantizer.gamma2 * model.quantizer.penalty()
        if config.quantizer.loss_scale == "cosine":
            loss = loss / half**2
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    # Reported in one unit for DMF, DMF-D and its warm-up: mean squared error in rating units (stars²).
    return float(mse.detach())
