"""`DMF(verbose=...)`: a progress bar that fits where it runs: a line under the cell in Jupyter, the command
line's bar in a terminal, nothing in a log; verbose=0 draws nothing anywhere, verbose=2 draws everywhere."""

from __future__ import annotations

import io
import sys
import types

import pytest

from dmf_core import DMF
from dmf_core.data import load_dataset
from dmf_core.progress import library_bar

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one thread, on a busy machine
TINY = {"epochs": 2, "hidden": (8, 4), "companion": "none", "device": "cpu", "seed": 0}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def data():
    return load_dataset("demo:120x80x3000")


@pytest.fixture
def notebook(monkeypatch):
    """A Jupyter kernel as IPython shows it: get_ipython() with an IPKernelApp config, and display handles; returns
    the outputs drawn (one list of texts per handle)."""
    outputs: list[list[str]] = []

    class Handle:
        def __init__(self) -> None:
            self.texts: list[str] = []
            outputs.append(self.texts)

        def update(self, data: dict, raw: bool = False) -> None:
            self.texts.append(data["text/plain"])

    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "IPython.display",
                        types.SimpleNamespace(display=lambda data, raw=False, display_id=False: Handle()))
    return outputs


def test_verbose_0_and_a_log_draw_nothing(data, capsys):
    DMF(**TINY, verbose=0).fit(data)
    assert library_bar(False, 2) is None and library_bar(0, 2) is None
    assert capsys.readouterr().err == ""
    DMF(**TINY).fit(data)  # the default, with stderr not a terminal (a log, a pipe)
    assert capsys.readouterr().err == ""
    DMF(**TINY, verbose=2).fit(data)  # asked for: the command line's epoch lines, in a log too
    assert "epoch 2/2 loss" in capsys.readouterr().err


def test_a_terminal_gets_the_command_lines_bar(data, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    DMF(**TINY).fit(data)
    drawn = terminal.getvalue()
    assert "\r" in drawn and "epoch 1/2 loss" in drawn and "epoch 2/2 loss" in drawn  # as now, a line per epoch
    assert drawn.endswith("\n")


def test_jupyter_gets_one_line_under_the_cell(data, notebook, capsys):
    DMF(**TINY).fit(data)
    assert capsys.readouterr().err == ""  # no carriage returns on stderr
    assert len(notebook) == 1  # one output for the whole fit, redrawn
    texts = notebook[0]
    assert texts and all("\r" not in text and "\n" not in text for text in texts)
    assert texts[-1].startswith("epoch 2/2 loss")


def test_bad_verbose_is_one_line():
    for bad in (-1, "yes", 1.5):
        with pytest.raises(ValueError, match="verbose must be") as error:
            DMF(verbose=bad)
        assert "\n" not in str(error.value)
