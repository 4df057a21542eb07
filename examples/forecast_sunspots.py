"""Forecast yearly sunspot numbers (1700-2008) with a window Forecaster and conformal intervals.

Left: the last 20 years held out, forecast from the model fitted on the years before, against
the actual values and an 11-year seasonal-naive forecast. Right: refit on every year and
forecast 2009-2028.

    python examples/forecast_sunspots.py                      # GRU (tsrnn.estimators)
    python examples/forecast_sunspots.py --estimator mlp      # scikit-learn MLPRegressor
    python examples/forecast_sunspots.py --estimator ridge --out /tmp/figs
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _common import mae, make_estimator, parse_args

from tsrnn import Forecaster, datasets
from tsrnn.forecasting import future_index, plot_forecast

HORIZON = 20  # years
CYCLE = 11  # the solar cycle, for the seasonal-naive baseline
COVERAGE = 0.9


def forecaster(estimator) -> Forecaster:
    # 22 years = two solar cycles of context; standardised levels (the series has zeros: no log)
    return Forecaster(estimator, window=22, strategy="recursive", calibration_size=0.2)


def interval_of(f: Forecaster) -> pd.DataFrame:
    # sunspot numbers are never negative: intersecting the interval with [0, inf) keeps its coverage
    return f.predict_interval(HORIZON, coverage=COVERAGE).clip(lower=0.0)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    y = datasets.load("sunspots")
    train, test = y.iloc[:-HORIZON], y.iloc[-HORIZON:]

    f = forecaster(make_estimator(args.estimator, args.seed)).fit(train)
    pred, iv = f.predict(HORIZON), interval_of(f)
    snaive = pd.Series(np.resize(train.iloc[-CYCLE:].to_numpy(), HORIZON), index=test.index)
    inside = ((test >= iv["lower"]) & (test <= iv["upper"])).mean()

    full = forecaster(make_estimator(args.estimator, args.seed)).fit(y)
    future, future_iv = full.predict(HORIZON), interval_of(full)
    assert future.index.equals(future_index(y.index, HORIZON))

    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8), layout="constrained", sharey=True)
    plot_forecast(
        train.iloc[-80:],
        pred,
        iv,
        actual=test,
        others={f"seasonal naive ({CYCLE} y)": snaive},
        coverage=COVERAGE,
        ax=axes[0],
        title=f"held out {test.index[0]}-{test.index[-1]}: MAE {mae(test, pred):.1f} "
        f"(seasonal naive {mae(test, snaive):.1f})",
    )
    plot_forecast(y.iloc[-80:], future, future_iv, coverage=COVERAGE, ax=axes[1], title="forecast from 2008")
    axes[0].set_ylabel("yearly mean sunspot number")
    fig.suptitle(f"Sunspots: Forecaster({args.estimator}, window=22), conformal {COVERAGE:.0%} intervals")

    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / f"sunspots_{args.estimator}.png"
    fig.savefig(png, dpi=110)
    table = pd.concat({"forecast": future, "lower": future_iv["lower"], "upper": future_iv["upper"]}, axis=1)
    table.to_csv(args.out / f"sunspots_{args.estimator}.csv")

    print(f"estimator            {args.estimator}")
    print(f"held-out years       {test.index[0]}-{test.index[-1]}")
    print(f"MAE forecaster       {mae(test, pred):.2f}")
    print(f"MAE seasonal naive   {mae(test, snaive):.2f}")
    print(f"interval coverage    {inside:.0%} of {HORIZON} held-out years (nominal {COVERAGE:.0%})")
    print(f"wrote {png} and {table.shape[0]} forecast rows ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
