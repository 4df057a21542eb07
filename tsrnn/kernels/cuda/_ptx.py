"""Compile every CUDA kernel the library launches to PTX (and, when possible, to machine code)
without a GPU, and report what the compiler says about each.

``numba.cuda.compile_ptx`` runs numba's typing and lowering and NVIDIA's NVVM; it needs the
NVVM library (installed by ``numba-cuda[cu13]``) but no GPU or driver. When the nvJitLink
library is present as well (``cuda.bindings.nvjitlink``, part of the same extra), the PTX is
assembled for the target architecture by ptxas inside nvJitLink, which reports the real
register count, spills, stack frame and static shared memory of each kernel. Dynamic shared
memory (set per launch) is not part of the kernel image: :mod:`tsrnn.kernels.cuda._config`
computes it.

Run ``python -m tsrnn.kernels.cuda._ptx`` for the table in docs/cuda.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numba import cuda

from ._config import LaunchConfig
from ._device import GATES, cell_kernels, linalg_kernels
from ._layer import RecordingOps, backward, forward
from ._train_device import train_kernels

CCS = ((8, 0), (9, 0))


@dataclass
class KernelBuild:
    """One kernel compiled for one signature and architecture."""

    name: str
    dtype: str
    cc: tuple[int, int]
    signature: tuple
    ptx: str
    registers: int | None = None
    spill_stores: int | None = None
    spill_loads: int | None = None
    stack_bytes: int | None = None
    static_shared_bytes: int | None = None
    local_bytes: int | None = None


def kernel_names(dtype_name: str) -> dict[int, str]:
    """``id(dispatcher) -> readable name`` for every kernel of one dtype."""
    names = {}
    for attr, kernel in vars(linalg_kernels(dtype_name)).items():
        names[id(kernel)] = attr
    for cell in GATES:
        for attr, kernel in vars(cell_kernels(cell, dtype_name)).items():
            names[id(kernel)] = f"{cell}.{attr}"
    for attr, kernel in vars(train_kernels(dtype_name)).items():
        names[id(kernel)] = f"train.{attr}"
    return names


def _stand_ins(cell: str, dtype, shape=(3, 2, 2, 3)):
    n, length, d, h = shape
    g = GATES[cell]
    z = lambda *s: np.zeros(s, dtype)  # noqa: E731
    lstm, gated = cell == "lstm", g > 1
    state = z(n, h) if lstm else z(0, 0)
    seq = (lambda *s: z(*s)) if gated else (lambda *s: z(0, 0, 0))
    fwd = dict(
        x=z(length, n, d), w_ih=z(g * h, d), w_hh=z(g * h, h), b_ih=z(g * h), b_hh=z(g * h),
        h0=z(n, h), c0=state, out=z(length, n, h), aux=seq(length, n, h), gates=seq(length, n, g * h),
    )  # fmt: skip
    bwd = dict(
        d_out=z(length, n, h), d_hn=z(n, h), d_cn=z(n, h) if lstm else z(0, 0), dx=z(length, n, d),
        dw_ih=z(g * h, d), dw_hh=z(g * h, h), db_ih=z(g * h), db_hh=z(g * h), dh0=z(n, h),
        dc0=z(n, h) if lstm else z(0, 0),
    )  # fmt: skip
    return fwd, bwd


# Configurations that between them take every launch site: both recurrence paths, and
# products with and without a split reduction.
RECORD_CONFIGS = (
    LaunchConfig(path="persistent"),
    LaunchConfig(path="stepwise", min_split_rows=1, target_blocks=64, gemm_block=(1, 1), gemm_bk=1),
)


# Device-resident training runs whose launches are recorded: every cell with one plain layer
# (Adam, squared error) and with two bidirectional layers and dropout (SGD with momentum and
# weight decay, value clipping, cross-entropy), each with validation, an input gradient and a
# chunked prediction. Between them they take every launch site of tsrnn.nn._cuda.
TRAINING_VARIANTS = (
    dict(arch=dict(), solver="adam", loss="mse", weight_decay=0.0, clip_value=None),
    dict(
        arch=dict(num_layers=2, bidirectional=True, dropout=0.5),
        solver="sgd",
        loss="cross_entropy",
        weight_decay=1e-3,
        clip_value=0.5,
    ),
)


def record_training(ops: RecordingOps, cell: str, dtype_name: str, variant: dict) -> None:
    """Run one epoch of device-resident training (and a prediction, and an input gradient)
    of a small network through ``ops``, on NumPy stand-ins of the device arrays."""
    from ...nn import RecurrentNetwork, make_optimizer, mse_loss, softmax_cross_entropy, train
    from ...nn._cuda import CudaOps

    dtype = np.dtype(dtype_name)
    n, length, d, h, classes = 5, 3, 2, 3, 2
    net = RecurrentNetwork(cell, d, h, classes, dtype=dtype, **variant["arch"])
    net._ops = CudaOps(cell, dtype, launcher=ops)  # the device code path, recorded
    params = net.init_params(0)
    optimizer = make_optimizer(
        variant["solver"],
        params,
        learning_rate=0.01,
        weight_decay=variant["weight_decay"],
        decay_mask=net.layout.decay_mask(dtype),
    )
    X = np.zeros((length, n, d), dtype)
    if variant["loss"] == "mse":
        loss, Y = mse_loss, np.zeros((n, classes), dtype)
    else:
        loss, Y = softmax_cross_entropy, np.zeros(n, np.intp)
    validation = (X[:, :2].copy(), Y[:2], lambda output, target: 0.0)
    train(
        net, params, optimizer, loss, X, Y, max_epochs=1, batch_size=3, rng=np.random.RandomState(0),
        clip_norm=1.0, clip_value=variant["clip_value"], validation=validation, check_convergence=False,
    )  # fmt: skip
    _, cache = net.forward(params, X)
    net.backward(params, cache, np.zeros((n, classes), dtype), input_grad=True)
    net.predict(params, X, chunk_size=2)


def launched_signatures(dtype_name: str) -> dict[tuple[str, tuple], object]:
    """Every ``(kernel name, numba argument types) -> dispatcher`` the library launches:
    forward and backward of every cell, and device-resident training of every cell
    (:data:`TRAINING_VARIANTS`), recorded by running the host code with NumPy stand-ins."""
    names = kernel_names(dtype_name)
    found = {}
    for config in RECORD_CONFIGS:
        for cell in GATES:
            fwd, bwd = _stand_ins(cell, np.dtype(dtype_name))
            ops = RecordingOps(config)
            forward(cell, *fwd.values(), ops)
            backward(cell, *fwd.values(), *bwd.values(), ops)
            for variant in TRAINING_VARIANTS:
                record_training(ops, cell, dtype_name, variant)
            for kernel, _grid, _block, _shared, types in ops.launches:
                found[(names[id(kernel)], types)] = kernel
    return found


_REGS = re.compile(r"used (\d+) registers")
_SPILL = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_SMEM = re.compile(r"(\d+) bytes smem")
_LMEM = re.compile(r"(\d+) bytes lmem")


def nvjitlink_available() -> bool:
    try:
        from cuda.bindings import nvjitlink  # noqa: F401
    except ImportError:
        return False
    return True


def assemble(ptx: str, cc: tuple[int, int]) -> str:
    """Assemble ``ptx`` for ``sm_<cc>`` with nvJitLink; return ptxas's verbose log."""
    from cuda.bindings import nvjitlink

    options = [f"-arch=sm_{cc[0]}{cc[1]}", "-verbose"]
    handle = nvjitlink.create(len(options), options)
    try:
        data = ptx.encode()
        nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel.ptx")
        try:
            nvjitlink.complete(handle)
        except Exception as exc:
            size = nvjitlink.get_error_log_size(handle)
            log = bytearray(size)
            nvjitlink.get_error_log(handle, log)
            raise RuntimeError(f"ptxas rejected the PTX: {log.decode(errors='replace')}") from exc
        size = nvjitlink.get_info_log_size(handle)
        log = bytearray(size)
        nvjitlink.get_info_log(handle, log)
        return log.decode(errors="replace")
    finally:
        nvjitlink.destroy(handle)


