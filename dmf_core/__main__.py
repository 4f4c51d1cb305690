"""`python -m dmf_core`: the command line (`dmf_core.cli.main`).

Before torch is imported: torch's CPU threads wait for each other between operations, and libgomp's default
spin-wait makes that many times slower whenever other processes keep the cores busy (a 2-core machine shared with
two test runs: 35-62 s an ML-1M epoch instead of 4-8 s), while passive waiting costs a few percent on an idle
machine. A policy the caller set wins. It is the command line's choice (and the app's, `app.py`), not the
library's: `import dmf_core` sets nothing."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys  # noqa: E402

from .cli.main import main  # noqa: E402  (after the wait policy, which torch reads once, when it loads)

sys.exit(main())
