"""Target transforms: hand values, exact inversion, and exact forecasts through the Forecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression

from tsrnn import Forecaster
from tsrnn.forecasting import TargetTransform


def test_hand_values_diff_and_standardize():
    y = np.array([[1.0], [4.0], [9.0], [16.0]])
    tr = TargetTransform(diff=1).fit(y)
    d = np.array([3.0, 5.0, 7.0])
    z = tr.transform(y)
    assert np.isnan(z[0, 0])
    np.testing.assert_allclose(z[1:, 0], (d - d.mean()) / d.std())


def test_hand_values_seasonal_and_log():
    y = np.array([1.0, 2.0, 4.0, 8.0, 32.0])[:, None]
    tr = TargetTransform(log=True, seasonal_period=2, standardize=False).fit(y)
    np.testing.assert_allclose(tr.transform(y)[2:, 0], np.log([4.0, 4.0, 8.0]))


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"diff": 1},
        {"diff": 2},
        {"seasonal_period": 4},
        {"seasonal_period": 4, "diff": 1},
        {"log": True},
        {"log": True, "seasonal_period": 3, "diff": 2},
        {"standardize": False, "diff": 1},
    ],
)
def test_inverse_of_true_future_is_exact(kw):
    """Transforming the real future and inverting must give the real future back."""
    rng = np.random.default_rng(0)
    n, m, H = 60, 2, 9  # H > seasonal period: the inverse also uses its own forecasts
    values = np.exp(np.cumsum(rng.normal(0.01, 0.1, size=(n, m)), axis=0)) * 10
    tr = TargetTransform(**kw).fit(values[:40])
    z = tr.transform(values)
    origins = np.array([20, 33, 51])
    zf = z[origins[:, None] + np.arange(H)]
    back = tr.inverse(zf, values, origins)
    np.testing.assert_allclose(back, values[origins[:, None] + np.arange(H)], rtol=1e-12)


def test_log_rejects_non_positive_with_fix():
    y = pd.Series([1.0, 0.0, 2.0, 3.0, 4.0], index=pd.period_range("2000", periods=5, freq="Y"))
    with pytest.raises(ValueError, match=r"log=True needs strictly positive y.*2001.*y - y.min\(\) \+ 1"):
        Forecaster(LinearRegression(), window=1, log=True).fit(y)
    f = Forecaster(LinearRegression(), window=1, log=True).fit(y + 1)
    with pytest.raises(ValueError, match="strictly positive y_new"):
        f.update(pd.Series([-1.0], index=pd.period_range("2005", periods=1, freq="Y")))


def test_log_diff_forecasts_exponential_growth_exactly():
    t = np.arange(40)
    y = pd.Series(np.exp(0.5 + 0.03 * t), index=pd.period_range("1990-01", periods=40, freq="M"))
    # log + diff turns the series into a constant 0.03; a constant predictor is then exact
    f = Forecaster(DummyRegressor(), window=2, log=True, diff=1).fit(y)
    future = np.arange(40, 50)
    np.testing.assert_allclose(f.predict(10).to_numpy(), np.exp(0.5 + 0.03 * future), rtol=1e-12)


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_seasonal_diff_forecasts_trend_plus_season_exactly(strategy):
    t = np.arange(96)
    season = np.array([3.0, -1.0, 4.0, 1.0, -5.0, 9.0, -2.0, 6.0, 5.0, -3.0, 5.0, -8.0])
    y = pd.Series(2.0 + 0.25 * t + season[t % 12], index=pd.date_range("2000-01-01", periods=96, freq="MS"))
    # y[t] - y[t-12] = 3 for every t: constant, so DummyRegressor is exact for any horizon
    f = Forecaster(DummyRegressor(), window=3, seasonal_period=12, strategy=strategy, horizon=30).fit(y)
    future = np.arange(96, 126)
    np.testing.assert_allclose(
        f.predict(30).to_numpy(), 2.0 + 0.25 * future + season[future % 12], rtol=1e-12
    )


def test_second_difference_forecasts_quadratic_exactly():
    t = np.arange(30.0)
    y = pd.Series(1.0 + 2.0 * t - 0.1 * t**2)
    f = Forecaster(DummyRegressor(), window=1, diff=2).fit(y)
    future = np.arange(30.0, 37.0)
    np.testing.assert_allclose(f.predict(7).to_numpy(), 1.0 + 2.0 * future - 0.1 * future**2, rtol=1e-12)