def build(name, kernel, signature, dtype_name, cc, with_ptxas=True) -> KernelBuild:
    """Compile one kernel to PTX (and machine code when nvJitLink is available)."""
    ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=cc)
    result = KernelBuild(name, dtype_name, cc, signature, ptx)
    if with_ptxas and nvjitlink_available():
        log = assemble(ptx, cc)
        if m := _REGS.search(log):
            result.registers = int(m.group(1))
        if m := _SPILL.search(log):
            result.stack_bytes, result.spill_stores, result.spill_loads = map(int, m.groups())
        if m := _SMEM.search(log):
            result.static_shared_bytes = int(m.group(1))
        if m := _LMEM.search(log):
            result.local_bytes = int(m.group(1))
    return result


def build_all(ccs=CCS, dtypes=("float32", "float64"), with_ptxas=True) -> list[KernelBuild]:
    """Every launched kernel signature, compiled for every architecture in ``ccs``."""
    builds = []
    for dtype_name in dtypes:
        for (name, signature), kernel in sorted(launched_signatures(dtype_name).items(), key=str):
            for cc in ccs:
                builds.append(build(name, kernel, signature, dtype_name, cc, with_ptxas))
    return builds


def markdown_table(builds: list[KernelBuild]) -> str:
    """Registers per thread for each kernel, dtype and architecture (ptxas via nvJitLink),
    and a footnote on stack, spills and static shared memory across all of them."""
    regs: dict[str, dict[tuple[str, tuple[int, int]], int | None]] = {}
    for b in builds:
        regs.setdefault(b.name, {})[(b.dtype, b.cc)] = b.registers
    columns = sorted({(b.dtype, b.cc) for b in builds})
    head = " | ".join(f"{dt} sm_{cc[0]}{cc[1]}" for dt, cc in columns)
    lines = [f"| kernel | {head} |", "|---" * (len(columns) + 1) + "|"]
    for name in sorted(regs):
        values = " | ".join("?" if regs[name].get(c) is None else str(regs[name][c]) for c in columns)
        lines.append(f"| {name} | {values} |")
    stack = {b.stack_bytes for b in builds}
    spills = {(b.spill_stores, b.spill_loads) for b in builds}
    smem = {(b.cc, b.static_shared_bytes) for b in builds}
    lines.append("")
    lines.append(
        f"Stack frame bytes over all builds: {sorted(stack, key=str)}; spill stores/loads: "
        f"{sorted(spills, key=str)}; static shared memory reported per architecture (bytes, "
        f"the 1 KiB reserved by the driver on sm_80+ included where reported): {sorted(smem, key=str)}."
    )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - documentation helper
    print(markdown_table(build_all()))
