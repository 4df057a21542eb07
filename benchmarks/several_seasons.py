"""Several seasons: the recurrent models with MSTL on every season against the first season's STL.

With a daily and a weekly cycle (hourly or half-hourly data), ``tsrnn compare`` gives ARIMA, ETS
and Theta the MSTL seasonally adjusted series (:class:`~tsrnn.forecasting.DeseasonalizedForecaster`
around each model's variant without a season). The recurrent models get the same treatment;
before, they deseasonalised the shortest season alone (the recipe's own STL) and their input
window, 1.25 days, never saw the weekly cycle. This script backtests both side by side, with the
baselines, on the one real series with two seasons that the machine has offline: the hourly
electricity demand of Victoria, Australia, January to May 2012, that statsmodels ships with its
MSTL tests.

Two segments, whose forecast windows do not overlap:

- ``tuning``: the first 1,800 hourly values (1 January to 15 March 2012), seasons 24 and 168,
  a horizon of one day; the change was decided on 5 windows of it, before the reporting
  segment was run;
- ``reporting``: the main job's long series of ``benchmarks/bench_main_job.py`` (the last 4,032
  values interpolated to half-hours, to 29 May 2012), seasons 48 and 336, a horizon of one day.

Rolling origin, ``--windows`` origins one horizon apart, every model refitted at each. Prints
one markdown table per segment: MASE, CRPS and the 90 % interval's coverage of each model, the
recurrent models both ways.

    python benchmarks/several_seasons.py [--windows 10] [--segments tuning,reporting]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import run_header  # noqa: E402
from bench_main_job import VIC_ELEC  # noqa: E402

from tsrnn import compare  # noqa: E402
from tsrnn.evaluation import infer_seasonal_periods, make_forecaster  # noqa: E402

BASELINES = ("snaive", "arima", "ets", "theta")
RECURRENT = ("rnn", "lstm", "gru")


def hourly() -> pd.Series:
    import statsmodels

    data = pd.read_csv(Path(statsmodels.__file__).parent / VIC_ELEC, parse_dates=["ds"])
    return data.set_index("ds")["y"].asfreq("h")


def segment(name: str) -> pd.Series:
    y = hourly()
    if name == "tuning":
        return y.iloc[:1800]
    return y.resample("30min").interpolate("linear").iloc[-4032:]


def models(y: pd.Series) -> dict[str, object]:
    periods = infer_seasonal_periods(y.index)
    season, horizon = int(periods[0]), int(periods[0])
    out = {name: make_forecaster(name, season, periods, horizon) for name in (*BASELINES, *RECURRENT)}
    for name in RECURRENT:  # the recipe alone, with its STL on the shortest season
        out[f"{name} (STL {season} only)"] = make_forecaster(name, season, None, horizon)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--segments", default="tuning,reporting")
    args = parser.parse_args(argv)
    print(run_header(f"load {os.getloadavg()[0]:.1f} at the start; {args.windows} windows."))
    for name in args.segments.split(","):
        y = segment(name)
        periods = infer_seasonal_periods(y.index)
        start = time.perf_counter()
        summary = compare(y, forecasters=models(y), n_windows=args.windows)
        took = time.perf_counter() - start
        print(
            f"\n{name}: {len(y):,} values, {y.index[0]} to {y.index[-1]}, seasons {periods}, "
            f"horizon {int(periods[0])}, {args.windows} windows ({took:.0f} s)\n"
        )
        print("| model | MASE | CRPS | 90 % coverage |")
        print("|---|---:|---:|---:|")
        for model, row in summary.iterrows():
            print(f"| {model} | {row['mase']:.3f} | {row['crps']:.1f} | {row['coverage']:.0%} |")


if __name__ == "__main__":
    main()
