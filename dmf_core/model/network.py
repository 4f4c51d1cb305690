"""The DMF network: two MLP branches and a cosine output (section 2), with an optional DMF-D quantizer head.

Each branch's first layer is a weighted `nn.EmbeddingBag` over the non-empty entries of the input row, which equals
`dense_row @ W` without ever building the dense row. Everything after it is an ordinary MLP on d-dimensional
batches. `embed_rows` returns unit vectors, so the prediction for any (row, column) pair is one dot product: this is
what lets unseen users and items be scored by a forward pass, with no retraining.
"""

from __future__ import annotations

from typing import NamedTuple, get_args

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Activation, AutoRecConfig, InputEncoding, ModelConfig
from .autorec import AutoRecNet
from .biases import REG_ITEM, REG_USER, Biases
from .inputs import SparseBatch, SparseRows, unscale_ratings
from .modes import evaluating
from .quantizer import Quantizer

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "sigmoid": nn.Sigmoid,
    "selu": nn.SELU,
    "gelu": nn.GELU,
}
# config.Activation is the one list of activations (the CLI's choices, the form's options, validate()).
assert set(_ACTIVATIONS) == set(get_args(Activation)), "model._ACTIVATIONS must match config.Activation"


class _SparseLinear(torch.autograd.Function):
    """Σ_k w_k · W[indices_k] per bag: EmbeddingBag's forward, with W's gradient computed as one more EmbeddingBag,
    over the entries grouped by column: ∂W[j] = Σ_{k: indices_k = j} w_k · ∂out[bags_k]. On CPU that is about
    twice as fast as EmbeddingBag's own backward (benchmarks/profile_epoch.py), and it writes the gradient once
    instead of zero-filling the whole table first."""

    @staticmethod
    def forward(ctx, weight, indices, offsets, per_sample_weights, bags):  # type: ignore[override]
        ctx.save_for_backward(indices, per_sample_weights, bags)
        ctx.n_rows = weight.shape[0]
        # Detached, so that EmbeddingBag runs its forward-only kernel (no bookkeeping for its own backward).
        return F.embedding_bag(indices, weight.detach(), offsets, mode="sum", per_sample_weights=per_sample_weights)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        indices, weights, bags = ctx.saved_tensors
        order = torch.sort(indices.to(torch.int32), stable=True).indices  # stable int32: a radix sort, the fastest
        counts = torch.bincount(indices, minlength=ctx.n_rows)
        grad_weight = F.embedding_bag(bags[order], grad.contiguous(), torch.cumsum(counts, 0) - counts, mode="sum",
                                      per_sample_weights=weights[order])
        return grad_weight, None, None, None, None


def sparse_linear(weight: torch.Tensor, indices: torch.Tensor, offsets: torch.Tensor, values: torch.Tensor,
                  bags: torch.Tensor) -> torch.Tensor:
    """`F.embedding_bag(indices, weight, offsets, mode="sum", per_sample_weights=values)`; on CPU, when W needs a
    gradient, with the faster backward of `_SparseLinear` (elsewhere EmbeddingBag's own)."""
    if weight.device.type == "cpu" and weight.requires_grad and torch.is_grad_enabled() and not values.requires_grad:
        return _SparseLinear.apply(weight, indices, offsets, values, bags)
    return F.embedding_bag(indices, weight, offsets, mode="sum", per_sample_weights=values)


