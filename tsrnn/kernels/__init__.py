"""Recurrent-cell kernels: ``reference`` (NumPy, the specification), ``cpu`` (Numba) and
``cuda`` (numba.cuda, optional). All share the contract documented in
:mod:`tsrnn.kernels.reference`; :func:`get_backend` picks one by device name."""

from __future__ import annotations

import functools
import importlib
import importlib.util
from types import ModuleType

from .reference import inference_via_forward

_BACKEND_MODULES = {
    "reference": "tsrnn.kernels.reference",
    "cpu": "tsrnn.kernels.cpu",
    "cuda": "tsrnn.kernels.cuda",
}

_SIMULATOR_HINT = (
    "To run the CUDA kernels without a GPU (slowly, for testing), set the environment variable "
    "NUMBA_ENABLE_CUDASIM=1 before Python starts."
)


def _cuda_problem() -> str | None:
    """Why the CUDA kernels cannot run here (the message names the fixes), or None."""
    if importlib.util.find_spec("numba_cuda") is None:
        return (
            "device='cuda' needs the numba-cuda package, which is not installed. Fix: install it "
            "with pip install 'tsrnn[cuda]' (numba-cuda with the NVVM compiler) on a machine with "
            "an NVIDIA GPU and its driver, or use device='cpu' (device='auto' picks the GPU when "
            "there is one and the CPU otherwise). " + _SIMULATOR_HINT
        )
    from numba import cuda

    try:
        available = bool(cuda.is_available())
    except Exception:  # a broken driver install raises instead of answering False
        available = False
    if not available:
        return (
            "device='cuda' needs an NVIDIA GPU with a working CUDA driver, and "
            "numba.cuda.is_available() is False here (numba.cuda.detect() prints why). Fix: run on "
            "a machine with a CUDA GPU and its driver (and pip install 'tsrnn[cuda]', which brings "
            "numba-cuda), or use device='cpu' (device='auto' picks the GPU when there is one and "
            "the CPU otherwise). " + _SIMULATOR_HINT
        )
    return None


def cuda_available() -> bool:
    """Whether ``device="cuda"`` can run here.

    True when the ``numba-cuda`` package is installed (``pip install "tsrnn[cuda]"``) and
    ``numba.cuda.is_available()`` says yes: a CUDA GPU with a working driver, or numba's
    CUDA simulator, which is enabled by setting ``NUMBA_ENABLE_CUDASIM=1`` before numba is
    imported (it runs the kernels as Python: correct but very slow, for testing only).
    """
    return _cuda_problem() is None


def get_backend(device: str) -> ModuleType:
    """Return the kernel module for ``device`` ("cpu", "reference" or "cuda").

    Raises
    ------
    ValueError
        For an unknown device name.
    RuntimeError
        For ``"cuda"`` when numba-cuda or a GPU (or the simulator) is missing; the message
        says how to fix it.
    """
    if device not in _BACKEND_MODULES:
        raise ValueError(f"device must be one of {sorted(_BACKEND_MODULES)}, got {device!r}.")
    if device == "cuda" and (problem := _cuda_problem()):
        raise RuntimeError(problem)
    return importlib.import_module(_BACKEND_MODULES[device])


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
    return functools.partial(inference_via_forward, cell, getattr(backend, f"{cell}_forward"))
