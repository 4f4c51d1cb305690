"""Under CI (CI=true) a missing prerequisite fails its tests instead of skipping them; elsewhere it skips."""

import pytest

from tests.conftest import skip_or_fail


def test_missing_prerequisite_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("no thing")


def test_missing_prerequisite_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        skip_or_fail("no thing")
