"""Run a kernel backend on one problem of the shared case list, in the kernel contract's
time-major layout, and compare backends."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from tsrnn._layout import cell_spec
from tsrnn.kernels import kernel_set

from ..cases import make_problem, relative_error

FORWARD_OUTPUTS = ("out", "aux", "gates")
BACKWARD_OUTPUTS = ("dx", "dw_ih", "dw_hh", "db_ih", "db_hh", "dh0", "dc0")

# Relative to the largest |expected| entry (cases.relative_error). float64: the kernels sum
# in another order than NumPy and the GPU contracts a*b+c into fused multiply-adds, both
# ~1e-16 per operation over at most a few hundred operations. float32: the same with
# eps = 6e-8, plus the GPU's tanhf (up to 2 ulp) and error growth through the recurrence.
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 5e-5}


def contract_arrays(cell: str, shape, dtype, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs (forward and backward) of one case, time-major, plus zeroed output buffers."""
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, shape, dtype, seed=seed)
    n, length, _d, h = shape
    gated = cell_spec(cell).n_gates > 1
    none2 = np.zeros((0, 0), dtype)
    none3 = np.zeros((0, 0, 0), dtype)
    g = cell_spec(cell).n_gates
    a = {
        "x": np.ascontiguousarray(x.transpose(1, 0, 2)),
        "w_ih": weights["weight_ih"],
        "w_hh": weights["weight_hh"],
        "b_ih": weights["bias_ih"],
        "b_hh": weights["bias_hh"],
        "h0": h0,
        "c0": none2 if c0 is None else c0,
        "out": np.zeros((length, n, h), dtype),
        "aux": np.zeros((length, n, h), dtype) if gated else none3,
        "gates": np.zeros((length, n, g * h), dtype) if gated else none3,
        "d_out": np.ascontiguousarray(g_out.transpose(1, 0, 2)),
        "d_hn": g_h,
        "d_cn": none2 if g_c is None else g_c,
    }
    for name, like in (("dx", "x"), ("dw_ih", "w_ih"), ("dw_hh", "w_hh"), ("db_ih", "b_ih")):
        a[name] = np.zeros_like(a[like])
    a["db_hh"] = np.zeros_like(a["b_hh"])
    a["dh0"] = np.zeros_like(h0)
    a["dc0"] = np.zeros_like(a["c0"])
    return a


FORWARD_ARGS = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0", "out", "aux", "gates")
BACKWARD_ARGS = (*FORWARD_ARGS, "d_out", "d_hn", "d_cn", *BACKWARD_OUTPUTS)


def contract_tuples(a: dict) -> tuple:
    """``(weights, buffers, grads, d_weights)`` of the kernel contract from named arrays."""
    weights, buffers = tuple(a[k] for k in FORWARD_ARGS[1:5]), tuple(a[k] for k in FORWARD_ARGS[5:])
    grads = tuple(a[k] for k in ("d_out", "d_hn", "d_cn", "dx", "dh0", "dc0"))
    return weights, buffers, grads, tuple(a[k] for k in BACKWARD_OUTPUTS[1:5])


def run_backend(backend, cell: str, arrays: dict, **kwargs) -> dict[str, np.ndarray]:
    """Forward then backward of ``backend`` on copies of ``arrays`` through the kernel
    contract's tuples (every backend); returns all outputs."""
    a = {k: v.copy() for k, v in arrays.items()}
    forward, backward, _ = kernel_set(backend, cell)  # the contract's tuples on every backend
    weights, buffers, grads, d_weights = contract_tuples(a)
    forward(a["x"], weights, buffers, **kwargs)
    backward(a["x"], weights, buffers, grads, d_weights, **kwargs)
    return {k: a[k] for k in (*FORWARD_OUTPUTS, *BACKWARD_OUTPUTS)}


def run_cuda_on_device(cell: str, arrays: dict, **kwargs) -> dict[str, np.ndarray]:
    """Like :func:`run_backend` for the CUDA kernels with every argument a device array
    (the path a training loop takes: no host copies inside forward/backward)."""
    from numba import cuda

    from tsrnn.kernels import cuda as backend

    d = {k: cuda.to_device(v) for k, v in arrays.items()}
    weights, buffers, grads, d_weights = contract_tuples(d)
    getattr(backend, f"{cell}_forward")(d["x"], weights, buffers, **kwargs)
    getattr(backend, f"{cell}_backward")(d["x"], weights, buffers, grads, d_weights, **kwargs)
    cuda.synchronize()
    return {k: d[k].copy_to_host() for k in (*FORWARD_OUTPUTS, *BACKWARD_OUTPUTS)}


def assert_same(actual: dict, expected: dict, dtype, label: str = "", cell: str = "") -> None:
    """Every output within the dtype's tolerance, and no expected array all zeros (which
    would make the comparison prove nothing; not checked for ``rnn_relu``, whose inactive
    units legitimately pass no gradient)."""
    tol = TOLERANCE[np.dtype(dtype)]
    for name, exp in expected.items():
        act = actual[name]
        assert act.shape == exp.shape and act.dtype == exp.dtype, (name, act.shape, exp.shape)
        assert cell == "rnn_relu" or exp.size == 0 or np.any(exp != 0), (
            f"{label} {name}: the expected value is all zeros"
        )
        err = relative_error(act, exp)
        assert err < tol, f"{label} {name}: relative error {err:.2e} >= {tol:.0e}"


def codegen_module():
    """``benchmarks/cuda_codegen.py`` (the developer tool that records and compiles every
    launched kernel signature), imported from the source tree."""
    name = "tsrnn_benchmarks_cuda_codegen"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[3] / "benchmarks" / "cuda_codegen.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
