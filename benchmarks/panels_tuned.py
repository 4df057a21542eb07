"""Global GRU vs local GRUs vs ARIMA on the real panels, recurrent settings tuned on earlier windows.

The panels, horizons, window counts and reporting windows of ``benchmarks/panels_accuracy.py``
(Grunfeld and macrodata). Every recurrent model gets the same procedure:

1. the *tuning split* is the panel up to the first reporting cutoff; on it, a backtest with the
   same horizon and number of windows (its forecasts end at that cutoff, so no value a reported
   forecast is scored on is seen while tuning) scores every candidate in ``GRID`` by mean MASE;
2. the candidate with the lowest tuning MASE is backtested on the reporting windows.

The global and the local GRU share the grid (``series_id`` applies to the global model only:
a local model has one series). ARIMA chooses its order by AICc on each training stretch, as in
``tsrnn compare``; it has no settings to tune. The grid was fixed before any tuning run.

Usage::

    python benchmarks/panels_tuned.py [--panels grunfeld macrodata] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from panels_accuracy import PANELS, grunfeld, macrodata

#: window candidates per panel (the reference window of panels_accuracy.py and one other)
WINDOWS = {"grunfeld": (2, 4), "macrodata": (8, 16)}
#: candidates shared by the global and local models; series_id is the global model's only
GRID = {"log": (False, "auto"), "hidden_size": (8, 32)}
SERIES_ID = (False, True)


def gru(scope: str, window: int, log, hidden_size: int, series_id: bool = False):
    from tsrnn import Forecaster
    from tsrnn.estimators import RecurrentRegressor

    est = RecurrentRegressor(cell="gru", hidden_size=hidden_size, random_state=0)
    return Forecaster(est, window=window, diff="auto", log=log, scope=scope, series_id=series_id)


def candidates(name: str, scope: str) -> list[dict]:
    ids = SERIES_ID if scope == "global" else (False,)
    keys = ("window", *GRID, "series_id")
    return [dict(zip(keys, v)) for v in itertools.product(WINDOWS[name], *GRID.values(), ids)]


def score(model, data, horizon, n_windows, season, label):
    from tsrnn import backtest
    from tsrnn.evaluation.metrics import summarize, summarize_series

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = backtest(
            model, data, horizon=horizon, n_windows=n_windows, seasonal_period=season or 1, model=label
        )
    return float(summarize(res)["mase"].iloc[0]), float(summarize_series(res)["mase"].median())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", nargs="+", default=["grunfeld", "macrodata"], choices=list(WINDOWS))
    parser.add_argument("--arima", action="store_true", help="also backtest ARIMA on the reporting windows")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    from tsrnn import ARIMAForecaster, NaiveForecaster, backtest

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"python {sys.version.split()[0]}"
    )
    loaders = {"grunfeld": grunfeld, "macrodata": macrodata}
    out = {}
    for name in args.panels:
        horizon, n_windows, _, season, order = PANELS[name]
        data = loaders[name]()
        first = backtest(NaiveForecaster(), data, horizon=horizon, n_windows=n_windows)["cutoff"].min()
        tune = data[data["ds"] <= first]
        print(
            f"\n== {name}: reporting cutoffs from {first}; tuning split up to it ({len(tune)} rows)",
            flush=True,
        )
        rows = {}
        for scope in ("global", "local"):
            tic = time.perf_counter()
            tried = []
            for cand in candidates(name, scope):
                try:
                    mase, _ = score(gru(scope, **cand), tune, horizon, n_windows, season, scope)
                except ValueError as exc:  # too short for this window on the tuning split
                    print(f"  {scope} {cand}: skipped ({str(exc)[:80]})")
                    continue
                tried.append((mase, cand))
                print(f"  {scope} {cand}: tuning MASE {mase:.3f}", flush=True)
            best_mase, best = min(tried, key=lambda t: t[0])
            mean, median = score(gru(scope, **best), data, horizon, n_windows, season, scope)
            rows[f"{scope} GRU"] = {
                "chosen": best,
                "tuning_mase": best_mase,
                "mean_mase": mean,
                "median_series_mase": median,
                "seconds": time.perf_counter() - tic,
            }
            print(
                f"{scope} GRU: chosen {best} (tuning {best_mase:.3f}); reporting mean MASE {mean:.3f}, "
                f"median series {median:.3f}",
                flush=True,
            )
        if args.arima:
            tic = time.perf_counter()
            mean, median = score(
                ARIMAForecaster(order=order, seasonal_period=season),
                data,
                horizon,
                n_windows,
                season,
                "ARIMA",
            )
            rows["ARIMA"] = {
                "mean_mase": mean,
                "median_series_mase": median,
                "seconds": time.perf_counter() - tic,
            }
            print(f"ARIMA: reporting mean MASE {mean:.3f}, median series {median:.3f}", flush=True)
        out[name] = rows
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
