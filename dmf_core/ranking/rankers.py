"""Top-N rankers for a person no model trained on, each scoring every item from that person's ratings alone (no
retraining): the ranking baselines and the ranking `DMF.recommend` uses.

- most popular: number of ratings in training;
- item-kNN: cosine between the items' training rating columns, each item keeping its k nearest; a person's score of
  item j is Σ over their rated items i of rating(i) · sim(i, j);
- EASE (Steck, 2019): B = I − P / diag(P) with P = (XᵀX + λI)⁻¹ on the binary "rated" training matrix X, diag(B) = 0;
  a person's scores are x·B with x their "rated" row;
- `relevance`: DMF's chosen ranking (what `DMF.recommend` ranks by): the predicted rating times an estimate of the
  probability of rating the item, from co-ratings (why: below); `rating_with_popularity`, a simpler candidate.

Every function takes plain arrays; `ranking.py` runs them on the same users and selects k, λ and the weights on
validation users.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..config import RATING_WEIGHT
from ..data import RatingData
from ..data.split import AreaSplit


def rated_matrix(data: RatingData, split: AreaSplit) -> sp.csr_matrix:
    """Who rated what among the ratings a trained model reads (an item's input column: observed ratings by users seen
    in training), as a binary users × items matrix. Held-out ratings and held-out users never count: they are what a
    ranking is tested on."""
    keep = split.item_input_mask(data)
    return sp.csr_matrix((np.ones(int(keep.sum()), np.float32), (data.users[keep], data.items[keep])),
                         shape=(data.n_users, data.n_items))


def co_rated(rated: sp.csr_matrix, context: sp.csr_matrix) -> np.ndarray:
    """For each row of `context` (a person's rated items, binary, over the same items as `rated`), every item's summed
    cosine with those items in `rated` (two items are close when the same people rated both): (rows, items)."""
    counts = np.asarray(rated.sum(0)).ravel()
    scale = 1.0 / np.sqrt(np.maximum(counts, 1.0))
    through_users = (context @ sp.diags(scale)) @ rated.T  # rows × users
    return np.asarray((through_users @ rated).todense()) * scale[None, :]


def relevance(unclamped: np.ndarray, co: np.ndarray, weight: float, scale: tuple[float, float]) -> np.ndarray:
    """DMF's top-N ranking: log(co-rating score) + `weight` · the predicted rating (on 0..1 of the scale, unclamped).

    Why: a relevant item is one the person rates *and* rates highly. A rating model estimates only the second (it
    learns from the ratings people chose to give), so on its own it puts items with a few high ratings first. The
    first is estimated by how often the person's rated items are co-rated with the item (`co_rated`), and the two
    multiply: P(relevant) = P(rated) · P(liked | rated), with P(liked | rated) log-linear in the predicted rating.
    `weight`, chosen on validation users, trades one for the other: 0 ranks by co-rating alone, a large weight by
    the predicted rating."""
    low, high = scale
    return np.log(np.asarray(co, np.float64) + 1e-6) + weight * (np.asarray(unclamped, np.float64) - low) / (high - low)


def rating_with_popularity(unclamped: np.ndarray, popularity: np.ndarray, weight: float,
                           scale: tuple[float, float]) -> np.ndarray:
    """A simpler candidate, kept for comparison in the protocol: the predicted rating (0..1 of the scale) plus
    `weight` · log(1 + the item's ratings in training), a popularity prior in place of the person's co-ratings."""
    low, high = scale
    return (np.asarray(unclamped, np.float64) - low) / (high - low) + weight * np.log1p(popularity)


def training_matrix(data: RatingData, keep: np.ndarray | None = None) -> sp.csr_matrix:
    """The training ratings as a users × items sparse matrix (float32; 0 where unrated)."""
    keep = np.ones(data.n_ratings, dtype=bool) if keep is None else keep
    return sp.csr_matrix((data.ratings[keep].astype(np.float32), (data.users[keep], data.items[keep])),
                         shape=(data.n_users, data.n_items))


def cosine_similarity(ratings: sp.csr_matrix) -> np.ndarray:
    """items × items cosine similarity of the training rating columns, 0 on the diagonal."""
    gram = (ratings.T @ ratings).toarray().astype(np.float32)
    norms = np.sqrt(np.maximum(np.diag(gram), 1e-12))
    sim = gram / norms[:, None] / norms[None, :]
    np.fill_diagonal(sim, 0.0)
    return sim


def nearest(sim: np.ndarray, k: int) -> np.ndarray:
    """`sim` with each row keeping only its `k` largest entries (all of them when k is 0 or the row's length)."""
    if not 0 < k < sim.shape[1]:
        return sim
    kept = sim.copy()
    np.put_along_axis(kept, np.argpartition(-sim, k, axis=1)[:, k:], 0.0, axis=1)
    return kept


def ease_weights(rated_gram: np.ndarray, lam: float) -> np.ndarray:
    """EASE's item-item weights B from XᵀX of the binary rated matrix (`rated_gram`, items × items) and λ."""
    gram = rated_gram.astype(np.float64) + lam * np.eye(len(rated_gram))
    inverse = np.linalg.inv(gram)
    weights = inverse / -np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


def rated_gram(ratings: sp.csr_matrix) -> np.ndarray:
    """XᵀX of the binary "rated" matrix: how many users rated both items i and j."""
    rated = (ratings != 0).astype(np.float32)
    return (rated.T @ rated).toarray()


RANKINGS = ("relevance", "rating")  # `DMF.recommend(by=...)`: the default first


def recommended(unclamped: np.ndarray, rated: sp.csr_matrix, mine: np.ndarray | list[int], k: int,
                by: str = RANKINGS[0], weight: float | None = None, scale: tuple[float, float] = (1.0, 5.0),
                skip: np.ndarray | list[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best item indices for one person who rated the items `mine`, best first, those and `skip` left out,
    with the score each was ranked by (descending): by `relevance` (co-ratings in `rated`, the model's
    `rated_matrix`; `weight`, default `config.RATING_WEIGHT`) or, `by="rating"`, by the plain predicted rating
    `unclamped`. Ties go to the more popular item."""
    if by not in RANKINGS:
        raise ValueError(f"by must be one of {', '.join(map(repr, RANKINGS))}, got {by!r}")
    weight = RATING_WEIGHT if weight is None else weight
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not np.isfinite(weight) or weight < 0:
        raise ValueError(f"rating_weight must be a number >= 0, got {weight!r}")
    mine = np.asarray(mine, dtype=np.int64)
    key = np.asarray(unclamped, np.float64)
    if by == RANKINGS[0]:
        person = sp.csr_matrix((np.ones(len(mine), np.float32), (np.zeros(len(mine), np.int64), mine)),
                               shape=(1, rated.shape[1]))
        key = relevance(unclamped, co_rated(rated, person)[0], weight, scale)
    popularity = np.asarray(rated.sum(0)).ravel()
    candidates = np.ones(len(key), dtype=bool)
    candidates[mine] = False
    candidates[np.asarray(skip, dtype=np.int64)] = False
    index = np.flatnonzero(candidates)
    chosen = index[np.lexsort((-popularity[index], -key[index]))[:k]]
    return chosen, key[chosen]
