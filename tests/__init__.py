"""The test suite. Before anything imports torch: OpenMP threads that wait passively, as `python -m dmf_core` and the
app have them (dmf_core/__main__.py says why). pytest imports this package before `tests/conftest.py`, whose torch
would otherwise start with libgomp's spin-waiting, many times slower whenever the two cores are shared."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# One torch thread per test process: pytest-xdist runs a process per core (pyproject's addopts), and on the tests'
# small tensors a second thread costs more in synchronisation than it brings (benchmarks/bench_playground.py).
os.environ.setdefault("OMP_NUM_THREADS", "1")
