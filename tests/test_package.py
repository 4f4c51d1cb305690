"""The library as a package a user installs: `pip install .` ships dmf_core and every subpackage (the figure
builders the notebooks and the pages share included), and no app-only `studio`; from any directory, every module
imports from the installed copy. And `import dmf_core` changes nothing in the process: no environment variable."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[str]:
    """Every module of dmf_core in the checkout, as a dotted name (what the installed copy must hold)."""
    names = []
    for path in sorted((ROOT / "dmf_core").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.slow
def test_pip_install_ships_every_module_and_no_studio(tmp_path):
    source = tmp_path / "source"  # a copy, so that setuptools' build/ never lands in the checkout
    shutil.copytree(ROOT / "dmf_core", source / "dmf_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    target = tmp_path / "site"
    # The installed setuptools builds it where there is one (no download); else pip's isolated build fetches it.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation,
                            "--target", str(target), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    assert (target / "dmf_core" / "figures" / "__init__.py").is_file()
    assert not (target / "studio").exists()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    script = ("import importlib, json, sys\n"
              f"names = {_modules()!r}\n"
              "print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", script], cwd=outside, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    files = json.loads(done.stdout)
    assert len(files) == len(_modules()) > 40
    assert all(Path(file).is_relative_to(target) for file in files.values()), files
    # Installed, it keeps its downloads and results beside the user, not inside site-packages.
    script = ("from dmf_core.data import DATA_DIR\nfrom dmf_core.reproduction.tables import results_root\n"
              "print(DATA_DIR)\nprint(results_root())\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=outside, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(outside / "data"), str(outside / "results")]


def test_importing_dmf_core_changes_no_environment_variable():
    script = ("import json, os, sys\n"
              "before = dict(os.environ)\n"
              "import dmf_core\n"
              # `python -m dmf_core` runs the package's __init__ before __main__.py sets the wait policy: torch must
              # not be loaded by then, or the policy comes too late.
              "assert 'torch' not in sys.modules\n"
              "from dmf_core import DMF\n"
              "import dmf_core.figures, dmf_core.data, dmf_core.scoring.predict\n"
              "after = dict(os.environ)\n"
              "print(json.dumps({k: [before.get(k), after.get(k)] for k in set(before) | set(after)"
              " if before.get(k) != after.get(k)}))\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {}
