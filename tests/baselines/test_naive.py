"""NaiveForecaster against hand computations of the textbook formulas (fpp3 §5.5, forecast::rwf)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.base import clone

from tsrnn import NaiveForecaster


@pytest.fixture
def monthly():
    values = [5.0, 7.0, 6.0, 9.0, 8.0, 10.0, 12.0, 11.0, 13.0, 16.0]
    return pd.Series(values, index=pd.period_range("2020-01", periods=10, freq="M"), name="sales")


def test_last_value(monthly):
    f = NaiveForecaster().fit(monthly)
    fc = f.predict(3)
    assert fc.tolist() == [16.0, 16.0, 16.0]
    assert fc.name == "sales"
    assert list(fc.index.astype(str)) == ["2020-11", "2020-12", "2021-01"]
    diffs = np.diff(monthly.to_numpy())
    sigma = np.sqrt(np.mean(diffs**2))  # no drift: nothing estimated, mean of squares
    z = norm.ppf(0.9)
    iv = f.predict_interval(3, coverage=0.8)
    for h in (1, 2, 3):
        assert iv["lower"].iloc[h - 1] == pytest.approx(16.0 - z * sigma * np.sqrt(h))
        assert iv["upper"].iloc[h - 1] == pytest.approx(16.0 + z * sigma * np.sqrt(h))


def test_seasonal_naive(monthly):
    f = NaiveForecaster(seasonal_period=4).fit(monthly)
    # Last season: 12, 11, 13, 16 (the 7th-10th values), repeated.
    assert f.predict(6).tolist() == [12.0, 11.0, 13.0, 16.0, 12.0, 11.0]
    x = monthly.to_numpy()
    d = x[4:] - x[:-4]
    sigma = np.sqrt(np.mean(d**2))
    z = norm.ppf(0.95)
    iv = f.predict_interval(6)
    for h in range(1, 7):
        k = (h - 1) // 4
        expected_sd = sigma * np.sqrt(k + 1)
        assert iv["upper"].iloc[h - 1] - f.predict(6).iloc[h - 1] == pytest.approx(z * expected_sd)


def test_drift(monthly):
    x = monthly.to_numpy()
    T = len(x)
    f = NaiveForecaster(drift=True).fit(monthly)
    slope = (x[-1] - x[0]) / (T - 1)  # the line through the first and last observation
    np.testing.assert_allclose(f.predict(4).to_numpy(), x[-1] + slope * np.arange(1, 5))
    resid = np.diff(x) - slope
    sigma2 = np.sum(resid**2) / (T - 2)  # one parameter (the drift) estimated from T-1 differences
    h = np.arange(1, 5)
    sd = np.sqrt(sigma2 * h * (1 + h / (T - 1)))
    iv = f.predict_interval(4, coverage=0.95)
    np.testing.assert_allclose(iv["upper"].to_numpy(), f.predict(4).to_numpy() + norm.ppf(0.975) * sd)


def test_seasonal_drift(monthly):
    x = monthly.to_numpy()
    f = NaiveForecaster(seasonal_period=3, drift=True).fit(monthly)
    d = x[3:] - x[:-3]
    c = d.mean()
    # h = 1..3 reach back one season (+c), h = 4..6 two seasons (+2c).
    expected = [x[-3] + c, x[-2] + c, x[-1] + c, x[-3] + 2 * c, x[-2] + 2 * c]
    np.testing.assert_allclose(f.predict(5).to_numpy(), expected)
    sigma2 = np.sum((d - c) ** 2) / (len(d) - 1)
    se2 = sigma2 / len(d)
    steps = np.array([1, 1, 1, 2, 2])
    sd = np.sqrt(sigma2 * steps + steps**2 * se2)
    iv = f.predict_interval(5, coverage=0.9)
    np.testing.assert_allclose(iv["lower"].to_numpy(), np.array(expected) - norm.ppf(0.95) * sd)


def test_update_moves_the_origin(monthly):
    f = NaiveForecaster(seasonal_period=2).fit(monthly.iloc[:8])
    sigma = f.sigma_.copy()
    f.update(monthly.iloc[8:])
    assert f.predict(2).tolist() == [13.0, 16.0]
    assert f.predict(2).index[0] == pd.Period("2020-11", freq="M")
    np.testing.assert_array_equal(f.sigma_, sigma)  # not refitted
    f.update(monthly.iloc[9:10].set_axis(pd.period_range("2020-11", periods=1, freq="M")))
    assert f.predict(2).tolist() == [16.0, 16.0]


def test_several_columns(monthly):
    frame = pd.DataFrame({"a": monthly.to_numpy(), "b": monthly.to_numpy() * 2}, index=monthly.index)
    f = NaiveForecaster(drift=True).fit(frame)
    fc = f.predict(2)
    assert list(fc.columns) == ["a", "b"]
    np.testing.assert_allclose(fc["b"].to_numpy(), 2 * fc["a"].to_numpy())
    iv = f.predict_interval(2)
    np.testing.assert_allclose(
        iv[("b", "upper")] - fc["b"], 2 * (iv[("a", "upper")] - fc["a"])
    )  # sigma scales with the series


def test_errors(monthly):
    with pytest.raises(
        ValueError,
        match=r"'seasonal_period' parameter of NaiveForecaster must be an int in the range \[1, inf\)",
    ):
        NaiveForecaster(seasonal_period=0).fit(monthly)
    with pytest.raises(TypeError, match="'drift' parameter of NaiveForecaster must be an instance of 'bool'"):
        NaiveForecaster(drift="yes").fit(monthly)
    with pytest.raises(ValueError, match="needs at least 13"):
        NaiveForecaster(seasonal_period=12).fit(monthly)
    with pytest.raises(ValueError, match="does not use exogenous"):
        NaiveForecaster().fit(monthly, X=monthly.to_frame())


def test_clone():
    f = NaiveForecaster(seasonal_period=7, drift=True)
    assert clone(f).get_params() == {"seasonal_period": 7, "drift": True}


def test_quantiles_from_the_residual_variance_by_hand():
    y = pd.Series([1.0, 2.0, 4.0, 7.0])
    q = NaiveForecaster().fit(y).predict_quantiles(3, quantiles=(0.1, 0.5, 0.95))
    sigma = np.sqrt((1 + 4 + 9) / 3)  # differences 1, 2, 3
    for level in (0.1, 0.5, 0.95):
        expect = 7.0 + norm.ppf(level) * sigma * np.sqrt([1.0, 2.0, 3.0])
        np.testing.assert_allclose(q[level].to_numpy(), expect, rtol=1e-12)
    assert list(q.index) == [4, 5, 6]
