"""Helpers shared by the statsmodels-based baselines."""

from __future__ import annotations

from contextlib import contextmanager

from .._parallel import blas_controller


@contextmanager
def single_threaded_blas():
    """Run statsmodels' small-matrix Kalman/Hamilton filters with one BLAS thread.

    Their matrices are tiny, so BLAS threads only add synchronisation, and on a busy machine
    (more runnable threads than cores) OpenBLAS's spinning threads slow the filters down by
    an order of magnitude (docs/performance.md).
    """
    with blas_controller().limit(limits=1, user_api="blas"):
        yield
