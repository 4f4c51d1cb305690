"""Every command in the README's shell blocks is executed here, so that the docs cannot drift from the tools.

Each command runs as written, in a scratch folder (installs in the repository, whose requirement files they read),
in the order the README gives, except where running it as written
would take minutes or need the internet; those few are run with one change each, stated in `CHANGES` with the
reason (a shorter budget, one seed, `--help` for the download). `[...]` parts are optional and left out; `#` starts a
comment. A command nobody mapped fails the test, so a new README command needs a decision here; commands quoted in
the prose (inline code) run too, reduced as `PROSE_CHANGES` states, or are listed in `NOT_RUN` with why. The Python API's
example runs in `test_readme_api.py`; the test command itself (`python -m pytest`) is what CI runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ML1M_DIR, REPO_ROOT, skip_or_fail

# A README command (after optional parts and comments are removed) -> (what runs instead, why). Commands absent
# from this table run exactly as written.
CHANGES: dict[str, tuple[str, str]] = {
    "python -m dmf_core train --data ml-1m --model dmf --max-seconds 180 --out runs/dmf": (
        "python -m dmf_core train --data ml-1m --model dmf --max-seconds 180 --out runs/dmf --epochs 2",
        "two epochs, not three minutes: the run, its files and the commands that read them are what is checked"),
    "python -m dmf_core train --data ml-1m --model dmf-d --new-users 0 --new-items 0 --out runs/dmfd": (
        "python -m dmf_core train --data ml-1m --model dmf-d --new-users 0 --new-items 0 --out runs/dmfd --epochs 2",
        "two epochs (one of warm-up, one of quantizer), not a full run"),
    "python -m dmf_core download": (
        "python -m dmf_core download --help",
        "CI reaches no GroupLens server; the download itself is tested against a local server in test_download.py"),
    "python -m dmf_core download --dataset ml-100k": (
        "python -m dmf_core download --dataset ml-100k --help", "the same"),
    "python -m dmf_core reproduce": (
        "python -m dmf_core reproduce --check",
        "the full reproduction takes 40 minutes: its plan is checked against the data here"),
    "python -m dmf_core reproduce --quick": (
        "python -m dmf_core reproduce --quick --check",
        "the quick reproduction on ML-1M (5 minutes) runs in test_reproduce.py"),
    "python -m dmf_core train --data ml-1m --val-frac 0.05 --test-frac 0.10 --new-users 0 --new-items 0 "
    "--out runs/literature": (
        "python -m dmf_core train --data ml-1m --val-frac 0.05 --test-frac 0.10 --new-users 0 --new-items 0 "
        "--out runs/literature --epochs 2",
        "two epochs of DMF, not two minutes; the companion then trains and is blended in as in the full run"),
    "python benchmarks/bench_literature.py": (
        "python benchmarks/bench_literature.py --datasets ml-1m --seeds 1 --max-seconds 20 --skip-svdpp "
        "--skip-areas --out literature.json",
        "one seed and a 20 s budget, written to the scratch folder, not over the committed results"),
    "python benchmarks/bench_literature.py --datasets ml-1m --seeds 1 --max-seconds 300 --skip-svdpp": (
        "python benchmarks/bench_literature.py --datasets ml-1m --seeds 1 --max-seconds 20 --skip-svdpp "
        "--skip-areas --out literature.json",
        "a 20 s budget instead of 300 s, written to the scratch folder"),
    "python benchmarks/bench_literature.py --peers-from benchmarks/results/literature.json": (
        "python benchmarks/bench_literature.py --datasets ml-1m --seeds 1 --max-seconds 20 --skip-areas --out "
        f"literature-peers.json --peers-from {REPO_ROOT / 'benchmarks' / 'results' / 'literature.json'}",
        "one seed and a 20 s budget; the committed report's SVD and SVD++ figures for seed 0 are reused"),
    "python benchmarks/bench_literature_variants.py --variants wide,decay-0.85 --max-seconds 300": (
        "python benchmarks/bench_literature_variants.py --variants wide,decay-0.85 --max-seconds 4 --data demo "
        "--out variants.json",
        "the demo data and a 4 s budget a variant, written to the scratch folder, not over the committed results"),
    "python benchmarks/bench_literature_variants.py --variants dropout-0.35,dropout-0.65,input-dropout-0.4,deep "
    "--max-seconds 300 --out benchmarks/results/literature-variants-2.json": (
        "python benchmarks/bench_literature_variants.py --variants dropout-0.35,dropout-0.65,input-dropout-0.4,deep "
        "--max-seconds 4 --data demo --out variants-2.json",
        "the same"),
    "python benchmarks/bench_literature_variants.py --variants input-dropout-0.5,input-dropout-0.6 "
    "--max-seconds 300 --out benchmarks/results/literature-variants-3.json": (
        "python benchmarks/bench_literature_variants.py --variants input-dropout-0.5,input-dropout-0.6 "
        "--max-seconds 4 --data demo --out variants-3.json",
        "the same"),
    "python benchmarks/bench_averaging.py": (
        "python benchmarks/bench_averaging.py --data demo --epochs 3 --out averaging.json",
        "three epochs of the demo data, not ten minutes of ML-1M, written to the scratch folder"),
    "python benchmarks/bench_ensemble.py": (
        "python benchmarks/bench_ensemble.py --data demo --members 2 --max-seconds 8 --out ensemble.json",
        "two members on the demo data within 8 s, not five minutes of ML-1M, written to the scratch folder"),
}
# Commands quoted in the README's prose (inline code starting `python benchmarks/` or `python -m dmf_core`) that are
# not also shell-block commands: each runs here with the change stated, or is in NOT_RUN with the reason.
PROSE_CHANGES: dict[str, tuple[str, str]] = {
    "python benchmarks/bench_playground.py": (
        "python benchmarks/bench_playground.py --repeats 1 --out playground.json",
        "one repeat, written to the scratch folder"),
    "python benchmarks/bench_choices.py input-dropout": (
        "python benchmarks/bench_choices.py input-dropout ml1m-10",
        "ML-1M's 10% user subsample only (three short runs), not 15 minutes"),
    "python benchmarks/bench_choices.py companion": (
        "python benchmarks/bench_choices.py companion ml1m-10",
        "ML-1M's 10% user subsample only (one short run and its companion), not 12 minutes"),
    "python benchmarks/bench_defaults.py": (
        "python benchmarks/bench_defaults.py --datasets demo --seeds 1 --out defaults.json",
        "the demo data and one seed, not 30 minutes, written to the scratch folder"),
    "python benchmarks/bench_scaling.py": (
        "python benchmarks/bench_scaling.py --sizes 600x400x20000 --epochs 1 --out scaling.json",
        "one small generated matrix, not 1M-25M ratings"),
    "python benchmarks/bench_speed.py --budget 90 --naive-budget 60": (
        "python benchmarks/bench_speed.py --data demo --budget 4 --naive-budget 2 --no-svd --out speed.json",
        "the demo data, seconds-long budgets and no SVD reference"),
    "python benchmarks/bench_speed.py --new-users 0 --new-items 0 --budget 60 --naive-budget 0 --device cpu "
    "--out benchmarks/results/speed-cpu-0-0.json": (
        "python benchmarks/bench_speed.py --data demo --new-users 0 --new-items 0 --budget 4 --naive-budget 0 "
        "--device cpu --no-svd --out speed-0-0.json",
        "the same, written to the scratch folder"),
    "python benchmarks/profile_epoch.py": (
        "python benchmarks/profile_epoch.py --data demo --epochs 2 --out profile.json",
        "two epochs of the demo data"),
}
NOT_RUN = {
    "python -m dmf_core": "names the entry point; `python -m dmf_core --help`, a shell-block command, runs",
    "python -m dmf_core download --dataset <name>": "a pattern; the shell blocks' download commands run",
}
# Files the commands read, as a reader would have them: their own ratings for `recommend` and `predict`.
INPUTS = {
    "mine.csv": "item,rating\n1,5\n260,5\n1196,4\n2571,5\n",
    "pairs.csv": "user,item\n1,1\n2,260\n3,1196\n",
    "known.csv": "user,item,rating\n7000,1,5\n7000,260,4\n7000,2571,5\n",  # a person the model never saw
}


def readme_commands() -> list[str]:
    """Every command line of the README's shell blocks, comments removed; a line with optional `[...]` parts gives
    two commands: without them, and with each (its first alternative where it lists several, `a|b`)."""
    text = (REPO_ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if not line:
                continue
            commands.append(re.sub(r"\s*\[[^\]]*\]", "", line))
            if "[" in line:
                commands.append(re.sub(r"\[([^\]|]*)(\|[^\]]*)?\]", r"\1", line))
    return commands


def prose_commands() -> list[str]:
    """Commands quoted inline in the README's prose (outside shell blocks), whitespace normalised, once each."""
    text = re.sub(r"```.*?```", "", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    found = [" ".join(c.split()) for c in re.findall(r"`(python (?:benchmarks/|-m dmf_core)[^`]*)`", text)]
    blocks = set(readme_commands())
    return [c for c in dict.fromkeys(found) if c not in blocks]


def test_every_prose_command_is_run_or_says_why_not():
    commands = prose_commands()
    unmapped = [c for c in commands if c not in PROSE_CHANGES and c not in NOT_RUN]
    assert not unmapped, f"README prose commands with no decision in PROSE_CHANGES / NOT_RUN: {unmapped}"
    assert set(PROSE_CHANGES) | set(NOT_RUN) <= set(commands), \
        f"stale entries: {(set(PROSE_CHANGES) | set(NOT_RUN)) - set(commands)}"


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(PROSE_CHANGES))
def test_prose_command_runs(command, tmp_path):
    if not (ML1M_DIR / "ratings.dat").is_file():
        skip_or_fail("MovieLens-1M not found at ../shared/data/ml-1m")
    reduced = PROSE_CHANGES[command][0]
    done = _run(reduced, tmp_path)
    assert done.returncode == 0, f"{reduced}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr, reduced
    written = [w for w in shlex.split(reduced) if w.endswith(".json")]
    assert all((tmp_path / w).is_file() for w in written), f"{reduced} did not write {written}"


