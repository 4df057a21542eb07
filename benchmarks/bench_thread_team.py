"""Training time under three thread policies for the CPU kernels, side by side in one process.

A kernel call splits its batch into blocks (``n_chunks``, a function of the batch size alone)
and runs them on Numba's OpenMP threads, which sleep between calls (``OMP_WAIT_POLICY=passive``,
see :mod:`tsrnn.kernels.cpu`). Waking them costs time, so a small call is faster on the calling
thread alone. The policies:

* ``one``: every call on one thread (``numba.set_num_threads(1)`` around the fit);
* ``every``: every call on all threads, whatever its size (the policy before
  :data:`tsrnn.kernels.cpu.MIN_PARALLEL_GATE_VALUES`);
* ``sized``: the library's policy (:func:`tsrnn.kernels.cpu.threads_for`): all threads only for
  a call with more than one block and at least ``MIN_PARALLEL_GATE_VALUES`` gate values.

Each row fits a regressor (512 windows of one feature, float32, 3 epochs, no early stopping)
once to compile, then times fits with the three policies in turn, 5 rounds; the figure is the
best round. ``ratio = time / best of (one, every)``; the last lines give the geometric means and
a forecaster row (``RecurrentForecaster()`` on sunspots, fit and a 12-step forecast). The
results are bit-identical under every policy (tests/kernels/test_cpu_fast_paths.py).

Usage::

    python benchmarks/bench_thread_team.py [--quick] [--out benchmarks/results_thread_team_X.txt]
    # the AVX2 kernels on an AVX-512 machine, in a fresh Numba cache:
    NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=+avx,+avx2,+fma TSRNN_VECTOR_BYTES=32 \
        NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/bench_thread_team.py

The workplace sets ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE``; this script removes both from
its own environment by re-executing itself before NumPy is imported, and says so.
"""

from __future__ import annotations

import os
import sys

import _openblas_env

if __name__ == "__main__":
    _openblas_env.run_without_them()

import argparse
import contextlib
import math
import platform
import subprocess
import time
import warnings
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tsrnn.kernels.cpu as cpu  # noqa: E402
from tsrnn import GRURegressor, LSTMRegressor, RNNRegressor  # noqa: E402
from tsrnn.datasets import load  # noqa: E402
from tsrnn.forecasting import RecurrentForecaster  # noqa: E402

ESTIMATORS = {"lstm": (LSTMRegressor, 4), "gru": (GRURegressor, 3), "rnn_tanh": (RNNRegressor, 1)}
POLICIES = ("one", "every", "sized")


@contextlib.contextmanager
def policy(name: str):
    """Run the body under one thread policy (see the module docstring)."""
    previous_threads, previous_rule = numba.get_num_threads(), cpu.threads_for
    if name == "one":
        numba.set_num_threads(1)
    elif name == "every":
        cpu.threads_for = lambda x, weights: None
    try:
        yield
    finally:
        numba.set_num_threads(previous_threads)
        cpu.threads_for = previous_rule


def time_policies(fit, rounds: int) -> dict[str, float]:
    """Best time of ``fit()`` under each policy, the policies taking turns round by round."""
    fit()
    best = dict.fromkeys(POLICIES, math.inf)
    for _ in range(rounds):
        for name in POLICIES:
            with policy(name):
                start = time.perf_counter()
                fit()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    target = os.environ.get("NUMBA_CPU_NAME", "host")
    vector = os.environ.get("TSRNN_VECTOR_BYTES", "the host's")
    return (
        f"{model}, {os.cpu_count()} logical CPUs, {numba.config.NUMBA_NUM_THREADS} Numba threads; "
        f"kernels compiled for {target} CPU, {vector} vector bytes"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few rows and rounds, for development")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rounds = 2 if args.quick else 5
    batches = (16, 64) if args.quick else (16, 32, 64, 128)
    lengths = (12,) if args.quick else (12, 48)
    hiddens = (16,) if args.quick else (16, 64)

    lines = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    say(f"# python benchmarks/bench_thread_team.py{' --quick' if args.quick else ''}")
    say(f"# commit {commit.stdout.strip() or '?'}; {machine()}")
    if _openblas_env.removed():
        say(f"# removed from this process's environment: {_openblas_env.removed()}")
    say(f"# MIN_PARALLEL_GATE_VALUES = {cpu.MIN_PARALLEL_GATE_VALUES}; best of {rounds} rounds, ms per fit")
    header = f"{'cell':9s} {'N':>4s} {'L':>3s} {'H':>3s} {'gate values':>12s} "
    say(header + " ".join(f"{name:>8s}" for name in POLICIES) + "  ratio")
    ratios = {name: [] for name in POLICIES}
    for cell, (estimator, gates) in ESTIMATORS.items():
        for n in batches:
            for length in lengths:
                for hidden in hiddens:
                    rng = np.random.RandomState(0)
                    X = rng.randn(512, length, 1).astype(np.float32)
                    y = X[:, -1, 0]
                    model = estimator(
                        hidden_size=hidden, max_iter=3, batch_size=n, early_stopping=False, random_state=0
                    )
                    best = time_policies(lambda m=model, X=X, y=y: m.fit(X, y), rounds)
                    floor = min(best["one"], best["every"])
                    for name in POLICIES:
                        ratios[name].append(best[name] / floor)
                    say(
                        f"{cell:9s} {n:4d} {length:3d} {hidden:3d} {n * length * gates * hidden:12d} "
                        + " ".join(f"{best[name] * 1e3:8.1f}" for name in POLICIES)
                        + f"  {best['sized'] / floor:5.2f}"
                    )
    say(
        "geometric mean of time / best of (one, every): "
        + ", ".join(f"{name} {math.exp(np.mean(np.log(ratios[name]))):.3f}" for name in POLICIES)
    )
    say(f"worst sized / best of (one, every): {max(ratios['sized']):.3f}")
    series = load("sunspots")
    best = time_policies(lambda: RecurrentForecaster(random_state=0).fit(series).predict(12), rounds)
    say(
        "RecurrentForecaster() on sunspots, fit + 12-step forecast, ms: "
        + ", ".join(f"{name} {best[name] * 1e3:.0f}" for name in POLICIES)
    )
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
