"""Offline measurements of the CUDA kernels, without a GPU: what the compilers make of them and
what the host does per training step.

Prints, for float32 on sm_90 unless told otherwise:

1. ``sass``: SASS instructions per useful FMA in the inner loop of each persistent kernel
   (the innermost loop with the most multiply-adds in the disassembly of the machine code;
   every FMA there is useful, because the rows per thread are a compile-time constant);
2. ``regs``: registers, spill stores/loads, stack and static shared memory of every kernel
   the library launches, from ptxas (in nvJitLink);
3. ``launches``: kernel launches per training step (one mini-batch) of a 1-layer LSTM
   (Adam, squared error, gradient-norm clipping) and of a 2-layer bidirectional LSTM with
   dropout, counted by running the host code with NumPy stand-ins of the device arrays;
4. ``host``: host time per mini-batch of the same two networks with every launch stubbed
   out (tsrnn's own Python per step; numba's launch cost comes on top on a GPU).

Needs ``numba-cuda[cu13]`` (NVVM and nvJitLink, no GPU) and, for ``sass``, NVIDIA's
disassembler: ``pip install nvidia-cuda-nvdisasm`` (same CUDA version as nvJitLink). Do not run
it under ``NUMBA_ENABLE_CUDASIM=1``.

Usage::

    python benchmarks/cuda_codegen.py                  # everything
    python benchmarks/cuda_codegen.py sass launches    # some parts
    python benchmarks/cuda_codegen.py regs --markdown  # the register table of docs/cuda.md

The functions that compile every launched kernel signature (:func:`launched_signatures`,
:func:`build`) are what ``tests/kernels/cuda/test_cuda_ptx.py`` uses.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from numba import cuda

from tsrnn.kernels.cuda._config import LaunchConfig
from tsrnn.kernels.cuda._device import GATES, cell_kernels, linalg_kernels, persistent_kernels, split_kernels
from tsrnn.kernels.cuda._layer import RecordingOps, backward, forward
from tsrnn.kernels.cuda._train_device import train_kernels

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
        for rows, cached in PERSISTENT_VARIANTS:
            for attr, kernel in vars(persistent_kernels(cell, dtype_name, rows, cached)).items():
                names[id(kernel)] = f"{cell}.{attr}[{variant_label(rows, cached)}]"
        for attr, kernel in vars(split_kernels(cell, dtype_name)).items():
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


# The persistent kernels are compiled per (rows per thread, W_hh in shared memory); these
# variants are recorded and compiled: the default at small sizes, and one with rows per thread
# above one and W_hh in global memory.
PERSISTENT_VARIANTS = ((1, True), (2, False))


def variant_label(rows: int, cached: bool) -> str:
    return f"rows{rows},{'shared' if cached else 'global'}"


# Configurations that between them take every launch site: both recurrence paths (and both
# persistent variants), and products with and without a split reduction.
RECORD_CONFIGS = (
    LaunchConfig(path="persistent"),
    LaunchConfig(path="split", split_units=2),
    LaunchConfig(path="persistent", rows_per_thread=2, cache_weights=False),
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
    from tsrnn.nn import RecurrentNetwork, make_optimizer, mse_loss, softmax_cross_entropy, train
    from tsrnn.nn._cuda import CudaOps

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


def assemble(ptx: str, cc: tuple[int, int], cubin: bool = False):
    """Assemble ``ptx`` for ``sm_<cc>`` with nvJitLink; return ptxas's verbose log (and the
    machine code, a cubin, with ``cubin=True``). A cooperative kernel (grid-wide barrier) is
    linked with the CUDA device runtime, as numba-cuda links it at a launch."""
    from cuda.bindings import nvjitlink

    options = [f"-arch=sm_{cc[0]}{cc[1]}", "-verbose"]
    handle = nvjitlink.create(len(options), options)
    try:
        data = ptx.encode()
        nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel.ptx")
        if "cudaCGSynchronize" in ptx:
            from numba.cuda.cudadrv.libs import get_cudalib

            nvjitlink.add_file(handle, nvjitlink.InputType.LIBRARY, get_cudalib("cudadevrt", static=True))
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
        if not cubin:
            return log.decode(errors="replace")
        code = bytearray(nvjitlink.get_linked_cubin_size(handle))
        nvjitlink.get_linked_cubin(handle, code)
        return log.decode(errors="replace"), bytes(code)
    finally:
        nvjitlink.destroy(handle)


@contextmanager
def target_device(cc: tuple[int, int]):
    """Compile as if the current GPU had compute capability ``cc``: numba-cuda compiles the
    device functions behind some of its own APIs (the cooperative groups' ``this_grid``,
    ``sync``) for the current GPU, which a machine without one does not have."""
    from numba.cuda import dispatcher

    saved = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=cc)
    try:
        yield
    finally:
        dispatcher.get_current_device = saved


def compile_ptx(kernel, signature, cc) -> str:
    """PTX of ``kernel`` for ``signature`` and ``sm_<cc>`` (no GPU needed)."""
    with target_device(cc):
        ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=cc)
    return ptx


def build(name, kernel, signature, dtype_name, cc, with_ptxas=True) -> KernelBuild:
    """Compile one kernel to PTX (and machine code when nvJitLink is available)."""
    ptx = compile_ptx(kernel, signature, cc)
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


# --------------------------------------------------------------------------- SASS inner loops


def nvdisasm_path() -> str | None:
    """NVIDIA's disassembler: on PATH, or from the ``nvidia-cuda-nvdisasm`` wheel."""
    found = shutil.which("nvdisasm")
    if found:
        return found
    for base in map(Path, sys.path):
        for candidate in base.glob("nvidia/cu*/bin/nvdisasm"):
            return str(candidate)
    return None


