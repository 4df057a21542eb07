"""Numba-jitted CPU kernels, one module per cell, with the signatures of
:mod:`tsrnn.kernels.reference` (see its docstring for the contract).

The kernels run their batch blocks on Numba's OpenMP threads. GNU OpenMP's default makes a
thread that waits for its team spin on its core; when another program holds one of the cores,
the spinning thread and the one it waits for then share a core, and a kernel call can take
several times longer than on one thread (docs/performance.md). Unless the user chose a policy,
the waiting threads therefore sleep: importing this module starts Numba's threads with
``OMP_WAIT_POLICY=passive`` in the environment (OpenMP reads it once, when its threads start)
and then removes it again, so the rest of the process and its child processes see the
environment the user set. Set ``OMP_WAIT_POLICY`` yourself to choose another policy.
"""

import importlib
import os

import numba

from ..._layout import CELLS

_ROLES = ("_forward_inference", "_forward", "_backward")

#: The kernels take the tuples of the contract (see :func:`tsrnn.kernels.kernel_set`).
ARGUMENTS = "tuples"

#: The kernels of every cell in the table (resolved on first use by ``__getattr__``).
__all__ = sorted(f"{cell}{role}" for cell in CELLS for role in _ROLES)


def __getattr__(name: str):
    """``<cell>_forward``, ``<cell>_backward`` and ``<cell>_forward_inference`` of every cell in
    the table (:data:`tsrnn._layout.CELLS`), from the module it names: a new cell needs no
    line here."""
    for role in _ROLES:
        cell = name[: -len(role)]
        if name.endswith(role) and cell in CELLS:
            module = importlib.import_module(f"{__name__}.{CELLS[cell].kernel_module or cell}")
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *(f"{cell}{role}" for cell in CELLS for role in _ROLES)})


def _start_threads() -> None:
    """Start Numba's threads; without a user choice, with waiting threads that sleep."""
    if "OMP_WAIT_POLICY" in os.environ:
        numba.get_num_threads()  # starts the threads, if no one has yet
        return
    os.environ["OMP_WAIT_POLICY"] = "passive"
    try:
        numba.get_num_threads()
    finally:
        del os.environ["OMP_WAIT_POLICY"]


_start_threads()
