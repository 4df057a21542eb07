"""Recurrent-cell kernels: ``reference`` (NumPy, the specification), ``cpu`` (Numba) and
``cuda`` (numba.cuda, optional). All share the contract documented in
:mod:`tsrnn.kernels.reference`; :func:`get_backend` picks one by device name."""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

import numpy as np

_BACKEND_MODULES = {
    "reference": "tsrnn.kernels.reference",
    "cpu": "tsrnn.kernels.cpu",
}


def get_backend(device: str) -> ModuleType:
    """Return the kernel module for ``device`` ("cpu" or "reference")."""
    try:
        return importlib.import_module(_BACKEND_MODULES[device])
    except KeyError:
        raise ValueError(f"device must be one of {sorted(_BACKEND_MODULES)}, got {device!r}.") from None


def kernels_for(device: str, cell: str):
    """Return the ``(forward, backward)`` kernel pair of ``cell`` on ``device``."""
    backend = get_backend(device)
    return getattr(backend, f"{cell}_forward"), getattr(backend, f"{cell}_backward")


def inference_kernel_for(device: str, cell: str):
    """Return the inference-only forward of ``cell`` on ``device``.

    Signature ``(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, c_n)``: fills ``out`` like the
    contract forward and ``c_n`` with the LSTM's final cell state, stores nothing for
    backward (see :mod:`tsrnn.kernels.reference`). A backend without one gets an adapter that
    calls its contract forward with temporary ``aux``/``gates`` arrays.
    """
    backend = get_backend(device)
    kernel = getattr(backend, f"{cell}_forward_inference", None)
    if kernel is not None:
        return kernel
    return functools.partial(inference_via_forward, getattr(backend, f"{cell}_forward"))


def inference_via_forward(forward, x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, c_n):
    """The inference-only forward built from a contract ``forward``: runs it with temporary
    ``aux``/``gates`` and, for the LSTM (``G = 4`` gates), copies the final cell state into ``c_n``."""
    length, n, _ = x.shape
    h = w_hh.shape[1]
    aux = np.empty((length, n, h), x.dtype)
    gates = np.empty((length, n, w_hh.shape[0]), x.dtype)
    forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates)
    if w_hh.shape[0] == 4 * h and c_n.size:
        c_n[...] = aux[-1]