class SparseInput(nn.Module):
    """First layer: W·x + bias for a sparse x, via EmbeddingBag. With the "centered+implicit" encoding each rated
    column contributes W_value[j]·r_ij + W_rated[j], so a rating of 3 (0 after centring) is still seen."""

    def __init__(
        self, n_cols: int, out_features: int, encoding: str, normalize: bool, rating_scale: tuple[float, float],
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.n_cols = n_cols
        self.rating_scale = rating_scale
        self.encoding = encoding
        self.normalize = normalize
        channels = {"rating": 1, "centered+implicit": 2}.get(encoding)
        if channels is None or encoding not in get_args(InputEncoding):
            raise ValueError(f"input encoding must be one of {', '.join(get_args(InputEncoding))}, got {encoding!r}")
        self.bag = nn.EmbeddingBag(channels * n_cols, out_features, mode="sum")
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.xavier_uniform_(self.bag.weight, generator=generator)

    def forward(self, batch: SparseBatch) -> torch.Tensor:
        values = batch.values
        if self.encoding == "rating":
            values = unscale_ratings(values, self.rating_scale)  # the authors feed raw ratings; ours arrive scaled
        if self.normalize:
            counts = batch.counts().clamp_min(1).to(values.dtype)
            values = values * counts.rsqrt()[batch.bags]
        indices, bags = batch.indices, batch.bags
        offsets = batch.offsets()
        if self.encoding == "centered+implicit":
            rated = torch.ones_like(values) if not self.normalize else counts.rsqrt()[batch.bags]
            indices = torch.stack([indices, indices + self.n_cols], dim=1).reshape(-1)
            values = torch.stack([values, rated], dim=1).reshape(-1)
            bags = torch.stack([bags, bags], dim=1).reshape(-1)
            offsets = offsets * 2
        return sparse_linear(self.bag.weight, indices, offsets, values, bags) + self.bias


class BitDropout(nn.Dropout):
    """nn.Dropout whose mask on CPU is cut from random bits, 16 per entry, so one random number serves four entries
    (torch's Bernoulli draws one per entry, 8% of a training epoch on ML-1M). `p` is rounded to a multiple of
    1/65536 and the kept entries are scaled by the rounded value, so the expectation is exact."""

    # The run's generator for the masks (set by `DMFNet.use_generator`); None: torch's global one.
    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            if self.generator is None:
                return super().forward(x)
            keep = torch.rand(x.shape, device=x.device, generator=self.generator) >= self.p
            return x * keep.to(x.dtype) / (1 - self.p)
        threshold = round(self.p * 65536)  # an entry is kept when its 16 bits, read as 0..65535, reach this
        n = x.numel()
        bits = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64,
                             generator=self.generator).view(torch.int16)[:n]
        mask = (bits >= threshold - 32768).to(x.dtype).mul_(65536 / (65536 - threshold))
        return x * mask.view_as(x)


class Branch(nn.Module):
    """h_X or h_Y: sparse first layer, then FC layers; BN and activation after each, dropout after hidden ones.
    As in the authors' code the last layer keeps batch norm but has no activation or dropout."""

    def __init__(self, n_cols: int, config: ModelConfig, rating_scale: tuple[float, float] = (1.0, 5.0),
                 generator: torch.Generator | None = None):
        super().__init__()
        sizes = list(config.hidden)
        self.first = SparseInput(n_cols, sizes[0], config.input_encoding, config.normalize_input, rating_scale,
                                 generator)
        blocks: list[nn.Module] = []
        for index, size in enumerate(sizes):
            last = index == len(sizes) - 1
            block: list[nn.Module] = []
            if index > 0:
                block.append(nn.Linear(sizes[index - 1], size))
            if config.batch_norm:
                block.append(nn.BatchNorm1d(size))
            if not last:
                block.append(_ACTIVATIONS[config.activation]())
                if config.dropout > 0:
                    block.append(BitDropout(config.dropout))
            blocks.append(nn.Sequential(*block))
        self.layers = nn.ModuleList(blocks)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, generator=generator)
                nn.init.zeros_(module.bias)

    def forward(self, batch: SparseBatch) -> torch.Tensor:
        hidden = self.first(batch)
        for layer in self.layers:
            hidden = layer(hidden)
        return hidden


class Outside(NamedTuple):
    """Per-row bias and cosine weight of users that are not rows of the model (see `DMF.outside_users`)."""

    bias: torch.Tensor
    weight: torch.Tensor