def disassemble(cubin: bytes) -> str:
    tool = nvdisasm_path()
    if tool is None:
        raise RuntimeError(
            "nvdisasm not found: pip install nvidia-cuda-nvdisasm (same CUDA version as nvJitLink)"
        )
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        return subprocess.run([tool, "-c", f.name], check=True, capture_output=True, text=True).stdout


_INSTRUCTION = re.compile(r"^\s*/\*[0-9a-f]+\*/\s+(.*?)\s*;")
_LABEL = re.compile(r"^\s*(\.L_x_\d+):")
_BRANCH = re.compile(r"BRA\s+`\((\.L_x_\d+)\)")


def innermost_loops(sass: str) -> list[list[str]]:
    """The bodies of the innermost loops of a disassembly: a loop is a backward branch and the
    instructions from its target to it; innermost ones contain no other loop."""
    instructions, labels = [], {}
    for line in sass.splitlines():
        if m := _LABEL.match(line):
            labels[m.group(1)] = len(instructions)
        elif m := _INSTRUCTION.match(line):
            instructions.append(m.group(1))
    loops = []
    for i, text in enumerate(instructions):
        m = _BRANCH.search(text)
        if m and labels.get(m.group(1), len(instructions)) <= i:
            loops.append((labels[m.group(1)], i))
    inner = [(a, b) for a, b in loops if not any(a <= c and d <= b and (c, d) != (a, b) for c, d in loops)]
    return [instructions[a : b + 1] for a, b in inner]


def opcode(instruction: str) -> str:
    return re.sub(r"^@!?U?P\w+\s+", "", instruction).split()[0]


@dataclass
class LoopFigure:
    """The dot-product loop of one persistent kernel."""

    name: str
    instructions: int
    fmas: int
    loads: dict

    @property
    def per_fma(self) -> float:
        return self.instructions / self.fmas


