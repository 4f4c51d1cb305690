"""The course in `notebooks/`: every `notebooks/NN_*.py` (jupytext percent source) executed headless in fast mode
(`DMF_NOTEBOOK_FAST=1`) by nbclient with the environment's own `python3` kernel, then its `RESULTS` read back and held
to loose, honest bounds: what the notebook claims in prose must be what its numbers show.

The notebooks' runs are in the slow tier: each starts a kernel and imports torch (about 4 s) before it trains
anything, 10-20 s a notebook in all on 2 cores."""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.helpers import free_port

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
PLOTLY = "application/vnd.plotly.v1+json"
PAGES = ("Playground", "Areas", "Quantizer", "New user", "Results")  # the app's pages a notebook ends on
MAX_BYTES = 200_000  # a committed notebook source stays small (issue 31: no file over 200 KB)


POLL_SECONDS = 1.0


def _polling_client(base: type) -> type:
    """nbclient's client whose channels wait for a message in steps of POLL_SECONDS instead of one long wait.

    A long `socket.poll` on a kernel channel can miss the message it waits for (zmq's edge-triggered descriptor: seen
    here as a notebook run idle for its whole cell timeout, with the kernel idle too, after widget cells; nbclient
    issue 312). Each short poll ends with a fresh look at the socket, so a missed wake-up costs at most one step."""

    def stepped(get_msg):
        async def get(timeout: float | None = None):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                step = POLL_SECONDS if deadline is None else min(POLL_SECONDS, max(0.0, deadline - time.monotonic()))
                try:
                    return await get_msg(timeout=step)
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
        return get

    class Polling(base):
        async def async_start_new_kernel_client(self):
            client = await super().async_start_new_kernel_client()
            for channel in (client.shell_channel, client.iopub_channel):
                channel.get_msg = stepped(channel.get_msg)
            return client

    return Polling


def execute(path: Path, timeout: int = 300) -> tuple[Any, dict[str, Any]]:
    """(the executed notebook, its RESULTS) for one source run in fast mode from the repository root."""
    import jupytext  # here, not at the top: collecting the tests must not need the notebook tools
    import nbformat
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    notebook.cells.append(nbformat.v4.new_code_cell("import json\nprint(json.dumps(RESULTS))"))
    # The kernel is the environment's own python3 (ipykernel installed in it); widget state stays stored (the
    # default): store_widget_state=False crashes on ipywidgets' interact cells.
    client = _polling_client(NotebookClient)(notebook, timeout=timeout, kernel_name="python3",
                                             resources={"metadata": {"path": str(REPO_ROOT)}})
    client.execute()
    printed = "".join(out.get("text", "") for out in notebook.cells[-1].outputs if out.get("name") == "stdout")
    return notebook, json.loads(printed.strip().splitlines()[-1])


def check_01(r: dict[str, Any]) -> None:
    assert r["epochs"] == 40
    assert r["rmse_given_dmf"] < r["rmse_given_baseline"] - 0.2, "DMF fits the given ratings better than the biases"
    assert r["rmse_blank_dmf"] < r["rmse_blank_baseline"], "DMF fills the blanks closer to the planted groups"
    assert r["blank_right_side_dmf"] >= 0.8 and r["blank_right_side_dmf"] > r["blank_right_side_baseline"]
    assert r["own_group_cosine"] > r["other_group_cosine"] + 0.5, "fans sit near their own group's movies"
    assert r["new_user_top_is_scifi"]


