"""The one progress bar: a line on stderr redrawn in place, for training epochs and steps, a baseline's epochs, and
a download's bytes. The command line and the reproduction both draw with it, so their output looks alike; the library
draws it where it fits (`library_bar`: a line under the cell in Jupyter, nothing in a log).

Kept over tqdm (`tqdm.auto`): its notebook widget needs ipywidgets as well (without it tqdm.auto falls back to
carriage returns, with a warning), and the two packages are far more code than this file, which draws the same one
line with IPython's own display where a notebook runs."""

from __future__ import annotations

import sys
import time
from typing import Any

REDRAW_SECONDS = 0.2  # redraw at most 5× a second: a terminal (or the app's log view) need no more


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython started by ipykernel), where stderr's carriage returns pile up."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class NotebookLine:
    """ProgressBar's stream in Jupyter: one output line under the cell, replaced at every redraw (IPython's display
    with a display_id), instead of a line of carriage returns per redraw."""

    def __init__(self) -> None:
        from IPython.display import display  # only ever inside a kernel, where IPython is

        self.handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self.handle.update({"text/plain": line}, raw=True)

    def flush(self) -> None:
        pass


def library_bar(verbose: int | bool, epochs: int) -> ProgressBar | None:
    """`DMF(verbose=...)`'s bar. 0 / False: none. 1 / True (the default): one that fits where it runs: a line under
    the cell in Jupyter, the command line's bar in a terminal, nothing in a log (stderr not a terminal). 2 and more:
    the command line's bar wherever stderr goes, each epoch on its own line."""
    if not verbose:
        return None
    if verbose >= 2:
        return ProgressBar(epochs)
    if in_notebook():
        return ProgressBar(epochs, stream=NotebookLine(), keep_epochs=False)
    isatty = getattr(sys.stderr, "isatty", None)
    return ProgressBar(epochs) if isatty is not None and isatty() else None


class ProgressBar:
    """`step(step, steps)` within an epoch, `epoch_done(report)` after one (a training history row), `transfer(done,
    total)` for bytes. With `keep_epochs`, every finished epoch keeps its own line; otherwise it is redrawn."""

    def __init__(self, epochs: int = 0, stream: Any = None, width: int = 24, *, keep_epochs: bool = True,
                 what: str = ""):
        self.epochs = epochs
        self.stream = stream or sys.stderr
        self.width = width
        self.keep_epochs = keep_epochs
        self.what = what
        self.epoch = 1
        self.last = ""
        self.last_draw = 0.0
        self.open_line = False  # the last draw was in place (no newline yet)

    def _due(self, final: bool) -> bool:
        now = time.monotonic()
        if not final and now - self.last_draw < REDRAW_SECONDS:
            return False
        self.last_draw = now
        return True

    def _bar(self, done: int, total: int) -> str:
        filled = int(self.width * done / max(1, total))
        return "#" * filled + "." * (self.width - filled)

    def _draw(self, text: str, newline: bool = False) -> None:
        self.stream.write(f"\r{text}".ljust(100) + ("\n" if newline else ""))
        self.stream.flush()
        self.open_line = not newline

    def end_line(self) -> None:
        """End a line left open by an in-place redraw (a step, the companion), so what is printed next starts clean."""
        if self.open_line:
            self.close()
            self.open_line = False

    def step(self, step: int, steps: int) -> None:
        if not self._due(step >= steps):
            return
        self._draw(f"epoch {self.epoch}/{self.epochs} [{self._bar(step, steps)}] {step}/{steps} {self.last}")

    def epoch_done(self, report: dict[str, Any]) -> None:
        parts = []
        if report.get("train_loss") is not None:
            parts.append(f"loss {report['train_loss']:.4f}")
        if report.get("val_rmse") is not None:
            parts.append(f"val RMSE {report['val_rmse']:.4f}")
        if report.get("lambda"):
            parts.append(f"λ {report['lambda']:.3g}")
        parts.append(f"{report.get('elapsed', 0.0):.0f}s")
        if report.get("eta_seconds") is not None:
            parts.append(f"eta {report['eta_seconds']:.0f}s")
        self.last = " ".join(parts)
        epochs = report.get("epochs") or self.epochs
        self._draw(f"epoch {report['epoch']}/{epochs} {self.last}", newline=self.keep_epochs)
        self.epoch = report["epoch"] + 1

    def companion(self, epoch: int, epochs: int) -> None:
        """After DMF: the I-AutoRec companion's epochs (`epoch` of at most `epochs` done)."""
        if not self._due(epoch >= epochs):
            return
        self._draw(f"I-AutoRec companion [{self._bar(epoch, epochs)}] epoch {epoch}/{epochs}")

    def transfer(self, done: int, total: int) -> None:
        if not self._due(done == total):
            return
        share = f"{100 * done / total:5.1f}%" if total else f"{done / 1e6:.1f} MB"
        self._draw(f"{self.what} {share}".strip())

    def close(self) -> None:
        """End the line being redrawn (after an in-place epoch line or a transfer)."""
        self.stream.write("\n")
        self.stream.flush()
