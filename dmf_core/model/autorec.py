"""AutoRec (Sedhain et al. 2015): a one-hidden-layer autoencoder (sigmoid, 500 units) over user rows (U-AutoRec) or
item columns (I-AutoRec), with a masked loss on observed entries and an l2 penalty on the weights. The reproduction
runs it as a baseline (`reproduction/autorec.py`); DMF blends an I-AutoRec with its own output by default
(`companion.py`).

It reads sparse data: the encoder is an `nn.EmbeddingBag` weighted by the ratings; in training the decoder is one
dense (batch rows × columns) GEMM of which only the observed entries enter the loss, and predictions are per-pair
dot products: row k's code h_k against column j's output row V_j, plus its bias c_j. Its training is
`training/autorec.py`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from .inputs import SparseBatch, SparseRows


class AutoRecNet(nn.Module):
    """r ∈ R^n (sparse) → h = sigmoid(W r + b) → r̂_j = V_j·h + c_j, with V_j evaluated only where asked."""

    def __init__(self, n_cols: int, hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        self.encoder = nn.EmbeddingBag(n_cols, hidden, mode="sum")  # W r for a sparse r, never densified
        self.encoder_bias = nn.Parameter(torch.zeros(hidden))
        self.decoder = nn.Embedding(n_cols, hidden)  # row j of V: the output unit of column j
        # Outputs start at 0, not at the mean rating: on ML-1M a mean start converged faster but stopped at a worse
        # validation RMSE (I-AutoRec 0.854-0.855 vs 0.846 at λ 100 or 300), as the early epochs act as regularisation.
        self.decoder_bias = nn.Parameter(torch.zeros(n_cols))
        bound = 1.0 / math.sqrt(hidden)
        nn.init.uniform_(self.encoder.weight, -bound, bound, generator=generator)
        nn.init.uniform_(self.decoder.weight, -bound, bound, generator=generator)

    def encode(self, batch: SparseBatch) -> torch.Tensor:
        """Codes of a batch of rows whose values are ratings on the data's own scale (not the scaled inputs)."""
        hidden = self.encoder(batch.indices, batch.offsets(), per_sample_weights=batch.values)
        return torch.sigmoid(hidden + self.encoder_bias)

    @torch.no_grad()
    def encode_all(self, rows: SparseRows, chunk: int = 4096,
                   values: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Codes of every row of `rows`; `values` maps the stored values to ratings first (DMF's inputs are scaled)."""
        parts = []
        for start in range(0, rows.n_rows, chunk):
            batch = rows.gather(torch.arange(start, min(start + chunk, rows.n_rows), device=rows.indptr.device))
            if values is not None:
                batch = replace(batch, values=values(batch.values))
            parts.append(self.encode(batch))
        return torch.cat(parts) if parts else torch.zeros(0, self.decoder.weight.shape[1])

    def decode_at(self, hidden: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Outputs of row `rows[k]` (index into `hidden`) at column `cols[k]` only: for scoring arbitrary pairs."""
        return (hidden[rows] * self.decoder(cols)).sum(-1) + self.decoder_bias[cols]

    def decode_batch(self, hidden: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """The same outputs for a training batch, via one dense (batch × columns) GEMM: gathering a 500-wide decoder
        row per observed entry moves ~5x more memory than the GEMM costs on CPU (measured). Only the observed
        entries are then picked, so the loss stays masked."""
        return (hidden @ self.decoder.weight.T + self.decoder_bias)[rows, cols]

    def weight_norm(self) -> torch.Tensor:
        return self.encoder.weight.pow(2).sum() + self.decoder.weight.pow(2).sum()
