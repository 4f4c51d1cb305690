"""Every command and code example in the README, `docs/` and REPRODUCTION.md is checked here, so that the docs cannot
drift from the tools.

- The README's getting-started commands and its Python example run for real (reduced as `RUN` states), in a scratch
  folder, in the order given.
- Every other command is *parsed*, not run: `python -m dmf_core ...` by the command line's own parser, a script's
  flags and words against what its `--help` lists. They are benchmarks and long trainings whose numbers come from
  the benchmark scripts and `benchmarks/results/`, not from a test; what can drift is their syntax.
- `streamlit run app.py` lines are not served here: each may only set variables the app reads and must start
  `app.py`; the browser tests (`tests/e2e`) start `streamlit run app.py` itself and drive every page.
- `python -c ...` one-liners run as written.
- `python -m pytest` is this very suite, and the installs are what CI itself runs.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import runpy
import shlex
import subprocess
import sys

import pandas as pd
import pytest

from dmf_core.cli.main import build_parser, main
from dmf_core.data import load_dataset
from studio import data_paths, registry, state
from tests.conftest import REPO_ROOT, SMALL_DEMO

DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "REPRODUCTION.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# README commands that run for real: (what runs instead, why), or None to run as written.
RUN: dict[str, tuple[str, str] | None] = {
    "python -m dmf_core train --data demo --max-seconds 60 --out runs/demo": (
        f"python -m dmf_core train --data {SMALL_DEMO} --epochs 2 --hidden 32,16 --out runs/demo",
        "two epochs of a small network on a small demo matrix: the run's files and the commands that read them are "
        "what is checked"),
    "python -m dmf_core recommend runs/demo --ratings mine.csv --k 10": None,
    "python -m dmf_core recommend runs/demo --user 1 --k 10": None,
    "python -m dmf_core predict runs/demo --pairs pairs.csv --out predictions.csv": None,
    "python -m dmf_core --help": None,
}
NOT_COMMANDS = {"python -m pytest", 'python -m pytest -m "not e2e and not slow"', "streamlit run app.py",
                "python -m dmf_core",  # names the entry point; `python -m dmf_core --help` runs
                "python -m dmf_core download --dataset <name>"}  # a pattern; the download commands parse
# Files the commands read, as a reader would have them.
INPUTS = {
    "mine.csv": "item,rating\n1,5\n26,5\n196,4\n271,5\n",
    "pairs.csv": "user,item\n1,1\n2,260\n3,196\n",
}


def shell_commands(text: str) -> list[str]:
    """Each command line of the text's shell blocks, comments removed; a line with optional `[...]` parts gives two
    commands: without them, and with each (its first alternative where it lists several, `a|b`)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                commands.append(re.sub(r"\s*\[[^\]]*\]", "", line))
                if "[" in line:
                    commands.append(re.sub(r"\[([^\]|]*)(\|[^\]]*)?\]", r"\1", line))
    return commands


