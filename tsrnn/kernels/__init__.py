"""Recurrent-cell kernels: ``reference`` (NumPy, the specification), ``cpu`` (Numba) and
``cuda`` (numba.cuda, optional). All share the contract documented in
:mod:`tsrnn.kernels.reference`; :func:`get_backend` picks one by device name."""

from __future__ import annotations

import importlib
from types import ModuleType

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
    backward (see :mod:`tsrnn.kernels.reference`).
    """
    return getattr(get_backend(device), f"{cell}_forward_inference")
