"""dmf_core: Deep Matrix Factorisation (DMF) and its discrete variant DMF-D, after Nguyen, Tsiligianni and
Deligiannis, "Matrix Factorization via Deep Learning". Importable and testable without Streamlit.

`from dmf_core import DMF` is the library: fit, predict (users and items never trained on included, from their
ratings as `context=`), recommend, save and load (`dmf_core/api.py`).

Importing the package changes nothing in the process: no environment variable, no global torch setting. The
entry points set what they choose before torch loads (`__main__.py`, the app's `app.py`). For that, `DMF` is
imported when first asked for rather than with the package: `python -m dmf_core` runs this file before
`__main__.py`, and torch must not be loaded by then.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["DMF"]


def __getattr__(name: str) -> Any:
    """`dmf_core.DMF` (PEP 562): `dmf_core.api.DMF`, imported on first use (why: the module docstring)."""
    if name == "DMF":
        return importlib.import_module(".api", __name__).DMF
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
