"""Under CI (CI=true) a missing prerequisite fails its tests instead of skipping them; elsewhere it skips."""

import pytest

from tests.conftest import REPO_ROOT, skip_or_fail


def test_missing_prerequisite_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("no thing")


def test_missing_prerequisite_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        skip_or_fail("no thing")


def test_browser_tests_skip_only_through_the_guard():
    """A direct pytest.skip in the browser tests would let CI pass without a browser: every skip there goes through
    skip_or_fail."""
    direct = [f"{path.relative_to(REPO_ROOT)}:{number}"
              for path in sorted((REPO_ROOT / "tests" / "e2e").glob("*.py"))
              for number, line in enumerate(path.read_text().splitlines(), 1)
              if "pytest.skip(" in line or "pytest.importorskip(" in line or "mark.skip" in line]
    assert not direct, direct
