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


def tiny_training_config():
    """Launch shapes for device-resident training in the simulator: thread blocks of a few
    threads (so small arrays span several blocks and the grid-stride loops wrap), split
    reductions from 4 rows on, 64 dropout generators."""
    from tsrnn.kernels.cuda import LaunchConfig

    return LaunchConfig(
        block=(4, 2),
        gemm_block=(2, 2),
        gemm_bk=4,
        aux_block=(4, 4),
        min_split_rows=4,
        target_blocks=8,
        elementwise_threads=16,
        max_elementwise_blocks=3,
        norm_blocks=3,
        dropout_states=64,
    )


@pytest.fixture
def tiny_training(monkeypatch):
    """Device networks built in the test use :func:`tiny_training_config`."""
    import tsrnn.nn._cuda as device_training

    monkeypatch.setattr(device_training, "DEFAULT_CONFIG", tiny_training_config())
    return device_training.DEFAULT_CONFIG
