"""Benchmarks run OpenBLAS as a user's machine would pick it.

The workplace may set ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (an older BLAS kernel than a
user's machine picks). :func:`run_without_them` re-executes the calling script without them,
before NumPy is imported, and :func:`removed` says which were removed, for the report. Import
this module before NumPy. Tests and CI leave the variables alone.
"""

from __future__ import annotations

import os
import sys

VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: Set in the re-executed process to the removed "NAME=value;..." (a child process it starts
#: should drop it).
FLAG = "_TSRNN_BENCH_REEXEC"


def run_without_them() -> None:
    """Re-execute this process's script without :data:`VARIABLES` if any is set."""
    if FLAG in os.environ:
        return
    found = {k: os.environ[k] for k in VARIABLES if k in os.environ}
    if found:
        env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
        env[FLAG] = ";".join(f"{k}={v}" for k, v in found.items())
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def removed() -> str:
    """``"NAME=value;..."`` of the variables removed by :func:`run_without_them`, or ``""``."""
    return os.environ.get(FLAG, "")
