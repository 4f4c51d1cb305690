"""Top-N for new users (area II), measured: `rank_eval` (the CLI's `rank-eval`).

The protocol. A share of the users (`users_frac`, default 10%) is held out as test users and a separate share
(`val_users_frac`) as validation users; DMF (the paper's model alone, companion "none") and every baseline are built
from the other users' ratings only. Each held-out user gives `n` of their ratings as context (drawn at random with the
seed); every item the model knows that is not in the context is ranked, and the relevant items are the user's other
ratings at or above 3/4 of the scale (4 on 1..5). Users with fewer than n + 1 ratings on known items, or no relevant
item outside the context, are left out (and counted). k of item-kNN, λ of EASE and the weights of DMF's rankings
are chosen on the validation users (at n = 10, or the middle n given), never on the test users.

DMF is ranked three ways: by its predicted rating (unclamped), by that rating plus a popularity prior, and by
`rankers.relevance` (co-ratings times the predicted rating), which `DMF.recommend` uses with `config.RATING_WEIGHT`.

Reported per method and n, each with a 95% interval over the test users: Recall@10 (hits / min(10, relevant), as in
Liang et al. 2018), NDCG@10 (binary gains), the mean popularity percentile of the ten items (100: the most rated
item), and the catalogue coverage@10 (distinct items in all top-10 lists / items known; a catalogue-level number,
its interval ± 1.96 standard errors from 200 bootstrap resamples of the test users). The loaded data carries no timestamps, so contexts are
random, never "the earliest n".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..api import DMF
from ..config import MAX_SEED, RATING_WEIGHT
from ..data import RatingData
from ..model.biases import REG_USER, fit_biases, shrunk_mean
from ..scoring.context import rows_of
from ..scoring.observed import training_popularity
from . import rankers

TOP = 10
KNN_GRID = (10, 25, 50, 100, 250, 0)  # 0: every item a neighbour
EASE_GRID = (100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0)
PRIOR_GRID = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)  # DMF + popularity prior (`rankers.rating_with_popularity`)
WEIGHT_GRID = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 4.0)  # DMF relevance (`rankers.relevance`): the rating's weight
BOOTSTRAP = 200
RECOMMEND = "DMF relevance (recommend)"  # `DMF.recommend`'s ranking, with its built-in weight
Scorer = Callable[["RankingTask"], np.ndarray]


@dataclass(frozen=True)
class HeldOut:
    """The ratings of held-out users on items the model knows (items in the training data's index)."""

    users: np.ndarray  # 0..n_users-1
    items: np.ndarray
    ratings: np.ndarray
    rank: np.ndarray  # a random rank within the user: the context is the user's n ratings of lowest rank
    n_users: int


@dataclass(frozen=True)
class RankingTask:
    """One user per row: n context ratings, and the relevant items among the rest."""

    rows: np.ndarray  # context: row, item, rating
    items: np.ndarray
    ratings: np.ndarray
    relevant: np.ndarray  # bool (rows, items)
    n_items: int
    skipped: int  # held-out users left out: too few ratings, or nothing relevant outside the context

    @property
    def n_rows(self) -> int:
        return len(self.relevant)

    def rated(self) -> sp.csr_matrix:
        """The context as a binary rows × items matrix."""
        return sp.csr_matrix((np.ones(len(self.rows), np.float32), (self.rows, self.items)),
                             shape=(self.n_rows, self.n_items))

    def dense(self) -> np.ndarray:
        matrix = np.zeros((self.n_rows, self.n_items), dtype=np.float32)
        matrix[self.rows, self.items] = self.ratings
        return matrix


def split_users(n_users: int, users_frac: float, val_users_frac: float, seed: int) -> np.ndarray:
    """0 (training), 1 (validation) or 2 (test) per user, drawn with the seed."""
    for name, value in (("users_frac", users_frac), ("val_users_frac", val_users_frac)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be a fraction in (0, 1), got {value}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number in 0..{MAX_SEED}, got {seed!r}")
    if users_frac + val_users_frac >= 0.9:
        raise ValueError("users_frac + val_users_frac must leave at least 10% of the users to train on")
    order = np.random.default_rng(seed).permutation(n_users)
    n_test, n_val = int(round(users_frac * n_users)), int(round(val_users_frac * n_users))
    if min(n_test, n_val) < 1:
        raise ValueError(f"{n_users} users are too few to hold out test and validation users")
    role = np.zeros(n_users, dtype=np.int8)
    role[order[:n_test]], role[order[n_test : n_test + n_val]] = 2, 1
    return role


def training_part(data: RatingData, keep_user: np.ndarray) -> tuple[RatingData, np.ndarray]:
    """The ratings of the training users, over the items they rated; and each item's index there (-1: unknown)."""
    rows = keep_user[data.users]
    known = np.bincount(data.items[rows], minlength=data.n_items) > 0
    item_map = np.where(known, np.cumsum(known) - 1, -1)
    user_map = np.cumsum(keep_user) - 1
    titles = [data.item_titles[i] for i in np.flatnonzero(known)] if data.item_titles is not None else None
    train = RatingData(users=user_map[data.users[rows]], items=item_map[data.items[rows]],
                       ratings=data.ratings[rows], user_ids=data.user_ids[keep_user], item_ids=data.item_ids[known],
                       name=f"{data.name} (training users)", rating_scale=data.rating_scale, item_titles=titles,
                       rating_step=data.rating_step)
    return train, item_map


def held_out(data: RatingData, users: np.ndarray, item_map: np.ndarray, seed: int) -> HeldOut:
    """The ratings of `users` (a bool mask) on items the model knows, each with a random rank within its user."""
    rows = users[data.users] & (item_map[data.items] >= 0)
    position = np.cumsum(users) - 1
    owner = position[data.users[rows]]
    order = np.lexsort((np.random.default_rng(seed).random(len(owner)), owner))
    counts = np.bincount(owner, minlength=int(users.sum()))
    rank = np.empty(len(owner), dtype=np.int64)
    rank[order] = np.arange(len(owner)) - np.concatenate([[0], np.cumsum(counts)])[owner[order]]
    return HeldOut(owner, item_map[data.items[rows]], data.ratings[rows], rank, int(users.sum()))


def make_task(users: HeldOut, n: int, threshold: float, n_items: int) -> RankingTask:
    """Each held-out user's n context ratings and their relevant items; users without both are skipped."""
    context = users.rank < n
    relevant = ~context & (users.ratings >= threshold)
    counts = np.bincount(users.users, minlength=users.n_users)
    has_relevant = np.bincount(users.users[relevant], minlength=users.n_users) > 0
    eligible = (counts > n) & has_relevant
    row = np.cumsum(eligible) - 1
    chosen = context & eligible[users.users]
    target = np.zeros((int(eligible.sum()), n_items), dtype=bool)
    keep = relevant & eligible[users.users]
    target[row[users.users[keep]], users.items[keep]] = True
    return RankingTask(row[users.users[chosen]], users.items[chosen], users.ratings[chosen], target, n_items,
                int(users.n_users - eligible.sum()))


def top_items(scores: np.ndarray, task: RankingTask, k: int = TOP) -> np.ndarray:
    """The k best items per row, best first, the context items left out."""
    scores = np.array(scores, dtype=np.float64)
    scores[task.rows, task.items] = -np.inf
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def per_user(top: np.ndarray, relevant: np.ndarray, percentile: np.ndarray) -> dict[str, np.ndarray]:
    """Recall@k, NDCG@k and the mean popularity percentile per user, from their top-k (rows) and relevant items."""
    k = top.shape[1]
    hits = np.take_along_axis(relevant, top, axis=1)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    best = np.minimum(relevant.sum(1), k)
    ideal = np.cumsum(discount)[np.maximum(best, 1) - 1]
    return {"recall": hits.sum(1) / np.maximum(best, 1), "ndcg": (hits * discount).sum(1) / ideal,
            "popularity_percentile": percentile[top].mean(1)}


def interval(values: np.ndarray) -> dict[str, float]:
    """The mean and its 95% interval (normal approximation, over users)."""
    mean = float(values.mean())
    half = 1.96 * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return {"mean": mean, "low": mean - half, "high": mean + half}


def coverage(top: np.ndarray, n_items: int, seed: int) -> dict[str, float]:
    """Distinct items in all top lists / items known, with a 95% interval from bootstrap resamples of the users."""
    rng = np.random.default_rng(seed)
    draws = [np.unique(top[rng.integers(0, len(top), len(top))]).size / n_items for _ in range(BOOTSTRAP)]
    # ± 1.96 bootstrap standard errors: a resample repeats users, so its coverage is biased low and its percentiles
    # would not hold the estimate.
    mean, half = np.unique(top).size / n_items, 1.96 * float(np.std(draws, ddof=1))
    return {"mean": mean, "low": mean - half, "high": mean + half}


def measure(scores: np.ndarray, task: RankingTask, percentile: np.ndarray, seed: int,
            ndcg: dict[str, np.ndarray] | None = None, name: str = "") -> dict[str, Any]:
    """Every metric with its interval; each user's NDCG@10 goes into `ndcg[name]` when given (for paired gaps)."""
    top = top_items(scores, task)
    values = per_user(top, task.relevant, percentile)
    report = {metric: interval(v) for metric, v in values.items()}
    report["coverage"] = coverage(top, task.n_items, seed)
    if ndcg is not None:
        ndcg[name] = values["ndcg"]
    return report


def gaps(ndcg: dict[str, np.ndarray], ours: str) -> dict[str, dict[str, float]]:
    """`ours`' NDCG@10 minus every other method's, user by user, with a 95% interval: the paired comparison."""
    return {name: interval(ndcg[ours] - values) for name, values in ndcg.items() if name != ours}


def popularity_percentile(popularity: np.ndarray) -> np.ndarray:
    """Each item's popularity as a percentile of the known items (about 100: the most rated; ties share one)."""
    # Average ranks (1-based; a tied group shares the mean of its ranks), as scipy.stats.rankdata gives them: numpy's
    # own here, since importing scipy.stats costs every command of the CLI about half a second.
    _, group, counts = np.unique(popularity, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[group.reshape(-1)]
    return 100.0 * (ranks - 0.5) / len(popularity)


# --------------------------------------------------------------------------------------------------- the methods


def dmf_scores(model: DMF, task: RankingTask) -> np.ndarray:
    """DMF's predicted rating of every item for each row of `task`, unclamped (clamped ratings tie at the top)."""
    predictor, scale = model.predictor_, model.observed_.data.rating_scale
    rows = rows_of(task.rows, task.items, task.ratings, task.n_rows, task.n_items, scale,
                   predictor.user_factors.device)
    return predictor.new_users_scores(rows, clamp=False)


def baseline_scorers(train: RatingData, model: DMF) -> dict[str, Scorer]:
    """Most popular, and global mean + biases ranked by predicted rating (a new user's bias folded in: it does not
    change the order)."""
    popularity = np.bincount(train.items, minlength=train.n_items).astype(np.float64)
    biases = fit_biases(model.observed_.data, model.observed_.split)

    def by_biases(task: RankingTask) -> np.ndarray:
        residual = task.ratings - biases.mu - biases.item[task.items]
        user = shrunk_mean(residual, task.rows, task.n_rows, REG_USER)
        return biases.mu + user[:, None] + biases.item[None, :]

    return {"most popular": lambda task: np.broadcast_to(popularity, (task.n_rows, len(popularity))),
            "mean + biases, by rating": by_biases}


def knn_scorer(sim: np.ndarray) -> Scorer:
    """item-kNN: Σ over the context of rating · similarity."""
    return lambda task: task.dense() @ sim


def ease_scorer(weights: np.ndarray) -> Scorer:
    """EASE: the context's "rated" row times B."""
    return lambda task: (task.dense() != 0).astype(np.float32) @ weights


def best_on(val: RankingTask, percentile: np.ndarray, seed: int, candidates: dict[Any, Scorer]) -> tuple[Any, dict]:
    """The candidate with the highest validation NDCG@10, and every candidate's validation NDCG@10."""
    scores = {key: measure(score(val), val, percentile, seed)["ndcg"]["mean"] for key, score in candidates.items()}
    return max(scores, key=scores.get), {str(key): value for key, value in scores.items()}


def selected_scorers(train: RatingData, model: DMF, val: RankingTask, percentile: np.ndarray, seed: int,
                     say: Callable[[str], None]) -> tuple[dict[str, Scorer], dict[str, Any], dict[str, Any]]:
    """item-kNN's k, EASE's λ and DMF's weights, each chosen on the validation users."""
    ratings = rankers.training_matrix(train)
    sim = rankers.cosine_similarity(ratings)
    knn = {k: knn_scorer(rankers.nearest(sim, k)) for k in KNN_GRID}
    k, knn_val = best_on(val, percentile, seed, knn)
    say(f"item-kNN: k = {k or 'all'} chosen on validation users (NDCG@10 {knn_val[str(k)]:.4f})")
    gram = rankers.rated_gram(ratings)
    ease = {lam: ease_scorer(rankers.ease_weights(gram, lam)) for lam in EASE_GRID}
    lam, ease_val = best_on(val, percentile, seed, ease)
    say(f"EASE: λ = {lam:g} chosen on validation users (NDCG@10 {ease_val[str(lam)]:.4f})")
    dmf_methods, dmf_chosen, dmf_val = dmf_scorers(model, val, percentile, seed, say)
    methods = {"item-kNN": knn[k], "EASE": ease[lam], **dmf_methods}
    chosen = {"item_knn_k": k or "all", "ease_lambda": lam, **dmf_chosen}
    return methods, chosen, {"item_knn_k": knn_val, "ease_lambda": ease_val, **dmf_val}


def dmf_scorers(model: DMF, val: RankingTask, percentile: np.ndarray, seed: int,
                say: Callable[[str], None]) -> tuple[dict[str, Scorer], dict[str, Any], dict[str, Any]]:
    """DMF by predicted rating; with a popularity prior (its weight chosen on validation); and by `relevance`, the
    ranking `recommend` uses, with its built-in weight (and the weight validation chooses, where that differs)."""
    observed, scale = model.observed_, model.observed_.data.rating_scale
    popularity = training_popularity(observed.data, observed.split)
    rated = rankers.rated_matrix(observed.data, observed.split)

    def with_prior(weight: float) -> Scorer:
        return lambda t: rankers.rating_with_popularity(dmf_scores(model, t), popularity, weight, scale)

    def by_relevance(weight: float) -> Scorer:
        return lambda t: rankers.relevance(dmf_scores(model, t), rankers.co_rated(rated, t.rated()), weight, scale)

    prior, prior_val = best_on(val, percentile, seed, {w: with_prior(w) for w in PRIOR_GRID})
    weight, weight_val = best_on(val, percentile, seed, {w: by_relevance(w) for w in WEIGHT_GRID})
    say(f"DMF: popularity prior weight {prior:g} (NDCG@10 {prior_val[str(prior)]:.4f}), relevance rating weight "
        f"{weight:g} (NDCG@10 {weight_val[str(weight)]:.4f}; recommend's {RATING_WEIGHT:g}) on validation users")
    methods = {"DMF, by rating": with_prior(0.0), f"DMF + popularity prior (w {prior:g})": with_prior(prior),
               "co-ratings alone (relevance, w 0)": by_relevance(0.0), RECOMMEND: by_relevance(RATING_WEIGHT)}
    if weight != RATING_WEIGHT:
        methods[f"DMF relevance (w {weight:g}: validation's)"] = by_relevance(weight)
    chosen = {"popularity_prior_weight": prior, "rating_weight": weight, "recommend_rating_weight": RATING_WEIGHT}
    return methods, chosen, {"popularity_prior_weight": prior_val, "rating_weight": weight_val}


# -------------------------------------------------------------------------------------------------- the protocol


def rank_eval(data: RatingData, *, seed: int = 0, n: tuple[int, ...] = (5, 10, 20), users_frac: float = 0.1,
              val_users_frac: float = 0.1, max_seconds: float | None = 200.0,
              say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The top-N protocol for new users (module docstring) on `data`: every method on the same test users, for each
    context size in `n`. `max_seconds`: DMF's training budget. `say`: progress lines (and DMF's progress bar on
    stderr); None is silent. Returns a JSON-ready dict; `format_table` prints it."""
    if not n or any(isinstance(size, bool) or int(size) != size or size < 1 for size in n):
        raise ValueError(f"n must be whole numbers >= 1, got {n!r}")
    started, tell = time.monotonic(), say or (lambda _: None)
    role = split_users(data.n_users, users_frac, val_users_frac, seed)
    train, item_map = training_part(data, role == 0)
    low, high = data.rating_scale
    threshold = low + 0.75 * (high - low)
    tell(f"{data.name}: DMF and the baselines learn from {train.n_users:,} users ({train.n_ratings:,} ratings, "
         f"{train.n_items:,} items); {int((role == 1).sum()):,} validation and {int((role == 2).sum()):,} test users "
         f"held out; relevant: a rating >= {threshold:g}")
    model = DMF(companion="none", new_users=0.0, new_items=0.0, test_frac=0.01, seed=seed, max_seconds=max_seconds,
                quiet=say is None).fit(train)
    tell(f"DMF trained: {model.metrics_['epochs_run']} epochs in {model.metrics_['train_seconds']:.0f} s "
         f"({model.metrics_['stop_reason']})")
    percentile = popularity_percentile(np.bincount(train.items, minlength=train.n_items))
    select_n = 10 if 10 in n else sorted(n)[len(n) // 2]
    val = make_task(held_out(data, role == 1, item_map, seed + 1), select_n, threshold, train.n_items)
    methods, chosen, validation = selected_scorers(train, model, val, percentile, seed, tell)
    methods = {**baseline_scorers(train, model), **methods}
    test, results = held_out(data, role == 2, item_map, seed), {}
    for size in n:
        task = make_task(test, int(size), threshold, train.n_items)
        if task.n_rows < 2:
            raise ValueError(f"n = {size}: fewer than 2 test users have more than {size} ratings and a relevant one")
        ndcg: dict[str, np.ndarray] = {}
        scored = {name: measure(score(task), task, percentile, seed, ndcg, name) for name, score in methods.items()}
        results[str(size)] = {"users": task.n_rows, "skipped": task.skipped, "methods": scored,
                              "recommend_ndcg_gap": gaps(ndcg, RECOMMEND)}
        tell(f"n = {size}: {len(methods)} methods scored on {task.n_rows:,} test users")
    return {"data": data.name, "seed": seed, "n": [int(size) for size in n], "users_frac": users_frac,
            "val_users_frac": val_users_frac, "relevant_from": threshold, "top": TOP, "selected_at_n": select_n,
            "train": {"users": train.n_users, "items": train.n_items, "ratings": train.n_ratings,
                      "dmf_epochs": model.metrics_["epochs_run"], "dmf_seconds": model.metrics_["train_seconds"],
                      "dmf_stop": model.metrics_["stop_reason"], "dmf_model": "DMF (companion none), bias+cosine"},
            "chosen": chosen, "validation_ndcg": validation, "results": results,
            "seconds": time.monotonic() - started}


def format_table(report: dict[str, Any]) -> str:
    """Every method's Recall@10, NDCG@10, coverage@10 and popularity percentile, with 95% intervals, per n."""
    def cell(value: dict[str, float], digits: int) -> str:
        return f"{value['mean']:.{digits}f} [{value['low']:.{digits}f}, {value['high']:.{digits}f}]"

    lines = [f"Top-{report['top']} for new users on {report['data']} (seed {report['seed']}); k, λ and w chosen on "
             f"validation users at n = {report['selected_at_n']}: item-kNN k = {report['chosen']['item_knn_k']}, "
             f"EASE λ = {report['chosen']['ease_lambda']:g}, DMF relevance w = {report['chosen']['rating_weight']:g} "
             f"(recommend's: {report['chosen']['recommend_rating_weight']:g}); model: {report['train']['dmf_model']}"]
    for size, block in report["results"].items():
        lines += ["", f"n = {size} context ratings: {block['users']:,} test users ({block['skipped']} left out)",
                  f"{'method':<40} {'Recall@10':<22} {'NDCG@10':<22} {'coverage@10':<22} popularity pct"]
        for name, row in block["methods"].items():
            lines.append(f"{name:<40} {cell(row['recall'], 3):<22} {cell(row['ndcg'], 3):<22} "
                         f"{cell(row['coverage'], 3):<22} {cell(row['popularity_percentile'], 1)}")
        lines.append(f"{RECOMMEND}, NDCG@10 minus (paired, per user): " + "; ".join(
            f"{name} {cell(gap, 3)}" for name, gap in block["recommend_ndcg_gap"].items()
            if name in ("most popular", "item-kNN", "EASE", "DMF, by rating")))
    return "\n".join(lines)


__all__ = ["HeldOut", "RankingTask", "format_table", "make_task", "measure", "per_user", "rank_eval", "split_users"]
