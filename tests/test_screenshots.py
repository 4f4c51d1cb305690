"""docs/screenshots.py, the script that remakes the README's pictures: its --help, and its one-line error without
Chromium (before it trains or starts anything). A full run takes about a minute (training, the app, three pages), so
it is not a test: run `python docs/screenshots.py` to remake the pictures."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "docs" / "screenshots.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60)


def test_help_names_the_pictures_and_the_options():
    done = run("--help")
    assert done.returncode == 0, done.stderr
    for word in ("playground.png", "quantizer.png", "areas.png", "--out", "--work", "--chromium", "--only"):
        assert word in done.stdout


def test_without_chromium_it_stops_in_one_line_before_training(tmp_path):
    done = run("--chromium", str(tmp_path / "no-chromium"), "--work", str(tmp_path / "work"))
    assert done.returncode != 0
    assert done.stderr.strip() == (f"screenshots: no Chromium at {tmp_path / 'no-chromium'} "
                                   "(apt-get install chromium, or pass --chromium / set CHROMIUM_PATH)")
    assert not (tmp_path / "work").exists()  # nothing trained, no server started
