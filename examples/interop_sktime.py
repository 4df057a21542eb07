"""tsrnn inside sktime: make_reduction (recursive and direct) and tsrnn.interop.SktimeForecaster.

sktime's tabular reduction hands the regressor one block of ``window_length`` past values per
column, oldest first (``[y lags..., X1 lags...]``); ``tsrnn.interop.sktime_layout`` reads it as
the step-major sequence. ``SktimeForecaster`` is tsrnn's own ``Forecaster`` as an sktime
forecaster, with prediction intervals and quantiles. Needs ``pip install "tsrnn[interop]"``;
runs in under a minute on 2 cores.

    python examples/interop_sktime.py
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sktime.forecasting.compose import make_reduction

from tsrnn import Forecaster, RecurrentRegressor, datasets
from tsrnn.interop import SktimeForecaster, sktime_layout


def main() -> None:
    warnings.simplefilter("ignore", FutureWarning)
    co2 = datasets.load("co2_monthly").iloc[-240:]
    angle = 2 * np.pi * (co2.index.month - 1) / 12
    X = pd.DataFrame({"month_sin": np.sin(angle), "month_cos": np.cos(angle)}, index=co2.index)
    # differenced so that the windows are stationary; the forecasts are integrated back below
    dy = co2.diff().dropna()
    Xd = X.loc[dy.index]
    train, test = dy.iloc[:-12], dy.iloc[-12:]
    fh = np.arange(1, 13)
    for strategy in ("recursive", "direct"):
        reg = RecurrentRegressor(cell="gru", random_state=0, **sktime_layout(n_exog=2))
        f = make_reduction(reg, window_length=24, strategy=strategy)
        f.fit(train, X=Xd.loc[train.index], fh=fh)
        level = co2.loc[train.index[-1]] + f.predict(fh, X=Xd.loc[test.index]).cumsum()
        mae = np.mean(np.abs(level - co2.loc[test.index]))
        print(f"make_reduction(strategy={strategy!r}), CO2 with month exog: MAE {mae:.3f} ppm")

    y = co2.iloc[:-12]
    wrapped = SktimeForecaster(Forecaster(RecurrentRegressor(cell="gru", random_state=0), window=24, diff=1))
    wrapped.fit(y, X=X.loc[y.index], fh=fh)
    point = wrapped.predict(X=X.loc[co2.index[-12:]])
    band = wrapped.predict_interval(X=X.loc[co2.index[-12:]], coverage=0.9)
    inside = ((band.iloc[:, 0] <= co2.iloc[-12:]) & (co2.iloc[-12:] <= band.iloc[:, 1])).mean()
    print(f"SktimeForecaster, CO2: MAE {np.mean(np.abs(point - co2.iloc[-12:])):.3f} ppm;")
    print(f"  90% intervals hold {inside:.0%} of the 12 held-out months")
    print(wrapped.predict_quantiles(X=X.loc[co2.index[-12:]], alpha=[0.1, 0.5, 0.9]).head(3))


if __name__ == "__main__":
    main()
