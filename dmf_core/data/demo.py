"""A MovieLens-shaped rating set generated from a seed, so the app, CLI and tests run offline with nothing to download.

Shape, after ML-1M: user activity is lognormal above a floor of 20 ratings per user, item popularity is lognormal
(a long tail), ratings come from a rank-8 latent model plus user/item biases and noise, cut into 1..5 stars at
thresholds chosen so the star histogram matches ML-1M's. The low-rank part is real structure for a model to learn;
the noise keeps it from being trivially exact.
"""

from __future__ import annotations

import numpy as np

from .ratings import RatingData, from_triples

STAR_SHARES = (0.06, 0.11, 0.26, 0.35, 0.22)  # ML-1M's share of 1..5 stars, rounded
MIN_RATINGS_PER_USER = 20  # ML-1M only kept users with at least 20 ratings
RANK = 8

# Spreads on the latent score scale (total sd ~1). Item bias dominates the biases as in ML-1M, where per-item means
# already beat the global mean; the rank-8 term is what a factorisation model adds on top.
USER_ACTIVITY_SIGMA = 1.1  # lognormal sigma of ratings per user above the floor (ML-1M: median 96, mean 165)
ITEM_POPULARITY_SIGMA = 1.25  # lognormal sigma of item popularity (ML-1M: median 124, mean 270 ratings per item)
USER_BIAS_SD = 0.40
ITEM_BIAS_SD = 0.45
POPULARITY_BIAS = 0.15  # popular films are rated a little higher, as in ML-1M
INTERACTION_SD = 0.60
NOISE_SD = 0.55

_ADJECTIVES = (
    "Silent", "Last", "Broken", "Golden", "Hidden", "Crimson", "Midnight", "Lonely", "Wild", "Forgotten",
    "Burning", "Frozen", "Electric", "Secret", "Distant", "Restless", "Quiet", "Savage", "Velvet", "Hollow",
    "Endless", "Little", "Dark", "Bright", "Lost", "Final", "Scarlet", "Invisible", "Wandering", "Iron",
    "Paper", "Glass", "Sudden", "Perfect", "Strange", "Sleeping", "Fearless", "Bitter", "Sweet", "Northern",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Garden", "River", "Kingdom", "Stranger", "Promise", "Summer", "Witness", "Horizon", "Empire",
    "Highway", "Letter", "Mirror", "Island", "Voyage", "Orchard", "Detective", "Shadow", "Carnival", "Frontier",
    "Lighthouse", "Dancer", "Circus", "Station", "Winter", "Heart", "Machine", "Castle", "Valley", "Storm",
    "Engine", "Diary", "Railway", "Theory", "Rebellion", "Symphony", "Bridge", "Ghost", "Compass", "Planet",
)  # fmt: skip
_PLACES = (
    "Paris", "Tokyo", "Brooklyn", "the Desert", "the City", "Vienna", "the North", "Havana", "Marseille",
    "the Valley", "Memphis", "Casablanca", "the Mountains", "Berlin", "the Bay", "Bombay",
)  # fmt: skip
_PATTERNS = (
    "The {adj} {noun}",
    "{adj} {noun}",
    "The {noun} of {place}",
    "A {noun} in {place}",
    "{noun} and {other}",
    "The {adj} {noun} of {place}",
    "Return of the {noun}",
    "The {noun}'s {other}",
)


def make_demo(
    seed: int = 0, n_users: int = 1500, n_items: int = 1000, n_ratings: int = 100_000, name: str = "demo"
) -> RatingData:
    """The demo dataset, deterministic from `seed`. About `n_ratings` ratings: a few more only when some item
    drew none and gets one, so every item index has a rating (as in any real file)."""
    floor = min(MIN_RATINGS_PER_USER, n_items)
    if n_users < 1 or n_items < 1 or not floor * n_users <= n_ratings <= n_users * n_items:
        raise ValueError(
            f"make_demo: need 1 <= users, items and {floor} * n_users <= n_ratings <= n_users * n_items, "
            f"got n_users={n_users}, n_items={n_items}, n_ratings={n_ratings}"
        )
    rng = np.random.default_rng(seed)
    counts = _user_activity(rng, n_users, n_items, n_ratings, floor)
    popularity = rng.lognormal(0.0, ITEM_POPULARITY_SIGMA, n_items)
    users, items = _sample_pairs(rng, counts, popularity)
    users, items = _cover_all_items(rng, users, items, n_users, n_items)
    scores, item_factors = _latent_scores(rng, users, items, n_users, n_items, popularity)
    stars = _to_stars(scores)
    titles = make_titles(rng, n_items)
    genres = make_genres(item_factors)
    # Raw ids count from 1 like MovieLens, so indices and ids are visibly different things in the UI.
    return from_triples(
        users + 1,
        items + 1,
        stars,
        name=name,
        rating_scale=(1.0, 5.0, 1.0),
        titles_by_raw_item={item + 1: title for item, title in enumerate(titles)},
        genres_by_raw_item={item + 1: genre for item, genre in enumerate(genres)},
        source="demo",
        extra={"format": "demo", "seed": str(seed)},
    )


