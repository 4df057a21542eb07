"""Every CUDA kernel compiles to valid device code, with the exact argument types the library
launches it with: in float32 for sm_90 and in float64 for sm_80, so each precision and each
architecture is compiled once (the two other pairings add compile time, not coverage: the
kernels' source does not branch on the architecture).

The simulator runs kernels as Python, so it cannot tell whether they are valid device code:
a typing error, a host-only call or a float64 constant in a float32 kernel would pass there.
Here numba's CUDA compiler and NVIDIA's NVVM produce PTX, and nvJitLink's ptxas assembles it
to machine code and reports registers, spills and stack, all without a GPU.
"""

from __future__ import annotations

import functools
import re

import pytest

pytestmark = pytest.mark.nvvm

DTYPES = ["float32", "float64"]
# (dtype, compute capability) pairs compiled to machine code
BUILDS = [("float32", (9, 0)), ("float64", (8, 0))]
# A block may hold 64K registers; every default launch uses at most 256 threads per block.
REGISTERS_PER_BLOCK = 65536
MAX_DEFAULT_THREADS = 256


@pytest.fixture(scope="module")
def ptx():
    from .helpers import codegen_module

    return codegen_module()


@functools.cache
def launched(dtype: str) -> dict:
    """``launched_signatures(dtype)``, recorded once per test process (read-only here)."""
    from .helpers import codegen_module

    return codegen_module().launched_signatures(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_kernel_is_launched_and_recorded(ptx, dtype):
    """The recorded launches (both recurrence paths, split and unsplit products, and
    device-resident training of every cell) reach every kernel the package defines, so the
    compilation below covers all of them, and every device function too (each is inlined
    into the kernels that call it)."""
    names = {name for name, _types in launched(dtype)}
    assert names == set(ptx.kernel_names(dtype).values())
    # both compiled variants of each persistent kernel: W_hh in shared and in global memory
    for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
        for kind in ("forward", "backward"):
            assert {
                f"{cell}.{kind}_persistent[rows1,shared]",
                f"{cell}.{kind}_persistent[rows2,global]",
            } <= names
    # the hidden-split kernels (cooperative launch)
    for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
        assert {f"{cell}.forward_split", f"{cell}.backward_split"} <= names
    training = {name for name in names if name.startswith("train.")}
    assert len(training) == 9, training
    # one signature per kernel: every launch site passes the same argument types
    assert len(launched(dtype)) == len(names)


# The kernels compiled by one test: one cell's, the training kernels, and the rest (shared
# products and reductions). Smaller tests spread over the test workers instead of two long ones.
GROUPS = ["rnn_tanh", "rnn_relu", "lstm", "gru", "train", "shared"]


def _group(name: str) -> str:
    prefix = name.split(".")[0]
    return prefix if prefix in GROUPS else "shared"


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize(("dtype", "cc"), BUILDS, ids=[f"{d}-sm{c[0]}{c[1]}" for d, c in BUILDS])
def test_kernels_compile_to_machine_code(ptx, dtype, cc, group):
    from tsrnn.kernels.cuda._config import MAX_PERSISTENT_THREADS, LaunchConfig
    from tsrnn.kernels.cuda._train_device import FLOAT64_ACCUMULATORS

    assert MAX_PERSISTENT_THREADS <= MAX_DEFAULT_THREADS
    assert LaunchConfig().elementwise_threads <= MAX_DEFAULT_THREADS
    mine = {key: k for key, k in launched(dtype).items() if _group(key[0]) == group}
    assert mine, f"no launched kernel in group {group!r}"
    for (name, signature), kernel in mine.items():
        build = ptx.build(name, kernel, signature, dtype, cc)
        assert f".target sm_{cc[0]}{cc[1]}" in build.ptx, name
        assert ".entry" in build.ptx, name
        float64_allowed = name.removeprefix("train.") in FLOAT64_ACCUMULATORS
        if dtype == "float32" and not float64_allowed:
            # a Python float literal would silently promote float32 arithmetic to float64
            assert not re.search(r"\.f64\b", build.ptx), f"{name}: float64 instruction in a float32 kernel"
        if float64_allowed:
            # the losses and the gradient norm accumulate in float64, as the NumPy code does
            assert re.search(r"\.f64\b", build.ptx), f"{name}: expected float64 accumulation"
        assert build.registers is not None, f"{name}: ptxas reported no register count"
        assert build.registers * MAX_DEFAULT_THREADS <= REGISTERS_PER_BLOCK, (name, build.registers)
        # the per-thread accumulator arrays must live in registers, not in local memory; a
        # kernel with a grid-wide barrier calls the device runtime (cudaCGSynchronize), whose
        # calling convention takes a small stack frame
        stack_allowed = 16 if "cudaCGSynchronize" in build.ptx else 0
        assert build.stack_bytes <= stack_allowed and (build.spill_stores, build.spill_loads) == (0, 0), (
            name,
            build.stack_bytes,
            build.spill_stores,
            build.spill_loads,
        )


# SASS instructions per useful multiply-add in the dot-product loops at one row per thread,
# float32, sm_90 (benchmarks/cuda_codegen.py measures them; docs/cuda.md records them).
SASS_BOUNDS = {
    "lstm.forward_persistent": 4.0,
    "gru.forward_persistent": 4.0,
    "lstm.backward_persistent": 6.0,
    "gru.backward_persistent": 6.0,
}


@pytest.mark.parametrize("name", sorted(SASS_BOUNDS))
def test_persistent_inner_loops_stay_lean(ptx, name):
    """The persistent kernels' machine code, disassembled: the dot-product loop issues at most
    4 (forward) or 6 (backward) instructions per useful FMA, and loads W_hh with shared-memory
    loads (``LDS``), never generic ones (``LD``)."""
    if ptx.nvdisasm_path() is None:
        pytest.skip("nvdisasm is missing: pip install nvidia-cuda-nvdisasm")
    from tsrnn.kernels.cuda._device import persistent_kernels

    cell, attr = name.split(".")
    kernel = getattr(persistent_kernels(cell, "float32", 1, True), attr)
    signature = ptx.persistent_signature(name, "float32")
    code = ptx.compile_ptx(kernel, signature, (9, 0))
    _log, cubin = ptx.assemble(code, (9, 0), cubin=True)
    instructions, fmas, loads = ptx.dot_loop(ptx.disassemble(cubin))
    assert fmas >= 16  # unrolled: several k (and gates) per iteration
    assert instructions / fmas <= SASS_BOUNDS[name], (instructions, fmas)
    assert "LDS" in loads and not any(op == "LD" or op.startswith("LD.") for op in loads), loads
