"""Notebook 03 (the learned quantizer) executed headless in fast mode (`DMF_NOTEBOOK_FAST=1`) by nbclient with the
environment's own `python3` kernel, its `RESULTS` read back and held to loose, honest bounds. `check_03` is the
notebook's bounds, written to join the course's harness (tests/test_notebooks.py's CHECKS) as they are.

Slow tier: a kernel start and `import torch` before anything trains."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
NOTEBOOK = REPO_ROOT / "notebooks" / "03_the_learned_quantizer.py"
PLOTLY = "application/vnd.plotly.v1+json"
KEYS = ("learned", "rounding", "fitted", "dmf_rounding", "dmf_fitted", "baseline")


def check_03(r: dict[str, Any]) -> None:
    assert r["quantizer_trained"] and r["quantizer_epochs"] >= 2, "the fast run trains its quantizer"
    assert r["lambda_end"] > r["lambda_start"] > 0, "λ grew during training"
    assert r["n_epochs"] == r["warmup_epochs"] + r["quantizer_epochs"]
    assert r["b_inside_cells"], "each learned b_v stays between its two stars"
    assert r["n_test"] > 0
    for key in KEYS:
        assert math.isfinite(r[f"rmse_{key}"]) and math.isfinite(r[f"mae_{key}"]), key
        assert 0 < r[f"exact_stars_{key}"] < 1, key
        assert r[f"mae_{key}"] <= r[f"rmse_{key}"], key
    assert r["net_right"] == r["exact_gain_count"], "the boundaries' nets add up to the exact-stars difference"
    assert r["rmse_rounding"] > r["continuous_rmse_dmf_d"], "rounding a continuous output costs RMSE"


def execute(path: Path, timeout: int = 300) -> tuple[Any, dict[str, Any]]:
    """(the executed notebook, its RESULTS) for one source run from the repository root."""
    import jupytext  # here, not at the top: collecting the tests must not need the notebook tools
    import nbformat
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    notebook.cells.append(nbformat.v4.new_code_cell("import json\nprint(json.dumps(RESULTS))"))
    # store_widget_state stays True (the default): False crashes on ipywidgets' interact cells.
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    printed = "".join(out.get("text", "") for out in notebook.cells[-1].outputs if out.get("name") == "stdout")
    return notebook, json.loads(printed.strip().splitlines()[-1])


def test_notebook_03_runs_and_its_numbers_hold(monkeypatch):
    monkeypatch.setenv("DMF_NOTEBOOK_FAST", "1")  # the kernel inherits the test process's environment
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    notebook, results = execute(NOTEBOOK)
    figures = sum(PLOTLY in out.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                  for out in cell.outputs)
    assert figures >= 5, f"{NOTEBOOK.name} shows {figures} figures"
    assert notebook.cells[-2].cell_type == "markdown" and "Quantizer" in notebook.cells[-2].source
    check_03(results)
