"""dmf_core: Deep Matrix Factorisation (DMF) and its discrete variant DMF-D, after Nguyen, Tsiligianni and
Deligiannis, "Matrix Factorization via Deep Learning". Importable and testable without Streamlit.

`from dmf_core import DMF` is the library: fit, predict (users and items never trained on included, from their
ratings as `context=`), recommend, save and load (`dmf_core/api.py`)."""

import os

# torch's CPU threads wait for each other between operations; libgomp's default spin-wait makes that many times
# slower whenever other processes keep the cores busy (a 2-core machine shared with two test runs: 35-62 s an ML-1M
# epoch instead of 4-8 s), while passive waiting costs a few percent on an idle machine. A policy the caller set
# wins; it only takes effect when dmf_core is imported before torch (as `python -m dmf_core` and the app do).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

from .api import DMF  # noqa: E402  (after the wait policy, which must precede torch)

__all__ = ["DMF"]
