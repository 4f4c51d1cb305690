"""benchmarks/gpu_check.sh in CPU mode, as CI can run it: it must pass without a GPU, on the packages the GPU
machine has (torch, numpy, pandas, pytest: here streamlit, plotly and playwright are made unimportable), print the
figures it promises, copy its results to $OUT and leave the committed results alone."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "gpu_check.sh"
COMMITTED = REPO_ROOT / "benchmarks" / "results"
ABSENT_ON_THE_GPU_MACHINE = ("streamlit", "plotly", "playwright")


def gpu_machine_env(tmp_path) -> dict[str, str]:
    """This environment, minus the packages the GPU machine lacks: a package of each name that fails to import,
    first on the path, and no pytest plugin loaded from entry points but pytest-timeout."""
    blocked = tmp_path / "blocked"
    for name in ABSENT_ON_THE_GPU_MACHINE:
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('{name} is not installed (simulated)')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(blocked), os.environ.get("PYTHONPATH")]))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if importlib.util.find_spec("pytest_timeout") is not None:
        env["PYTEST_PLUGINS"] = "pytest_timeout"
    env.pop("OUT", None)
    return env


@pytest.mark.slow  # runs the script's tests and benchmarks: about 30 s on 2 cores
def test_cpu_mode_passes_without_the_app_packages_and_prints_its_figures(tmp_path):
    committed = {path.name: path.read_bytes() for path in COMMITTED.glob("*-cpu.*")}
    env = {**gpu_machine_env(tmp_path), "OUT": str(tmp_path / "out")}
    done = subprocess.run(["bash", str(SCRIPT), "--cpu"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    has_svd = importlib.util.find_spec("surprise") is not None
    for promised in (
        "gpu_check: cpu mode",
        "=== machine", "torch 2.", "GPU: none", "modules: pytest yes",
        "=== cuda-tests", "skipped", "no CUDA device on this machine (CI has no GPU",
        "=== speed-demo", "=== scaling-demo", "=== figures",
        "DMF: epoch", "validation RMSE", "test RMSE(I)", "naive dense per-pair trainer: epoch",
        "SVD tuned: test RMSE" if has_svd else "SVD reference skipped: scikit-surprise is not installed",
        "generated in", "µs per training rating", "peak RSS", "cost per training rating, largest / smallest",
        "figure skipped: plotly is not installed",
        "gpu_check: all steps passed (cpu mode",
    ):
        assert promised in output, promised
    assert "Traceback" not in output
    out = tmp_path / "out"
    assert sorted(path.name for path in out.iterdir()) == ["gpu_check.log", "scaling-cpu.json", "speed-cpu.json"]
    assert "gpu_check: all steps passed" in (out / "gpu_check.log").read_text()
    speed = json.loads((out / "speed-cpu.json").read_text())
    assert speed["dataset"] == "demo" and speed["split"] == {"new_users": 0.0, "new_items": 0.0, "seed": 0}
    assert speed["ours"]["curve"] and speed["naive_dense_per_pair"]["steps"] > 0
    if has_svd:
        tuned = speed["svd_reference"]["tuned"]
        assert tuned["params"] == {"n_factors": 150, "n_epochs": 40, "reg_all": 0.05, "random_state": 0}
        assert 0.5 < tuned["test_rmse"] < 1.5 and tuned["fit_seconds"] > 0
        assert set(tuned) >= {"dmf_seconds_to_match", "dmf_over_svd_time"}
    scaling = json.loads((out / "scaling-cpu.json").read_text())
    assert [row["size"] for row in scaling["rows"]] == ["1000x600x30000"]
    assert all("error" not in row and row["epoch_seconds"] > 0 for row in scaling["rows"])
    # CPU mode writes to a temporary folder: the committed CPU results are untouched.
    assert {path.name: path.read_bytes() for path in COMMITTED.glob("*-cpu.*")} == committed


def test_cuda_mode_without_cuda_is_refused_in_one_line(tmp_path):
    """A Python whose torch sees no CUDA (a stub that answers the script's one question, so the test needs neither a
    GPU-less machine nor a torch import)."""
    stub = tmp_path / "python"
    stub.write_text("#!/bin/sh\necho 0\n")
    stub.chmod(0o755)
    done = subprocess.run(["bash", str(SCRIPT), "--cuda"], cwd=REPO_ROOT,
                          env={**gpu_machine_env(tmp_path), "PYTHON": str(stub)}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == ("error: --cuda given but torch sees no CUDA device (run with --cpu, or without "
                                   "arguments)")
