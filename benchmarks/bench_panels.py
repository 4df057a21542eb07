"""Panels: the cost of many forecast origins, and of training one global model on a large panel.

Two measurements, each printed side by side:

* ``refit``: ``tsrnn.backtest`` of a global GRU ``Forecaster`` on a panel (10 series x 150
  monthly points), 100 origins one step apart, horizon 4: ``refit=True`` (a fit at every
  origin) against ``refit=False`` (one fit at the first origin, then ``predict(horizon,
  y=history)`` at each). Same model, same data, same origins; the ratio of wall times.
* ``scale``: one global GRU trained on 1,000 series x 200 points (window 24: 176,000
  training windows), in memory (the default ``max_window_bytes``) and streaming (windows
  gathered in chunks of ``max_window_bytes=8 MiB``), a fixed number of epochs each. Each
  configuration runs in its own process; the figures are the fit's wall time, the process's
  peak resident memory (``ru_maxrss``: interpreter, libraries and compiled kernels included)
  and the peak of the memory NumPy allocated during the fit (``tracemalloc``).

Usage::

    python benchmarks/bench_panels.py [--part refit scale] [--epochs 3] [--json out.json]

The script leaves the BLAS environment variables alone and runs every kernel on the machine's
cores (2 here).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd


def make_panel(n_series: int, n: int, seed: int = 0) -> pd.DataFrame:
    """Series with shared AR(2) dynamics, each its own level and scale, monthly from 2000."""
    rng = np.random.default_rng(seed)
    e = rng.normal(scale=0.5, size=(n + 50, n_series))
    x = np.zeros_like(e)
    for t in range(2, n + 50):
        x[t] = 0.6 * x[t - 1] - 0.2 * x[t - 2] + 0.5 * np.tanh(2 * x[t - 1]) + e[t]
    x = x[50:] * rng.uniform(0.5, 5, n_series) + rng.normal(scale=10, size=n_series)
    ds = pd.date_range("2000-01-01", periods=n, freq="MS")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:04d}" for i in range(n_series)], n),
            "ds": np.tile(ds, n_series),
            "y": x.T.reshape(-1),
        }
    )


def gru(**kw):
    from tsrnn.estimators import RecurrentRegressor

    return RecurrentRegressor(cell="gru", hidden_size=16, random_state=0, **kw)


def part_refit() -> dict:
    from tsrnn import Forecaster, backtest
    from tsrnn.evaluation.metrics import summarize

    data = make_panel(10, 150)
    f = Forecaster(gru(max_iter=20), window=12)
    Forecaster(gru(max_iter=1), window=12).fit(make_panel(2, 30))  # compile the kernels first
    out = {}
    for refit in (False, True):
        tic = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = backtest(f, data, horizon=4, n_windows=100, step=1, refit=refit)
        key = f"refit={refit}"
        out[key] = {
            "seconds": time.perf_counter() - tic,
            "mase": float(summarize(res)["mase"].iloc[0]),
        }
        print(
            f"refit={refit!s:>5}: {out[key]['seconds']:.1f} s, MASE {out[key]['mase']:.3f}",
            flush=True,
        )
    out["ratio"] = out["refit=True"]["seconds"] / out["refit=False"]["seconds"]
    print(f"refit=True / refit=False: {out['ratio']:.1f}x")
    return out


def _scale_child(max_window_bytes: int, epochs: int) -> None:
    import resource
    import tracemalloc

    from tsrnn import Forecaster

    data = make_panel(1000, 200)
    Forecaster(gru(max_iter=1), window=24).fit(make_panel(2, 40))  # compile the kernels first
    f = Forecaster(
        gru(max_iter=epochs, early_stopping=False, batch_size=256),
        window=24,
        max_window_bytes=max_window_bytes,
    )
    tracemalloc.start()
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f.fit(data)
    seconds = time.perf_counter() - tic
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tic = time.perf_counter()
    pred = f.predict(12)
    predict_seconds = time.perf_counter() - tic
    print(
        json.dumps(
            {
                "fit_seconds": seconds,
                "predict_seconds": predict_seconds,
                "n_windows": f.panel_.model.n_samples,
                "streamed": f.panel_.model.streamed,
                "numpy_peak_mib": peak / 2**20,
                "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "forecasts": len(pred),
                "final_loss": f.estimator_.loss_curve_[-1] if f.estimator_.loss_curve_ else None,
            }
        )
    )


def part_scale(epochs: int) -> dict:
    out = {}
    for label, nbytes in (("in memory", 2**28), ("streaming", 8 * 2**20)):
        cmd = [sys.executable, __file__, "--scale-child", str(nbytes), "--epochs", str(epochs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ.copy())
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        out[label] = res
        print(
            f"{label:>9}: fit {res['fit_seconds']:.0f} s ({epochs} epochs over {res['n_windows']} windows), "
            f"peak RSS {res['max_rss_mib']:.0f} MiB, NumPy peak during fit {res['numpy_peak_mib']:.0f} MiB, "
            f"predict 1000 x 12 in {res['predict_seconds']:.2f} s",
            flush=True,
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", default=["refit", "scale"], choices=["refit", "scale"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", default=None)
    parser.add_argument("--scale-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_child is not None:
        _scale_child(args.scale_child, args.epochs)
        return 0
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()}"
    )
    out = {}
    if "refit" in args.part:
        out["refit"] = part_refit()
    if "scale" in args.part:
        out["scale"] = part_scale(args.epochs)
    print(f"load at the end {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
