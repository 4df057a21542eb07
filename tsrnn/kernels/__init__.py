"""Recurrent-cell kernels: ``reference`` (NumPy, the specification), ``cpu`` (Numba) and
``cuda`` (numba.cuda, optional). All share the contract documented in
:mod:`tsrnn.kernels.reference`; :func:`get_backend` picks one by device name."""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

import numpy as np

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


# The CUDA toolkit generation numba-cuda was installed for (``tsrnn[cuda12]`` or
# ``tsrnn[cuda13]``) decides the oldest driver and GPU that can run its code: a driver runs code
# built by a toolkit of its own major version or older, and CUDA 13 dropped GPUs below compute
# capability 7.5 (Volta and older).
MIN_COMPUTE_CAPABILITY = {12: (5, 0), 13: (7, 5)}
_EXTRA_FIX = (
    "pip install 'tsrnn[cuda12]' (CUDA 12 drivers, R525 or newer, and GPUs from compute "
    "capability 5.0) or pip install 'tsrnn[cuda13]' (CUDA 13 drivers, R580 or newer, and GPUs "
    "from compute capability 7.5)"
)


@dataclass(frozen=True)
class CudaDiagnosis:
    """Whether the CUDA kernels can run here, and if not, why (see :func:`cuda_diagnosis`)."""

    problem: str | None  #: the full message, naming the fixes; None when CUDA can run
    reason: str | None = None  #: the cause in a few words (for one-line notices)
    gpu_present: bool = False  #: a GPU and driver answered (so a fallback deserves a notice)


def _toolkit_version() -> tuple[int, int]:
    """The CUDA toolkit (runtime) version numba-cuda uses; needs no GPU."""
    from numba.cuda.cudadrv import runtime

    return tuple(runtime.runtime.get_version())


def _driver_version() -> tuple[int, int]:
    """The CUDA version the installed driver supports."""
    from numba.cuda.cudadrv import driver

    return tuple(driver.driver.get_version())


def _compute_capability() -> tuple[int, int]:
    from numba import cuda

    return tuple(cuda.get_current_device().compute_capability)


@functools.cache
def _probe() -> str | None:
    """Compile and launch a one-thread kernel once per process; the error text if it fails."""
    from numba import cuda

    try:

        @cuda.jit
        def _one(out):
            out[0] = out[0] + 1.0

        out = cuda.to_device(np.zeros(1, np.float32))
        _one[1, 1](out)
        value = out.copy_to_host()[0]
    except Exception as exc:  # any failure here means the GPU cannot run tsrnn's kernels
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    if value != 1.0:
        return f"a one-thread test kernel wrote {value} instead of 1.0"
    return None


def _unusable(reason: str, detail: str) -> CudaDiagnosis:
    return CudaDiagnosis(
        f"device='cuda' cannot run on this GPU: {reason}. {detail} Or use device='cpu' "
        "(device='auto' falls back to the CPU by itself).",
        reason,
        gpu_present=True,
    )


