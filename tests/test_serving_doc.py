"""docs/serving.md's commands: the token command runs as written; each `streamlit run` line may only set variables
the app reads, and starts app.py (it is not served here: tests/app runs app.py, test_readme_commands.py starts it)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from studio import data_paths, registry, state
from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "serving.md"
READ_BY_THE_APP = {data_paths.PATHS_ENV, state.ADMIN_ENV, registry.MAX_SECONDS_ENV, "DMF_DATA_DIR", "DMF_UPLOAD_DIR",
                   "DMF_RUNS_DIR"}


def commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def test_every_command_is_run_or_checked():
    found = commands()
    assert len(found) == 4, found
    for command in found:
        if command.startswith("python "):
            done = subprocess.run(shlex.split(command.replace("python", sys.executable, 1)), capture_output=True,
                                  text=True, timeout=60, cwd=REPO_ROOT)
            assert done.returncode == 0 and re.fullmatch(r"[0-9a-f]{32}\n", done.stdout), done
            continue
        words = shlex.split(command)
        settings = [word.split("=", 1)[0] for word in words if re.match(r"[A-Z_]+=", word)]
        assert settings and set(settings) <= READ_BY_THE_APP, command
        assert words[len(settings):len(settings) + 3] == ["streamlit", "run", "app.py"], command
        assert (REPO_ROOT / "app.py").is_file()
