"""The CPU kernels when gradients decay through the subnormal range, side by side.

For the LSTM and the GRU (float32, batch 256, 200 steps, 32 hidden units, one input), one
forward and backward of the CPU kernels with two sets of weights that differ in one gate bias
only:

* ``decaying``: the LSTM's forget gates (the GRU's update gates) at 0.5 and small recurrent
  weights, with the loss on the last step: the gradient halves at every step back and crosses
  the subnormal range (below 1.2e-38) on its way to zero;
* ``carried``: the same gates at sigmoid(10), so the gradient is carried back at full size.

Both do the same arithmetic; on x86 only subnormal operands make the difference (microcode
assists). The kernels flush subnormals to zero (``tsrnn/kernels/cpu/_fpenv.py``), so the
ratio decaying/carried should be near 1. ``--baseline DIR`` runs the same measurement with the
tsrnn of another checkout (e.g. ``git worktree add /tmp/base <rev>``) in a subprocess, the two
alternating, and prints both.

Usage::

    python benchmarks/bench_subnormals.py [--baseline DIR] [--repeat 7]

The script leaves the BLAS and thread variables as they are (the kernels use every core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

CELLS = ("lstm", "gru")
N, T, D, H = 256, 200, 1, 32


def weights(cell: str, gate_bias: float, rng) -> dict:
    """PyTorch layout; the second gate block is the LSTM's forget gate and the GRU's update gate."""
    g = 4 if cell == "lstm" else 3
    w = {
        "weight_ih": (0.1 * rng.normal(size=(g * H, D))).astype(np.float32),
        "weight_hh": (0.01 * rng.normal(size=(g * H, H))).astype(np.float32),
        "bias_ih": np.zeros(g * H, np.float32),
        "bias_hh": np.zeros(g * H, np.float32),
    }
    w["bias_ih"][H : 2 * H] = gate_bias
    return w


def measure(repeat: int) -> dict:
    """Median milliseconds of one forward + backward, per cell and weight set."""
    from tsrnn import functional as F

    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    d_out = np.zeros((N, T, H), np.float32)
    d_out[:, -1] = 1e-3
    out = {}
    for cell in CELLS:
        for label, bias in (("decaying", 0.0), ("carried", 10.0)):
            w = weights(cell, bias, rng)
            F.backward(F.forward(cell, x, w)[2], d_out)  # compile or load, warm the caches
            times = []
            for _ in range(repeat):
                tic = time.perf_counter()
                F.backward(F.forward(cell, x, w)[2], d_out)
                times.append(time.perf_counter() - tic)
            out[f"{cell} {label}"] = 1000 * float(np.median(times))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, help="a checkout of another revision")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2, help="alternations with --baseline")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.repeat)))
        return 0

    def run(checkout: str) -> dict:
        env = dict(os.environ, PYTHONPATH=checkout)
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--repeat", str(args.repeat)]
        done = subprocess.run(cmd, env=env, cwd=checkout, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
        f"batch {N}, {T} steps, {H} units, float32; median of {args.repeat} forward+backward"
    )
    checkouts = {"this tree": here}
    if args.baseline:
        checkouts["baseline"] = os.path.abspath(args.baseline)
    results: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(args.rounds if args.baseline else 1):
        for name, path in checkouts.items():
            results[name].append(run(path))
    for name, runs in results.items():
        best = {k: min(r[k] for r in runs) for k in runs[0]}
        parts = []
        for cell in CELLS:
            dec, car = best[f"{cell} decaying"], best[f"{cell} carried"]
            parts.append(f"{cell}: decaying {dec:.1f} ms, carried {car:.1f} ms, ratio {dec / car:.2f}")
        print(f"{name}: " + "; ".join(parts))
    if args.baseline:
        mine, base = results["this tree"], results["baseline"]
        for key in mine[0]:
            a, b = min(r[key] for r in mine), min(r[key] for r in base)
            print(f"  {key}: baseline / this tree = {b / a:.2f}")
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