def cuda_diagnosis() -> CudaDiagnosis:
    """Whether the CUDA kernels can run here, checked in this order.

    1. numba-cuda is installed and ``numba.cuda.is_available()`` (a GPU with a driver, or the
       simulator under ``NUMBA_ENABLE_CUDASIM=1``, where the remaining checks do not apply);
    2. the driver supports the toolkit numba-cuda was built for (driver CUDA version at least
       the toolkit's major version);
    3. the GPU's compute capability is one that toolkit supports (7.5 or higher under CUDA 13);
    4. a one-thread kernel compiles, launches and writes the right value (once per process).

    This is the one function behind :func:`cuda_available`, ``device="cuda"`` and
    ``device="auto"``.
    """
    if importlib.util.find_spec("numba_cuda") is None:
        return CudaDiagnosis(
            "device='cuda' needs the numba-cuda package, which is not installed. Fix: install it "
            "with pip install 'tsrnn[cuda]' (numba-cuda with the NVVM compiler) on a machine with "
            "an NVIDIA GPU and its driver, or use device='cpu' (device='auto' picks the GPU when "
            "there is one and the CPU otherwise). " + _SIMULATOR_HINT,
            "numba-cuda is not installed",
        )
    from numba import config, cuda

    try:
        available = bool(cuda.is_available())
    except Exception:  # a broken driver install raises instead of answering False
        available = False
    if not available:
        return CudaDiagnosis(
            "device='cuda' needs an NVIDIA GPU with a working CUDA driver, and "
            "numba.cuda.is_available() is False here (numba.cuda.detect() prints why). Fix: run on "
            "a machine with a CUDA GPU and its driver (and pip install 'tsrnn[cuda]', which brings "
            "numba-cuda), or use device='cpu' (device='auto' picks the GPU when there is one and "
            "the CPU otherwise). " + _SIMULATOR_HINT,
            "no CUDA GPU found",
        )
    if config.ENABLE_CUDASIM:
        return CudaDiagnosis(None)
    try:
        toolkit, drv = _toolkit_version(), _driver_version()
    except Exception as exc:
        return _unusable(f"the CUDA versions could not be read ({exc})", f"Fix: {_EXTRA_FIX}.")
    if drv[0] < toolkit[0]:
        return _unusable(
            f"its driver supports CUDA {drv[0]}.{drv[1]} but numba-cuda was installed for CUDA "
            f"{toolkit[0]}.{toolkit[1]}",
            f"Fix: upgrade the NVIDIA driver to one for CUDA {toolkit[0]}, or install the numba-cuda "
            f"build for this driver: pip install 'tsrnn[cuda{min(max(drv[0], 12), 13)}]'.",
        )
    try:
        cc = _compute_capability()
    except Exception as exc:
        return _unusable(f"its compute capability could not be read ({exc})", f"Fix: {_EXTRA_FIX}.")
    lowest = MIN_COMPUTE_CAPABILITY.get(toolkit[0], (5, 0))
    if cc < lowest:
        return _unusable(
            f"its compute capability is {cc[0]}.{cc[1]} and CUDA {toolkit[0]} supports "
            f"{lowest[0]}.{lowest[1]} and higher",
            "Fix: pip install 'tsrnn[cuda12]' (CUDA 12 supports compute capability 5.0 and higher).",
        )
    if failure := _probe():
        return _unusable(
            f"a one-thread test kernel failed ({failure})",
            f"Fix: check the driver with numba.cuda.detect(), and {_EXTRA_FIX}.",
        )
    return CudaDiagnosis(None)


def cuda_problem() -> str | None:
    """Why the CUDA kernels cannot run here (the message names the fixes), or None: the
    message of :func:`cuda_diagnosis`."""
    return cuda_diagnosis().problem


def cuda_available() -> bool:
    """Whether ``device="cuda"`` can run here.

    True when the ``numba-cuda`` package is installed (``pip install "tsrnn[cuda]"``),
    ``numba.cuda.is_available()`` says yes, the driver supports numba-cuda's CUDA version,
    the GPU's compute capability is supported (7.5 or higher under CUDA 13), and a one-thread
    test kernel ran (once per process); see :func:`cuda_diagnosis`. numba's CUDA simulator
    counts as available: it is enabled by setting ``NUMBA_ENABLE_CUDASIM=1`` before numba is
    imported (it runs the kernels as Python: correct but very slow, for testing only).
    """
    return cuda_diagnosis().problem is None


