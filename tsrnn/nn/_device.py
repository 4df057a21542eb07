"""Map the user-facing ``device`` parameter to a kernel backend name.

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
"""

from __future__ import annotations

import warnings

__all__ = ["DEVICES", "device_description", "resolve_device"]

#: Every value the ``device`` parameter accepts. "reference" is the plain NumPy specification:
#: slow, but handy as an oracle in tests.
DEVICES = ("cpu", "reference", "cuda", "auto")


def resolve_device(device: str) -> str:
    """Return the backend that runs ``device``: "cpu", "reference" or "cuda".

    Raises
    ------
    RuntimeError
        For "cuda" when CUDA cannot run here; the message names the fix
        (``pip install 'tsrnn[cuda]'``, an NVIDIA GPU with its driver, or ``device='cpu'``).
    ValueError
        For an unknown name.
    """
    if device in ("cpu", "reference"):
        return device
    if device in ("cuda", "auto"):
        from ..kernels import cuda_diagnosis

        diagnosis = cuda_diagnosis()
        if diagnosis.problem is None:
            return "cuda"
        if device == "cuda":
            raise RuntimeError(diagnosis.problem)
        if diagnosis.gpu_present:
            warnings.warn(
                f"device='auto' runs on the CPU: {diagnosis.reason} (device='cuda' says how to fix it).",
                RuntimeWarning,
                stacklevel=3,
            )
        return "cpu"
    raise ValueError(f"device must be one of {list(DEVICES)}, got {device!r}.")


def device_description(backend: str) -> str:
    """A short label of a resolved backend for people: "cpu", "reference", or "cuda (<GPU
    name>)" / "cuda (numba CUDA simulator)"."""
    if backend != "cuda":
        return backend
    from numba import config, cuda

    if config.ENABLE_CUDASIM:
        return "cuda (numba CUDA simulator)"
    try:
        name = cuda.get_current_device().name
    except Exception:  # the name is decoration: never fail a report over it
        return "cuda"
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    return f"cuda ({name})"
