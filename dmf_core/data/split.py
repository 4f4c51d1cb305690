"""The paper's four extension areas (Fig. 2) and the observed / validation / test roles.

A seeded split holds out a fraction of users and of items as *new*: the model never trains on them. Each rating
then lies in one area by whether its user and item are seen (I), only the item is seen (II: new user),
only the user is seen (III: new item), or neither (IV). Independently, every rating gets a role: observed (75%),
validation (5%) or test (20%). Training uses observed area-I ratings as inputs and targets; at evaluation a new
user's input row is its observed ratings on seen items, a new item's input column its observed ratings from seen
users, so areas II–IV are predicted without retraining.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import SplitConfig
from . import RatingData

AREAS = ("I", "II", "III", "IV")
ROLES = ("observed", "val", "test")
OBSERVED, VAL, TEST = 0, 1, 2


@dataclass(frozen=True)
class AreaSplit:
    config: SplitConfig
    new_user: np.ndarray  # bool per user index
    new_item: np.ndarray  # bool per item index
    role: np.ndarray  # int8 per rating: OBSERVED, VAL or TEST
    area: np.ndarray  # int8 per rating: 0..3 for areas I..IV

    @property
    def n_users(self) -> int:
        return len(self.new_user)

    @property
    def n_items(self) -> int:
        return len(self.new_item)

    def mask(self, role: int, area: str | None = None) -> np.ndarray:
        selected = self.role == role
        if area is not None:
            selected &= self.area == AREAS.index(area)
        return selected

    def train_mask(self) -> np.ndarray:
        """Training targets (and training inputs): observed ratings between seen users and seen items."""
        return self.mask(OBSERVED, "I")

    def user_input_mask(self, data: RatingData) -> np.ndarray:
        """Ratings that may appear in a user's input row: observed, on an item seen in training."""
        return (self.role == OBSERVED) & ~self.new_item[data.items]

    def item_input_mask(self, data: RatingData) -> np.ndarray:
        """Ratings that may appear in an item's input column: observed, from a user seen in training."""
        return (self.role == OBSERVED) & ~self.new_user[data.users]

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of ratings per area and role, plus the users/items behind each area, for the UI and reports."""
        table: dict[str, dict[str, int]] = {}
        for index, area in enumerate(AREAS):
            in_area = self.area == index
            row = {role: int(np.count_nonzero(in_area & (self.role == code))) for code, role in enumerate(ROLES)}
            row["total"] = int(np.count_nonzero(in_area))
            table[area] = row
        table["users"] = {"seen": int((~self.new_user).sum()), "new": int(self.new_user.sum())}
        table["items"] = {"seen": int((~self.new_item).sum()), "new": int(self.new_item.sum())}
        return table


def split_areas(data: RatingData, config: SplitConfig | None = None) -> AreaSplit:
    config = config or SplitConfig()
    config.validate()
    rng = np.random.default_rng(config.seed)
    new_user = _choose_fraction(rng, data.n_users, config.new_user_frac)
    new_item = _choose_fraction(rng, data.n_items, config.new_item_frac)

    role = np.full(data.n_ratings, OBSERVED, dtype=np.int8)
    order = rng.permutation(data.n_ratings)
    n_test = int(round(config.test_frac * data.n_ratings))
    n_val = int(round(config.val_frac * data.n_ratings))
    role[order[:n_test]] = TEST
    role[order[n_test : n_test + n_val]] = VAL

    user_is_new = new_user[data.users]
    item_is_new = new_item[data.items]
    area = (user_is_new.astype(np.int8) + 2 * item_is_new.astype(np.int8)).astype(np.int8)
    return AreaSplit(config=config, new_user=new_user, new_item=new_item, role=role, area=area)


def _choose_fraction(rng: np.random.Generator, n: int, fraction: float) -> np.ndarray:
    chosen = np.zeros(n, dtype=bool)
    chosen[rng.permutation(n)[: int(round(fraction * n))]] = True
    return chosen
