"""tsrnn inside darts: SKLearnModel with lags_past_covariates and lags_future_covariates.

darts hands the regressor ``[target lags | past covariate lags | future covariate lags]``,
each block oldest first; with one component per covariate series and as many lags as the
target, each block is one feature of the step-major sequence (``tsrnn.interop.darts_layout``).
``lags_future_covariates=list(range(1 - L, 1))`` gives step ``s`` the covariate of the time
after it, the value that acts on the next target, as tsrnn's own ``Forecaster`` does. Needs
``pip install "tsrnn[interop]"`` (darts without extras: no deep-learning framework); runs in
under a minute on 2 cores.

    python examples/interop_darts.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from darts import TimeSeries
from darts.models import SKLearnModel

from tsrnn import RecurrentRegressor, datasets
from tsrnn.interop import darts_layout

L = 24


def main() -> None:
    co2 = datasets.load("co2_monthly").iloc[-240:]
    dy = co2.diff().dropna()
    angle = 2 * np.pi * (dy.index.month - 1) / 12
    series = TimeSeries.from_series(dy)
    month = TimeSeries.from_series(pd.Series(np.sin(angle), index=dy.index, name="month_sin"))
    lagged_co2 = TimeSeries.from_series(co2.loc[dy.index].rename("co2_level"))
    train = series[:-12]
    truth = dy.iloc[-12:].to_numpy()

    reg = RecurrentRegressor(cell="gru", random_state=0, **darts_layout(n_lagged=1))
    model = SKLearnModel(model=reg, lags=L, lags_future_covariates=list(range(1 - L, 1)))
    model.fit(train, future_covariates=month)
    pred = model.predict(12, future_covariates=month).values()[:, 0]
    mae = np.mean(np.abs(pred - truth))
    print(f"SKLearnModel, lags_future_covariates (month): MAE of the changes {mae:.3f} ppm")

    reg = RecurrentRegressor(cell="gru", random_state=0, **darts_layout(n_lagged=1))
    model = SKLearnModel(model=reg, lags=L, lags_past_covariates=L, output_chunk_length=12)
    model.fit(train, past_covariates=lagged_co2)
    pred = model.predict(12, past_covariates=lagged_co2).values()[:, 0]
    mae = np.mean(np.abs(pred - truth))
    print(f"SKLearnModel, lags_past_covariates (CO2 level): MAE of the changes {mae:.3f} ppm")

    reg = RecurrentRegressor(cell="gru", random_state=0, **darts_layout(n_static=1))
    model = SKLearnModel(model=reg, lags=L, lags_future_covariates=[0])
    model.fit(train, future_covariates=month)
    pred = model.predict(12, future_covariates=month).values()[:, 0]
    mae = np.mean(np.abs(pred - truth))
    print(f"SKLearnModel, lags_future_covariates=[0] (static column): MAE of the changes {mae:.3f} ppm")


if __name__ == "__main__":
    main()