def prose_commands(text: str) -> list[str]:
    """Commands quoted inline outside shell blocks (`python -m dmf_core ...`, `python benchmarks/...`,
    `python docs/...`), whitespace normalised, optional `[...]` parts left out."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    found = re.findall(r"`(python (?:benchmarks/|docs/|-m dmf_core)[^`]*)`", text)
    return [re.sub(r"\s*\[[^\]]*\]", "", " ".join(c.split())) for c in found]


def command_texts() -> list[tuple[str, str]]:
    """(name, text) of every document that quotes commands: the docs, the notebooks' README, and the notebooks'
    markdown and comments (their `# ` taken off, so a fenced block in a markdown cell reads as one)."""
    notebooks = REPO_ROOT / "notebooks"
    texts = [(doc.name, doc.read_text()) for doc in [*DOCS, notebooks / "README.md"]]
    texts += [(path.name, re.sub(r"^# ?", "", path.read_text(), flags=re.M))
              for path in sorted(notebooks.glob("[0-9][0-9]_*.py"))]
    return texts


def all_commands() -> list[tuple[str, str]]:
    """(document, command) for every command in the docs and notebooks, once each, installs and this suite left out."""
    seen: dict[str, str] = {}
    for doc, text in command_texts():
        for command in shell_commands(text) + prose_commands(text):
            for part in (p.strip() for p in command.split("&&")):
                if part.startswith("python ") and not part.startswith("python -m pip") and part not in NOT_COMMANDS:
                    seen.setdefault(part, doc)
    return [(doc, command) for command, doc in seen.items()]


READ_BY_THE_APP = {data_paths.PATHS_ENV, state.ADMIN_ENV, registry.MAX_SECONDS_ENV, "DMF_DATA_DIR", "DMF_UPLOAD_DIR",
                   "DMF_RUNS_DIR"}


def app_lines() -> list[tuple[str, str]]:
    """(document, line) for every shell line that serves the app, possibly after VAR=value settings."""
    return [(doc.name, line) for doc in DOCS for line in shell_commands(doc.read_text())
            if "streamlit run" in line and "&&" not in line]


def test_every_app_line_sets_only_what_the_app_reads():
    lines = app_lines()
    assert len(lines) >= 3
    for doc, line in lines:
        words = shlex.split(line)
        settings = [word.split("=", 1)[0] for word in words if re.match(r"[A-Z_]+=", word)]
        assert set(settings) <= READ_BY_THE_APP, f"{doc}: `{line}`"
        assert words[len(settings):len(settings) + 3] == ["streamlit", "run", "app.py"], f"{doc}: `{line}`"


def test_every_python_one_liner_runs():
    lines = [(doc, c) for doc, c in all_commands() if c.startswith("python -c ")]
    assert lines
    for doc, command in lines:
        done = subprocess.run([sys.executable, *_argv(command)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and done.stdout.strip(), f"{doc}: `{command}`: {done.stderr}"


def _argv(command: str) -> list[str]:
    argv = shlex.split(command)
    assert argv[0] == "python", command
    return argv[1:]


def test_the_docs_name_the_two_commands_and_the_fast_tier():
    readme = shell_commands((REPO_ROOT / "README.md").read_text())
    assert "python -m pip install -r requirements.txt && streamlit run app.py" in readme
    assert "python -m pip install -r requirements-dev.txt && python -m pytest" in readme
    assert 'python -m pytest -m "not e2e and not slow"' in readme
    assert set(RUN) <= set(readme), f"stale entries in RUN: {set(RUN) - set(readme)}"
    assert len((REPO_ROOT / "README.md").read_text().splitlines()) <= 170  # a newcomer's five minutes


def test_every_dmf_core_command_parses():
    """`python -m dmf_core ...` as the command line's own parser reads it (`--help` prints and exits 0)."""
    commands = [(doc, c) for doc, c in all_commands() if c.startswith("python -m dmf_core")]
    assert len(commands) >= 10
    for doc, command in commands:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                build_parser().parse_args(_argv(command)[2:])
        except SystemExit as stop:
            assert stop.code == 0 and "--help" in command, f"{doc}: `{command}` does not parse: {out.getvalue()}"


def _script_help(script: str) -> str:
    """A script's `--help`, run in this process (no second torch import): it must use argparse, or it would run."""
    path = REPO_ROOT / script
    assert path.is_file(), f"no such script: {script}"
    assert "argparse" in path.read_text(), f"{script} has no argparse --help"
    out, argv = io.StringIO(), sys.argv
    sys.argv = [str(path), "--help"]
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as stop:
            runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = argv
    assert stop.value.code == 0, f"{script} --help failed"
    return out.getvalue()


def test_every_script_command_uses_only_what_its_help_lists():
    """`python benchmarks/X.py ...` and `python docs/X.py ...`: each flag and each bare word (a part's name, a
    choice) appears in the script's `--help`; a flag's values are not checked against the script, only parsed."""
    commands = [(doc, c) for doc, c in all_commands() if not c.startswith(("python -m ", "python -c "))]
    assert commands
    helps: dict[str, str] = {}
    for doc, command in commands:
        script, *args = _argv(command)
        text = helps.setdefault(script, _script_help(script))
        previous = ""
        for arg in args:
            name = arg.split("=", 1)[0]
            if name.startswith("--"):
                assert name in text, f"{doc}: `{command}`: {script} has no {name}"
            elif not previous.startswith("--"):  # a positional word, not a flag's value
                assert all(word in text for word in arg.split(",")), f"{doc}: `{command}`: {script} lists no {arg}"
            previous = arg if arg.startswith("--") and "=" not in arg else ""


