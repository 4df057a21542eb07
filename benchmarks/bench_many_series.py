"""A 200-series backtest sequentially, with n_jobs=2 and on a dask.distributed LocalCluster.

Prints the wall time of each run and whether its results are identical (bit for bit, apart
from the measured fit/predict times) to the sequential run; then the same for a recurrent model
on fewer series, and the effect of the one-thread-per-task limit on a Dask cluster.

    python benchmarks/bench_many_series.py            # needs pip install '.[distributed]'
    python benchmarks/bench_many_series.py --quick    # 50 series, fewer windows

On a shared 2-core machine expect +-30% between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from tsrnn import ARIMAForecaster, Forecaster, GRURegressor, NaiveForecaster, PerSeriesForecaster, backtest

TIMES = ["fit_time", "predict_time"]


def panel(n_series: int, n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    data = {
        f"s{i:03d}": 10 * (1 + i % 7) + np.sin(2 * np.pi * t / 12 + i) + 0.3 * rng.normal(size=n).cumsum()
        for i in range(n_series)
    }
    return pd.DataFrame(data, index=pd.date_range("2000-01-01", periods=n, freq="MS"))


def identical(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a.drop(columns=TIMES).equals(b.drop(columns=TIMES))


def timed(fn):
    tic = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - tic


def _thread_limit(on: bool) -> None:
    """In a worker: restore (on) or remove (off) the one-BLAS-thread limit of parallel tasks."""
    import contextlib

    import tsrnn._parallel as p

    if not hasattr(p, "_saved_single_threaded"):
        p._saved_single_threaded = p.single_threaded
    p.single_threaded = p._saved_single_threaded if on else contextlib.nullcontext


@contextlib.contextmanager
def no_thread_limit(client):
    """The same runs without the one-BLAS-thread limit inside the cluster's tasks (for comparison)."""
    client.run(_thread_limit, False)
    try:
        yield
    finally:
        client.run(_thread_limit, True)


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_check() -> None:
    """What two processes can gain here at all: a pure-Python loop with n_jobs=1 and 2."""
    times = []
    for n_jobs in (1, 2):
        tic = time.perf_counter()
        joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(_burn)(3_000_000) for _ in range(8))
        times.append(time.perf_counter() - tic)
    print(
        f"machine check (CPU-bound loop): n_jobs=1 {times[0]:.2f} s, n_jobs=2 {times[1]:.2f} s, "
        f"speed-up {times[0] / times[1]:.2f}x (2.0x on two idle cores)"
    )


def run(name, forecaster, y, client, **kw):
    print(f"\n{name}: {y.shape[1]} series x {kw['n_windows']} windows of {kw['horizon']} steps")
    base, t1 = timed(lambda: backtest(forecaster, y, n_jobs=1, **kw))
    print(f"  n_jobs=1            {t1:7.2f} s   ({len(base)} rows)")
    two, t2 = timed(lambda: backtest(forecaster, y, n_jobs=2, **kw))
    print(f"  n_jobs=2            {t2:7.2f} s   identical: {identical(base, two)}   speed-up {t1 / t2:.2f}x")
    with joblib.parallel_backend("dask"):
        dask, t3 = timed(lambda: backtest(forecaster, y, **kw))
    print(f"  LocalCluster (2x1)  {t3:7.2f} s   identical: {identical(base, dask)}   speed-up {t1 / t3:.2f}x")
    return t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 series and 3 windows")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    warnings.simplefilter("ignore")
    n_series, n_windows = (50, 3) if args.quick else (200, 5)
    y = panel(n_series)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        # Start both pools and import tsrnn (and its Numba cache) in their workers before timing:
        # a one-off cost of a few seconds per process, not a cost per backtest.
        client.run(lambda: __import__("tsrnn"))
        backtest(PerSeriesForecaster(NaiveForecaster()), y.iloc[:, :4], horizon=2, n_windows=1, n_jobs=2)
        machine_check()
        kw = {"horizon": 6, "n_windows": n_windows}
        run(
            "NaiveForecaster(seasonal_period=12) per series",
            PerSeriesForecaster(NaiveForecaster(12)),
            y,
            client,
            **kw,
        )
        run(
            "Forecaster(Ridge(), window=12) per series",
            PerSeriesForecaster(Forecaster(Ridge(), window=12)),
            y,
            client,
            **kw,
        )
        run(
            "ARIMAForecaster(order=(1, 1, 0)) per series",
            PerSeriesForecaster(ARIMAForecaster(order=(1, 1, 0))),
            y,
            client,
            **kw,
        )
        gru = Forecaster(GRURegressor(hidden_size=16, max_iter=20, random_state=0), window=12)
        small = y.iloc[:, : max(4, n_series // 10)]
        run(
            "Forecaster(GRURegressor(16), window=12) per series",
            PerSeriesForecaster(gru),
            small,
            client,
            **kw,
        )
        print("\noversubscription: the GRU backtest on the cluster with and without one BLAS thread per task")
        with joblib.parallel_backend("dask"):
            _, limited = timed(lambda: backtest(PerSeriesForecaster(gru), small, **kw))
            with no_thread_limit(client):
                _, unlimited = timed(lambda: backtest(PerSeriesForecaster(gru), small, **kw))
        print(f"  one BLAS thread per task {limited:6.2f} s;  library default threads {unlimited:6.2f} s")


if __name__ == "__main__":
    main()
