"""Prediction: a trained model's latent factors for every user and item, embedded once; a rating is their cosine
(plus the biases, for the bias+cosine output), so scoring millions of pairs is one gather and a dot product each.
With a trained companion (`companion.py`) its codes of every item are embedded once too, and the ratings of users it
trained on are blended with its own."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..model.inputs import MatrixInputs, SparseRows, unscale_ratings
from ..model.modes import evaluating
from ..model.network import DMFNet, Outside


@dataclass
class Predictor:
    """Latent factors for every user and item of a dataset, computed once; predictions are dot products."""

    model: DMFNet
    user_factors: torch.Tensor
    item_factors: torch.Tensor
    # Biases and weights of the rows of `user_factors` (`item_factors`) when they are not the model's own users (items).
    outside: Outside | None = None
    outside_items: Outside | None = None
    # The companion's codes of the model's items (None: DMF alone, as before the companion trained or without one).
    companion_codes: torch.Tensor | None = None

    @classmethod
    def build(cls, model: DMFNet, inputs: MatrixInputs) -> Predictor:
        users = model.embed_all(inputs.user_rows, users=True)  # in eval mode; the model's own mode back after
        items = model.embed_all(inputs.item_cols, users=False)
        predictor = cls(model, users, items)
        return predictor.with_companion(inputs) if model.companion is not None else predictor

    def with_companion(self, inputs: MatrixInputs) -> Predictor:
        """This predictor with the companion's codes of every item (blended ratings), once its decoder trained on
        some user; else DMF alone. The factors are reused, not embedded again."""
        model = self.model
        if model.companion is None or not bool(model.companion_users.any()):
            return replace(self, companion_codes=None)
        codes = model.companion.encode_all(inputs.item_cols, values=lambda v: unscale_ratings(v, model.rating_scale))
        return replace(self, companion_codes=codes)

    @torch.no_grad()
    def continuous(self, users: np.ndarray, items: np.ndarray, chunk: int | None = None,
                   clamp: bool = True) -> np.ndarray:
        """Predicted ratings of (user, item) index pairs; `clamp=False`: before the clamp to the scale (what a
        ranking reads: many items clamped at the top would tie)."""
        low, high = self.model.rating_scale if clamp else (-np.inf, np.inf)
        out = np.empty(len(users), dtype=np.float32)
        device = self.user_factors.device
        # On CPU, small chunks keep the gathered factor rows in cache: 4096 pairs score ML-1M's 50k validation
        # ratings 3x faster than 262,144 (whose 268 MB temporaries are fresh memory, page-faulted in every call).
        chunk = chunk or (1 << 12 if device.type == "cpu" else 1 << 18)
        for start in range(0, len(users), chunk):
            u = torch.as_tensor(users[start : start + chunk], device=device)
            i = torch.as_tensor(items[start : start + chunk], device=device)
            cosine = (self.user_factors[u] * self.item_factors[i]).sum(-1)
            rating = self.model.rating(cosine, u, i, self.outside, self.outside_items)
            if self.companion_codes is not None:  # the blend reads DMF's clamped rating (as it was fitted)
                rating = self.model.blended(rating.clamp(*self.model.rating_scale), u, i, self.companion_codes)
            rating = rating.clamp(low, high)
            out[start : start + chunk] = rating.cpu().numpy()
        return out

    @torch.no_grad()
    def discrete(self, continuous: np.ndarray) -> np.ndarray:
        """DMF-D's exact hard quantizer Q_b (λ → ∞) applied to continuous predictions."""
        if self.model.quantizer is None:
            raise ValueError("this model has no quantizer (train with --model dmf-d)")
        x = torch.as_tensor(continuous, device=self.model.quantizer.boundaries.device)
        return self.model.quantizer.hard(x).cpu().numpy()

    @torch.no_grad()
    def _embed_one(self, rows: SparseRows, users: bool) -> torch.Tensor:
        """The unit latent vector (1, d) a branch gives the one row of `rows`, in eval mode."""
        device = self.user_factors.device
        batch = rows.to(device).gather(torch.zeros(1, dtype=torch.long, device=device))
        with evaluating(self.model):
            return self.model.embed_users(batch) if users else self.model.embed_items(batch)

    def new_user_factor(self, row: SparseRows) -> torch.Tensor:
        """U_t, the unit latent vector (1, d) the user branch gives one unseen user from their ratings alone."""
        return self._embed_one(row, users=True)

    @torch.no_grad()
    def new_user_scores(self, row: SparseRows, factor: torch.Tensor | None = None, clamp: bool = True) -> np.ndarray:
        """Predicted rating of every item for one unseen user given only their ratings (area II / IV); `factor` is
        their `new_user_factor`, when the caller already has it. `clamp=False`: the score before it is clamped to
        the scale, which a ranking needs (many items clamped at the top would tie)."""
        return self.new_users_scores(row, factor, clamp)[0]

    @torch.no_grad()
    def new_users_scores(self, rows: SparseRows, factors: torch.Tensor | None = None, clamp: bool = True,
                         chunk: int = 256) -> np.ndarray:
        """`new_user_scores` for every row of `rows` (users never trained on) at once: (rows, items)."""
        device = self.user_factors.device
        rows = rows.to(device)
        if factors is None:
            factors = self.model.embed_all(rows, users=True)
        outside = self.model.outside_users(rows)
        n_items = len(self.item_factors)
        out = np.empty((rows.n_rows, n_items), dtype=np.float32)
        for start in range(0, rows.n_rows, chunk):
            cosine = factors[start : start + chunk] @ self.item_factors.T
            users = torch.arange(start, start + len(cosine), device=device)[:, None].expand_as(cosine)
            items = torch.arange(n_items, device=device)[None, :].expand_as(cosine)
            scores = self.model.rating(cosine, users, items, outside)
            out[start : start + len(cosine)] = (scores.clamp(*self.model.rating_scale) if clamp else scores).cpu().numpy()
        return out

    def new_item_factor(self, column: SparseRows) -> torch.Tensor:
        """V_t, the unit latent vector (1, d) the item branch gives one unseen item from its ratings alone (a 1-row
        SparseRows over the users: the item's column)."""
        return self._embed_one(column, users=False)

    @torch.no_grad()
    def new_item_scores(self, column: SparseRows, factor: torch.Tensor | None = None) -> np.ndarray:
        """Predicted rating of one unseen item by every user of `user_factors` (area III / IV), the mirror of
        `new_user_scores`: its bias is folded in from its column with the users' biases fixed, and its cosine gets
        the weight the run fitted for new items (the smallest item weight: 1 when no item was held out)."""
        device = self.user_factors.device
        column = column.to(device)
        factor = self.new_item_factor(column) if factor is None else factor
        users = torch.arange(len(self.user_factors), device=device)
        scores = self.model.rating((self.user_factors @ factor[0]).float(), users, torch.zeros_like(users),
                                   self.outside, self.model.outside_items(column))
        return scores.clamp(*self.model.rating_scale).cpu().numpy()