class DMFNet(nn.Module):
    """Deep matrix factorisation. `discrete=True` adds DMF-D's learned-boundary quantizer on top of the cosine."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        config: ModelConfig,
        rating_scale: tuple[float, float] = (1.0, 5.0),
        discrete: bool = False,
        learn_boundaries: bool = True,
        rating_step: float = 1.0,
        generator: torch.Generator | None = None,
    ):
        """`generator` draws the initial weights (the run's own; None: torch's global generator)."""
        super().__init__()
        config.validate()
        self.config = config
        self.n_users = n_users
        self.n_items = n_items
        self.rating_scale = rating_scale
        self.rating_step = rating_step  # DMF-D's levels are low, low + step, ..., high
        self.user_branch = Branch(n_items, config, rating_scale, generator)  # a user's row spans the items
        self.item_branch = Branch(n_users, config, rating_scale, generator)  # an item's column spans the users
        self.quantizer = Quantizer(rating_scale, learn_boundaries, rating_step) if discrete else None
        if config.output == "bias+cosine":
            # Fixed, not learned: set from the training ratings by `set_biases` before training; saved with the
            # weights so a checkpoint predicts on its own.
            self.register_buffer("mu", torch.zeros(()))
            self.register_buffer("user_bias", torch.zeros(n_users))
            self.register_buffer("item_bias", torch.zeros(n_items))
            # How far to trust the cosine of a user / item the branches never trained on (1 for seen ones), and of
            # a user from outside the data (the New user page). Fitted on validation ratings by `calibration.calibrate`.
            self.register_buffer("user_weight", torch.ones(n_users))
            self.register_buffer("item_weight", torch.ones(n_items))
            self.register_buffer("new_user_weight", torch.ones(()))
        self.companion: AutoRecNet | None = None
        if config.companion == "i-autorec" and not discrete:
            # I-AutoRec over item columns (companion.py): its encoder reads an item's column of users' ratings, its
            # decoder has one output row per user. Made last, so DMF's own initial weights do not depend on it. Not
            # for DMF-D, which quantizes DMF's own output (its flags default to companion "none").
            self.companion = AutoRecNet(n_users, AutoRecConfig().hidden, generator)
            # The users whose decoder row trained (the rest are scored by DMF alone), and per item the blend
            # (a, c, e) of a·DMF + c·AutoRec + e: fitted for the items seen in training by `companion.fit_companion`,
            # (1, 0, 0), DMF alone, for the others and until then.
            self.register_buffer("companion_users", torch.zeros(n_users, dtype=torch.bool))
            self.register_buffer("blend", torch.tensor([1.0, 0.0, 0.0]).repeat(n_items, 1))

    def use_generator(self, generator: torch.Generator | None) -> None:
        """Draw the dropout masks from `generator` (a training run's own, on the model's device)."""
        for module in self.modules():
            if isinstance(module, BitDropout):
                module.generator = generator

    @property
    def discrete(self) -> bool:
        return self.quantizer is not None

    @property
    def uses_biases(self) -> bool:
        return self.config.output == "bias+cosine"

    def set_biases(self, biases: Biases) -> None:
        if self.uses_biases:
            self.mu.fill_(biases.mu)
            self.user_bias.copy_(torch.as_tensor(biases.user, dtype=torch.float32))
            self.item_bias.copy_(torch.as_tensor(biases.item, dtype=torch.float32))

    def base(self, users: torch.Tensor, items: torch.Tensor, outside: Outside | None = None,
             outside_items: Outside | None = None) -> torch.Tensor:
        """What the cosine is added to, on the rating scale: the scale's midpoint, or μ + b_i + b_j."""
        if not self.uses_biases:
            low, high = self.rating_scale
            return torch.full(users.shape, (low + high) / 2, device=users.device)
        user_bias = self.user_bias if outside is None else outside.bias
        item_bias = self.item_bias if outside_items is None else outside_items.bias
        return self.mu + user_bias[users] + item_bias[items]

    def rating(
        self, cosine: torch.Tensor, users: torch.Tensor, items: torch.Tensor, outside: Outside | None = None,
        outside_items: Outside | None = None,
    ) -> torch.Tensor:
        """The continuous prediction r̂ for (users[k], items[k]) whose branch outputs have cosine `cosine[k]`.
        `outside` (`outside_items`) describes users (items) that are not all the model's own: then `users`
        (`items`) index its rows (the library's users and items given as context)."""
        low, high = self.rating_scale
        if self.uses_biases:
            user_weight = self.user_weight if outside is None else outside.weight
            item_weight = self.item_weight if outside_items is None else outside_items.weight
            cosine = cosine * user_weight[users] * item_weight[items]
        return self.base(users, items, outside, outside_items) + cosine * ((high - low) / 2)

    def blended(self, rating: torch.Tensor, users: torch.Tensor, items: torch.Tensor,
                codes: torch.Tensor) -> torch.Tensor:
        """`rating` (DMF's, clamped to the scale) blended with the companion's for the pairs it can score: a user
        whose decoder row trained and an item of the model's own (indices past the model's, the library's context
        rows, keep DMF's rating). `codes` are the companion's codes of the model's items (`Predictor.build`)."""
        assert self.companion is not None
        own_user, own_item = users < self.n_users, items < self.n_items
        u, i = users.clamp(max=self.n_users - 1), items.clamp(max=self.n_items - 1)
        companion = self.companion.decode_at(codes, i, u).clamp(*self.rating_scale)
        weights = self.blend[i]
        mixed = weights[:, 0] * rating + weights[:, 1] * companion + weights[:, 2]
        return torch.where(own_user & own_item & self.companion_users[u], mixed, rating)

    def dmf_parameters(self) -> list[nn.Parameter]:
        """What DMF's optimizer trains: every parameter but the companion's (trained after, on its own)."""
        return [p for name, p in self.named_parameters() if not name.startswith("companion.")]

    @torch.no_grad()
    def outside_users(self, rows: SparseRows) -> Outside:
        """Users outside the model, from their input rows: biases folded in with the items' biases fixed (as
        `fit_biases` does), and the cosine weight of a new user."""
        return self._outside(rows, self.item_bias if self.uses_biases else None, REG_USER,
                             self.new_user_weight if self.uses_biases else None)

    @torch.no_grad()
    def outside_items(self, cols: SparseRows) -> Outside:
        """Items outside the model, from their input columns: the mirror of `outside_users`, with the cosine weight
        the run fitted for new items (the held-out items' weight, the smallest; 1 when none was held out)."""
        return self._outside(cols, self.user_bias if self.uses_biases else None, REG_ITEM,
                             self.item_weight.min() if self.uses_biases and len(self.item_weight) else None)

    def _outside(self, rows: SparseRows, other_bias: torch.Tensor | None, reg: float,
                 weight: torch.Tensor | None) -> Outside:
        device = rows.values.device
        if other_bias is None or weight is None:  # the paper's cosine output: no biases, weight 1
            return Outside(torch.zeros(rows.n_rows, device=device), torch.ones(rows.n_rows, device=device))
        batch = rows.gather(torch.arange(rows.n_rows, device=device))
        residual = unscale_ratings(batch.values, self.rating_scale) - self.mu - other_bias[batch.indices]
        sums = torch.zeros(rows.n_rows, device=device).index_add_(0, batch.bags, residual)
        return Outside(sums / (batch.counts() + reg), weight.expand(rows.n_rows))

    def embed_users(self, batch: SparseBatch) -> torch.Tensor:
        return F.normalize(self.user_branch(batch), dim=-1, eps=1e-8)

    def embed_items(self, batch: SparseBatch) -> torch.Tensor:
        return F.normalize(self.item_branch(batch), dim=-1, eps=1e-8)

    @torch.no_grad()
    def embed_all(self, rows: SparseRows, users: bool, chunk: int = 4096) -> torch.Tensor:
        """Unit-norm latent factors for every row of `rows`, in eval mode; the model's mode is given back after."""
        embed = self.embed_users if users else self.embed_items
        device = rows.indptr.device
        with evaluating(self):
            parts = [
                embed(rows.gather(torch.arange(start, min(start + chunk, rows.n_rows), device=device)))
                for start in range(0, rows.n_rows, chunk)
            ]
        if not parts:
            return torch.zeros(0, self.config.hidden[-1], device=device)
        return torch.cat(parts)

    def describe(self) -> str:
        kind = "DMF-D" if self.discrete else "DMF"
        n_params = sum(p.numel() for p in self.dmf_parameters())
        text = f"{kind} {list(self.config.hidden)} {self.config.activation}, {n_params / 1e6:.2f}M parameters"
        if self.companion is not None:
            extra = sum(p.numel() for p in self.companion.parameters())
            text += f", blended with an I-AutoRec companion ({extra / 1e6:.2f}M parameters)"
        return text
