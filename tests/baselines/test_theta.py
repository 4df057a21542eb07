"""ThetaForecaster against statsmodels' ThetaModel fitted directly, and against hand computation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.stattools import acf

from tsrnn import ThetaForecaster, datasets


def _monthly(n=96, seasonal=True, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    # Without a season, no trend either: a trend alone makes the lag-12 autocorrelation large.
    y = 100 + (0.3 * t + 8 * np.sin(2 * np.pi * t / 12) if seasonal else 0) + rng.normal(size=n)
    return pd.Series(y, index=pd.period_range("2000-01", periods=n, freq="M"))


def _seasonality_test(y, m):
    """The 90 % test on the lag-m autocorrelation, written out."""
    rho = acf(y, nlags=m, fft=True)
    return len(y) * rho[m] ** 2 / np.sum(rho[:m] ** 2) > norm.ppf(0.95) ** 2


@pytest.mark.parametrize("seasonal", [True, False])
def test_matches_thetamodel_with_the_seasonality_test(seasonal):
    y = _monthly(seasonal=seasonal)
    f = ThetaForecaster(seasonal_period=12).fit(y)
    assert f.seasonal_ is bool(_seasonality_test(y.to_numpy(), 12)) is seasonal
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ThetaModel(y.to_numpy(), period=12).fit()
        pi = ref.prediction_intervals(12, alpha=0.2)
    np.testing.assert_allclose(f.predict(12).to_numpy(), ref.forecast(12), rtol=1e-12)
    iv = f.predict_interval(12, coverage=0.8)
    np.testing.assert_allclose(iv["lower"].to_numpy(), pi["lower"], rtol=1e-10)
    np.testing.assert_allclose(iv["upper"].to_numpy(), pi["upper"], rtol=1e-10)


def test_non_seasonal_forecast_by_hand():
    """SES (level from y[0]) plus (theta-1)/theta times the OLS slope term (Hyndman & Billah 2003)."""
    y = datasets.load("nile").to_numpy()
    f = ThetaForecaster(theta=3.0).fit(pd.Series(y))
    n = len(y)
    b0, alpha = f.results_.params
    slope = np.polyfit(np.arange(n), y, 1)[0]
    assert b0 == pytest.approx(slope, rel=1e-10)
    # The smoothing parameter is the SES estimate (an independent fit, up to the optimiser's stop).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ses = ExponentialSmoothing(y, initial_level=y[0], initialization_method="known").fit()
    assert alpha == pytest.approx(ses.params["smoothing_level"], rel=1e-3)
    level = y[0]
    for v in y:
        level = alpha * v + (1 - alpha) * level
    h = np.arange(1, 6)
    trend = slope * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
    np.testing.assert_allclose(f.predict(5).to_numpy(), level + (2 / 3) * trend, rtol=1e-10)


def test_update_moves_the_level_with_the_fitted_parameters():
    y = _monthly()
    head, tail = y.iloc[:-7], y.iloc[-7:]
    f = ThetaForecaster(seasonal_period=12).fit(head)
    b0, alpha = f.results_.params
    comp = f.results_.forecast_components(19)
    season = comp["seasonal"].to_numpy()  # seasonal index of each step after the training data
    level = comp["ses"].to_numpy()[0]
    multiplicative = f.results_.model.method.startswith("mul")
    for v, s in zip(tail.to_numpy(), season[:7]):
        level = alpha * (v / s if multiplicative else v - s) + (1 - alpha) * level
    n = len(y)
    h = np.arange(1, 13)
    trend = b0 * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
    expected = (0.5 * trend + level) * season[7:] if multiplicative else 0.5 * trend + level + season[7:]
    f.update(tail)
    np.testing.assert_allclose(f.predict(12).to_numpy(), expected, rtol=1e-10)
    assert f.predict(1).index[0] == y.index[-1] + 1
    assert tuple(f.results_.params) == (b0, alpha)


def test_short_series_is_not_deseasonalised():
    y = _monthly(n=20)
    f = ThetaForecaster(seasonal_period=12).fit(y)
    assert f.seasonal_ is False
    ref = ThetaModel(y.to_numpy(), deseasonalize=False).fit()
    np.testing.assert_allclose(f.predict(6).to_numpy(), ref.forecast(6), rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"theta": 0.5}, ValueError, "theta"),
        ({"method": "mul"}, ValueError, "method"),
        ({"use_test": 1}, TypeError, "use_test"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        ThetaForecaster(**kwargs).fit(_monthly())


def test_constant_series_is_refused():
    with pytest.raises(ValueError, match="non-constant"):
        ThetaForecaster().fit(pd.Series(np.ones(30)))


def test_quantiles_are_statsmodels_interval_ends():
    y = _monthly(seasonal=True)
    f = ThetaForecaster(seasonal_period=12).fit(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ThetaModel(y.to_numpy(), period=12).fit()
        pi = ref.prediction_intervals(12, alpha=0.2)
    q = f.predict_quantiles(12, quantiles=(0.1, 0.5, 0.9))
    np.testing.assert_allclose(q[0.1].to_numpy(), pi["lower"], rtol=1e-10)
    np.testing.assert_allclose(q[0.9].to_numpy(), pi["upper"], rtol=1e-10)
    np.testing.assert_allclose(q[0.5].to_numpy(), ref.forecast(12), rtol=1e-12)
