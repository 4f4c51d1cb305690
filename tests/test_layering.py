"""dmf_core is a library: it must import and work without Streamlit."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_dmf_core_never_imports_streamlit():
    modules = sorted(p.stem for p in (REPO_ROOT / "dmf_core").glob("*.py") if p.stem != "__main__")
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('dmf_core.' + name)\n"
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_streamlit_in_core_sources():
    for path in Path(REPO_ROOT / "dmf_core").glob("*.py"):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path


def test_no_movielens_files_are_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    forbidden = {"ratings.dat", "movies.dat", "users.dat", "u.data", "u.item", "ml-1m.zip"}
    assert not [name for name in tracked if Path(name).name in forbidden]
