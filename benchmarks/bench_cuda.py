"""tsrnn's CUDA kernels against PyTorch's cuDNN recurrent layers, on one GPU, side by side.

What is timed (float32, time-major ``(L, N, D)`` device arrays on both sides):

* ``inference``: one recurrent layer's forward over the sequence. torch: ``nn.LSTM/GRU/RNN``
  on ``cuda`` (cuDNN) under ``torch.inference_mode()``. tsrnn: ``<cell>_forward`` of
  :mod:`tsrnn.kernels.cuda` on device arrays (it also stores the gates backward needs: there
  is no separate inference kernel on the GPU yet).
* ``train``: forward, then backward of the layer given a gradient for every output step, to
  every parameter and the input. torch: ``zero_grad``, the layer, ``torch.autograd.backward``.
  tsrnn: ``<cell>_forward`` + ``<cell>_backward`` with one reused :class:`Workspace`.

Each call is followed by a device synchronisation, so a figure is the wall time of one call
from the host's point of view (launch overheads included). Both sides are warmed up (JIT
compilation, cuDNN plans) and then timed in alternating blocks; the figure is the median.
``ratio = torch_time / tsrnn_time`` (> 1: tsrnn is faster). ``GF/s`` counts the
matrix-product FLOPs, ``2 N L (D + H) G H`` per forward and three times that per training step.

Usage::

    python benchmarks/bench_cuda.py                # the full grid (cells x N x L x D x H)
    python benchmarks/bench_cuda.py --quick        # a subset
    python benchmarks/bench_cuda.py --path stepwise --cells lstm --H 256

Without a GPU it says so and exits with status 0. Under ``NUMBA_ENABLE_CUDASIM=1`` it only
runs with ``--smoke``: a tiny grid compared with torch on the CPU, to check the script itself
(simulator timings mean nothing).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CELLS = ("rnn_tanh", "lstm", "gru")
GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3}
MODES = ("inference", "train")
FULL_GRID = {"N": (32, 256), "L": (24, 96, 512), "D": (1, 8), "H": (16, 64, 256)}
QUICK_GRID = {"N": (32, 256), "L": (96,), "D": (8,), "H": (16, 64, 256)}
SMOKE_GRID = {"N": (2,), "L": (3,), "D": (1,), "H": (4,)}


def gpu_problem() -> tuple[str | None, bool]:
    """``(why this machine cannot run the benchmark or None, whether the simulator is on)``."""
    import importlib.util

    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'tsrnn[cuda]').", False
    from numba import config, cuda

    if config.ENABLE_CUDASIM:
        return "NUMBA_ENABLE_CUDASIM=1: the simulator runs kernels as Python; its timings mean nothing.", True
    if not cuda.is_available():
        return "no CUDA GPU is available (numba.cuda.is_available() is False).", False
    return None, False


class TsrnnCase:
    """Device arrays allocated once; kernels queued on the default stream."""

    def __init__(self, cell, x, weights, d_out, config):
        from numba import cuda

        from tsrnn.kernels import cuda as kc

        self.cuda = cuda
        self.fwd = getattr(kc, f"{cell}_forward")
        self.bwd = getattr(kc, f"{cell}_backward")
        self.config = config
        self.workspace = kc.Workspace()
        length, n, _d = x.shape
        h = weights["weight_hh"].shape[1]
        g = GATES[cell]
        f32 = np.float32
        dev = cuda.to_device
        self.x = dev(x)
        self.w = [dev(weights[k]) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        self.h0 = dev(np.zeros((n, h), f32))
        self.c0 = dev(np.zeros((n, h) if cell == "lstm" else (0, 0), f32))
        empty3 = np.zeros((0, 0, 0), f32)
        self.out = dev(np.zeros((length, n, h), f32))
        self.aux = dev(np.zeros((length, n, h), f32) if g > 1 else empty3)
        self.gates = dev(np.zeros((length, n, g * h), f32) if g > 1 else empty3)
        self.d_out = dev(d_out)
        self.d_hn = dev(np.zeros((n, h), f32))
        self.d_cn = dev(np.zeros((n, h) if cell == "lstm" else (0, 0), f32))
        self.grads = [cuda.device_array_like(a) for a in (self.x, *self.w, self.h0, self.c0)]

    def _forward(self):
        self.fwd(
            self.x, *self.w, self.h0, self.c0, self.out, self.aux, self.gates,
            config=self.config, workspace=self.workspace,
        )  # fmt: skip

    def inference(self):
        self._forward()
        self.cuda.synchronize()

    def train(self):
        self._forward()
        self.bwd(
            self.x, *self.w, self.h0, self.c0, self.out, self.aux, self.gates,
            self.d_out, self.d_hn, self.d_cn, *self.grads,
            config=self.config, workspace=self.workspace,
        )  # fmt: skip
        self.cuda.synchronize()

    def result(self):
        return self.out.copy_to_host()


class TorchCase:
    """``device="cuda"`` for the benchmark; ``"cpu"`` only in the simulator smoke test."""

    def __init__(self, torch, cell, x, weights, d_out, device="cuda"):
        module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN}[cell]
        d, h = x.shape[2], weights["weight_hh"].shape[1]
        self.torch = torch
        self.layer = module(d, h).to(device)
        self.layer.load_state_dict({f"{k}_l0": torch.from_numpy(v.copy()) for k, v in weights.items()})
        self.x = torch.from_numpy(x).to(device).requires_grad_(True)
        self.x_inf = torch.from_numpy(x).to(device)
        self.d_out = torch.from_numpy(d_out).to(device)
        self.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def inference(self):
        with self.torch.inference_mode():
            self.layer(self.x_inf)
        self.sync()

    def train(self):
        self.layer.zero_grad(set_to_none=True)
        self.x.grad = None
        out, _ = self.layer(self.x)
        self.torch.autograd.backward(out, self.d_out)
        self.sync()

    def result(self):
        with self.torch.inference_mode():
            return self.layer(self.x_inf)[0].cpu().numpy()


def _time_calls(fn, count):
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def time_alternating(fns, blocks, block_s, max_reps):
    """Warm up every function, then time them in alternating blocks; return the medians."""
    warm = [min(_time_calls(f, 2)) for f in fns]
    reps = [max(1, min(max_reps, int(block_s / max(w, 1e-6)))) for w in warm]
    times = [[] for _ in fns]
    for _ in range(blocks):
        for i, f in enumerate(fns):
            times[i] += _time_calls(f, reps[i])
    return [float(np.median(t)) for t in times]


def run_row(torch, torch_device, cell, n, length, d, h, modes, config, blocks, block_s, max_reps):
    from tsrnn import functional as F

    rng = np.random.default_rng(0)
    weights = F.init_weights(cell, d, h, random_state=0, dtype=np.float32)
    x = rng.standard_normal((length, n, d), dtype=np.float32)
    d_out = rng.standard_normal((length, n, h), dtype=np.float32)
    ours = TsrnnCase(cell, x, weights, d_out, config)
    theirs = TorchCase(torch, cell, x, weights, d_out, torch_device) if torch is not None else None
    check = float("nan")
    if theirs is not None:  # the two must compute the same thing before their times compare
        ours.inference()
        check = float(np.max(np.abs(ours.result() - theirs.result())))
    fwd_flops = 2.0 * n * length * (d + h) * GATES[cell] * h
    rows = []
    for mode in modes:
        fns = [getattr(ours, mode)] + ([getattr(theirs, mode)] if theirs is not None else [])
        medians = time_alternating(fns, blocks, block_s, max_reps)
        t_ours = medians[0]
        t_torch = medians[1] if theirs is not None else float("nan")
        flops = fwd_flops * (1 if mode == "inference" else 3)
        rows.append(
            {
                "cell": cell, "N": n, "L": length, "D": d, "H": h, "mode": mode,
                "torch_ms": t_torch * 1e3, "tsrnn_ms": t_ours * 1e3, "ratio": t_torch / t_ours,
                "tsrnn_gflops": flops / t_ours / 1e9, "torch_gflops": flops / t_torch / 1e9,
                "max_abs_diff_outputs": check,
            }
        )  # fmt: skip
    return rows


def geomean(values):
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="subset grid, few repeats")
    parser.add_argument(
        "--smoke", action="store_true", help="under the simulator: a tiny grid that checks the script"
    )
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated subset of %(default)s")
    for key in "NLDH":
        parser.add_argument(f"--{key}", help=f"comma-separated values of {key} (default: the grid's)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of %(default)s")
    parser.add_argument("--path", default="auto", choices=("auto", "persistent", "split", "stepwise"))
    parser.add_argument("--blocks", type=int, default=3, help="alternating timed blocks per row")
    parser.add_argument("--block-seconds", type=float, default=0.2, help="time budget per block and side")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    print("tsrnn CUDA benchmark:", time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    print("command: python", " ".join(["benchmarks/bench_cuda.py", *sys.argv[1:]]))
    problem, simulator = gpu_problem()
    simulator_smoke = args.smoke and simulator
    if problem and not simulator_smoke:
        print(f"No GPU benchmark on this machine: {problem}")
        print("Nothing was measured. Run this script on a machine with an NVIDIA GPU and numba-cuda.")
        return 0

    from numba import cuda

    from tsrnn.kernels.cuda import LaunchConfig

    torch, torch_device = None, "cuda"
    try:
        import torch as _torch
    except ImportError:
        print("NOTE: torch is not installed (pip install '.[bench]', a CUDA build): only tsrnn is timed.")
    else:
        if simulator_smoke:  # check the comparison itself against torch's CPU layers
            torch, torch_device = _torch, "cpu"
        elif _torch.cuda.is_available():
            torch = _torch
            torch.backends.cudnn.enabled = True
        else:
            print("NOTE: torch has no CUDA device (a CPU build?): only tsrnn is timed.")
    if simulator_smoke:
        print("SMOKE TEST under the CUDA simulator, torch on the CPU: the times below mean nothing.")
    else:
        dev = cuda.get_current_device()
        name = dev.name.decode() if isinstance(dev.name, bytes) else dev.name
        print(f"GPU: {name}, compute capability {dev.compute_capability}, {dev.MULTIPROCESSOR_COUNT} SMs")
    if torch is not None:
        print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")

    grid = dict(SMOKE_GRID if args.smoke else QUICK_GRID if args.quick else FULL_GRID)
    for key in grid:
        if value := getattr(args, key):
            grid[key] = tuple(int(v) for v in value.split(","))
    cells = [c for c in args.cells.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]
    for c in cells:
        if c not in CELLS:
            parser.error(f"--cells: unknown cell {c!r}; choose from {CELLS}")
    for m in modes:
        if m not in MODES:
            parser.error(f"--modes: unknown mode {m!r}; choose from {MODES}")
    config = LaunchConfig(path=args.path)
    blocks, block_s, max_reps = (1, 0.0, 1) if args.smoke else (args.blocks, args.block_seconds, 50)

    header = (
        f"{'cell':8s} {'N':>4s} {'L':>4s} {'D':>2s} {'H':>4s} {'mode':9s} {'torch ms':>9s} {'tsrnn ms':>9s} "
        f"{'ratio':>6s} {'tsrnn GF/s':>10s} {'torch GF/s':>10s} {'|out diff|':>10s}"
    )
    print(header)
    rows = []
    for cell, n, length, d, h in itertools.product(cells, grid["N"], grid["L"], grid["D"], grid["H"]):
        for r in run_row(
            torch, torch_device, cell, n, length, d, h, modes, config, blocks, block_s, max_reps
        ):
            rows.append(r)
            print(
                f"{r['cell']:8s} {r['N']:4d} {r['L']:4d} {r['D']:2d} {r['H']:4d} {r['mode']:9s} "
                f"{r['torch_ms']:9.3f} {r['tsrnn_ms']:9.3f} {r['ratio']:6.2f} {r['tsrnn_gflops']:10.2f} "
                f"{r['torch_gflops']:10.2f} {r['max_abs_diff_outputs']:10.1e}",
                flush=True,
            )
    if torch is not None:
        print()
        print("Geometric mean of torch/tsrnn per cell and mode (> 1: tsrnn faster)")
        for cell, mode in itertools.product(cells, modes):
            sel = [r["ratio"] for r in rows if r["cell"] == cell and r["mode"] == mode]
            print(f"  {cell:8s} {mode:9s} {geomean(sel):6.2f}  ({len(sel)} rows)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "path": args.path}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
