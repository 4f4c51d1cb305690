"""Remake the README's pictures of the app: the Playground's sphere, the Quantizer and the Areas.

    python docs/screenshots.py              # trains a small DMF-D, starts the app, writes docs/img/*.png (~1.5 min)
    python docs/screenshots.py --work /tmp/shots   # keep the run and the server log there (reused next time)

It works as a user would: `python -m dmf_core train --model dmf-d` on the demo data into a temporary runs folder
(the Quantizer page needs a DMF-D run with learned boundaries, the Areas page a run's per-area errors), then
`streamlit run app.py` on a free port with that folder, and Debian's Chromium (headless, through Playwright) opens
each page, waits until its plotly chart is drawn and saves that part of the page. The server is started and stopped
by the same helpers as the browser tests (tests/e2e/conftest.py).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUN_NAME = "dmf-d"
MAX_BYTES = 200_000  # the limit per picture
# Small and fast, but long enough for the quantizer to switch on and its boundaries to move (~20 s on 2 cores).
# --select-margin 0 keeps the quantizer epoch of lowest validation RMSE, so the picture shows learned boundaries (the
# default keeps DMF + rounding unless an epoch beats it by 2 standard errors on validation).
TRAIN_ARGS = ["--model", "dmf-d", "--companion", "none", "--data", "demo", "--hidden", "64,32", "--epochs", "8",
              "--warmup-epochs", "2", "--lambda-growth", "2", "--max-seconds", "60", "--select-margin", "0", "--quiet"]


@dataclass(frozen=True)
class Shot:
    name: str  # the file: <out>/<name>.png
    path: str  # the page's URL path
    chart: str  # the st.plotly_chart key to wait for; the picture is the row of columns that holds it
    webgl: bool = False
    choose: tuple[tuple[str, str], ...] = ()  # (selectbox label, regex of the option to pick) first
    slider: float | None = None  # where to click on the chart's own animation slider first (0 = left, 1 = right)


RUN = (("Run", f"^{RUN_NAME} "),)  # the run this script trained, should WORK/runs hold others
SHOTS = (
    # Movies coloured by the selected user's predicted rating: the angle on the sphere is the rating.
    Shot("playground", "Playground", "pg-sphere", webgl=True,
         choose=(("colour movies by", "predicted ratings of the selected user"),)),
    # λ runs geometrically from 0.3 to 300: 0.4 of the way is λ ≈ 5, where G's steps are sigmoids, not yet Q_b.
    Shot("quantizer", "Quantizer", "quant-animation", choose=RUN, slider=0.4),
    Shot("areas", "Areas", "areas-scores", choose=RUN),
)

# True once plotly.js has drawn the figure (the element exists before it has: `_fullLayout` comes with the drawing);
# for a 3-d scene, once its WebGL canvas is there too.
DRAWN = """([plot, webgl]) => !!(plot._fullLayout && plot._fullData && plot.querySelector('.main-svg')
    && (!webgl || plot.querySelector('.gl-container canvas')))"""
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python docs/screenshots.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Needs Chromium (apt-get install chromium) and the python playwright package; no network.")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "img",
                        help="folder for playground.png, quantizer.png and areas.png (default docs/img)")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the runs and the server log, kept afterwards; a DMF-D run already in "
                             f"WORK/runs/{RUN_NAME} is reused (default: a temporary folder, removed at the end)")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                        help="the Chromium binary (default $CHROMIUM_PATH or /usr/bin/chromium)")
    parser.add_argument("--width", type=int, default=1600, help="browser window width in CSS pixels (default 1600)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="device scale factor: 2 gives sharper, larger pictures (default 1)")
    parser.add_argument("--only", choices=[s.name for s in SHOTS], action="append",
                        help="take only this picture (repeatable; default all three)")
    return parser.parse_args(argv)


def train(runs: Path) -> None:
    """A small DMF-D run on the demo data, as `python -m dmf_core train` makes it."""
    out = runs / RUN_NAME
    if (out / "metrics.json").is_file():
        print(f"[train] reusing {out}", flush=True)
        return
    print(f"[train] DMF-D on the demo data into {out} ...", flush=True)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "dmf_core", "train", *TRAIN_ARGS, "--out", str(out)],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"screenshots: training failed:\n{(done.stdout + done.stderr)[-2000:]}")
    summary = done.stdout.strip().splitlines()[0] if done.stdout.strip() else "done"
    print(f"[train] {summary} ({time.monotonic() - start:.0f} s)", flush=True)


def choose(page, label: str, option: str, tries: int = 3) -> None:
    """Pick `option` (a regex) in the selectbox `label`. A rerun that lands while the list is open closes it (the
    Playground reruns once more after its first visit), so the list is opened again, up to `tries` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from tests.e2e.helpers import wait_for_app

    for attempt in range(tries):
        page.get_by_role("combobox", name=label, exact=True).click()
        item = page.get_by_role("option", name=re.compile(option)).first
        try:
            item.wait_for(state="visible", timeout=10_000)
            item.click(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")
            wait_for_app(page, 120_000)
    wait_for_app(page, 120_000)
    page.evaluate("() => document.activeElement?.blur()")  # no focus ring on the picked box


def move_slider(page, plot, fraction: float) -> None:
    """Click the chart's animation slider, as a user would, and wait for the frame it names."""
    label = plot.locator(".slider-label").first
    before = label.text_content()
    plot.scroll_into_view_if_needed()
    rail = plot.locator(".slider-rail-rect").first.bounding_box()
    page.mouse.click(rail["x"] + fraction * rail["width"], rail["y"] + rail["height"] / 2)
    page.wait_for_function("([label, before]) => label.textContent !== before",
                           arg=[label.element_handle(), before], timeout=10_000)


def take(page, url: str, shot: Shot, out: Path) -> Path:
    """Open the page, wait for its chart to be drawn, save the row of columns that holds it."""
    from tests.e2e.helpers import open_page

    start = time.monotonic()
    open_page(page, f"{url}/{shot.path}", timeout=180_000)  # the first page also imports torch and trains
    for label, option in shot.choose:
        choose(page, label, option)
    plot = page.locator(f".st-key-{shot.chart} .js-plotly-plot").first
    plot.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(DRAWN, arg=[plot.element_handle(), shot.webgl], timeout=60_000)
    if shot.slider is not None:
        move_slider(page, plot, shot.slider)
    page.evaluate(TWO_FRAMES)  # let the browser paint what plotly.js drew
    page.mouse.move(0, 0)  # no hover label or mode bar in the picture
    row = page.locator("[data-testid='stHorizontalBlock']", has=page.locator(f".st-key-{shot.chart}")).last
    path = out / f"{shot.name}.png"
    row.screenshot(path=str(path), animations="disabled")
    size = path.stat().st_size
    note = "" if size <= MAX_BYTES else f"  (over {MAX_BYTES // 1000} KB: try a smaller --width or --scale)"
    print(f"[shot] {path} {size / 1000:.0f} KB in {time.monotonic() - start:.0f} s{note}", flush=True)
    return path


def shoot(work: Path, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, start_server, stop_server

    print("[app] starting streamlit run app.py ...", flush=True)
    process, url = start_server(work)
    try:
        print(f"[app] {url} (log: {work / 'server.log'})", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": args.width, "height": 900},
                                        device_scale_factor=args.scale)
                for shot in SHOTS:
                    if not args.only or shot.name in args.only:
                        take(page, url, shot, args.out)
            finally:
                browser.close()
    finally:
        stop_server(process)
        print("[app] server stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not Path(args.chromium).exists():
        raise SystemExit(f"screenshots: no Chromium at {args.chromium} "
                         "(apt-get install chromium, or pass --chromium / set CHROMIUM_PATH)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise SystemExit("screenshots: the python playwright package is missing (pip install playwright)") from None
    sys.path.insert(0, str(REPO_ROOT))  # `tests.e2e`: the browser tests' server helpers
    os.environ["CHROMIUM_PATH"] = args.chromium  # what those helpers check
    with tempfile.TemporaryDirectory(prefix="dmf-shots-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        train(work / "runs")
        shoot(work, args)


if __name__ == "__main__":
    main()
