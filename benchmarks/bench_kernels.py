"""tsrnn's CPU kernels against PyTorch's CPU recurrent layers, side by side in one process.

What is timed (float32, time-major ``(L, N, D)`` input on both sides, same thread count):

* ``inference``: one recurrent layer's forward over the sequence (outputs + final state).
  torch: ``nn.LSTM/GRU/RNN`` under ``torch.inference_mode()``. tsrnn: the inference kernel
  (``tsrnn.kernels.inference_kernel_for("cpu", cell)``), which stores no gates for backward.
* ``train_last``: one training step with the loss on the LAST hidden state through a linear head
  ``H -> 1`` and a mean squared error: forward, head, loss, backward to every parameter (layer
  and head) and to the input. torch: ``zero_grad(set_to_none=True)``, layer, ``nn.Linear``,
  ``mse_loss``, ``backward()``. tsrnn: the contract kernels of ``kernels_for("cpu", cell)``
  (forward storing gates, backward), the head, its loss and gradients in NumPy.
* ``train_all``: the same with the loss on ALL output steps through the head.

tsrnn's buffers (outputs, gates, gradients) are allocated once per shape and reused, as a
training loop does; torch allocates as it always does. No optimiser step on either side.

For each grid row, both libraries are warmed up (not timed), then timed in alternating blocks
(torch block, tsrnn block, ...) so that both see the same machine noise; the figure is the
median over all timed calls. ``ratio = torch_time / tsrnn_time`` (> 1: tsrnn is faster).
``GF/s`` counts the matrix-product FLOPs of the layer, ``2 N L (D + H) G H`` for a forward
(``G`` gates) and three times that for a training step.

Also measured in the same run: the float32 GEMM rate of the machine (NumPy's BLAS and torch),
the cold JIT compile time of the kernels in a fresh process with an empty Numba cache, and
the start-up of a second process that loads that cache (import + first forward/backward).

Usage::

    python benchmarks/bench_kernels.py            # full grid (5-12 minutes on this 2-core machine)
    python benchmarks/bench_kernels.py --quick    # a subset with few repeats, for development
    python benchmarks/bench_kernels.py --cells lstm --H 256 --json out.json

The workplace sets ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (an older BLAS kernel than a
user's machine picks); this script removes both from its own environment by re-executing
itself before NumPy is imported, and says so (``--keep-openblas-env`` keeps them).
"""

from __future__ import annotations

import os
import sys

import _openblas_env

if __name__ == "__main__" and "--keep-openblas-env" not in sys.argv:
    _openblas_env.run_without_them()

import argparse
import itertools
import json
import math
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CELLS = ("rnn_tanh", "lstm", "gru")
GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3}
MODES = ("inference", "train_last", "train_all")
FULL_GRID = {"N": (32, 256), "L": (24, 96, 512), "D": (1, 8), "H": (16, 64, 256)}
QUICK_GRID = {"N": (32, 256), "L": (96,), "D": (8,), "H": (16, 64, 256)}

# Targets of the issue: (cell, modes, H values, minimum geometric-mean ratio).
TARGETS = [
    ("lstm", ("train_last", "train_all"), (16, 64), 1.5),
    ("lstm", ("train_last", "train_all"), (256,), 1.0),
    ("lstm", ("inference",), (16, 64), 1.5),
    ("lstm", ("inference",), (256,), 0.9),
] + [
    (cell, modes, (h,), 3.0)
    for cell in ("gru", "rnn_tanh")
    for modes in (("train_last", "train_all"), ("inference",))
    for h in (16, 64, 256)
]
PEAK_FRACTION_TARGET = 0.40
STARTUP_TARGET_S = 2.0


# ----------------------------------------------------------------------------- environment


def machine_report(threads: int) -> dict:
    from threadpoolctl import threadpool_info

    flags = set()
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    import numba
    import torch

    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "simd_flags": sorted(f for f in flags if f.startswith(("avx", "fma", "sse4_2"))),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threading_layer": numba.threading_layer(),
        "torch": torch.__version__,
        "blas": [
            {k: d.get(k) for k in ("internal_api", "prefix", "version", "architecture", "num_threads")}
            for d in threadpool_info()
        ],
    }


