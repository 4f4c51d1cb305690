"""The layout's rules: dmf_core is a library without Streamlit; its folders are its layers and imports go one way,
base → data → model → {training, scoring} → runs → {library, reproduction, figures} → {cli, studio → pages};
no import circles and no function-level import hiding one; modules
stay small; no MovieLens file is ever committed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# Lower layers never import higher ones. Within a layer, modules may import each other, without circles.
# A module's layer is its folder's (FOLDERS); the few modules at dmf_core's top level are named in TOP.
LAYERS = {
    "base": 0,  # errors, files, progress, paper, device, config: no dependencies inside the project
    "data": 1,  # dmf_core/data: rating data in, splits, tables in
    "model": 2,  # dmf_core/model: the networks, the quantizer, the inputs, the biases
    "engine": 3,  # dmf_core/training and dmf_core/scoring (training validates by scoring; a prediction blends the
    # companion that training fits), and `flags`, the train command's flags as configs
    "runs": 4,  # dmf_core/runs: run folders and checkpoints
    "library": 5,  # `from dmf_core import DMF` (api), ranking, integrations
    "reproduction": 5,  # dmf_core/reproduction: the paper's tables
    "figures": 5,  # dmf_core/figures: plotly figures the pages and the notebooks share
    "cli": 6,  # dmf_core/cli and `python -m dmf_core`
    "studio": 6,  # the app's own code beside the pages
    "pages": 7,
}
FOLDERS = {
    "data": "data",
    "model": "model",
    "training": "engine",
    "scoring": "engine",
    "runs": "runs",
    "ranking": "library",
    "integrations": "library",
    "reproduction": "reproduction",
    "figures": "figures",
    "cli": "cli",
}
TOP = {
    "dmf_core.errors": "base",
    "dmf_core.files": "base",
    "dmf_core.progress": "base",
    "dmf_core.paper": "base",
    "dmf_core.device": "base",
    "dmf_core.config": "base",
    "dmf_core.flags": "engine",
    "dmf_core.api": "library",
    "dmf_core": "library",  # the package re-exports the library
    "dmf_core.__main__": "cli",
}
MAX_TOP_MODULES = 12  # dmf_core's top level: the public API, config, the entry point and the base helpers
# Same rank but no edge either way: the command line and the app know nothing of each other, and neither do the
# library and the reproduction, or the figures and the library.
SEPARATE = {
    ("cli", "studio"),
    ("studio", "cli"),
    ("library", "reproduction"),
    ("reproduction", "library"),
    ("figures", "library"),
    ("library", "figures"),
    ("figures", "reproduction"),
    ("reproduction", "figures"),
}
# One concept that reads better whole is allowed past MAX_LINES, with the reason.
MAX_LINES = 400
LONG_MODULES: dict[str, str] = {}  # dmf_core/figures was one module until it was split by what it draws
MAX_FUNCTION_LINES = 100
# Functions still past MAX_FUNCTION_LINES, each with what removes it; an entry that is no longer long fails the test.
LONG_FUNCTIONS: dict[str, str] = {}  # "path:function" -> why it reads better whole (none today)


def layer(module: str) -> str:
    if module in TOP:
        return TOP[module]
    parts = module.split(".")
    if parts[0] == "dmf_core":
        assert len(parts) > 2 or parts[1] in FOLDERS, f"{module}: a top-level module missing from TOP"
        return FOLDERS[parts[1]]
    if parts[0] == "studio":
        return "studio"
    return "pages"


def sources() -> dict[str, Path]:
    """Every project module by dotted name (pages and app.py under their file names)."""
    found = {}
    for package in ("dmf_core", "studio"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    for path in [REPO_ROOT / "app.py", *sorted((REPO_ROOT / "pages").glob("*.py"))]:
        found[f"pages:{path.name}"] = path
    return found


def resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """The project modules an import statement names (relative imports resolved)."""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def imports(module: str, path: Path, known: set[str]) -> tuple[set[str], list[str]]:
    """(project modules imported at module level, project imports made inside functions)."""
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    hidden: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = resolve(module, path, node)
            if all(name in known for name in names[1:]):
                names = names[1:]  # `from . import checkpoint`: an edge into the module, not the package's __init__
        else:
            continue
        targets = {name for name in names if name in known}
        if not targets:
            continue
        if node.col_offset == 0:
            top |= targets
        else:
            hidden.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    return top - {module}, hidden


def graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = sources()
    known = set(modules)
    edges, hidden = {}, []
    for module, path in modules.items():
        edges[module], inner = imports(module, path, known)
        hidden += inner
    return edges, hidden


def test_imports_go_one_way():
    edges, _ = graph()
    wrong = []
    for module, targets in edges.items():
        here = layer(module)
        for target in targets:
            there = layer(target)
            if LAYERS[there] > LAYERS[here] or (here, there) in SEPARATE:
                wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    edges, _ = graph()
    # Package __init__ files re-export their modules: an edge into a package is an edge into its modules.
    circles = []
    state: dict[str, int] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if target.startswith(module + "."):
                continue  # a package importing its own modules
            if state.get(target) == 1:
                circles.append(" → ".join(stack[stack.index(target):] + [target]))
            elif state.get(target) is None:
                visit(target, stack + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


def test_no_local_imports_inside_the_package():
    """A function-level import of a project module is how a circle gets hidden: none in dmf_core or studio."""
    _, hidden = graph()
    hidden = [where for where in hidden if where.startswith(("dmf_core", "studio"))]
    assert not hidden, hidden


def test_modules_stay_small_and_say_what_they_are():
    for path in sources().values():
        relative = str(path.relative_to(REPO_ROOT))
        text = path.read_text()
        if not relative.startswith("pages/") and relative != "app.py":
            assert ast.get_docstring(ast.parse(text)), f"{relative} has no opening statement"
        if relative not in LONG_MODULES:
            assert len(text.splitlines()) <= MAX_LINES, f"{relative}: {len(text.splitlines())} lines"


def test_functions_stay_short():
    long = {}
    for path in sources().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(REPO_ROOT)}:{node.name}"] = length
    assert set(long) <= set(LONG_FUNCTIONS), {k: v for k, v in long.items() if k not in LONG_FUNCTIONS}
    assert set(LONG_FUNCTIONS) <= set(long), f"no longer long, remove from LONG_FUNCTIONS: {set(LONG_FUNCTIONS) - set(long)}"


def test_the_rules_see_the_whole_project():
    """Guards the test itself: every layer is populated, so a rename cannot silently empty a rule."""
    seen = {layer(module) for module in sources()}
    assert seen == set(LAYERS), seen
    edges, _ = graph()
    assert "dmf_core.training.train" in edges["dmf_core.runs.folder"]
    assert "dmf_core.data.ratings" in edges["dmf_core.data.split"] or "dmf_core.data" in edges["dmf_core.data.split"]


def test_the_top_level_is_small_and_every_folder_says_what_it_owns():
    package = REPO_ROOT / "dmf_core"
    top = sorted(path.name for path in package.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
    assert {f"dmf_core.{name[:-3]}" for name in top if name != "__init__.py"} <= set(TOP), top
    folders = sorted(path for path in package.iterdir() if path.is_dir() and path.name != "__pycache__")
    assert {folder.name for folder in folders} == set(FOLDERS)
    for folder in folders:
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
        modules = [path.stem for path in folder.glob("*.py") if path.stem != "__init__"]
        missing = [name for name in modules if f"`{name}`" not in doc and not name.startswith("_")]
        assert not missing, f"{folder.name}/__init__.py does not say what these own: {missing}"


def test_no_two_classes_share_a_name():
    seen: dict[str, str] = {}
    twice = []
    for module, path in sources().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                if node.name in seen:
                    twice.append(f"{node.name}: {seen[node.name]} and {module}")
                seen.setdefault(node.name, module)
    assert not twice, twice


@pytest.mark.slow  # a fresh interpreter importing torch and every dmf_core module: about 4 s
def test_dmf_core_never_imports_streamlit():
    modules = sorted(name for name in sources() if name.startswith("dmf_core") and name != "dmf_core.__main__")
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'\n"
        "assert not [m for m in sys.modules if m.startswith('studio')], 'studio was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_streamlit_in_core_sources():
    for path in Path(REPO_ROOT / "dmf_core").rglob("*.py"):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path


def test_no_movielens_files_are_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    forbidden = {"ratings.dat", "movies.dat", "users.dat", "u.data", "u.item", "ml-1m.zip"}
    assert not [name for name in tracked if Path(name).name in forbidden]
