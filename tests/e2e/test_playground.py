"""The Playground in Chromium, on a server nobody has visited: /Playground opens by URL with the grid and the sphere,
an edited cell retrains the model and the sphere redraws, and the page's URL then carries the edit."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import require_chromium, start_server, stop_server
from tests.e2e.helpers import no_exceptions, open_page, poll, wait_for_app

# The users' points as plotly.js drew them (`_fullData` holds the arrays decoded).
USERS = """plot => {
    if (!plot._fullData) return null;  // the element is there but plotly.js has not drawn it yet
    const trace = plot._fullData.find(t => t.name === 'users');
    return trace ? [trace.type, Array.from(trace.x), Array.from(trace.y), Array.from(trace.z)] : null;
}"""


@pytest.fixture(scope="module")
def fresh_app_url(tmp_path_factory) -> Iterator[str]:
    """One server nobody has visited before this module: its first test opens the Playground cold."""
    require_chromium()
    process, url = start_server(tmp_path_factory.mktemp("playground-server"))
    yield url
    stop_server(process)


def sphere(page: Page):
    chart = page.locator(".st-key-pg-sphere .js-plotly-plot").first
    expect(chart).to_be_visible(timeout=60_000)
    return chart


def users_drawn(page: Page, moved_from: list | None = None) -> list:
    """The users' points once plotly.js has drawn them; with `moved_from`, once they differ from those."""
    return poll(page, lambda: sphere(page).evaluate(USERS),
                lambda users: users is not None and (moved_from is None or users[1:] != moved_from[1:]),
                "the sphere was not drawn" if moved_from is None else "the sphere did not move")


def test_editing_a_cell_redraws_the_sphere(page: Page, fresh_app_url: str, shoot):
    open_page(page, f"{fresh_app_url}/Playground", timeout=120_000)
    expect(page.get_by_text("1. The ratings")).to_be_visible()
    before = users_drawn(page)
    assert before[0] == "scatter3d" and len(before[1]) == 12
    planted = parse_qs(urlsplit(page.url).query)["m"][0]

    grid = page.locator(".st-key-pg-matrix [data-testid='stDataFrameResizable']").first
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None
    # Ada's row (the first under the header), well right of the names: some movie's cell. The planted matrix has
    # no 3 anywhere, so typing 3 changes whatever cell this is.
    page.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + 35 + 17)
    # The grid is a canvas; its accessibility table marks the selected cell once the click has landed.
    expect(grid.locator("[aria-selected='true']").first).to_be_attached(timeout=30_000)
    page.keyboard.type("3")
    # Typing opens the cell's editor (a portal over the canvas); Enter commits once it is there.
    expect(page.locator("#portal input, #portal textarea").first).to_be_visible(timeout=30_000)
    page.keyboard.press("Enter")
    wait_for_app(page, 120_000)
    page.wait_for_function(
        "planted => !new URLSearchParams(window.location.search).get('m').startsWith(planted.slice(0, 10))"
        " || new URLSearchParams(window.location.search).get('m') !== planted", arg=planted, timeout=60_000)
    edited = parse_qs(urlsplit(page.url).query)["m"][0]
    assert edited != planted and edited.split("-")[0].count("3") == 1  # Ada's row holds the new 3
    wait_for_app(page, 120_000)
    users_drawn(page, moved_from=before)
    shoot(page, "playground")
    no_exceptions(page)


def epoch_title(page: Page) -> str:
    return sphere(page).locator(".gtitle").first.inner_text()


def test_reset_step_and_play_move_through_the_epochs(page: Page, fresh_app_url: str):
    # 6 epochs (the link's `e`), not 40: Play then steps through 4 of them, at the page's 0.6 s a step.
    open_page(page, f"{fresh_app_url}/Playground?e=6", timeout=120_000)
    expect(sphere(page).locator(".gtitle").first).to_contain_text("epoch 6", timeout=60_000)
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_for_app(page)
    expect(sphere(page).locator(".gtitle").first).to_contain_text("epoch 1 ", timeout=60_000)
    page.get_by_role("button", name="Step", exact=True).click()
    wait_for_app(page)
    expect(sphere(page).locator(".gtitle").first).to_contain_text("epoch 2 ", timeout=60_000)
    page.get_by_role("button", name="Play", exact=True).click()
    # The page's own timer steps the epochs until the last, then stops.
    expect(sphere(page).locator(".gtitle").first).to_contain_text("epoch 6", timeout=120_000)
    wait_for_app(page, 120_000)
    no_exceptions(page)
