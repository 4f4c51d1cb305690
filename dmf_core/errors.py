"""One-line error messages: what the command line, the app and the data loaders show instead of a traceback."""

from __future__ import annotations


def one_line(error: BaseException | str) -> str:
    """The first line of an error's message with its whitespace collapsed, or the error's type when it has none."""
    text = str(error).strip()
    first = " ".join(text.splitlines()[0].split()) if text else ""
    return first or (type(error).__name__ if isinstance(error, BaseException) else "")
