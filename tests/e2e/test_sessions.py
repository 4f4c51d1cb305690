"""Several browser sessions on one server, and a server killed mid-run: neither session can stop the other's run,
a reload keeps control, and a run whose server died is shown as interrupted and resumed from the browser."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.helpers import no_exceptions, open_page, set_number, wait_for_app
from tests.e2e.test_browser import tiny_settings


def start_run(page: Page, url: str, epochs: int, budget: float) -> None:
    open_page(page, f"{url}/Train")
    tiny_settings(page, epochs=epochs)
    set_number(page, "time budget (s)", budget)
    page.get_by_role("button", name="Start training").click()
    wait_for_app(page)


def test_two_sessions_cannot_stop_each_others_runs_and_a_reload_keeps_control(browser: Browser, app_url: str):
    alice = browser.new_context().new_page()
    bob = browser.new_context().new_page()
    start_run(alice, app_url, epochs=100_000, budget=120)
    expect(alice.get_by_test_id("stProgress")).to_be_visible(timeout=60_000)
    start_run(bob, app_url, epochs=100_000, budget=120)
    expect(bob.get_by_text(re.compile("is queued"))).to_be_visible(timeout=60_000)  # behind alice's run

    # Bob sees alice's run, without a Stop button for it: his one Stop button is for his own queued run.
    others = bob.get_by_text(re.compile(r"1 run\(s\) in progress from other browser sessions"))
    expect(others).to_be_visible()
    others.click()  # open the expander
    expect(bob.get_by_text("only that session can stop it").first).to_be_visible()
    expect(bob.get_by_role("button", name="Stop training")).to_have_count(1)

    alice.reload()
    wait_for_app(alice)
    expect(alice.get_by_text(re.compile(r"run\(s\) in progress from other browser sessions"))).to_be_visible()
    alice.get_by_role("button", name="Stop training").click()  # her own, after a reload
    expect(alice.get_by_text("Stopped:")).to_be_visible(timeout=60_000)

    bob.reload()
    wait_for_app(bob)
    expect(bob.get_by_test_id("stProgress")).to_be_visible(timeout=60_000)  # his run got the slot
    bob.get_by_role("button", name="Stop training").click()
    expect(bob.get_by_text("Stopped:")).to_be_visible(timeout=60_000)
    no_exceptions(alice)
    no_exceptions(bob)


def epochs_done(runs: Path) -> int:
    done = 0
    for record in runs.glob("*/run.json"):
        try:
            done = max(done, int(json.loads(record.read_text()).get("epochs_done") or 0))
        except (OSError, ValueError):
            continue
    return done


def test_a_server_killed_mid_run_shows_it_interrupted_and_resumes_it(page: Page, tmp_path: Path):
    process, url = start_server(tmp_path)
    try:
        start_run(page, url, epochs=12, budget=600)
        deadline = time.monotonic() + 180
        while epochs_done(tmp_path / "runs") < 2:
            assert time.monotonic() < deadline, "no epoch was saved"
            time.sleep(0.05)
    finally:
        process.kill()  # SIGKILL: no shutdown handler runs, as in a crash
        process.wait()
    (folder,) = (tmp_path / "runs").iterdir()
    assert not (folder / "metrics.json").exists()

    process, url = start_server(tmp_path)
    try:
        open_page(page, f"{url}/Train")
        expect(page.get_by_text(re.compile(r"1 interrupted run\(s\)"))).to_be_visible()
        expect(page.get_by_text(re.compile(r"of 12 epochs done"))).to_be_visible()
        page.get_by_role("button", name="Resume").click()
        wait_for_app(page)
        expect(page.get_by_text("Finished:")).to_be_visible(timeout=300_000)
        expect(page.get_by_text(re.compile(r"interrupted run\(s\)"))).to_have_count(0)
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["epochs_run"] == 12  # the epochs before the kill were kept, not redone from scratch
        no_exceptions(page)
    finally:
        stop_server(process)
