"""The latent map in Chromium: a new user's star moves on the map as they rate movies, and the Latent map page draws
every user and movie with WebGL."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import add_rating, no_exceptions, open_page, poll, wait_for_app

# The figure as plotly.js drew it: `_fullData` holds the traces with their arrays decoded (the JSON sends numpy
# arrays as base64 typed arrays).
TRACE = """(plot, name) => {
    if (!plot._fullData) return null;  // the element is there but plotly.js has not drawn it yet
    const trace = plot._fullData.find(t => t.name === name);
    return trace ? {type: trace.type, x: Array.from(trace.x), y: Array.from(trace.y)} : null;
}"""
POINTS = "plot => plot._fullData ? plot._fullData.reduce((n, t) => n + t.x.length, 0) : null"


def plot(page: Page, key: str):
    chart = page.locator(f".st-key-{key} .js-plotly-plot").first
    expect(chart).to_be_visible(timeout=30_000)
    return chart


def star(page: Page, moved_from: tuple[float, float] | None = None) -> tuple[float, float]:
    """The new user's star as drawn; with `moved_from`, once it has moved from there (the chart is redrawn after the
    caption that announces it, so it is polled, and fails if it never moves)."""
    trace = poll(page, lambda: plot(page, "nu-map").evaluate(TRACE, "you"),
                 lambda trace: trace is not None and (trace["x"][0], trace["y"][0]) != moved_from,
                 f"the star was not drawn (or did not move from {moved_from})")
    assert trace["type"] == "scattergl"
    return trace["x"][0], trace["y"][0]


def caption_point(page: Page) -> tuple[float, float]:
    text = page.get_by_text(re.compile(r"^Your point: \(")).first.inner_text()
    x, y = re.match(r"Your point: \(([-+]\d+\.\d+), ([-+]\d+\.\d+)\)", text).groups()
    return float(x), float(y)


def test_rating_two_movies_moves_the_new_users_point(page: Page, app_url: str, shoot):
    open_page(page, f"{app_url}/New_user")
    expect(page.get_by_text("Rate a few movies on the left")).to_be_visible()
    add_rating(page, "harbor")
    first = star(page)
    assert caption_point(page) == (round(first[0], 3), round(first[1], 3))
    expect(page.get_by_text("Nearest movies to you by cosine")).to_be_visible()

    page.get_by_text("★", exact=True).click()  # one star for the next harbor film
    wait_for_app(page)
    add_rating(page)
    expect(page.get_by_text(re.compile(r"from your 2 rating"))).to_be_visible()
    second = star(page, moved_from=first)
    assert second != first
    assert caption_point(page) == (round(second[0], 3), round(second[1], 3))
    shoot(page, "new-user-map")
    no_exceptions(page)


def test_the_latent_map_page_draws_every_point_with_webgl(page: Page, app_url: str, shoot):
    open_page(page, f"{app_url}/Latent_map")
    # Other browser tests on this server save runs of their own: pick the fixture's DMF-D run by its label.
    page.get_by_role("combobox", name="Run", exact=True).click()
    page.get_by_role("option", name=re.compile("e2e fixture")).click()
    wait_for_app(page)
    chart = plot(page, "latent-map")
    assert poll(page, lambda: chart.evaluate(POINTS)) == 1500 + 1000  # the demo data's users and movies
    assert poll(page, lambda: chart.evaluate(TRACE, "new users (area II)"))["type"] == "scattergl"
    expect(page.get_by_text("continuous outputs")).to_be_visible()  # the fixture's run is DMF-D
    shoot(page, "latent-map")
    no_exceptions(page)
