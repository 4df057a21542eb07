"""Estimators trained with device="cuda" against device="cpu": agreement and fit time.

For each configuration the same estimator (same random_state, so the same initial weights
and batch order; no dropout) is fitted on both devices, and the script prints

* ``pred err``: max |prediction(cuda) - prediction(cpu)| / max |prediction(cpu)|
  (regressors, original units) or max |probability difference| (classifiers);
* ``loss err``: the largest relative difference between the two ``loss_curve_``;
* ``cpu s`` / ``cuda s``: wall time of ``fit`` (``cuda`` includes JIT compilation on the
  first configuration, and host-device transfers), and ``ratio = cpu / cuda``.

Usage::

    python benchmarks/cuda_training.py                  # on a GPU: agreement and speed
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/cuda_training.py --small
                                                        # in the simulator: agreement only

Without a GPU (and without the simulator) it says so and exits with status 0. Simulator
timings mean nothing. ``--small`` uses tiny shapes and small thread blocks so the simulator
finishes in a few minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIGS = [
    ("regressor", dict(cell="gru")),
    ("regressor", dict(cell="lstm", num_layers=2)),
    ("regressor", dict(cell="rnn_tanh", bidirectional=True, solver="sgd", weight_decay=1e-3)),
    ("classifier", dict(cell="lstm", bidirectional=True, clip_value=0.5)),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny shapes (for the simulator)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit")
    args = parser.parse_args(argv)

    import tsrnn

    if not tsrnn.cuda_available():
        print("No CUDA GPU here (and NUMBA_ENABLE_CUDASIM is not set): nothing to compare.")
        return 0
    from numba import config

    from tsrnn.estimators import RecurrentClassifier, RecurrentRegressor
    from tsrnn.nn import device_description

    simulator = bool(config.ENABLE_CUDASIM)
    if args.small:
        import tsrnn.nn._cuda as device_training
        from tsrnn.kernels.cuda import LaunchConfig

        device_training.DEFAULT_CONFIG = LaunchConfig(
            block=(4, 2), gemm_block=(2, 2), aux_block=(4, 4), elementwise_threads=16, dropout_states=64
        )
        sys.setswitchinterval(1e-4)  # the simulator's barriers poll: switch threads often
        n, length, d, hidden, batch, epochs = 48, 8, 2, 6, 16, args.epochs or 6
    else:
        n, length, d, hidden, batch, epochs = 4096, 48, 4, 64, 64, args.epochs or 5
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, length, d))
    y = np.tanh(X[:, -1, 0] + 0.5 * X[:, 0, 1] - 0.3 * X[:, length // 2, 0]) * 10 + 3
    labels = (y > 3).astype(int) + (y > 8)

    print(f"device: {device_description('cuda')}; n={n}, L={length}, D={d}, H={hidden}, batch={batch}, "
          f"{epochs} epochs")  # fmt: skip
    header = f"{'model':<11} {'config':<66} {'dtype':<8} {'pred err':>9} {'loss err':>9}"
    header += "" if simulator else f" {'cpu s':>7} {'cuda s':>7} {'ratio':>6}"
    print(header)
    for kind, extra in CONFIGS:
        for dtype in ("float64", "float32"):
            params = dict(
                hidden_size=hidden, max_iter=epochs, batch_size=batch, random_state=0, dtype=dtype,
                early_stopping=False, **extra,
            )  # fmt: skip
            cls, target = (RecurrentRegressor, y) if kind == "regressor" else (RecurrentClassifier, labels)
            fits, times = {}, {}
            for device in ("cpu", "cuda"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    fits[device] = cls(device=device, **params).fit(X, target)
                    times[device] = time.perf_counter() - start
            if kind == "regressor":
                a, b = fits["cuda"].predict(X), fits["cpu"].predict(X)
                pred = np.abs(a - b).max() / np.abs(b).max()
            else:
                pred = np.abs(fits["cuda"].predict_proba(X) - fits["cpu"].predict_proba(X)).max()
            la, lb = np.array(fits["cuda"].loss_curve_), np.array(fits["cpu"].loss_curve_)
            loss = np.abs(la - lb).max() / np.abs(lb).max()
            label = ", ".join(f"{k}={v}" for k, v in extra.items())
            line = f"{kind:<11} {label:<66} {dtype:<8} {pred:>9.1e} {loss:>9.1e}"
            if not simulator:
                line += f" {times['cpu']:>7.2f} {times['cuda']:>7.2f} {times['cpu'] / times['cuda']:>6.2f}"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
