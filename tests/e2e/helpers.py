"""Waiting on Streamlit in a real browser: wait for states and texts, never for fixed times."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

APP = "[data-testid='stApp']"


def wait_for_app(page: Page, timeout: float = 60_000) -> None:
    """Connected, the script finished, no skeleton left."""
    page.wait_for_selector(f"{APP}[data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", timeout=timeout)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


def open_page(page: Page, url: str, timeout: float = 60_000) -> Page:
    page.goto(url)
    wait_for_app(page, timeout)
    return page


def set_number(page: Page, label: str, value: float | int) -> None:
    """Type into a st.number_input and commit it (Enter), then wait for the rerun."""
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def set_text(page: Page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_for_app(page)


def add_rating(page: Page, search: str | None = None) -> None:
    """New user page: optionally search titles, then add the picked movie with the chosen stars."""
    if search is not None:
        set_text(page, "Search by title", search)
    page.get_by_role("button", name="Add rating").click()
    wait_for_app(page)


def no_exceptions(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def poll(page: Page, read: Callable[[], Any], done: Callable[[Any], bool] = lambda value: value is not None,
         what: str = "the chart was never drawn", timeout: float = 30.0) -> Any:
    """`read()` again every 0.2 s until `done` holds for its answer, for up to `timeout` seconds: a chart's element can
    be visible a moment before plotly.js has drawn into it, and is redrawn a moment after the page settles."""
    deadline = time.monotonic() + timeout
    while not done(value := read()):
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(200)
    return value