def _user_activity(rng: np.random.Generator, n_users: int, n_items: int, n_ratings: int, floor: int) -> np.ndarray:
    """Ratings per user: the floor plus a lognormal share of the rest, summing exactly to n_ratings."""
    # No user rates more than 60% of the catalogue (ML-1M's most active: 2314 of 3706) unless the totals demand it.
    cap = max(floor, int(0.6 * n_items))
    if cap * n_users < n_ratings:
        cap = n_items
    weights = rng.lognormal(0.0, USER_ACTIVITY_SIGMA, n_users)
    share = weights / weights.sum() * (n_ratings - floor * n_users)
    counts = np.minimum(floor + np.floor(share).astype(np.int64), cap)
    # Hand out what rounding and the cap left over, largest fractional remainders first, among users with room.
    remainder = share - np.floor(share)
    while (short := n_ratings - int(counts.sum())) > 0:
        room = np.flatnonzero(counts < cap)
        counts[room[np.argsort(-remainder[room], kind="stable")[:short]]] += 1
    return counts


# Above this many user × item cells the exact race below (one random key per cell) is too slow: 162k × 59k would
# draw 9.6e9 keys. Larger matrices draw with replacement and drop repeats (`_sample_pairs_large`).
EXACT_SAMPLING_CELLS = 50_000_000


