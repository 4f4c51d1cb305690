import numpy as np
import pytest

from dmf_core.config import SplitConfig
from dmf_core.data.split import AREAS, OBSERVED, TEST, VAL, split_areas


def test_roles_partition_every_rating_in_the_requested_shares(tiny_data):
    split = split_areas(tiny_data, SplitConfig(seed=3))
    n = tiny_data.n_ratings
    shares = [np.mean(split.role == code) for code in (OBSERVED, VAL, TEST)]
    assert shares == pytest.approx([0.75, 0.05, 0.20], abs=1.0 / n)
    assert set(np.unique(split.role)) <= {OBSERVED, VAL, TEST}


def test_areas_follow_new_users_and_items(tiny_data):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.2, new_item_frac=0.3, seed=1))
    user_new = split.new_user[tiny_data.users]
    item_new = split.new_item[tiny_data.items]
    expected = np.select(
        [~user_new & ~item_new, user_new & ~item_new, ~user_new & item_new, user_new & item_new], [0, 1, 2, 3]
    )
    assert np.array_equal(split.area, expected)
    assert split.new_user.sum() == round(0.2 * tiny_data.n_users)
    assert split.new_item.sum() == round(0.3 * tiny_data.n_items)


def test_counts_are_disjoint_and_complete(tiny_data):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.1, new_item_frac=0.1))
    counts = split.counts()
    assert sum(counts[a]["total"] for a in AREAS) == tiny_data.n_ratings
    for area in AREAS:
        assert counts[area]["observed"] + counts[area]["val"] + counts[area]["test"] == counts[area]["total"]
    assert counts["users"]["seen"] + counts["users"]["new"] == tiny_data.n_users


def test_training_never_touches_new_users_or_items(tiny_data):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.2, new_item_frac=0.2))
    train = split.train_mask()
    assert not split.new_user[tiny_data.users[train]].any()
    assert not split.new_item[tiny_data.items[train]].any()
    assert (split.role[train] == OBSERVED).all()
    # inputs: observed only, and never a rating on a new item in a user row (nor from a new user in an item column)
    user_inputs = split.user_input_mask(tiny_data)
    assert not split.new_item[tiny_data.items[user_inputs]].any()
    assert (split.role[user_inputs] == OBSERVED).all()
    item_inputs = split.item_input_mask(tiny_data)
    assert not split.new_user[tiny_data.users[item_inputs]].any()


def test_zero_fractions_give_the_table2_protocol(tiny_data):
    split = split_areas(tiny_data, SplitConfig(new_user_frac=0.0, new_item_frac=0.0))
    assert (split.area == 0).all()
    assert split.counts()["II"]["total"] == 0


def test_split_is_seeded(tiny_data):
    a = split_areas(tiny_data, SplitConfig(seed=7))
    b = split_areas(tiny_data, SplitConfig(seed=7))
    c = split_areas(tiny_data, SplitConfig(seed=8))
    assert np.array_equal(a.role, b.role) and np.array_equal(a.new_user, b.new_user)
    assert not np.array_equal(a.role, c.role)


@pytest.mark.parametrize("kwargs", [{"new_user_frac": 1.0}, {"test_frac": -0.1}, {"val_frac": 0.5, "test_frac": 0.5}])
def test_invalid_fractions_are_rejected(tiny_data, kwargs):
    with pytest.raises(ValueError):
        split_areas(tiny_data, SplitConfig(**kwargs))