def gemm_gflops(threads: int, size: int = 2048, repeats: int = 10) -> dict:
    """float32 GEMM rate of NumPy's BLAS and of torch: the physical reference."""
    import torch

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    c = np.empty_like(a)
    flops = 2.0 * size**3
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    best = {}
    for name, fn in (("numpy", lambda: np.matmul(a, b, out=c)), ("torch", lambda: torch.mm(ta, tb))):
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        best[name] = flops / min(times) / 1e9
    return best


# ----------------------------------------------------------------------------- compile / start-up

_COLD_SNIPPET = r"""
import time, json
t0 = time.perf_counter()
import numpy as np
from tsrnn import functional as F
t_import = time.perf_counter() - t0
res = {"import_s": t_import, "cells": {}}
for cell in CELLS:
    w = F.init_weights(cell, 2, 8, random_state=0)
    x = np.zeros((4, 3, 2), np.float32)
    t = time.perf_counter()
    out, state, cache = F.forward(cell, x, w)
    F.backward(cache, np.ones_like(out))
    F.forward(cell, x, w, need_cache=False)
    res["cells"][cell] = time.perf_counter() - t
res["total_s"] = time.perf_counter() - t0
print(json.dumps(res))
"""


def _run_child(code: str, cache_dir: str, threads: int) -> tuple[dict, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, NUMBA_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    env.pop(_openblas_env.FLAG, None)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def compile_and_startup(threads: int) -> dict:
    """Cold JIT in a fresh process with an empty cache, then a second process loading it."""
    with tempfile.TemporaryDirectory(prefix="tsrnn-numba-cache-") as cache:
        cold, cold_wall = _run_child(_COLD_SNIPPET.replace("CELLS", repr(CELLS)), cache, threads)
        warm_code = _COLD_SNIPPET.replace("CELLS", "('lstm',)")
        warm, warm_wall = _run_child(warm_code, cache, threads)
    return {
        "cold_compile_s": cold["cells"],
        "cold_process_wall_s": cold_wall,
        "second_process_import_s": warm["import_s"],
        "second_process_first_fwd_bwd_s": warm["cells"]["lstm"],
        "second_process_in_process_s": warm["total_s"],
        "second_process_wall_s": warm_wall,
    }


# ----------------------------------------------------------------------------- one grid row


class TorchCase:
    def __init__(self, torch, cell, x, weights, head_w, target_last, target_all):
        self.torch = torch
        spec_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN}[cell]
        d, h = x.shape[2], weights["weight_hh"].shape[1]
        self.layer = spec_cls(d, h)
        self.layer.load_state_dict({f"{k}_l0": torch.from_numpy(v.copy()) for k, v in weights.items()})
        self.head = torch.nn.Linear(h, 1)
        with torch.no_grad():
            self.head.weight.copy_(torch.from_numpy(head_w))
            self.head.bias.zero_()
        self.x = torch.from_numpy(x.copy()).requires_grad_(True)
        self.x_inf = torch.from_numpy(x.copy())
        self.target_last = torch.from_numpy(target_last)
        self.target_all = torch.from_numpy(target_all)
        self.params = [*self.layer.parameters(), *self.head.parameters()]

    def inference(self):
        with self.torch.inference_mode():
            self.layer(self.x_inf)

    def _step(self, use_all):
        for p in self.params:
            p.grad = None
        self.x.grad = None
        out, _ = self.layer(self.x)
        if use_all:
            loss = self.torch.nn.functional.mse_loss(self.head(out), self.target_all)
        else:
            loss = self.torch.nn.functional.mse_loss(self.head(out[-1]), self.target_last)
        loss.backward()

    def train_last(self):
        self._step(False)

    def train_all(self):
        self._step(True)