def _sample_pairs(
    rng: np.random.Generator, counts: np.ndarray, popularity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each user picks counts[u] distinct items with probability proportional to popularity.

    Exponential-race trick: item j's key Exp(1)/p_j; the k smallest keys are a popularity-weighted sample without
    replacement. Vectorised over blocks of users to bound memory (one float per user-item pair in the block)."""
    n_users, n_items = len(counts), len(popularity)
    if n_users * n_items > EXACT_SAMPLING_CELLS:
        return _sample_pairs_large(rng, counts, popularity)
    block = max(1, (1 << 22) // n_items)
    users, items = [], []
    for start in range(0, n_users, block):
        stop = min(n_users, start + block)
        keys = rng.exponential(size=(stop - start, n_items)) / popularity
        order = np.argsort(keys, axis=1)
        taken = np.arange(n_items) < counts[start:stop, None]
        items.append(order[taken])
        users.append(np.repeat(np.arange(start, stop), counts[start:stop]))
    return np.concatenate(users), np.concatenate(items)


def _sample_pairs_large(
    rng: np.random.Generator, counts: np.ndarray, popularity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The same distribution, approximately, in O(ratings): draw items with replacement by popularity, drop a
    user's repeats, and draw again for the shortfall (a few rounds). A user short after that keeps fewer ratings."""
    n_items = len(popularity)
    p = popularity / popularity.sum()
    need = counts.astype(np.int64).copy()
    keys = np.zeros(0, dtype=np.int64)
    for _ in range(8):
        if need.sum() == 0:
            break
        users = np.repeat(np.arange(len(counts), dtype=np.int64), need)
        drawn = np.concatenate([keys, users * n_items + rng.choice(n_items, size=len(users), p=p)])
        drawn.sort()
        keys = drawn[np.concatenate([[True], drawn[1:] != drawn[:-1]])]  # sort-based: np.unique hashes, ~25x slower
        need = np.maximum(counts - np.bincount(keys // n_items, minlength=len(counts)), 0)
    # Keep at most counts[u] per user (np.unique sorted the keys by user, then item).
    users = keys // n_items
    first = np.searchsorted(users, np.arange(len(counts)))
    rank = np.arange(len(keys)) - first[users]
    keys = keys[rank < counts[users]]
    return keys // n_items, keys % n_items


def _cover_all_items(
    rng: np.random.Generator, users: np.ndarray, items: np.ndarray, n_users: int, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """Give each item nobody picked one rating from a random user, so the dataset has exactly n_items items."""
    missing = np.flatnonzero(np.bincount(items, minlength=n_items) == 0)
    if len(missing) == 0:
        return users, items
    raters = rng.integers(0, n_users, len(missing))
    return np.concatenate([users, raters]), np.concatenate([items, missing])


def _latent_scores(
    rng: np.random.Generator,
    users: np.ndarray,
    items: np.ndarray,
    n_users: int,
    n_items: int,
    popularity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """bias_u + bias_i + <p_u, q_i> + noise, with <p_u, q_i> scaled to INTERACTION_SD; and the item factors q."""
    log_pop = np.log(popularity)
    user_bias = rng.normal(0.0, USER_BIAS_SD, n_users)
    item_bias = rng.normal(0.0, ITEM_BIAS_SD, n_items) + POPULARITY_BIAS * (log_pop - log_pop.mean()) / log_pop.std()
    user_factors = rng.normal(0.0, 1.0, (n_users, RANK))
    item_factors = rng.normal(0.0, 1.0, (n_items, RANK))
    interaction = np.einsum("nk,nk->n", user_factors[users], item_factors[items]) * (INTERACTION_SD / np.sqrt(RANK))
    noise = rng.normal(0.0, NOISE_SD, len(users))
    return user_bias[users] + item_bias[items] + interaction + noise, item_factors


def _to_stars(scores: np.ndarray) -> np.ndarray:
    """Ordinal cut: thresholds at the score quantiles that reproduce STAR_SHARES exactly (up to rounding)."""
    thresholds = np.quantile(scores, np.cumsum(STAR_SHARES)[:-1])
    return (1 + np.searchsorted(thresholds, scores, side="right")).astype(np.float32)


def make_titles(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct film titles like "The Silent Harbor (1987)". A clash becomes a sequel ("... 2 (1991)")."""
    pattern = rng.integers(0, len(_PATTERNS), n)
    adjective = rng.integers(0, len(_ADJECTIVES), n)
    noun = rng.integers(0, len(_NOUNS), n)
    other = (noun + rng.integers(1, len(_NOUNS), n)) % len(_NOUNS)  # never "Heart and Heart"
    place = rng.integers(0, len(_PLACES), n)
    # ML-1M's films are mostly from the 1990s with a tail back to the 1920s.
    year = np.clip(2000 - np.floor(rng.exponential(9.0, n)), 1920, 2000).astype(int)
    titles: list[str] = []
    seen: set[str] = set()
    for i in range(n):
        base = _PATTERNS[pattern[i]].format(
            adj=_ADJECTIVES[adjective[i]], noun=_NOUNS[noun[i]], other=_NOUNS[other[i]], place=_PLACES[place[i]]
        )
        title, sequel = f"{base} ({year[i]})", 1
        while title in seen:
            sequel += 1
            title = f"{base} {sequel} ({year[i]})"
        seen.add(title)
        titles.append(title)
    return titles


# One made-up genre per hidden taste dimension of the generator (RANK of them), so the genres a map is coloured by
# follow real structure in the ratings, as ML-1M's genres do.
DEMO_GENRES = ("Drama", "Comedy", "Action", "Romance", "Thriller", "Sci-Fi", "Horror", "Documentary")
GENRE_THRESHOLD = 1.0  # a factor above one standard deviation makes the dimension one of the item's genres


def make_genres(item_factors: np.ndarray) -> list[str]:
    """ "Comedy|Horror"-style genres per item: the dimensions where its hidden factor is above GENRE_THRESHOLD, or its
    largest factor when none is. Draws nothing from the generator, so the ratings do not change."""
    strong = item_factors > GENRE_THRESHOLD
    strong[np.arange(len(item_factors)), item_factors.argmax(1)] = True
    return ["|".join(DEMO_GENRES[d] for d in np.flatnonzero(row)) for row in strong]
