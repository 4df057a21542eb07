"""Recurrent-cell kernels: ``reference`` (NumPy, the specification), ``cpu`` (Numba) and
``cuda`` (numba.cuda, optional). All share the contract documented in
:mod:`tsrnn.kernels.reference`; :func:`get_backend` picks one by device name."""

from __future__ import annotations

import functools
import importlib
import importlib.util
from types import ModuleType

#: The kernel backends by device name: the one list of them (``DEVICES`` adds "auto").
BACKENDS = {
    "reference": "tsrnn.kernels.reference",
    "cpu": "tsrnn.kernels.cpu",
    "cuda": "tsrnn.kernels.cuda",
}
#: Every value the ``device`` parameter accepts: the kernel backends and "auto". "reference" is
#: the plain NumPy specification: slow, but handy as an oracle in tests. (Here, next to the
#: backends, so that the command line lists them without importing any kernels.)
DEVICES = (*BACKENDS, "auto")

_SIMULATOR_HINT = (
    "To run the CUDA kernels without a GPU (slowly, for testing), set the environment variable "
    "NUMBA_ENABLE_CUDASIM=1 before Python starts."
)


def cuda_problem() -> str | None:
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
    return cuda_problem() is None


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
    if device not in BACKENDS:
        raise ValueError(f"device must be one of {sorted(BACKENDS)}, got {device!r}.")
    if device == "cuda" and (problem := cuda_problem()):
        raise RuntimeError(problem)
    return importlib.import_module(BACKENDS[device])


def kernel_set(module: ModuleType, cell: str):
    """The ``(forward, backward, inference)`` kernels of ``cell`` in the kernel ``module``.

    A module without ``<cell>_forward_inference`` (e.g. a new backend) gets an adapter that
    calls its contract forward with temporary ``aux``/``gates`` arrays.
    """
    forward = getattr(module, f"{cell}_forward")
    inference = getattr(module, f"{cell}_forward_inference", None)
    if inference is None:
        from .reference import inference_via_forward

        inference = functools.partial(inference_via_forward, cell, forward)
    return forward, getattr(module, f"{cell}_backward"), inference


def kernels_for(device: str, cell: str):
    """Return the ``(forward, backward)`` kernel pair of ``cell`` on ``device``."""
    forward, backward, _ = kernel_set(get_backend(device), cell)
    return forward, backward


def inference_kernel_for(device: str, cell: str):
    """Return the inference-only forward of ``cell`` on ``device``.

    Signature ``(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, c_n)``: fills ``out`` like the
    contract forward and ``c_n`` with the LSTM's final cell state, stores nothing for
    backward (see :mod:`tsrnn.kernels.reference`); see :func:`kernel_set`.
    """
    return kernel_set(get_backend(device), cell)[2]
