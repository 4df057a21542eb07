"""Forecast monthly Mauna Loa CO2 with a window Forecaster and conformal intervals.

The weekly series (1958-2001) has missing weeks: it is averaged to months and the few empty
months are interpolated, as a user would. Left: the last 24 months held out, forecast from the
model fitted on the months before, against the actual values and the seasonal-naive forecast
(the same month one year earlier). Right: refit on every month and forecast 2002-2003.

    python examples/forecast_co2.py                      # GRU (tsrnn.estimators)
    python examples/forecast_co2.py --estimator mlp      # scikit-learn MLPRegressor
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _common import mae, make_estimator, parse_args

from tsrnn import Forecaster, datasets
from tsrnn.forecasting import plot_forecast

HORIZON = 24  # months
COVERAGE = 0.9


def monthly_co2() -> pd.Series:
    weekly = datasets.load("co2")
    # Forecaster.fit rejects the NaN weeks and says how to fill them: this is that fix
    return weekly.resample("MS").mean().interpolate()


def forecaster(estimator) -> Forecaster:
    # diff=1: the model learns month-to-month changes (the trend would otherwise leave the
    # range of the training levels); 24 months of changes show two seasonal cycles
    return Forecaster(estimator, window=24, diff=1, strategy="recursive", calibration_size=0.2)


def seasonal_naive(train: pd.Series, horizon: int, period: int = 12) -> np.ndarray:
    return np.resize(train.iloc[-period:].to_numpy(), horizon)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    y = monthly_co2()
    train, test = y.iloc[:-HORIZON], y.iloc[-HORIZON:]

    f = forecaster(make_estimator(args.estimator, args.seed)).fit(train)
    pred, iv = f.predict(HORIZON), f.predict_interval(HORIZON, coverage=COVERAGE)
    snaive = pd.Series(seasonal_naive(train, HORIZON), index=test.index)
    inside = ((test >= iv["lower"]) & (test <= iv["upper"])).mean()

    full = forecaster(make_estimator(args.estimator, args.seed)).fit(y)
    future, future_iv = full.predict(HORIZON), full.predict_interval(HORIZON, coverage=COVERAGE)

    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8), layout="constrained", sharey=True)
    plot_forecast(
        train.loc["1994":],
        pred,
        iv,
        actual=test,
        others={"seasonal naive": snaive},
        coverage=COVERAGE,
        ax=axes[0],
        title=f"held out {test.index[0]:%Y-%m}..{test.index[-1]:%Y-%m}: MAE {mae(test, pred):.2f} ppm "
        f"(seasonal naive {mae(test, snaive):.2f})",
    )
    plot_forecast(
        y.loc["1996":], future, future_iv, coverage=COVERAGE, ax=axes[1], title="forecast from 2001-12"
    )
    axes[0].set_ylabel("CO2 (ppmv)")
    fig.suptitle(
        f"Mauna Loa CO2: Forecaster({args.estimator}, window=24, diff=1), conformal {COVERAGE:.0%} intervals"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / f"co2_{args.estimator}.png"
    fig.savefig(png, dpi=110)
    table = pd.concat({"forecast": future, "lower": future_iv["lower"], "upper": future_iv["upper"]}, axis=1)
    table.to_csv(args.out / f"co2_{args.estimator}.csv")

    print(f"estimator            {args.estimator}")
    print(f"held-out months      {test.index[0]:%Y-%m}..{test.index[-1]:%Y-%m}")
    print(f"MAE forecaster       {mae(test, pred):.3f} ppm")
    print(f"MAE seasonal naive   {mae(test, snaive):.3f} ppm")
    print(f"interval coverage    {inside:.0%} of {HORIZON} held-out months (nominal {COVERAGE:.0%})")
    print(f"wrote {png} and {table.shape[0]} forecast rows ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
