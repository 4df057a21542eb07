"""Daily data with a yearly season held two to three times: when MSTL's yearly component helps.

``tsrnn compare`` on daily data infers a weekly and a yearly season, and keeps the yearly one when
the first training window holds it twice. ARIMA, ETS, Theta and the recurrent models then
forecast the MSTL seasonally adjusted series and add back each component's last cycle. With two
or three years of history, STL's seasonal smoother has two or three values per day of the year
to average, so the yearly component keeps much of the last year's noise, and its trend is
smooth over a year: a level that wanders is taken into the yearly component, and repeating the
last cycle puts a jump at the forecast origin.

This script measures it on synthetic series (no real multi-year daily series is available
offline): three years and two months of daily values, a weekly sine of amplitude 3 and a
yearly sine of amplitude 10 on one of three levels, over several seeds:

- ``random walk``: a Gaussian random walk (steps of sd 1) plus white noise (sd 1);
- ``trend + AR(1)``: a straight trend plus AR(1) noise (coefficient 0.7, innovations sd 1);
- ``flat``: a constant level plus white noise (sd 2).

Each series is backtested twice with the same models: with the seasons compare infers
(weekly and yearly), and with ``seasonal_period=7`` (the weekly season alone). Rolling origin,
``--windows`` origins two weeks apart, a two-week horizon, every model refitted at each. Prints
one markdown table per level: mean MASE and mean 90 % coverage over the seeds.

    python benchmarks/daily_yearly.py [--seeds 0,1,2] [--windows 5]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import run_header  # noqa: E402

from tsrnn import compare  # noqa: E402

MODELS = ("snaive", "ets", "theta", "linear-ar", "gru")
LEVELS = ("random walk", "trend + AR(1)", "flat")
N_DAYS = 3 * 365 + 60
HORIZON = 14


def series(level: str, seed: int) -> pd.Series:
    """One synthetic daily series (see the module docstring)."""
    rng = np.random.default_rng(seed)
    t = np.arange(N_DAYS)
    seasons = 3 * np.sin(2 * np.pi * t / 7) + 10 * np.sin(2 * np.pi * t / 365.25)
    if level == "random walk":
        base = 100 + np.cumsum(rng.normal(0, 1, N_DAYS)) + rng.normal(0, 1, N_DAYS)
    elif level == "trend + AR(1)":
        shocks = rng.normal(0, 1, N_DAYS)
        noise = np.zeros(N_DAYS)
        for i in range(1, N_DAYS):
            noise[i] = 0.7 * noise[i - 1] + shocks[i]
        base = 100 + 0.01 * t + noise
    else:
        base = 100 + rng.normal(0, 2, N_DAYS)
    return pd.Series(base + seasons, index=pd.date_range("2020-01-01", periods=N_DAYS, freq="D"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--windows", type=int, default=5)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(run_header(f"seeds {seeds}; {args.windows} windows of {HORIZON} days."))
    start = time.perf_counter()
    for level in LEVELS:
        rows = []
        for seed in seeds:
            y = series(level, seed)
            for label, season in (("weekly + yearly", None), ("weekly only", 7)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    summary = compare(
                        y, list(MODELS), horizon=HORIZON, n_windows=args.windows, seasonal_period=season
                    )
                for model, row in summary.iterrows():
                    rows.append((model, label, row["mase"], row["coverage"]))
        table = pd.DataFrame(rows, columns=["model", "seasons", "mase", "coverage"])
        mean = table.groupby(["model", "seasons"]).mean().unstack("seasons")
        print(f"\n{level}: mean over seeds {seeds}\n")
        print(
            "| model | MASE, weekly + yearly | MASE, weekly only "
            "| 90 % coverage, weekly + yearly | 90 % coverage, weekly only |"
        )
        print("|---|---:|---:|---:|---:|")
        for model in MODELS:
            m, c = mean.loc[model, "mase"], mean.loc[model, "coverage"]
            print(
                f"| {model} | {m['weekly + yearly']:.3f} | {m['weekly only']:.3f} "
                f"| {c['weekly + yearly']:.0%} | {c['weekly only']:.0%} |"
            )
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
