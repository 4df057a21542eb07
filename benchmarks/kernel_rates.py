"""GF/s of tsrnn's CPU kernels alone (no PyTorch), for measuring one optimisation at a time.

Prints, per shape, the best-of-repeats time and GF/s of the inference forward (when the
checkout has it), the training forward (gates stored) and the backward. The best of several
repeats filters out the moments another process held the core, so this script is the one to
compare two versions of the kernels (e.g. two commits) on a shared machine::

    python benchmarks/kernel_rates.py --threads 1 lstm:128x96x8x64 lstm:128x96x8x256
    git stash; python benchmarks/kernel_rates.py ...; git stash pop    # the other version

Shapes are ``cell:NxLxDxH``. FLOPs are the matrix products: ``2 N L (D + H) G H`` per forward,
twice that per backward. NUMBA_CACHE_DIR may point to a scratch directory when comparing
versions (Numba does not notice that a helper module changed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def best_time(fn, budget_s=0.5, max_reps=30):
    fn()
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    times = [once]
    for _ in range(max(2, min(max_reps, int(budget_s / max(once, 1e-6))))):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("shapes", nargs="+", help="cell:NxLxDxH")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)
    import numba

    import tsrnn.kernels.cpu as K

    if args.threads:
        numba.set_num_threads(args.threads)
    for spec in args.shapes:
        cell, shape = spec.split(":")
        n, length, d, h = (int(v) for v in shape.split("x"))
        parts = measure(K, cell, n, length, d, h, np.dtype(args.dtype))
        print(f"{spec:24s} threads={numba.get_num_threads()}  " + " | ".join(parts), flush=True)


def measure(K, cell, n, length, d, h, dt):
    g = GATES[cell]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(length, n, d)).astype(dt)
    w_ih = (rng.normal(size=(g * h, d)) * 0.3).astype(dt)
    w_hh = (rng.normal(size=(g * h, h)) / np.sqrt(h)).astype(dt)
    b = np.zeros(g * h, dt)
    h0 = np.zeros((n, h), dt)
    out = np.empty((length, n, h), dt)
    aux = np.empty_like(out)
    gates = np.empty((length, n, g * h), dt)
    c_n = np.empty((n, h), dt)
    d_out = rng.normal(size=out.shape).astype(dt)
    dx, dh0 = np.empty_like(x), np.empty_like(h0)
    d_weights = tuple(np.empty_like(a) for a in (w_ih, w_hh, b, b))
    weights, buffers, grads = (w_ih, w_hh, b, b), (h0, h0, out, aux, gates), (d_out, h0, h0, dx, dh0, dh0)
    fwd, bwd = getattr(K, f"{cell}_forward"), getattr(K, f"{cell}_backward")
    inf = getattr(K, f"{cell}_forward_inference", None)
    if getattr(K, "ARGUMENTS", None) == "tuples":
        calls = (
            lambda: inf(x, weights, (h0, h0, out, c_n)),
            lambda: fwd(x, weights, buffers),
            lambda: bwd(x, weights, buffers, grads, d_weights),
        )
    else:  # a checkout from before the tuple contract: the arrays one by one
        calls = (
            lambda: inf(x, *weights, h0, h0, out, c_n),
            lambda: fwd(x, *weights, *buffers),
            lambda: bwd(x, *weights, *buffers, d_out, h0, h0, dx, *d_weights, dh0, dh0),
        )
    flops = 2.0 * n * length * (d + h) * g * h
    parts = []
    if inf is not None:
        t = best_time(calls[0])
        parts.append(f"inference {t * 1e3:8.3f} ms {flops / t / 1e9:6.1f} GF/s")
    t = best_time(calls[1])
    parts.append(f"forward {t * 1e3:8.3f} ms {flops / t / 1e9:6.1f} GF/s")
    t = best_time(calls[2])
    parts.append(f"backward {t * 1e3:8.3f} ms {2 * flops / t / 1e9:6.1f} GF/s")
    return parts


if __name__ == "__main__":
    main()
