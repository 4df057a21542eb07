"""numba.cuda kernels with the signatures of :mod:`tsrnn.kernels.reference`.

``<cell>_forward(x, weights, buffers)`` and ``<cell>_backward(x, weights, buffers, grads,
d_weights)`` for every cell of the table, float32 and float64, with the tuples of the kernel
contract (the reference module's docstring): ``weights = (w_ih, w_hh, b_ih, b_hh)``,
``buffers = (h0, c0, out, aux, gates)``, ``grads = (d_out, d_hn, d_cn, dx, dh0, dc0)`` and
``d_weights = (dw_ih, dw_hh, db_ih, db_hh)``, as the CPU kernels take them.

Arrays may be numba device arrays or NumPy arrays, each array on its own:

- with device arrays (the fast path) nothing is copied and nothing waits for the GPU: the
  kernels are queued on ``stream`` and the call returns; outputs are ready when the stream
  is (``stream.synchronize()``, or any copy back to the host);
- a NumPy input is copied to the device first, and a NumPy output is filled by a copy back
  to the host before the call returns.

Keyword-only extras (the CPU and reference kernels do not have them):

``config`` : :class:`LaunchConfig`, optional
    Block sizes, persistent or stepwise path, shared-memory budget.
``workspace`` : :class:`Workspace`, optional
    Reuse device scratch buffers across calls (e.g. a training loop).
``stream`` : numba CUDA stream, optional
    Where to queue the kernels; the default stream when omitted.

Importing this module needs the ``numba-cuda`` package but no GPU (the kernels compile on
first launch); launching needs a GPU or ``NUMBA_ENABLE_CUDASIM=1`` (numba's simulator, set
before numba is imported). The design is described in docs/cuda.md.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from ..._layout import CELLS
from ..._validation import describe
from .. import loose_arguments
from . import _layer
from . import _layer as layer
from . import _train as train
from ._config import LaunchConfig
from ._layer import Workspace

# ``layer`` (the launch sequence of a layer's forward and backward, the launchers) and ``train``
# (the training kernels' host side) are the modules tsrnn.nn's device-resident networks use.
#: The kernels take the tuples of the contract (see :func:`tsrnn.kernels.kernel_set`).
ARGUMENTS = "tuples"

__all__ = [
    "LaunchConfig",
    "Workspace",
    "layer",
    "train",
    *(f"{cell}_{kind}" for cell in CELLS for kind in ("forward", "backward")),
]

FORWARD_ARGS = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0", "out", "aux", "gates")
FORWARD_OUTPUTS = ("out", "aux", "gates")
BACKWARD_ARGS = (
    *FORWARD_ARGS,
    "d_out",
    "d_hn",
    "d_cn",
    "dx",
    "dw_ih",
    "dw_hh",
    "db_ih",
    "db_hh",
    "dh0",
    "dc0",
)
BACKWARD_OUTPUTS = ("dx", "dw_ih", "dw_hh", "db_ih", "db_hh", "dh0", "dc0")
NDIM = {
    "x": 3, "w_ih": 2, "w_hh": 2, "b_ih": 1, "b_hh": 1, "h0": 2, "c0": 2, "out": 3, "aux": 3,
    "gates": 3, "d_out": 3, "d_hn": 2, "d_cn": 2, "dx": 3, "dw_ih": 2, "dw_hh": 2, "db_ih": 1,
    "db_hh": 1, "dh0": 2, "dc0": 2,
}  # fmt: skip


def _is_device(a) -> bool:
    return cuda.devicearray.is_cuda_ndarray(a)


def _run(cell: str, names, outputs, values, config, workspace, stream, launch) -> None:
    config = LaunchConfig() if config is None else config
    if not isinstance(config, LaunchConfig):
        raise TypeError(f"config must be a tsrnn.kernels.cuda.LaunchConfig, got {describe(config)}.")
    if workspace is not None and not isinstance(workspace, Workspace):
        raise TypeError(f"workspace must be a tsrnn.kernels.cuda.Workspace, got {describe(workspace)}.")
    dtype = None
    for name, a in zip(names, values):
        if not (_is_device(a) or isinstance(a, np.ndarray)):
            raise TypeError(f"{name} must be a numba device array or a NumPy array, got {describe(a)}.")
        if np.dtype(a.dtype) not in (np.float32, np.float64):
            raise TypeError(f"{name} must be float32 or float64, got {describe(a)}.")
        dtype = np.dtype(a.dtype) if dtype is None else dtype
        if np.dtype(a.dtype) != dtype:
            raise TypeError(f"every array must have one dtype: x is {dtype} but {name} is {a.dtype}.")
        if a.ndim != NDIM[name]:
            raise ValueError(f"{name} must be {NDIM[name]}-D, got {describe(a)}.")
        if _is_device(a) and a.size > 0 and not a.is_c_contiguous():
            raise ValueError(f"{name} must be C-contiguous, got a strided device array.")
        if name in outputs and isinstance(a, np.ndarray) and not a.flags.c_contiguous:
            raise ValueError(f"{name} is an output and must be C-contiguous, got {describe(a)}.")

    stream = cuda.default_stream() if stream in (None, 0) else stream
    device, copy_back = {}, []
    for name, a in zip(names, values):
        if _is_device(a):
            device[name] = a
        elif name in outputs:  # every output is overwritten: allocate, no upload
            device[name] = cuda.device_array(a.shape, a.dtype, stream=stream)
            copy_back.append((device[name], a))
        else:
            device[name] = cuda.to_device(np.ascontiguousarray(a), stream=stream)
    launch(cell, *(device[n] for n in names), _layer.DeviceOps(config, stream, workspace))
    for dev, host in copy_back:
        dev.copy_to_host(host, stream=stream)
    if copy_back:
        stream.synchronize()


def _unpack(what: str, group, size: int) -> tuple:
    if not isinstance(group, (tuple, list)) or len(group) != size:
        raise TypeError(
            f"{what} must be a tuple of {size} arrays (see tsrnn.kernels.reference), got {describe(group)}."
        )
    return tuple(group)


def _make(cell: str):
    def forward(x, weights, buffers, *, config=None, workspace=None, stream=None):
        values = loose_arguments(x, _unpack("weights", weights, 4), _unpack("buffers", buffers, 5))
        _run(cell, FORWARD_ARGS, FORWARD_OUTPUTS, values, config, workspace, stream, _layer.forward)

    def backward(x, weights, buffers, grads, d_weights, *, config=None, workspace=None, stream=None):
        values = loose_arguments(
            x,
            _unpack("weights", weights, 4),
            _unpack("buffers", buffers, 5),
            _unpack("grads", grads, 6),
            _unpack("d_weights", d_weights, 4),
        )
        _run(cell, BACKWARD_ARGS, BACKWARD_OUTPUTS, values, config, workspace, stream, _layer.backward)

    forward.__name__ = forward.__qualname__ = f"{cell}_forward"
    backward.__name__ = backward.__qualname__ = f"{cell}_backward"
    forward.__module__ = backward.__module__ = __name__
    forward.__doc__ = (
        f"CUDA forward of the ``{cell}`` layer; contract of "
        f":func:`tsrnn.kernels.reference.{cell}_forward`, device or host arrays (module docstring)."
    )
    backward.__doc__ = (
        f"CUDA BPTT of the ``{cell}`` layer; contract of "
        f":func:`tsrnn.kernels.reference.{cell}_backward`, device or host arrays (module docstring)."
    )
    return forward, backward


# ``<cell>_forward`` and ``<cell>_backward`` of every cell of the table (the kernels follow
# the table too: gates, cell state and the GRU-style recurrent term come from its CellSpec).
for _cell in CELLS:
    globals()[f"{_cell}_forward"], globals()[f"{_cell}_backward"] = _make(_cell)
del _cell
