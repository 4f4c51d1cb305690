"""The README's "Python API" example runs as written (on the demo data, given as the `ratings.csv` it reads), so
the documentation cannot drift from the library."""

from __future__ import annotations

import os
import re

import pandas as pd

from dmf_core.data import load_dataset
from tests.conftest import REPO_ROOT


def readme_example() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the Python API section holds one python example"
    return blocks[0]


def test_the_readme_example_runs(tmp_path, capsys):
    code = readme_example()
    assert "from dmf_core import DMF" in code and "context=" in code and "recommend(" in code
    demo = load_dataset("demo")
    pd.DataFrame({"user": demo.user_ids[demo.users], "item": demo.item_ids[demo.items],
                  "rating": demo.ratings}).to_csv(tmp_path / "ratings.csv", index=False)
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)
    finally:
        os.chdir(here)
    assert (tmp_path / "runs" / "api" / "checkpoint.pt").is_file()
    model, again = namespace["model"], namespace["again"]
    pairs = pd.DataFrame({"user": [1, 2], "item": [10, 20]})
    assert (model.predict(pairs) == again.predict(pairs)).all()
    printed = capsys.readouterr().out
    assert "score" in printed and "rmse" in printed
