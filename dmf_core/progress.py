"""The one progress bar: a line on stderr redrawn in place, for training epochs and steps, a baseline's epochs, and
a download's bytes. The command line and the reproduction both draw with it, so their output looks alike."""

from __future__ import annotations

import sys
import time
from typing import Any

REDRAW_SECONDS = 0.2  # redraw at most 5× a second: a terminal (or the app's log view) need no more


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