def check_02(r: dict[str, Any]) -> None:
    assert r["rmse_I"] < r["baseline_rmse_I"], "DMF beats global mean + biases in area I"
    assert r["rmse_II"] < r["baseline_rmse_II"] + 0.01, "new users, scored with no retraining, at least as well"
    for area in ("I", "II", "III", "IV"):
        assert 0.5 < r[f"rmse_{area}"] < 1.3, (area, r[f"rmse_{area}"])
    # The cold-start curve falls as the new users give more ratings (k = 0, 10 and all: the same users).
    assert r["cold_start_k10_users"] == r["cold_start_k0_users"] > 0
    assert r["cold_start_all_rmse"] < r["cold_start_k10_rmse"] < r["cold_start_k0_rmse"]
    assert abs(r["cold_start_all_rmse"] - r["rmse_II"]) < 1e-6, "the curve's 'all' is area II's test RMSE"
    assert r["person_rmse"] < 2.0


QUANTIZER_KEYS = ("learned", "rounding", "fitted", "dmf_rounding", "dmf_fitted", "baseline")


def check_03(r: dict[str, Any]) -> None:
    """Notebook 03's bounds, as its author wrote them (tests/test_notebook_quantizer.py on the quantizer branch)."""
    assert r["quantizer_trained"] and r["quantizer_epochs"] >= 2, "the fast run trains its quantizer"
    assert r["lambda_end"] > r["lambda_start"] > 0, "λ grew during training"
    assert r["n_epochs"] == r["warmup_epochs"] + r["quantizer_epochs"]
    assert r["b_inside_cells"], "each learned b_v stays between its two stars"
    assert r["n_test"] > 0
    for key in QUANTIZER_KEYS:
        assert math.isfinite(r[f"rmse_{key}"]) and math.isfinite(r[f"mae_{key}"]), key
        assert 0 < r[f"exact_stars_{key}"] < 1, key
        assert r[f"mae_{key}"] <= r[f"rmse_{key}"], key
    assert r["net_right"] == r["exact_gain_count"], "the boundaries' nets add up to the exact-stars difference"
    assert r["rmse_rounding"] > r["continuous_rmse_dmf_d"], "rounding a continuous output costs RMSE"
    assert r["rmse_minus_rounding_se"] >= 0
    # SELECT_MARGIN = 0: the lowest validation RMSE wins, and on the fast run that is a quantizer epoch whose b moved
    assert not r["selected_start"] and r["b_max_move"] > 0


def check_04(r: dict[str, Any]) -> None:
    assert r["n_rated"] >= 3
    assert r["overlap_with_most_popular"] < 10, "recommend is not most popular"
    assert r["median_n_ratings_by_rating"] < r["median_n_ratings_recommend"], "plain rating order picks rare films"
    assert r["rank_eval_users"] >= 20
    assert r["ndcg_recommend"] > r["ndcg_by_rating"] + 0.1, "relevance beats the plain predicted-rating order"
    assert r["ndcg_recommend"] > r["ndcg_most_popular"], "and most popular"
    assert r["ndcg_by_rating"] < r["ndcg_most_popular"], "plain rating order loses to most popular"


def check_05(r: dict[str, Any]) -> None:
    assert r["comparable_with_paper"] == (r["data"] == "ml-1m")
    for area in ("I", "II", "III", "IV"):
        assert 0.5 < r[f"dmf_rmse_{area}"] < 1.3, (area, r[f"dmf_rmse_{area}"])
    assert r["dmf_rmse_I"] < r["baseline_rmse_I"], "DMF beats global mean + biases in area I"
    assert (r["paper_dmf_rmse_I"], r["paper_dmf_rmse_IV"]) == (0.850, 0.904), "the paper's Table 1, copied"
    assert not r["i_autorec_serves_II"] and not r["u_autorec_serves_III"], "AutoRec serves only its own side"
    assert r["dmf_epochs"] >= 1


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "01_dmf_on_a_small_matrix": check_01,
    "02_the_four_areas": check_02,
    "03_the_learned_quantizer": check_03,
    "04_a_new_user": check_04,
    "05_reproducing_table_1": check_05,
}


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setenv("DMF_NOTEBOOK_FAST", "1")  # the kernel inherits the test process's environment
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))