def test_the_readme_lists_the_commands_this_test_knows():
    commands = readme_commands()
    assert "python -m pip install -r requirements.txt && streamlit run app.py" in commands
    assert any(c.startswith("python -m dmf_core train") for c in commands)
    assert set(CHANGES) <= set(commands), f"stale entries: {set(CHANGES) - set(commands)}"


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DMF_RUNS_DIR": str(cwd / "runs")}
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = sys.executable
    if len(argv) > 1 and argv[1].startswith("benchmarks/"):
        argv[1] = str(REPO_ROOT / argv[1])
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve_app(cwd: Path) -> None:
    """`streamlit run app.py` from the repository root (where its config applies), until its health check says ok
    and its first page answers."""
    port = _free_port()
    env = {**os.environ, "DMF_RUNS_DIR": str(cwd / "runs")}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port)], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(180):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    if answer.read().decode() == "ok":
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
                            assert page.status == 200
                        return
            except OSError:
                assert server.poll() is None, "streamlit run app.py exited"
            time.sleep(0.5)
        raise AssertionError("streamlit run app.py did not become healthy")
    finally:
        server.terminate()
        server.wait(30)


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path):
    if not (ML1M_DIR / "ratings.dat").is_file():
        skip_or_fail("MovieLens-1M not found at ../shared/data/ml-1m")
    for name, content in INPUTS.items():
        (tmp_path / name).write_text(content)
    done_before: set[str] = set()
    for command in readme_commands():
        command = CHANGES.get(command, (command, ""))[0]
        if command in done_before:  # two README lines that run the same reduced command
            continue
        done_before.add(command)
        for part in (p.strip() for p in command.split("&&")):
            if part == "python -m pytest":
                continue  # this very suite: CI runs it
            if part == "streamlit run app.py":
                _serve_app(tmp_path)
                continue
            # Installs read the repository's requirement files; everything else writes into the scratch folder.
            done = _run(part, REPO_ROOT if part.startswith("python -m pip") else tmp_path)
            assert done.returncode == 0, f"{part}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            assert "Traceback" not in done.stderr, part
    # What the commands wrote: the runs the later commands read, and the predictions file.
    assert (tmp_path / "runs" / "dmf" / "metrics.json").is_file()
    assert (tmp_path / "runs" / "dmfd" / "metrics.json").is_file()
    assert len((tmp_path / "predictions.csv").read_text().splitlines()) == 4
    assert (tmp_path / "literature.json").is_file()
    rerun = json.loads((tmp_path / "literature-peers.json").read_text())["datasets"]["ml-1m"]["literature_runs"][0]
    assert "reused_from" in rerun["svd"] and "reused_from" in rerun["svdpp"]  # the peers were not refitted
