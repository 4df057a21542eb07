"""Speed up numba's CUDA simulator for these tests.

The simulator runs each GPU thread as a Python thread and a polling loop releases them at
every ``syncthreads``; with CPython's default 5 ms thread switch interval each barrier costs
milliseconds. A 0.1 ms interval makes the simulated kernels about ten times faster.
"""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True, scope="module")
def _fast_thread_switching():
    from numba import config

    if not config.ENABLE_CUDASIM:
        yield
        return
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
