"""The co2 acceptance: forecasting the held-out last 24 months of monthly Mauna Loa CO2 beats
the seasonal-naive forecast (the same month a year earlier), computed here by hand.

That baseline ignores the trend (1.88 ppm). The seasonal random walk with drift (the same month
a year earlier plus the average yearly change of the training data, 0.368 ppm) is the harder
one: the MLP pipeline must beat it too; the GRU of the acceptance test does not (both MAEs are
printed with ``-s``).

Same pipeline as ``examples/forecast_co2.py``: weekly data averaged to months, the empty months
interpolated, ``diff=1``, a 24-month window, recursive forecasts.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import Forecaster, RecurrentRegressor, datasets

HORIZON = 24


def monthly_co2():
    return datasets.load("co2").resample("MS").mean().interpolate()


def split_and_baseline():
    y = monthly_co2()
    train, test = y.iloc[:-HORIZON], y.iloc[-HORIZON:]
    snaive = np.resize(train.iloc[-12:].to_numpy(), HORIZON)  # month m of 2000 and 2001 <- 1999
    return train, test, float(np.mean(np.abs(test.to_numpy() - snaive)))


def test_weekly_co2_nan_error_says_what_to_do():
    from sklearn.linear_model import Ridge

    with pytest.raises(ValueError, match=r"59 NaN.*y\.resample\('W-SAT'\)\.mean\(\)\.interpolate\(\)"):
        Forecaster(Ridge()).fit(datasets.load("co2"))


def test_monthly_co2_is_regular_and_complete():
    y = monthly_co2()
    assert y.index.freqstr == "MS" and not y.isna().any() and len(y) == 526


def seasonal_drift_mae():
    """MAE of the seasonal random walk with drift: ``y[t - 12k] + k * mean(y[t] - y[t - 12])``."""
    train, test, _ = split_and_baseline()
    v = train.to_numpy()
    drift = np.mean(v[12:] - v[:-12])
    forecast = np.resize(v[-12:], HORIZON) + drift * np.repeat([1, 2], 12)
    return float(np.mean(np.abs(test.to_numpy() - forecast)))


def forecast_mae(estimator):
    train, test, snaive_mae = split_and_baseline()
    f = Forecaster(estimator, window=24, diff=1).fit(train)
    pred = f.predict(HORIZON)
    assert pred.index.equals(test.index)
    return float(np.mean(np.abs(test.to_numpy() - pred.to_numpy()))), snaive_mae


@pytest.mark.slow
def test_co2_mlp_beats_seasonal_naive():
    from sklearn.neural_network import MLPRegressor

    mae, snaive_mae = forecast_mae(MLPRegressor(hidden_layer_sizes=(32,), max_iter=3000, random_state=0))
    print(f"co2 last 24 months: MLP Forecaster MAE {mae:.3f} ppm, seasonal naive {snaive_mae:.3f} ppm")
    assert snaive_mae == pytest.approx(1.8823, abs=1e-3)
    assert mae < snaive_mae
    drift_mae = seasonal_drift_mae()
    assert drift_mae == pytest.approx(0.3679, abs=1e-3)
    assert mae < drift_mae  # the trend-aware baseline too


@pytest.mark.slow
def test_co2_gru_beats_seasonal_naive():
    gru = RecurrentRegressor(cell="gru", hidden_size=32, random_state=0)
    mae, snaive_mae = forecast_mae(gru)
    print(
        f"co2 last 24 months: GRU Forecaster MAE {mae:.3f} ppm, seasonal naive {snaive_mae:.3f} ppm, "
        f"seasonal random walk with drift {seasonal_drift_mae():.3f} ppm"
    )
    assert mae < snaive_mae


def test_default_estimator_is_lstm_with_input_size():
    train, _, _ = split_and_baseline()
    f = Forecaster(window=12, diff=1, random_state=0).fit(train.iloc[-120:])
    assert type(f.estimator_).__name__ == "RecurrentRegressor"
    assert f.estimator_.cell == "lstm" and f.estimator_.input_size == 1
    # The documented default, written out, forecasts the same to the bit.
    explicit = Forecaster(RecurrentRegressor(cell="lstm"), window=12, diff=1, random_state=0)
    expected = explicit.fit(train.iloc[-120:]).predict(3)
    np.testing.assert_array_equal(f.predict(3).to_numpy(), expected.to_numpy())
