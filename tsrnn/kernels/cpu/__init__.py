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

Waking sleeping threads has a price, though: a small call runs faster on the calling thread
alone. :func:`adapt_kernel` (applied by :func:`tsrnn.kernels.kernel_set`) therefore gives each
call the whole team only when it has more than one batch block and, while the waiting threads
sleep, at least :data:`MIN_PARALLEL_GATE_VALUES` gate values to compute; otherwise it runs the
same blocks on one thread, with the same results (docs/performance.md, lever 15).
"""

import importlib
import os

import numba

from ..._layout import CELLS
from ._common import n_chunks

_ROLES = ("_forward_inference", "_forward", "_backward")

#: The kernels take the tuples of the contract (see :func:`tsrnn.kernels.kernel_set`).
ARGUMENTS = "tuples"

#: A kernel call runs its batch blocks on all of Numba's threads only when it has at least
#: this many gate values to compute (batch rows x time steps x gate units ``G*H``); below it,
#: waking the sleeping threads costs more than the other cores save (docs/performance.md,
#: lever 15).
MIN_PARALLEL_GATE_VALUES = 131_072

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


def threads_for(x, weights) -> int | None:
    """Numba threads for one kernel call on time-major ``x`` with the contract's ``weights``:
    1 when the call has a single batch block, or, while waiting threads sleep
    (:data:`WAITING_THREADS_SLEEP`), fewer than :data:`MIN_PARALLEL_GATE_VALUES` gate values;
    None (all of them) otherwise."""
    length, n = x.shape[0], x.shape[1]
    if n_chunks.py_func(n) == 1:
        return 1
    if WAITING_THREADS_SLEEP and length * n * weights[1].shape[0] < MIN_PARALLEL_GATE_VALUES:
        return 1
    return None


class _SizedTeam:
    """A CPU kernel whose calls run on as many Numba threads as :func:`threads_for` gives.
    The thread count is the calling thread's own (Numba keeps it per thread) and is restored
    after the call."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel

    def __call__(self, x, weights, *arrays) -> None:
        threads = threads_for(x, weights)
        if threads is None:
            return self.kernel(x, weights, *arrays)
        previous = numba.get_num_threads()
        numba.set_num_threads(min(threads, previous))
        try:
            return self.kernel(x, weights, *arrays)
        finally:
            numba.set_num_threads(previous)


def adapt_kernel(kernel):
    """``kernel`` with a thread count per call (see :func:`threads_for`)."""
    return _SizedTeam(kernel)


def _gnu_openmp_loaded() -> bool:
    """Whether GNU OpenMP (``libgomp.so.1``) is in the process already. It reads
    ``OMP_WAIT_POLICY`` once, when it is loaded, and Numba's OpenMP layer shares a copy that
    another library (PyTorch) loaded first: then the policy set below does not take effect."""
    try:
        with open("/proc/self/maps") as maps:
            return any(os.path.basename(line.rstrip()).startswith("libgomp.so") for line in maps)
    except OSError:  # not Linux: assume the policy takes effect
        return False


def _start_threads() -> bool:
    """Start Numba's threads; without a user choice, with waiting threads that sleep. Return
    whether they sleep: the user chose ``passive``, or this function did and no other library
    had loaded GNU OpenMP before, and Numba runs on OpenMP."""
    chosen = os.environ.get("OMP_WAIT_POLICY")
    if chosen is not None:
        numba.get_num_threads()  # starts the threads, if no one has yet
        sleep = chosen.strip().lower() == "passive"
    else:
        inherited = _gnu_openmp_loaded()
        os.environ["OMP_WAIT_POLICY"] = "passive"
        try:
            numba.get_num_threads()
        finally:
            del os.environ["OMP_WAIT_POLICY"]
        sleep = not inherited
    return sleep and numba.threading_layer() == "omp"


#: Whether Numba's waiting threads sleep (see :func:`_start_threads`). Only then does a small
#: call with several batch blocks run on one thread: spinning threads wake at little cost.
WAITING_THREADS_SLEEP = _start_threads()
