"""Where a training epoch spends its time, per cell: forward kernel, backward kernel, the rest.

Profiles (cProfile) a few epochs of the training loop the experiments use (Adam, clipping,
batches of 32) on adding-problem sequences with one BLAS thread, and prints the share of
time inside the forward and backward kernels next to the epoch time.

Run: ``PYTHONPATH=. python benchmarks/profile_training.py [--seq-len 100] [--hidden 32]``
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np
from threadpoolctl import threadpool_limits

from tsrnn.datasets import make_adding_problem
from tsrnn.nn import RecurrentNetwork, make_optimizer, mse_loss, to_time_major, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    X, y = make_adding_problem(args.samples, args.seq_len, random_state=0)
    x, Y = to_time_major(X), (y - 1.0)[:, None].astype(np.float32)
    print(f"{args.samples} sequences of {args.seq_len} steps, hidden {args.hidden}, batch 32, 1 BLAS thread")
    print(f"{'cell':<9} {'s/epoch':>8} {'forward kernel':>15} {'backward kernel':>16} {'rest':>6}")
    with threadpool_limits(limits=1):
        for cell in ("rnn_tanh", "lstm", "gru"):
            net = RecurrentNetwork(cell, 2, args.hidden, 1)
            params = net.init_params(0)

            def epochs(n, net=net, params=params):
                optimizer = make_optimizer("adam", params, learning_rate=1e-3)
                train(net, params, optimizer, mse_loss, x, Y, max_epochs=n, batch_size=32,
                      rng=np.random.RandomState(0), clip_norm=1.0, check_convergence=False)  # fmt: skip

            epochs(1)  # compile or load the kernels first
            profile = cProfile.Profile()
            start = time.perf_counter()
            profile.enable()
            epochs(args.epochs)
            profile.disable()
            per_epoch = (time.perf_counter() - start) / args.epochs
            summary = pstats.Stats(profile)
            stats, total = summary.stats, summary.total_tt
            inside = {
                name: sum(ct for (_, _, fn), (_, _, _, ct, _) in stats.items() if fn == f"{cell}_{name}")
                for name in ("forward", "backward")
            }
            fwd, bwd = inside["forward"] / total, inside["backward"] / total
            print(f"{cell:<9} {per_epoch:>8.3f} {fwd:>15.0%} {bwd:>16.0%} {1 - fwd - bwd:>6.0%}")


if __name__ == "__main__":
    main()