class TsrnnCase:
    """Kernels with buffers allocated once, plus the same head and loss in NumPy."""

    def __init__(self, cell, x, weights, head_w, target_last, target_all):
        from tsrnn.kernels import inference_kernel_for, kernels_for

        self.fwd, self.bwd = kernels_for("cpu", cell)
        self.inf = inference_kernel_for("cpu", cell)
        length, n, _ = x.shape
        h = weights["weight_hh"].shape[1]
        g = GATES[cell]
        f32 = np.float32
        self.x = x
        self.w = tuple(weights[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        self.h0 = np.zeros((n, h), f32)
        self.c0 = np.zeros((n, h), f32)
        self.out = np.empty((length, n, h), f32)
        self.aux = np.empty((length, n, h), f32)
        self.gates = np.empty((length, n, g * h), f32)
        self.c_n = np.empty((n, h), f32)
        self.buffers = (self.h0, self.c0, self.out, self.aux, self.gates)
        self.inference_buffers = (self.h0, self.c0, self.out, self.c_n)
        self.dx, self.dh0, self.dc0 = np.empty_like(x), np.empty_like(self.h0), np.empty_like(self.c0)
        self.d_weights = tuple(np.empty_like(a) for a in self.w)
        self.zero_out = np.zeros_like(self.out)
        self.zero_state = np.zeros((n, h), f32)
        self.d_out = np.empty_like(self.out)
        self.d_hn = np.empty((n, h), f32)
        self.head_w = head_w  # (1, H)
        self.head_b = np.zeros(1, f32)
        self.target_last = target_last  # (N, 1)
        self.target_all = target_all  # (L, N, 1)
        self.y_all = np.empty((length * n, 1), f32)
        self.d_head_w = np.empty_like(head_w)

    def inference(self):
        self.inf(self.x, self.w, self.inference_buffers)

    def _forward(self):
        self.fwd(self.x, self.w, self.buffers)

    def _backward(self, d_out, d_hn):
        grads = (d_out, d_hn, self.zero_state, self.dx, self.dh0, self.dc0)
        self.bwd(self.x, self.w, self.buffers, grads, self.d_weights)

    def train_last(self):
        self._forward()
        h_last = self.out[-1]
        y = h_last @ self.head_w.T + self.head_b
        dy = (2.0 / y.size) * (y - self.target_last)  # d mean((y - t)^2) / dy
        _loss = float(np.mean((y - self.target_last) ** 2))
        np.matmul(dy, self.head_w, out=self.d_hn)
        self.d_head_w[...] = dy.T @ h_last
        _d_head_b = dy.sum(axis=0)
        self._backward(self.zero_out, self.d_hn)

    def train_all(self):
        self._forward()
        flat = self.out.reshape(-1, self.out.shape[2])
        np.matmul(flat, self.head_w.T, out=self.y_all)
        self.y_all += self.head_b
        dy = self.y_all - self.target_all.reshape(-1, 1)
        _loss = float(np.mean(dy * dy))
        dy *= 2.0 / dy.size
        np.multiply(dy, self.head_w, out=self.d_out.reshape(-1, self.out.shape[2]))
        self.d_head_w[...] = dy.T @ flat
        _d_head_b = dy.sum(axis=0)
        self._backward(self.d_out, self.zero_state)


def _time_calls(fn, count):
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def time_pair(torch_fn, tsrnn_fn, blocks, block_budget_s, max_reps):
    """Warm up both, then alternate timed blocks.

    Returns ``(torch_median, tsrnn_median, torch_min, tsrnn_min)`` in seconds.
    """
    warm = []
    for fn in (torch_fn, tsrnn_fn):
        t = _time_calls(fn, 1)[0]
        if t < block_budget_s:  # cheap: a second warm-up call, the first may still fault pages in
            t = _time_calls(fn, 1)[0]
        warm.append(t)
    reps_t, reps_s = (max(1, min(max_reps, int(block_budget_s / max(t, 1e-6)))) for t in warm)
    torch_times, tsrnn_times = [], []
    for _ in range(blocks):
        torch_times += _time_calls(torch_fn, reps_t)
        tsrnn_times += _time_calls(tsrnn_fn, reps_s)
    return (
        float(np.median(torch_times)),
        float(np.median(tsrnn_times)),
        float(np.min(torch_times)),
        float(np.min(tsrnn_times)),
    )


def run_row(torch, cell, n, length, d, h, modes, blocks, block_budget_s, max_reps):
    from tsrnn import functional as F

    rng = np.random.default_rng(0)
    weights = F.init_weights(cell, d, h, random_state=0, dtype=np.float32)
    x = rng.standard_normal((length, n, d), dtype=np.float32)
    head_w = (rng.standard_normal((1, h), dtype=np.float32) / np.sqrt(h)).astype(np.float32)
    target_last = rng.standard_normal((n, 1), dtype=np.float32)
    target_all = rng.standard_normal((length, n, 1), dtype=np.float32)
    tc = TorchCase(torch, cell, x, weights, head_w, target_last, target_all)
    sc = TsrnnCase(cell, x, weights, head_w, target_last, target_all)
    fwd_flops = 2.0 * n * length * (d + h) * GATES[cell] * h
    rows = []
    for mode in modes:
        t_torch, t_tsrnn, min_torch, min_tsrnn = time_pair(
            getattr(tc, mode), getattr(sc, mode), blocks, block_budget_s, max_reps
        )
        flops = fwd_flops * (1 if mode == "inference" else 3)
        rows.append(
            {
                "cell": cell,
                "N": n,
                "L": length,
                "D": d,
                "H": h,
                "mode": mode,
                "torch_ms": t_torch * 1e3,
                "tsrnn_ms": t_tsrnn * 1e3,
                "ratio": t_torch / t_tsrnn,
                "ratio_of_minima": min_torch / min_tsrnn,
                "tsrnn_gflops": flops / t_tsrnn / 1e9,
                "torch_gflops": flops / t_torch / 1e9,
            }
        )
    return rows


# ----------------------------------------------------------------------------- report


def geomean(values):
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def summarise(rows, peak, startup):
    lines = ["", "Geometric means against the targets", ""]
    lines.append(f"{'group':44s} {'rows':>4s} {'geomean':>8s} {'target':>7s}  met")
    for cell, modes, hs, target in TARGETS:
        sel = [r["ratio"] for r in rows if r["cell"] == cell and r["mode"] in modes and r["H"] in hs]
        if not sel:
            continue
        g = geomean(sel)
        what = "training" if modes[0].startswith("train") else "inference"
        name = f"{cell} {what} H in {set(hs)} (torch/tsrnn)"
        lines.append(f"{name:44s} {len(sel):4d} {g:8.2f} {target:7.2f}  {'yes' if g >= target else 'NO'}")
    train256 = [r for r in rows if r["H"] == 256 and r["mode"] != "inference"]
    if train256 and peak:
        for cell in CELLS:
            sel = [r["tsrnn_gflops"] for r in train256 if r["cell"] == cell]
            if sel:
                frac = geomean(sel) / peak
                name = f"{cell} training H=256: GF/s / GEMM peak"
                lines.append(
                    f"{name:44s} {len(sel):4d} {frac:8.2f} {PEAK_FRACTION_TARGET:7.2f}  "
                    f"{'yes' if frac >= PEAK_FRACTION_TARGET else 'NO'}"
                )
        frac = geomean([r["tsrnn_gflops"] for r in train256]) / peak
        name = "all cells training H=256: GF/s / GEMM peak"
        lines.append(
            f"{name:44s} {len(train256):4d} {frac:8.2f} {PEAK_FRACTION_TARGET:7.2f}  "
            f"{'yes' if frac >= PEAK_FRACTION_TARGET else 'NO'}"
        )
    if startup:
        s = startup["second_process_wall_s"]
        name = "second process: wall time (s)"
        lines.append(
            f"{name:44s} {1:4d} {s:8.2f} {STARTUP_TARGET_S:7.2f}  {'yes' if s < STARTUP_TARGET_S else 'NO'}"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="subset grid, few repeats (development)")
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated subset of %(default)s")
    parser.add_argument("--N", help="comma-separated batch sizes (default: the grid's)")
    parser.add_argument("--L", help="comma-separated lengths")
    parser.add_argument("--D", help="comma-separated input sizes")
    parser.add_argument("--H", help="comma-separated hidden sizes")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of %(default)s")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all)")
    parser.add_argument("--blocks", type=int, help="alternating timed blocks per row (default 3, quick 2)")
    parser.add_argument("--block-seconds", type=float, help="time budget per block and side (default 0.2)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="threads of NumPy's BLAS during the grid (default 1; see the printed note)",
    )
    parser.add_argument(
        "--no-compile", action="store_true", help="skip the cold-compile/start-up measurement"
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--keep-openblas-env", action="store_true", help="do not unset OPENBLAS_CORETYPE/L2_SIZE"
    )
    args = parser.parse_args(argv)

    load_start = os.getloadavg()
    started = time.time()
    print("tsrnn kernel benchmark:", time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    print("command: python", " ".join(["benchmarks/bench_kernels.py", *sys.argv[1:]]))
    removed = _openblas_env.removed()
    if removed:
        print(f"NOTE: unset {removed} for this process (re-executed before importing NumPy), so the")
        print("      BLAS picks the kernel a user's machine would. Tests and CI keep them.")
    else:
        kept = {k: os.environ[k] for k in _openblas_env.VARIABLES if k in os.environ}
        print(f"OpenBLAS environment: {kept or 'none of ' + ', '.join(_openblas_env.VARIABLES) + ' set'}")
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")

    import numba
    import torch
    from threadpoolctl import threadpool_limits

    # Importing tsrnn's CPU kernels starts Numba's OpenMP threads with OMP_WAIT_POLICY=passive
    # (unless set), but torch, imported above, has loaded GNU OpenMP with the default policy
    # already, and Numba's OpenMP layer shares that copy: its waiting threads spin for a while.
    import tsrnn.kernels.cpu

    sleep = tsrnn.kernels.cpu.WAITING_THREADS_SLEEP
    policy = os.environ.get("OMP_WAIT_POLICY", "not set")
    print(f"OMP_WAIT_POLICY: {policy}; Numba's waiting threads {'sleep' if sleep else 'spin'}")
    threads = args.threads
    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    threadpool_limits(threads)

    grid = dict(QUICK_GRID if args.quick else FULL_GRID)
    for key in grid:
        value = getattr(args, key)
        if value:
            grid[key] = tuple(int(v) for v in value.split(","))
    cells = [c for c in args.cells.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]
    for c in cells:
        if c not in CELLS:
            parser.error(f"--cells: unknown cell {c!r}; choose from {CELLS}")
    for m in modes:
        if m not in MODES:
            parser.error(f"--modes: unknown mode {m!r}; choose from {MODES}")
    blocks = args.blocks or (2 if args.quick else 3)
    block_s = args.block_seconds or (0.1 if args.quick else 0.2)
    max_reps = 5 if args.quick else 20

    # Compile in a child first, so that this process's own numba threads are not yet spinning.
    startup = None if args.no_compile else compile_and_startup(threads)

    info = machine_report(threads)
    print(f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, threads used: {threads}")
    print(f"SIMD flags: {' '.join(info['simd_flags'])}")
    print(f"versions: python {info['python']}, numpy {info['numpy']}, numba {info['numba']}")
    print(f"          (threading layer {info['numba_threading_layer']}), torch {info['torch']}")
    for b in info["blas"]:
        print(f"threadpool: {b}")
    gemm = gemm_gflops(threads)
    peak = max(gemm.values())
    # NumPy's BLAS computes only the tsrnn side's linear head here (the kernels call no BLAS).
    # An OpenBLAS pool busy-waits after each multi-threaded call and then competes for the cores
    # with the kernels' own threads, so a training loop around the kernels limits it.
    threadpool_limits(limits=args.blas_threads, user_api="blas")
    print(
        f"float32 GEMM 2048^3: numpy/BLAS {gemm['numpy']:.0f} GF/s, torch {gemm['torch']:.0f} GF/s; "
        f"peak used below: {peak:.0f} GF/s"
    )
    if startup:
        cold = startup["cold_compile_s"]
        print(
            "cold JIT (empty cache, fwd+bwd+inference, float32): "
            + ", ".join(f"{c} {s:.1f} s" for c, s in cold.items())
            + f"; whole cold process {startup['cold_process_wall_s']:.1f} s"
        )
        print(
            f"second process (cache loaded): import {startup['second_process_import_s']:.2f} s, first lstm "
            f"forward+backward {startup['second_process_first_fwd_bwd_s']:.2f} s, whole process "
            f"(interpreter start to exit) {startup['second_process_wall_s']:.2f} s"
        )
    print()
    print("Timed: see the module docstring. tsrnn = kernels with reused buffers + NumPy head/loss;")
    print("torch = nn.<Cell> + nn.Linear + mse_loss + backward(). ms and ratio: medians over")
    print(
        f"{blocks} alternating blocks per side; 'min ratio' = ratio of the fastest calls (less load noise)."
    )
    print(
        f"Threads: torch {threads} (intra-op), tsrnn kernels {threads} (Numba), NumPy BLAS "
        f"{args.blas_threads} (used only by the tsrnn side's head; its idle pool would spin)."
    )
    header = (
        f"{'cell':8s} {'N':>4s} {'L':>4s} {'D':>2s} {'H':>4s} {'mode':10s} {'torch ms':>10s} "
        f"{'tsrnn ms':>10s} {'ratio':>7s} {'tsrnn GF/s':>10s} {'torch GF/s':>10s} {'min ratio':>9s}"
    )
    print(header)
    rows = []
    for cell, n, length, d, h in itertools.product(cells, grid["N"], grid["L"], grid["D"], grid["H"]):
        for r in run_row(torch, cell, n, length, d, h, modes, blocks, block_s, max_reps):
            rows.append(r)
            print(
                f"{r['cell']:8s} {r['N']:4d} {r['L']:4d} {r['D']:2d} {r['H']:4d} {r['mode']:10s} "
                f"{r['torch_ms']:10.3f} {r['tsrnn_ms']:10.3f} {r['ratio']:7.2f} "
                f"{r['tsrnn_gflops']:10.1f} {r['torch_gflops']:10.1f} {r['ratio_of_minima']:9.2f}",
                flush=True,
            )
    # The peak again at the end (best of both), so that a busy moment at the start does not
    # understate it (which would flatter the fraction-of-peak figures).
    threadpool_limits(limits=threads, user_api="blas")
    gemm_end = gemm_gflops(threads)
    print()
    print(
        f"float32 GEMM again at the end: numpy/BLAS {gemm_end['numpy']:.0f} GF/s, torch "
        f"{gemm_end['torch']:.0f} GF/s"
    )
    peak = max(peak, *gemm_end.values())
    gemm = {k: max(gemm[k], gemm_end[k]) for k in gemm}
    print(f"GEMM peak used for the fractions below (best of start and end): {peak:.0f} GF/s")
    for line in summarise(rows, peak, startup):
        print(line)
    load_end = os.getloadavg()
    print()
    print(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    if max(load_start[0], load_end[0]) > 0.5 * threads + 1:
        print("NOTE: the load average was high: other work shared the cores, so timings are noisy.")
    print(f"elapsed: {time.time() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "gemm_gflops": gemm,
                    "threads": threads,
                    "blas_threads": args.blas_threads,
                    "startup": startup,
                    "rows": rows,
                    "load": [load_start, load_end],
                    "argv": sys.argv[1:],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