@contextlib.contextmanager
def compile_lock(cell: str, dtype: str) -> Iterator[None]:
    """Hold an inter-process lock for the first compilation of ``cell``'s CPU kernels.

    Numba's on-disk cache is shared by every process (``NUMBA_CACHE_DIR``, or the package's
    ``__pycache__``), but a process that calls a kernel whose cache entry is not written yet
    compiles it again itself. Parallel workers that warm the same (cell, dtype) up therefore
    take turns: the first compiles and writes the cache, the others then load it. A lock
    file in the temporary directory, one per cache location, cell and dtype; where file
    locks are unavailable (no ``fcntl``, or a lock file this user cannot open), no lock is
    taken.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    import hashlib
    import tempfile

    from numba.core.config import CACHE_DIR

    where = CACHE_DIR or os.path.dirname(importlib.util.find_spec(BACKENDS["cpu"]).origin)
    digest = hashlib.sha1(f"{where}|{cell}|{dtype}".encode()).hexdigest()[:16]
    path = os.path.join(tempfile.gettempdir(), f"tsrnn-compile-{digest}.lock")
    try:
        handle = open(path, "a")
    except OSError:  # e.g. another user's lock file: compile without taking turns
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def loose_arguments(x, weights, buffers, grads=(), d_weights=()) -> tuple:
    """The arrays of a kernel call one by one, for kernels that take them so: ``x``, the
    weights, the buffers, then for backward ``d_out, d_hn, d_cn, dx``, the weight gradients
    and ``dh0, dc0`` (the order of the arguments before the tuple contract)."""
    if not grads:
        return (x, *weights, *buffers)
    d_out, d_hn, d_cn, dx, dh0, dc0 = grads
    return (x, *weights, *buffers, d_out, d_hn, d_cn, dx, *d_weights, dh0, dc0)


def _from_loose(forward, backward, inference):
    """Kernels of the tuple contract around kernels that take the arrays one by one
    (:func:`loose_arguments`), for a backend that does not declare ``ARGUMENTS``; keyword
    options (the CUDA kernels' ``config``, ``workspace``, ``stream``) pass through."""

    def tuple_forward(x, weights, buffers, **options):
        forward(*loose_arguments(x, weights, buffers), **options)

    def tuple_backward(x, weights, buffers, grads, d_weights, **options):
        backward(*loose_arguments(x, weights, buffers, grads, d_weights), **options)

    def tuple_inference(x, weights, buffers, **options):
        inference(*loose_arguments(x, weights, buffers), **options)

    return tuple_forward, tuple_backward, inference and tuple_inference


def kernel_set(module: ModuleType, cell: str):
    """The ``(forward, backward, inference)`` kernels of ``cell`` in the kernel ``module``,
    with the tuple signatures of the contract in :mod:`tsrnn.kernels.reference`.

    A module that does not declare ``ARGUMENTS = "tuples"`` takes the arrays one by one; its
    kernels are wrapped. A module may declare ``adapt_kernel``, which is applied to each of its
    kernels (the CPU backend's sets the number of threads of each call). A module without
    ``<cell>_forward_inference`` (e.g. a new backend) gets an adapter that calls its contract
    forward with temporary ``aux``/``gates`` arrays.
    """
    forward = getattr(module, f"{cell}_forward")
    backward = getattr(module, f"{cell}_backward")
    inference = getattr(module, f"{cell}_forward_inference", None)
    if getattr(module, "ARGUMENTS", None) != "tuples":
        forward, backward, inference = _from_loose(forward, backward, inference)
    if (adapt := getattr(module, "adapt_kernel", None)) is not None:
        forward, backward = adapt(forward), adapt(backward)
        inference = inference and adapt(inference)
    if inference is None:
        from .reference import inference_via_forward

        inference = functools.partial(inference_via_forward, cell, forward)
    return forward, backward, inference


def kernels_for(device: str, cell: str):
    """Return the ``(forward, backward)`` kernel pair of ``cell`` on ``device``."""
    forward, backward, _ = kernel_set(get_backend(device), cell)
    return forward, backward


def inference_kernel_for(device: str, cell: str):
    """Return the inference-only forward of ``cell`` on ``device``.

    Signature ``(x, weights, (h0, c0, out, c_n))``: fills ``out`` like the
    contract forward and ``c_n`` with the LSTM's final cell state, stores nothing for
    backward (see :mod:`tsrnn.kernels.reference`); see :func:`kernel_set`.
    """
    return kernel_set(get_backend(device), cell)[2]