def test_the_readme_command_line_example_runs(tmp_path, monkeypatch, capsys):
    """In this process, in a scratch folder: `python -m dmf_core ...` is `cli.main` (tests/test_cli.py runs it as a
    script too)."""
    for name, content in INPUTS.items():
        (tmp_path / name).write_text(content)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DMF_RUNS_DIR", str(tmp_path / "runs"))
    for command, change in RUN.items():
        command = change[0] if change else command
        try:
            code = main(_argv(command)[2:])
        except SystemExit as stop:  # --help
            code = stop.code
        out, err = capsys.readouterr()
        assert code == 0, f"{command}\n{out[-2000:]}\n{err[-2000:]}"
        if " train " in command:  # the paper's DMF alone by default, labelled so
            assert re.search(r"^DMF on demo", out, re.M) and "I-AutoRec" not in out, out
    assert (tmp_path / "runs" / "demo" / "metrics.json").is_file()
    assert len((tmp_path / "predictions.csv").read_text().splitlines()) == 4


def python_blocks() -> list[tuple[str, str]]:
    return [(doc.name, block) for doc in DOCS for block in re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)]


@pytest.mark.parametrize("doc, code", python_blocks(), ids=lambda value: value if value.endswith(".md") else "")
def test_every_python_example_runs(doc, code, tmp_path, monkeypatch, capsys):
    """As written, in a scratch folder that holds demo data as the `ratings.csv` an example may read; `fit("demo")`
    is given the demo generator at a small size (`SMALL_DEMO`): what is checked is the API, not accuracy."""
    code = code.replace('fit("demo")', f'fit("{SMALL_DEMO}")')
    demo = load_dataset(SMALL_DEMO)
    pd.DataFrame({"user": demo.user_ids[demo.users], "item": demo.item_ids[demo.items],
                  "rating": demo.ratings}).to_csv(tmp_path / "ratings.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, doc, "exec"), namespace)
    if doc == "README.md":
        assert "recommend(" in code and "context=" in code
        assert (tmp_path / "runs" / "api" / "checkpoint.pt").is_file()
        pairs = pd.DataFrame({"user": [1, 2], "item": [10, 20]})
        assert (namespace["model"].predict(pairs) == namespace["again"].predict(pairs)).all()
        printed = capsys.readouterr().out
        assert "predicted_rating" in printed and "n_ratings" in printed and "validation" in printed


# A manual's voice: what is true and the command that shows it. When something ran, on what machine and under what
# load belong in the results files' metadata; issue numbers in the notes that close them.
VOICE = [
    (re.compile(r"\b[Ii]ssues? #?\d+"), "an issue number"),
    (re.compile(r"\b20\d\d-\d\d-\d\d\b"), "a date"),
    (re.compile(r"\b(at|of|rerun)\s+\d{1,2}:\d\d\b"), "a clock time"),
    (re.compile(r"load average|\(load \d|(busy|idle|quiet|shared) machine|other jobs|shared the cores|lighter load"),
     "the machine's load"),
]
MANUAL = [*DOCS, REPO_ROOT / "benchmarks" / "README.md", *sorted((REPO_ROOT / "notebooks").glob("*.md"))]


def app_text() -> dict[str, str]:
    """Every string literal of the app's pages and `studio/` (what a user can read on screen), by file."""
    texts = {}
    for path in [REPO_ROOT / "app.py", *sorted((REPO_ROOT / "pages").glob("*.py")), *sorted((REPO_ROOT / "studio").glob("*.py"))]:
        tree = ast.parse(path.read_text())
        strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
        texts[str(path.relative_to(REPO_ROOT))] = "\n".join(strings)
    return texts


@pytest.mark.parametrize("path", MANUAL, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_the_docs_speak_as_a_manual(path):
    text = path.read_text()
    found = [f"{what}: {match.group(0)!r}" for pattern, what in VOICE for match in pattern.finditer(text)]
    assert not found, found


def test_the_app_text_names_no_issue_and_no_date():
    found = [f"{name}: {what}: {match.group(0)!r}" for name, text in app_text().items()
             for pattern, what in VOICE for match in pattern.finditer(text)]
    assert not found, found