def dot_loop(sass: str) -> tuple[int, int, dict]:
    """``(instructions, FMAs, load opcodes)`` of the innermost loop with the most FMAs (the
    worst instructions-per-FMA among loops tied on that count, e.g. an unrolled remainder),
    leaving out loops with transcendentals (``MUFU``: the elementwise part of a step)."""
    best = None
    for body in innermost_loops(sass):
        ops = [opcode(x) for x in body]
        if any(op.startswith("MUFU") for op in ops):
            continue
        fmas = sum(op.startswith(("FFMA", "DFMA")) for op in ops)
        loads = Counter(op for op in ops if op.startswith(("LD", "LDS", "LDG")))
        key = (fmas, len(body) / max(fmas, 1))
        if fmas and (best is None or key > best[0]):
            best = (key, len(body), fmas, dict(loads))
    if best is None:
        raise RuntimeError("no loop with multiply-adds found")
    return best[1], best[2], best[3]


def persistent_signature(kernel_name: str, dtype_name: str) -> tuple:
    """The argument types of a persistent (or hidden-split) kernel, as the library launches it."""
    for config in RECORD_CONFIGS[:2]:
        cell = kernel_name.split(".")[0]
        fwd, bwd = _stand_ins(cell, np.dtype(dtype_name))
        ops = RecordingOps(config)
        forward(cell, *fwd.values(), ops)
        backward(cell, *fwd.values(), *bwd.values(), ops)
        for kernel, _grid, _block, _shared, types in ops.launches:
            if kernel.py_func.__name__ == kernel_name.split(".")[1]:
                return types
    raise KeyError(kernel_name)


def sass_figures(
    cells=("lstm", "gru", "rnn_tanh"),
    dtype_name="float32",
    cc=(9, 0),
    variants=((1, True), (1, False), (4, True)),
):
    """SASS instructions per FMA in the dot-product loops of the persistent kernels."""
    figures = []
    for cell in cells:
        for rows, cached in variants:
            pk = persistent_kernels(cell, dtype_name, rows, cached)
            for attr in ("forward_persistent", "backward_persistent"):
                signature = persistent_signature(f"{cell}.{attr}", dtype_name)
                ptx = compile_ptx(getattr(pk, attr), signature, cc)
                _log, cubin = assemble(ptx, cc, cubin=True)
                n, fmas, loads = dot_loop(disassemble(cubin))
                figures.append(LoopFigure(f"{cell}.{attr}[{variant_label(rows, cached)}]", n, fmas, loads))
        sk = split_kernels(cell, dtype_name)
        for attr in ("forward_split", "backward_split"):
            signature = persistent_signature(f"{cell}.{attr}", dtype_name)
            _log, cubin = assemble(compile_ptx(getattr(sk, attr), signature, cc), cc, cubin=True)
            n, fmas, loads = dot_loop(disassemble(cubin))
            figures.append(LoopFigure(f"{cell}.{attr}", n, fmas, loads))
    return figures


# --------------------------------------------------------------------------- host side per step


def _training_setup(ops, arch: dict, dtype_name="float32", n=128, length=48, d=1, h=32, batch=64):
    from tsrnn.nn import RecurrentNetwork, make_optimizer, mse_loss
    from tsrnn.nn._cuda import CudaOps, DeviceTrainer

    dtype = np.dtype(dtype_name)
    net = RecurrentNetwork("lstm", d, h, 1, dtype=dtype, **arch)
    net._ops = CudaOps("lstm", dtype, launcher=ops)
    params = net.init_params(0)
    optimizer = make_optimizer("adam", params, learning_rate=0.01, decay_mask=net.layout.decay_mask(dtype))
    X = np.zeros((length, n, d), dtype)
    Y = np.zeros((n, 1), dtype)
    trainer = DeviceTrainer(net, params, optimizer, mse_loss, X, Y, None)
    return trainer, n // batch


NETWORKS = {
    "1-layer LSTM": dict(),
    "2-layer bidirectional LSTM, dropout": dict(num_layers=2, bidirectional=True, dropout=0.5),
}


