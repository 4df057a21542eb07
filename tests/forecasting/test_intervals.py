"""Conformal prediction intervals: the quantile by hand, the whole method by hand with a linear
model, and empirical coverage over a rolling backtest on a long simulated AR(1) series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, Ridge

from tsrnn import Forecaster
from tsrnn.forecasting import conformal_quantile

from ..kpss_oracle import rejects_stationarity
from .test_forecaster import apply, ar_series, ols


def test_conformal_quantile_rank():
    res = np.arange(1.0, 20.0)[::-1].copy()  # 19 residuals 19..1
    # ceil((19 + 1) * 0.9) = 18 (not 19: (n + 1) * coverage is 18.000000000000004 in floating point)
    assert conformal_quantile(res, 0.9) == 18.0
    assert conformal_quantile(res, 0.5) == 10.0  # ceil(20 * 0.5) = 10
    # per column
    two = np.column_stack([res, 2 * res])
    np.testing.assert_array_equal(conformal_quantile(two, 0.9), [18.0, 36.0])


def test_conformal_quantile_too_few_is_infinite():
    with pytest.warns(UserWarning, match="8 calibration residuals are too few for coverage=0.9"):
        q = conformal_quantile(np.ones(8), 0.9)
    assert np.isinf(q)


def test_interval_matches_hand_split_conformal():
    y = ar_series(100, 11)
    w, H, C, cov = 2, 3, 30, 0.8
    f = Forecaster(LinearRegression(), window=w, calibration_size=C).fit(pd.Series(y))
    iv = f.predict_interval(H, coverage=cov)
    # by hand: OLS on the 70 points before the calibration stretch ...
    n0 = 100 - C
    coef = ols([list(y[t - w : t]) for t in range(w, n0)], y[w:n0])
    # ... forecasts H steps from every origin o in [70, 97] with the observed history before o
    res = []
    for o in range(n0, 100 - H + 1):
        hist = list(y[:o])
        for _ in range(H):
            hist.append(apply(coef, hist[-w:]))
        res.append(np.abs(np.array(hist[o:]) - y[o : o + H]))
    res = np.sort(np.array(res), axis=0)  # (28, H)
    rank = int(np.ceil((len(res) + 1) * cov))  # 29 * 0.8 = 23.2 -> 24th smallest
    radius = res[rank - 1]
    point = f.predict(H).to_numpy()
    np.testing.assert_allclose(iv["lower"].to_numpy(), point - radius, rtol=1e-9)
    np.testing.assert_allclose(iv["upper"].to_numpy(), point + radius, rtol=1e-9)
    assert f.calibration_residuals_.shape == (28, H, 1)


def test_longer_horizon_recomputes_residuals():
    y = pd.Series(ar_series(120, 3))
    f = Forecaster(Ridge(), window=2, calibration_size=40).fit(y)
    short = f.predict_interval(2)
    model = f.calibration_model_
    long = f.predict_interval(6)
    assert f.calibration_model_ is model  # the calibration copy is fitted once
    assert f.calibration_residuals_.shape == (40 - 6 + 1, 6, 1)
    # the step-1 radius now comes from fewer origins (35 instead of 39) but the same model
    assert long.shape == (6, 2) and short.shape == (2, 2)
    f.fit(y)  # refitting forgets the calibration
    assert not hasattr(f, "calibration_model_")


def test_calibration_too_short_error():
    f = Forecaster(Ridge(), window=2, calibration_size=5).fit(pd.Series(ar_series(60, 0)))
    with pytest.raises(
        ValueError, match=r"calibration_size=5 holds out 5 of the 60 training steps, fewer than the horizon 8"
    ):
        f.predict_interval(8)


def test_direct_intervals_use_fitted_horizon():
    y = pd.Series(ar_series(120, 5))
    f = Forecaster(LinearRegression(), window=2, strategy="direct", horizon=4, calibration_size=40).fit(y)
    iv2 = f.predict_interval(2)
    iv4 = f.predict_interval(4)
    np.testing.assert_allclose(iv2.to_numpy(), iv4.iloc[:2].to_numpy())


def test_coverage_ar1_rolling_backtest():
    """90 % intervals cover 90 +- 5 % of 5-step forecasts over ~500 rolling origins."""
    rng = np.random.default_rng(123)
    n_train, n_test, H, step = 600, 1500, 5, 3
    e = rng.normal(size=n_train + n_test)
    y = np.zeros(n_train + n_test)
    for t in range(1, len(y)):
        y[t] = 0.7 * y[t - 1] + e[t]
    y = pd.Series(y + 10.0)
    f = Forecaster(LinearRegression(), window=2, calibration_size=200).fit(y.iloc[:n_train])
    hits = []
    for o in range(n_train, n_train + n_test - H + 1, step):
        iv = f.predict_interval(H, coverage=0.9)
        actual = y.iloc[o : o + H].to_numpy()
        hits.append((actual >= iv["lower"].to_numpy()) & (actual <= iv["upper"].to_numpy()))
        f.update(y.iloc[o : o + step])  # the origin moves on; the model is not refitted
    hits = np.array(hits)
    assert hits.shape == (499, H)
    assert abs(hits.mean() - 0.9) <= 0.05, hits.mean()
    assert np.all(np.abs(hits.mean(axis=0) - 0.9) <= 0.05), hits.mean(axis=0)


def test_the_calibration_copy_makes_its_own_automatic_choices_before_the_stretch():
    """diff="auto" is chosen again on the data before the calibration stretch, so that no
    statistic of the stretch shapes the copy that forecasts it (split conformal); log="auto"
    keeps the whole series' choice (the copy must take the log of the stretch's windows)."""
    rng = np.random.default_rng(0)
    prefix = 10.0 + rng.normal(size=120)  # stationary and positive
    stretch = 10.0 + np.linspace(0.0, -40.0, 40) + rng.normal(size=40)  # trending, crosses zero
    values = np.concatenate([prefix, stretch])
    y = pd.Series(values, index=pd.period_range("2000-01", periods=160, freq="M"))

    def stationary_at_1_percent(x):  # the KPSS rule of diff="auto", written from the paper
        return not rejects_stationarity(x, 0.01)

    assert not stationary_at_1_percent(values) and stationary_at_1_percent(prefix)
    f = Forecaster(LinearRegression(), window=3, log="auto", diff="auto", calibration_size=40).fit(y)
    f.predict_interval(1, 0.9)
    copy = f.calibration_model_.transform
    assert (f.log_, f.diff_ >= 1) == (False, True)  # the whole series: not positive, trending
    assert (copy.log, copy.diff) == (False, 0)  # before the stretch: stationary
