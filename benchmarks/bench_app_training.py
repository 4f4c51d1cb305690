"""Training in the app vs the CLI, and page render times.

Target (issue: the Streamlit app): training in the app is no more than 10% slower than the CLI on the same settings,
and every page renders in under 2 s once data is loaded.

Training: the same small settings on the demo data go through
  - the CLI path: `runs.train_run` in the main thread, with the CLI's progress bar as callbacks;
  - the app path: `jobs.TrainingJob` in its background thread, while the main thread polls it the way the Train
    page's fragments do (studio.live): a snapshot twice a second, and every 2 s the live figures (rebuilt when an
    epoch has ended) serialised to JSON as Streamlit does when it re-sends a chart.
The two alternate (CLI, app, CLI, app, ...) so that load from other processes hits both alike. Reported: the ratio
of the fastest epochs (min is the statistic least affected by other processes on a shared machine; the target is
judged on it), the median of the per-pair ratios of median epoch times, and the pooled medians.

With Chromium present, a third path is the real thing: `streamlit run app.py` in its own process, the Train page
open in a headless browser (its fragment polling at 2 Hz over the websocket), Start pressed with the same
settings (the form's quick preset); epoch times come from the run's metrics.json. These runs alternate with more
CLI runs.

Pages: `AppTest` runs each page with the demo data loaded and a saved run; the first run of a page loads and caches
(data, model, test predictions), the median of the later reruns is what a user waits for.

    python benchmarks/bench_app_training.py                  # 5 pairs of 6-epoch runs, 5 reruns per page
    python benchmarks/bench_app_training.py --repeats 5 --epochs 8 --device cuda
Writes benchmarks/results/app_training.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# libgomp's default active spin-wait makes torch in the *main* thread 10-50x slower whenever other processes
# oversubscribe the cores (measured here: 0.3 s -> 3-28 s per epoch on a shared 2-core box), while the same work in
# a worker thread is barely affected. That would flatter the app (worker thread) against the CLI (main thread), so
# both paths run with passive waiting unless the caller chose a policy. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import plotly.io as pio  # noqa: E402
import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dmf_core import figures as plots  # noqa: E402
from dmf_core.config import SplitConfig, replace  # noqa: E402
from dmf_core.data import dataset_fingerprint, load_dataset  # noqa: E402
from dmf_core.data.split import split_areas  # noqa: E402
from dmf_core.device import describe_device, pick_device  # noqa: E402
from dmf_core.progress import ProgressBar  # noqa: E402
from dmf_core.runs.folder import train_run  # noqa: E402
from dmf_core.training.estimate import estimate_epoch_seconds  # noqa: E402
from studio.live import CHART_SECONDS, POLL_SECONDS  # noqa: E402
from studio.presets import quick_preset  # noqa: E402
from studio.registry import JobRegistry  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PAGES = ["app.py", "pages/1_Data.py", "pages/2_Train.py", "pages/3_Quantizer.py", "pages/4_Areas.py",
         "pages/5_New_user.py"]


def per_epoch(history: list[dict[str, Any]]) -> list[float]:
    return [float(h["epoch_seconds"]) for h in history]


def run_cli(data, split, model_config, train_config, out: Path) -> dict[str, Any]:
    bar = ProgressBar(train_config.epochs, stream=io.StringIO())
    started = time.perf_counter()
    metrics, result = train_run(data, split, model_config, train_config, out, on_step=bar.step,
                                on_epoch=bar.epoch_done)
    return {"wall_seconds": time.perf_counter() - started, "epoch_seconds": per_epoch(result.history),
            "test_rmse": metrics["overall"]["rmse"]}


def run_app(data, split, model_config, train_config, root: Path, discrete: bool) -> dict[str, Any]:
    registry = JobRegistry(root)
    started = time.perf_counter()
    job = registry.submit("bench", data, split, model_config, train_config,
                          meta={"dataset_spec": "demo", "dataset_fingerprint": dataset_fingerprint(data)})
    ticks, tick_seconds, built_for, figures, charts_sent = 0, [], -1, [], 0.0
    while True:
        tick_started = time.perf_counter()
        snap = job.snapshot()
        if tick_started - charts_sent >= CHART_SECONDS:
            charts_sent = tick_started
            if len(snap.history) != built_for and snap.history:
                figures = plots.live_figures(snap.history, discrete, data.rating_scale)
                built_for = len(snap.history)
            for figure in figures:
                pio.to_json(figure, validate=False)
        ticks += 1
        tick_seconds.append(time.perf_counter() - tick_started)
        if not snap.active:
            break
        time.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - tick_started)))
    wall = time.perf_counter() - started
    snap = job.snapshot()
    if snap.status != "finished":
        raise RuntimeError(f"app-path run ended as {snap.status}: {snap.error}")
    return {"wall_seconds": wall, "epoch_seconds": per_epoch(snap.history), "test_rmse": snap.metrics["overall"]["rmse"],
            "ticks": ticks, "ticks_per_second": ticks / wall, "median_tick_ms": 1000 * statistics.median(tick_seconds),
            "run_dir": snap.out_dir}


def run_browser(runs_root: Path, cli_args: tuple, repeats: int) -> tuple[list[dict], list[dict]]:
    """Alternate (CLI run, run started from the Train page of a live server in Chromium)."""
    from playwright.sync_api import expect, sync_playwright

    sys.path.insert(0, str(REPO_ROOT))
    from tests.e2e.conftest import CHROMIUM, start_server, stop_server
    from tests.e2e.helpers import open_page

    runs_root.mkdir(parents=True, exist_ok=True)
    process, url = start_server(runs_root)
    cli_runs, browser_runs = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
            for repeat in range(repeats):
                cli_runs.append(run_cli(*cli_args, runs_root / f"cli-{repeat}"))
                page = browser.new_page()
                open_page(page, f"{url}/Train")
                epochs = page.get_by_label("epochs", exact=True)
                epochs.fill(str(cli_args[3].epochs))
                epochs.press("Enter")
                page.wait_for_timeout(500)
                started = time.perf_counter()
                page.get_by_role("button", name="Start training").click()
                expect(page.get_by_text("Finished:")).to_be_visible(timeout=600_000)
                wall = time.perf_counter() - started
                page.close()
                newest = max((runs_root / "runs").glob("*/metrics.json"), key=lambda p: p.stat().st_mtime)
                history = json.loads(newest.read_text())["history"]
                browser_runs.append({"wall_seconds": wall, "epoch_seconds": per_epoch(history)})
                print(f"  browser pair {repeat + 1}: CLI {statistics.median(cli_runs[-1]['epoch_seconds']):.3f} "
                      f"s/epoch, app in Chromium {statistics.median(browser_runs[-1]['epoch_seconds']):.3f} s/epoch",
                      file=sys.stderr)
            browser.close()
    finally:
        stop_server(process)
    return cli_runs, browser_runs


def page_times(runs_root: Path, reruns: int, dataset: Any = None) -> dict[str, dict[str, float]]:
    """First and later render times of each page; `dataset` (a studio.state.DatasetRef) is the session's data."""
    os.environ["DMF_RUNS_DIR"] = str(runs_root)
    from streamlit.testing.v1 import AppTest

    times: dict[str, dict[str, float]] = {}
    for page in PAGES:
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
        if dataset is not None:
            at.session_state["studio_dataset"] = dataset
        started = time.perf_counter()
        at.run()
        if page != "app.py":
            at.switch_page(page).run()
        first = time.perf_counter() - started
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
        samples = []
        for _ in range(reruns):
            started = time.perf_counter()
            at.run()
            samples.append(time.perf_counter() - started)
        times[page] = {"first_seconds": round(first, 3), "median_seconds": round(statistics.median(samples), 3),
                       "max_seconds": round(max(samples), 3)}
        print(f"  {page:24s} first {first:6.2f} s   then median {statistics.median(samples):5.2f} s "
              f"(max {max(samples):.2f} s)", file=sys.stderr)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="pairs of (CLI, app) runs")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--model", choices=["dmf", "dmf-d"], default="dmf")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reruns", type=int, default=5, help="reruns per page for the render times")
    parser.add_argument("--browser-repeats", type=int, default=3,
                        help="pairs of (CLI, app-in-Chromium) runs; 0 skips the browser part")
    parser.add_argument("--out", default=str(RESULTS / "app_training.json"))
    args = parser.parse_args()

    data = load_dataset("demo")
    model_config, train_config = quick_preset()
    train_config = replace(train_config, epochs=args.epochs, model=args.model, device=args.device, patience=0)
    split = SplitConfig()
    load_before = os.getloadavg()
    cli, app = [], []
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        tmp_path = Path(tmp)
        for repeat in range(args.repeats):
            cli.append(run_cli(data, split, model_config, train_config, tmp_path / f"cli-{repeat}"))
            app.append(run_app(data, split, model_config, train_config, tmp_path / "runs", args.model == "dmf-d"))
            print(f"  pair {repeat + 1}: CLI {statistics.median(cli[-1]['epoch_seconds']):.3f} s/epoch, "
                  f"app {statistics.median(app[-1]['epoch_seconds']):.3f} s/epoch "
                  f"({app[-1]['ticks_per_second']:.2f} polls/s)", file=sys.stderr)
        cli_epoch = statistics.median([s for r in cli for s in r["epoch_seconds"]])
        # The Train page's epoch-time estimate against the measured CLI epochs (moved here from tests/test_estimate.py,
        # where a timing assertion could fail on a loaded machine): printed, not judged.
        estimate = estimate_epoch_seconds(data, split_areas(data, split), model_config, train_config)
        print(f"  epoch-time estimate {estimate:.3f} s against the median CLI epoch {cli_epoch:.3f} s "
              f"({estimate / cli_epoch:.2f}x)", file=sys.stderr)
        app_epoch = statistics.median([s for r in app for s in r["epoch_seconds"]])
        cli_best = min(s for r in cli for s in r["epoch_seconds"])
        app_best = min(s for r in app for s in r["epoch_seconds"])
        ratio = app_best / cli_best
        pair_ratios = [statistics.median(a["epoch_seconds"]) / statistics.median(c["epoch_seconds"])
                       for c, a in zip(cli, app, strict=True)]
        browser: dict[str, Any] = {"skipped": "no Chromium or --browser-repeats 0"}
        if args.browser_repeats > 0 and Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")).exists():
            if quick_preset()[1].epochs != args.epochs or args.model != "dmf" or args.device != "cpu":
                print("  (browser part uses the form's defaults: run with --epochs 6 --model dmf --device cpu)",
                      file=sys.stderr)
            else:
                cli_b, app_b = run_browser(tmp_path / "browser", (data, split, model_config, train_config),
                                           args.browser_repeats)
                ratios = [statistics.median(a["epoch_seconds"]) / statistics.median(c["epoch_seconds"])
                          for c, a in zip(cli_b, app_b, strict=True)]
                browser = {
                    "cli_best_epoch_seconds": round(min(x for r in cli_b for x in r["epoch_seconds"]), 4),
                    "app_best_epoch_seconds": round(min(x for r in app_b for x in r["epoch_seconds"]), 4),
                    "slowdown_ratio_median_of_pairs": round(statistics.median(ratios), 4),
                    "cli_runs": cli_b, "app_runs": app_b,
                }
                browser["slowdown_ratio"] = round(browser["app_best_epoch_seconds"]
                                                  / browser["cli_best_epoch_seconds"], 4)
        print("page render times (demo data, one saved run):", file=sys.stderr)
        pages = page_times(tmp_path / "runs", args.reruns)
        pages_ml1m: dict[str, Any] = {"skipped": "MovieLens-1M not found"}
        try:
            from dmf_core.data import find_ml1m
            from studio.state import DatasetRef

            find_ml1m()
        except (ValueError, ImportError):
            pass
        else:
            print("page render times with MovieLens-1M as the session's data (the saved run is still demo):",
                  file=sys.stderr)
            pages_ml1m = page_times(tmp_path / "runs", args.reruns, DatasetRef("ml-1m", "MovieLens-1M"))
    load_after = os.getloadavg()

    result = {
        "benchmark": "bench_app_training",
        "settings": {"data": "demo", "model": args.model, "hidden": list(model_config.hidden),
                     "epochs": args.epochs, "block": [train_config.block_users, train_config.block_items],
                     "lr": train_config.lr, "repeats": args.repeats, "poll_hz": 1 / POLL_SECONDS,
                     "chart_seconds": CHART_SECONDS},
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "device": describe_device(pick_device(args.device)),
                    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                    "loadavg_before": [round(v, 2) for v in load_before],
                    "loadavg_after": [round(v, 2) for v in load_after]},
        "cli": {"best_epoch_seconds": round(cli_best, 4), "median_epoch_seconds": round(cli_epoch, 4), "runs": cli},
        "estimate": {"epoch_seconds": round(estimate, 4), "ratio_to_median_cli_epoch": round(estimate / cli_epoch, 4)},
        "app": {"best_epoch_seconds": round(app_best, 4), "median_epoch_seconds": round(app_epoch, 4),
                "runs": [{k: v for k, v in r.items() if k != "run_dir"} for r in app]},
        "slowdown_ratio": round(ratio, 4),
        "slowdown_ratio_median_of_pairs": round(statistics.median(pair_ratios), 4),
        "slowdown_ratio_pooled_medians": round(app_epoch / cli_epoch, 4),
        "target_ratio": 1.10,
        "browser": browser,
        "pages": pages,
        "pages_ml1m": pages_ml1m,
        "target_page_seconds": 2.0,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"best epoch: CLI {cli_best:.3f} s, app {app_best:.3f} s -> app/CLI = {ratio:.3f} (target <= 1.10); "
          f"median of pair ratios {statistics.median(pair_ratios):.3f}; "
          f"slowest page rerun {max(p['median_seconds'] for p in pages.values()):.2f} s (target < 2 s)")
    if "slowdown_ratio" in browser:
        print(f"app in Chromium (real server, live Train page): best-epoch app/CLI = {browser['slowdown_ratio']:.3f}, "
              f"median of pair ratios {browser['slowdown_ratio_median_of_pairs']:.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