def test_the_course_is_there():
    names = [path.stem for path in NOTEBOOKS]
    for number in ("01", "02", "03", "04", "05"):
        assert any(name.startswith(number + "_") for name in names), f"notebook {number} is missing: {names}"
    assert set(CHECKS) == set(names), "every notebook has its numbers checked"
    for path in NOTEBOOKS:
        assert path.stat().st_size < MAX_BYTES, path
        text = path.read_text()
        assert '# %% tags=["parameters"]' in text, f"{path.name}: no cell tagged parameters"
        assert "DMF_NOTEBOOK_FAST" in text and "FigureWidget" not in text, path.name


def test_notebooks_use_the_package_not_a_copy():
    """Public names of dmf_core only (nothing from the app's studio/, no _private name), and every figure from
    dmf_core.figures: a notebook that imports plotly itself is drawing a second copy of a figure."""
    for path in NOTEBOOKS:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
                names = modules
            elif isinstance(node, ast.ImportFrom):
                modules, names = [node.module or ""], [alias.name for alias in node.names]
            else:
                continue
            assert not any(m.split(".")[0] in ("studio", "plotly", "pages") for m in modules), (path.name, modules)
            assert not any(part.startswith("_") for m in modules + names for part in m.split(".")), (path.name, names)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_and_its_numbers_hold(path: Path, fast):
    started = time.perf_counter()
    notebook, results = execute(path)
    seconds = time.perf_counter() - started
    figures = sum(PLOTLY in out.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                  for out in cell.outputs)
    assert figures >= 1, f"{path.name} shows no figure"
    last = notebook.cells[-2]  # before the cell that printed RESULTS
    assert last.cell_type == "markdown" and any(f"**{page}**" in last.source for page in PAGES), \
        f"{path.name} does not end by naming the app page that continues it"
    assert results and all(isinstance(v, (bool, int, float, str)) for v in results.values()), results
    assert path.stem in CHECKS, f"{path.name} has no bounds: add its check to CHECKS in {Path(__file__).name}"
    CHECKS[path.stem](results)
    print(f"{path.name}: {seconds:.1f} s in fast mode, {figures} figures")


@pytest.mark.slow  # a JupyterLab server: about 5 s to start on 2 cores
def test_jupyter_lab_opens_every_source_as_a_notebook(tmp_path):
    """The README's `jupyter lab notebooks/`: the server the notebook install gives reads each `.py` as a notebook
    (jupytext's contents manager), its parameters cell tagged. Root needs --allow-root (CI runs as root)."""
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "notebooks/", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.port_retries=0"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api/contents/"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base, timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "jupyter lab did not start"
                time.sleep(0.3)
        for path in NOTEBOOKS:
            with urllib.request.urlopen(f"{base}{path.name}?type=notebook&content=1", timeout=30) as reply:
                model = json.load(reply)
            cells = model["content"]["cells"]
            assert model["type"] == "notebook" and len(cells) > 5, path.name
            assert any("parameters" in cell["metadata"].get("tags", []) for cell in cells), path.name
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow  # a kernel and a fast run of notebook 01: about 10 s
def test_the_headless_command_of_the_notebooks_readme_runs(tmp_path):
    """notebooks/README.md's `jupytext --to ipynb --execute` line, run as written (jupytext through this
    environment's python) in a copy of the notebooks, since it writes the executed .ipynb beside its source."""
    import shutil

    from tests.test_docs import shell_commands

    commands = [c for c in shell_commands((NOTEBOOK_DIR / "README.md").read_text()) if " jupytext " in f" {c} "]
    assert commands, "the README's headless command is gone"
    shutil.copytree(NOTEBOOK_DIR, tmp_path / "notebooks")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    for command in commands:
        runnable = command.replace("jupytext ", f"{sys.executable} -m jupytext ", 1)
        done = subprocess.run(runnable, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, (command, done.stderr[-2000:])
        source = next(word for word in command.split() if word.endswith(".py"))
        assert (tmp_path / source).with_suffix(".ipynb").is_file(), command