def launches_per_step(config: LaunchConfig | None = None) -> dict[str, Counter]:
    """Kernel launches per mini-batch (Adam, squared error, clip_norm=1) by kernel name."""
    config = LaunchConfig() if config is None else config
    names = kernel_names("float32")
    counts = {}
    for label, arch in NETWORKS.items():
        ops = RecordingOps(config)
        trainer, batches = _training_setup(ops, arch)
        trainer.run_epoch(
            batch_size=64, rng=np.random.RandomState(0), shuffle=True, clip_norm=1.0, clip_value=None
        )
        counts[label] = Counter(names.get(id(k), getattr(k, "__name__", "?")) for k, *_ in ops.launches)
        counts[label] = Counter({k: v / batches for k, v in counts[label].items()})
    return counts


class StubOps(RecordingOps):
    """Launches do nothing; scratch buffers are kept per name and shape as a Workspace keeps
    them on the device. What is left per step is tsrnn's own host code."""

    def __init__(self, config):
        super().__init__(config)
        self._scratch = {}

    def launch(self, kernel, grid, block, shared, *args):
        pass

    def alloc(self, name, shape, dtype):
        key = (name, tuple(shape), np.dtype(dtype))
        if key not in self._scratch:
            self._scratch[key] = np.zeros(shape, dtype)
        return self._scratch[key]


def host_time_per_step(repeats: int = 20) -> dict[str, float]:
    """Seconds of host time per mini-batch with the launches stubbed out (best of ``repeats``
    epochs of 2 mini-batches, after one warm-up epoch)."""
    times = {}
    for label, arch in NETWORKS.items():
        trainer, batches = _training_setup(StubOps(LaunchConfig()), arch)
        best = float("inf")
        for i in range(repeats + 1):
            rng = np.random.RandomState(i)
            start = time.perf_counter()
            trainer.run_epoch(batch_size=64, rng=rng, shuffle=True, clip_norm=1.0, clip_value=None)
            if i:
                best = min(best, (time.perf_counter() - start) / batches)
        times[label] = best
    return times


# --------------------------------------------------------------------------- command line


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", default=["sass", "regs", "launches", "host"])
    parser.add_argument(
        "--markdown", action="store_true", help="regs: the full table, both dtypes and sm_80/sm_90"
    )
    args = parser.parse_args(argv)
    from numba import config

    if config.ENABLE_CUDASIM:
        raise SystemExit("cuda_codegen.py compiles kernels: run it without NUMBA_ENABLE_CUDASIM=1")
    if "sass" in args.parts:
        print("## SASS instructions per useful FMA in the dot-product loop (float32, sm_90)\n")
        print("| kernel | instructions | FMAs | per FMA | loads |")
        print("|---|---|---|---|---|")
        for f in sass_figures():
            loads = ", ".join(f"{k} {v}" for k, v in sorted(f.loads.items()))
            print(f"| {f.name} | {f.instructions} | {f.fmas} | {f.per_fma:.2f} | {loads} |")
        print()
    if "regs" in args.parts:
        print("## Registers, spills, stack, static shared memory (ptxas)\n")
        builds = build_all() if args.markdown else build_all(ccs=((9, 0),), dtypes=("float32",))
        print(markdown_table(builds))
        print()
    if "launches" in args.parts:
        print("## Kernel launches per training step (Adam, MSE, clip_norm)\n")
        for label, counts in launches_per_step().items():
            detail = ", ".join(f"{k} {v:g}" for k, v in sorted(counts.items()))
            print(f"- {label}: {sum(counts.values()):g} ({detail})")
        print()
    if "host" in args.parts:
        print("## Host time per mini-batch, launches stubbed (best of 20 epochs)\n")
        for label, seconds in host_time_per_step().items():
            print(f"- {label}: {seconds * 1e3:.3f} ms")
        print()


if __name__ == "__main__":
    main()
