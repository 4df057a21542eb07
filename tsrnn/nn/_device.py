"""Resolve the user-facing ``device`` parameter, once, into a :class:`Backend`.

The rule, in one place:

- ``"cpu"`` and ``"reference"`` are used as given;
- ``"cuda"`` is used when :func:`tsrnn.cuda_available` is true: the ``numba-cuda`` package is
  installed and ``numba.cuda.is_available()`` says yes (an NVIDIA GPU with a working driver,
  or numba's CUDA simulator when the environment variable ``NUMBA_ENABLE_CUDASIM=1`` was set
  before numba was imported), the driver supports numba-cuda's CUDA version, the GPU's compute
  capability is supported, and a one-thread test kernel ran (checked once per process; see
  :func:`tsrnn.kernels.cuda_diagnosis`). Otherwise it raises a ``RuntimeError`` that names the fix;
- ``"auto"`` is ``"cuda"`` under the same condition and ``"cpu"`` otherwise: silently when there
  is no GPU, with a one-line ``RuntimeWarning`` giving the reason when there is a GPU that
  cannot run the kernels. So ``"auto"`` runs in the (very slow) simulator only when it was
  enabled explicitly.

The device names themselves come from the kernel backends (:data:`tsrnn.kernels.BACKENDS`)
plus ``"auto"``; nothing else lists them.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from dataclasses import dataclass
from types import ModuleType

from .. import kernels as kernel_package
from ..kernels import BACKENDS, DEVICES

__all__ = ["DEVICES", "Backend", "device_description", "resolve_backend", "resolve_device"]


@dataclass(frozen=True, eq=False)
class Backend:
    """A resolved device: what runs a network, found once and passed down.

    Attributes
    ----------
    name : {"cpu", "reference", "cuda"}
        The backend's device name (``device_`` of a fitted estimator).
    launch : object or None
        The CUDA launch configuration; None means the kernels' default.
    """

    name: str
    launch: object | None = None

    @functools.cached_property
    def kernels(self) -> ModuleType:
        """The kernel module (:mod:`tsrnn.kernels.cpu`, ``.reference`` or ``.cuda``), with
        ``<cell>_forward``, ``<cell>_backward`` and ``<cell>_forward_inference``; imported on
        first use, without probing the availability again."""
        return importlib.import_module(BACKENDS[self.name])

    @property
    def on_device(self) -> bool:
        """Whether arrays live on a GPU."""
        return self.name == "cuda"

    @functools.cached_property
    def label(self) -> str:
        """A short label for people, e.g. "cpu" or "cuda (NVIDIA A100-SXM4-40GB)"."""
        return device_description(self.name)

    def ops(self, cell: str, dtype):
        """The operations object of a network of ``cell`` and ``dtype`` on this backend."""
        if self.on_device:
            from ._cuda import CudaOps

            return CudaOps(cell, dtype)
        from ._ops import NumpyOps

        return NumpyOps(self, cell)

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"


def resolve_backend(device) -> Backend:
    """Return the :class:`Backend` that runs ``device`` (a name from :data:`DEVICES`).

    A :class:`Backend` is returned as it is, so callers may pass either.

    Raises
    ------
    RuntimeError
        For "cuda" when CUDA cannot run here; the message names the fix
        (``pip install 'tsrnn[cuda]'``, an NVIDIA GPU with its driver, or ``device='cpu'``).
    ValueError
        For an unknown name.
    """
    if isinstance(device, Backend):
        return device
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}, got {device!r}.")
    if device in ("cuda", "auto"):
        diagnosis = kernel_package.cuda_diagnosis()
        if diagnosis.problem is None:
            device = "cuda"
        elif device == "cuda":
            raise RuntimeError(diagnosis.problem)
        else:
            if diagnosis.gpu_present:
                warnings.warn(
                    f"device='auto' runs on the CPU: {diagnosis.reason} (device='cuda' says how to fix it).",
                    RuntimeWarning,
                    stacklevel=3,
                )
            device = "cpu"
    return Backend(device)


def resolve_device(device) -> str:
    """Return the name of the backend that runs ``device``: "cpu", "reference" or "cuda".

    The name-only form of :func:`resolve_backend`, with the same errors.
    """
    return resolve_backend(device).name


def device_description(backend) -> str:
    """A short label of a resolved backend for people: "cpu", "reference", or "cuda (<GPU
    name>)" / "cuda (numba CUDA simulator)"."""
    name = backend.name if isinstance(backend, Backend) else backend
    if name != "cuda":
        return name
    from numba import config, cuda

    if config.ENABLE_CUDASIM:
        return "cuda (numba CUDA simulator)"
    try:
        gpu = cuda.get_current_device().name
    except Exception:  # the name is decoration: never fail a report over it
        return "cuda"
    if isinstance(gpu, bytes):
        gpu = gpu.decode(errors="replace")
    return f"cuda ({gpu})"
