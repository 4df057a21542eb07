"""tsrnn's GRU inside skforecast: ForecasterRecursive, ForecasterDirect and
ForecasterRecursiveMultiSeries, with exogenous variables.

skforecast hands the regressor rows ``[lag_1, ..., lag_L, exog...]``: newest lag first, the
exogenous values at the target time after them. ``tsrnn.interop.skforecast_layout`` gives the
estimator parameters that read such a row as the step-major sequence (oldest step first, the
exogenous values repeated at every step). Needs ``pip install "tsrnn[interop]"``; runs in about
a minute on 2 cores.

    python examples/interop_skforecast.py
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from skforecast.direct import ForecasterDirect
from skforecast.recursive import ForecasterRecursive, ForecasterRecursiveMultiSeries

from tsrnn import RecurrentRegressor, datasets
from tsrnn.interop import skforecast_layout


def calendar(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Month of year as a point on the circle: two exogenous columns known in advance."""
    angle = 2 * np.pi * (index.month - 1) / 12
    return pd.DataFrame({"month_sin": np.sin(angle), "month_cos": np.cos(angle)}, index=index)


def gru(**layout) -> RecurrentRegressor:
    # the setting of docs/interop.md (chosen on sunspot years that its backtest does not report)
    return RecurrentRegressor(
        cell="gru", hidden_size=16, learning_rate=0.002, early_stopping=True, random_state=0, **layout
    )


def main() -> None:
    warnings.simplefilter("ignore", FutureWarning)
    # 1. ForecasterRecursive, no exogenous variable: the last 10 sunspot years
    y = datasets.load("sunspots")
    y = pd.Series(y.to_numpy(), index=y.index.to_timestamp(how="start"), name="sunspots").asfreq("YS")
    f = ForecasterRecursive(estimator=gru(**skforecast_layout()), lags=12)
    f.fit(y.iloc[:-10])
    print(f"ForecasterRecursive, sunspots: MAE {np.mean(np.abs(f.predict(10) - y.iloc[-10:])):.2f}")

    # 2. ForecasterRecursive and ForecasterDirect with 2 exogenous columns: monthly CO2, differenced
    co2 = datasets.load("co2_monthly").iloc[-240:]
    exog = calendar(co2.index)
    train, test = co2.iloc[:-12], co2.iloc[-12:]
    rec = ForecasterRecursive(estimator=gru(**skforecast_layout(n_exog=2)), lags=24, differentiation=1)
    rec.fit(train, exog=exog.loc[train.index])
    mae = np.mean(np.abs(rec.predict(12, exog=exog.loc[test.index]) - test))
    print(f"ForecasterRecursive, CO2 with month exog: MAE {mae:.3f} ppm")
    direct = ForecasterDirect(
        estimator=gru(**skforecast_layout(n_exog=2)), lags=24, steps=12, differentiation=1
    )
    direct.fit(train, exog=exog.loc[train.index])
    mae = np.mean(np.abs(direct.predict(exog=exog.loc[test.index]) - test))
    print(f"ForecasterDirect (one GRU per step), CO2 with month exog: MAE {mae:.3f} ppm")

    # 3. ForecasterRecursiveMultiSeries: quarterly growth of US GDP and consumption, one GRU for
    #    both, one-hot series codes (2 columns) and a quarter-of-year exogenous column
    macro = datasets.load("macrodata")[["realgdp", "realcons"]]
    growth = 100 * np.log(macro).diff().dropna()
    growth.index = growth.index.to_timestamp(how="start")
    growth = growth.asfreq("QS")
    quarter = pd.DataFrame({"quarter": growth.index.quarter.astype(float)}, index=growth.index)
    train, test = growth.iloc[:-8], growth.iloc[-8:]
    multi = ForecasterRecursiveMultiSeries(
        estimator=gru(**skforecast_layout(n_exog=1, n_levels=2)), lags=8, encoding="onehot"
    )
    multi.fit(train, exog=quarter.loc[train.index])
    pred = multi.predict(8, exog=quarter.loc[test.index])
    pred = pred.pivot(columns="level", values="pred") if "level" in pred.columns else pred
    for name in ("realgdp", "realcons"):
        mae = np.mean(np.abs(pred[name] - test[name]))
        print(f"ForecasterRecursiveMultiSeries, {name} growth: MAE {mae:.3f}")


if __name__ == "__main__":
    main()
