"""tsrnn inside skforecast, sktime and darts, run with the real packages.

Oracles: tsrnn's own Forecaster (the same forecasts to the bit), the lag arithmetic of a series
whose values are their own time stamps (the sequence the network receives), Ridge in the same
backtest, sktime's own estimator checks, and the nominal coverage on a simulated AR(1).
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from tsrnn import Forecaster, GRURegressor, RecurrentRegressor, datasets
from tsrnn.interop import darts_layout, skforecast_layout, sktime_layout

pytestmark = pytest.mark.interop

# The GRU of the skforecast recipe in docs/interop.md, chosen on years the backtest below does
# not report (benchmarks/interop_skforecast_sunspots.py).
#: docs/interop.md's GRU (benchmarks/interop_skforecast_sunspots.py chose it, with early stopping)
DOCUMENTED_GRU = {"hidden_size": 16, "learning_rate": 0.002, "early_stopping": True}
# Small and fast, fixed seed: the same GRU goes through every framework.
SMALL = {"hidden_size": 8, "max_iter": 20, "random_state": 0}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        # the frameworks' own deprecation notes and sklearn's feature-name notes
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def test_same_forecasts_to_the_bit_through_every_framework():
    from darts import TimeSeries
    from darts.models import SKLearnModel
    from skforecast.recursive import ForecasterRecursive
    from sktime.forecasting.compose import make_reduction

    y = datasets.load("sunspots").iloc[-120:]  # yearly PeriodIndex
    # tsrnn's Forecaster with standardize=False hands the raw windows over, as the frameworks do;
    # the regressor standardizes inputs and targets itself in every case
    ours = Forecaster(GRURegressor(**SMALL), window=12, standardize=False).fit(y).predict(10).to_numpy()

    sk = make_reduction(GRURegressor(**SMALL, **sktime_layout()), window_length=12, strategy="recursive")
    sktime_fc = sk.fit(y).predict(fh=np.arange(1, 11)).to_numpy()

    skf = ForecasterRecursive(estimator=GRURegressor(**SMALL, **skforecast_layout()), lags=12)
    skf.fit(y.reset_index(drop=True))
    skforecast_fc = skf.predict(10).to_numpy()

    darts = SKLearnModel(model=GRURegressor(**SMALL, **darts_layout()), lags=12)
    darts_fc = darts.fit(TimeSeries.from_series(y.to_timestamp())).predict(10).values()[:, 0]

    assert np.all(np.isfinite(ours)) and np.ptp(ours) > 1.0  # a real forecast, not a constant
    np.testing.assert_array_equal(sktime_fc, ours)
    np.testing.assert_array_equal(skforecast_fc, ours)
    np.testing.assert_array_equal(darts_fc, ours)

    # the documented settings are what make it so: skforecast's row read oldest first differs
    wrong = ForecasterRecursive(estimator=GRURegressor(**SMALL), lags=12)
    wrong.fit(y.reset_index(drop=True))
    assert not np.allclose(wrong.predict(10).to_numpy(), ours)


class _Spy(GRURegressor):
    """Records the (n, L, features) training sequence the network receives."""

    seen: ClassVar[list] = []

    def _train(self, params, Xt, Yt, validation, incremental, cell):
        _Spy.seen.append(np.asarray(Xt).transpose(1, 0, 2).copy())  # time-major -> (n, L, D)
        return super()._train(params, Xt, Yt, validation, incremental, cell)


L, N = 4, 30
TIMES = np.arange(N, dtype=np.float64)
X_OFFSET = 1000.0  # x[t] = 1000 + t, y[t] = t: every value names its own time


def _skforecast_recursive(kw, y, x):
    from skforecast.recursive import ForecasterRecursive

    ForecasterRecursive(estimator=_Spy(**kw, **skforecast_layout(n_exog=1)), lags=L).fit(y, exog=x)


def _skforecast_direct(kw, y, x):
    from skforecast.direct import ForecasterDirect

    # one regressor per step; the last one recorded is step 2's
    ForecasterDirect(estimator=_Spy(**kw, **skforecast_layout(n_exog=1)), lags=L, steps=2).fit(y, exog=x)


def _skforecast_multiseries(kw, y, x):
    from skforecast.recursive import ForecasterRecursiveMultiSeries

    series = pd.DataFrame({"a": y, "b": y + 500.0})
    est = _Spy(**kw, **skforecast_layout(n_exog=1, n_levels=2))
    ForecasterRecursiveMultiSeries(estimator=est, lags=L, encoding="onehot").fit(series, exog=x)


def _sktime(strategy):
    def run(kw, y, x):
        from sktime.forecasting.compose import make_reduction

        est = _Spy(**kw, **sktime_layout(n_exog=1))
        make_reduction(est, window_length=L, strategy=strategy).fit(y, X=x, fh=[1, 2])

    return run


def _darts(kind):
    def run(kw, y, x):
        from darts import TimeSeries
        from darts.models import SKLearnModel

        ts, xs = TimeSeries.from_series(y), TimeSeries.from_dataframe(x)
        if kind == "past":
            model = SKLearnModel(model=_Spy(**kw, **darts_layout(n_lagged=1)), lags=L, lags_past_covariates=L)
            model.fit(ts, past_covariates=xs)
        elif kind == "future":
            lags = list(range(1 - L, 1))
            model = SKLearnModel(
                model=_Spy(**kw, **darts_layout(n_lagged=1)), lags=L, lags_future_covariates=lags
            )
            model.fit(ts, future_covariates=xs)
        else:
            model = SKLearnModel(
                model=_Spy(**kw, **darts_layout(n_static=1)), lags=L, lags_future_covariates=[0]
            )
            model.fit(ts, future_covariates=xs)

    return run


# covariate time relative to the step's target lag: "same" x[s], "next" x[s + 1] (tsrnn's own
# convention), or ("target", k): x at the time of the k-th predicted value, at every step
CASES = {
    "skforecast ForecasterRecursive": (_skforecast_recursive, ("target", 1)),
    "skforecast ForecasterDirect": (_skforecast_direct, ("target", 2)),
    "skforecast ForecasterRecursiveMultiSeries": (_skforecast_multiseries, ("target", 1)),
    "sktime make_reduction recursive": (_sktime("recursive"), "same"),
    "sktime make_reduction direct": (_sktime("direct"), "same"),
    "darts lags_past_covariates": (_darts("past"), "same"),
    "darts lags_future_covariates": (_darts("future"), "next"),
    "darts lags_future_covariates=[0]": (_darts("now"), ("target", 1)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_network_receives_the_step_major_sequence(case):
    run, covariate = CASES[case]
    y = pd.Series(TIMES, name="y")
    x = pd.DataFrame({"x": X_OFFSET + TIMES})
    _Spy.seen.clear()
    run({"hidden_size": 2, "max_iter": 1, "standardize": False, "early_stopping": False}, y, x)
    seq = _Spy.seen[-1]
    n_levels = 2 if "MultiSeries" in case else 0
    assert seq.shape[1:] == (L, 2 + n_levels)
    lag = seq[:, :, 0] % 500.0  # the second series of the multi-series case is y + 500
    start = lag[:, :1]
    # the target's lags, oldest first, one step apart: the recurrence ends on the newest value
    np.testing.assert_array_equal(lag, start + np.arange(L))
    x_time = seq[:, :, -1] - X_OFFSET
    if covariate == "same":
        np.testing.assert_array_equal(x_time, lag)
    elif covariate == "next":
        np.testing.assert_array_equal(x_time, lag + 1)
    else:
        np.testing.assert_array_equal(x_time, np.broadcast_to(start + L + covariate[1] - 1, lag.shape))
    if n_levels:  # one-hot series code at every step, matching the series the lags come from
        code = seq[:, :, 1:3]
        np.testing.assert_array_equal(code.sum(axis=2), 1.0)
        np.testing.assert_array_equal(code[:, :, 1], (seq[:, :, 0] >= 500.0).astype(float))


def test_skforecast_backtest_at_least_as_accurate_as_ridge():
    # The backtest: ForecasterRecursive(lags=12), the last 50 sunspot years, 10-step
    # folds; the GRU setting was chosen on the 50 years before (benchmarks/interop_skforecast_sunspots.py).
    from skforecast.model_selection import TimeSeriesFold, backtesting_forecaster
    from skforecast.recursive import ForecasterRecursive
    from sklearn.linear_model import Ridge

    y = pd.Series(datasets.load("sunspots").to_numpy(), name="y")
    cv = TimeSeriesFold(steps=10, initial_train_size=len(y) - 50)

    def mae(estimator):
        metric, _ = backtesting_forecaster(
            forecaster=ForecasterRecursive(estimator=estimator, lags=12),
            y=y,
            cv=cv,
            metric="mean_absolute_error",
            show_progress=False,
        )
        return float(metric.iloc[0, 0])

    ridge = mae(Ridge())
    gru = mae(RecurrentRegressor(cell="gru", random_state=0, **DOCUMENTED_GRU, **skforecast_layout()))
    assert ridge == pytest.approx(16.51, abs=0.01)  # the figure for Ridge
    assert gru <= ridge


def _small_forecaster(**kwargs):
    reg = GRURegressor(hidden_size=8, max_iter=30, random_state=0)
    return Forecaster(reg, window=4, **kwargs)


@pytest.mark.slow
def test_sktime_forecaster_passes_sktimes_own_checks():
    from sktime.utils.estimator_checks import check_estimator

    from tsrnn.interop import SktimeForecaster

    results = check_estimator(SktimeForecaster, raise_exceptions=False)
    failed = {name: result for name, result in results.items() if result != "PASSED"}
    assert len(results) > 50 and not failed


def test_sktime_forecaster_fh_and_exogenous_match_the_wrapped_forecaster():
    from sktime.forecasting.base import ForecastingHorizon

    from tsrnn.interop import SktimeForecaster

    rng = np.random.default_rng(0)
    index = pd.period_range("2000-01", periods=80, freq="M")
    x = pd.DataFrame({"x": rng.normal(size=85)}, index=pd.period_range("2000-01", periods=85, freq="M"))
    y = pd.Series(np.sin(np.arange(80) / 3) + 0.5 * x["x"].to_numpy()[:80], index=index, name="sales")
    ours = _small_forecaster().fit(y, x.iloc[:80]).predict(5, X=x.iloc[80:]).to_numpy()
    wrapped = SktimeForecaster(_small_forecaster()).fit(y, X=x.iloc[:80])
    # relative steps 2 and 5 of the 5-step forecast, asked as absolute periods
    fh = ForecastingHorizon(pd.PeriodIndex([index[-1] + 2, index[-1] + 5]), is_relative=False)
    got = wrapped.predict(fh, X=x.iloc[80:])
    assert list(got.index) == [index[-1] + 2, index[-1] + 5] and got.name == "sales"
    np.testing.assert_array_equal(got.to_numpy(), ours[[1, 4]])
    quantiles = wrapped.predict_quantiles(fh=[1, 3], X=x.iloc[80:], alpha=[0.05, 0.5, 0.95])
    interval = wrapped.predict_interval(fh=[1, 3], X=x.iloc[80:], coverage=0.9)
    np.testing.assert_array_equal(quantiles.iloc[:, 1].to_numpy(), ours[[0, 2]])
    np.testing.assert_allclose(quantiles.iloc[:, 0].to_numpy(), interval.iloc[:, 0].to_numpy())
    np.testing.assert_allclose(quantiles.iloc[:, 2].to_numpy(), interval.iloc[:, 1].to_numpy())
    # symmetric conformal interval around the point forecast
    np.testing.assert_allclose(interval.mean(axis=1).to_numpy(), ours[[0, 2]])


@pytest.mark.slow
def test_sktime_forecaster_interval_coverage_on_ar1():
    # Monte-Carlo oracle: one-step 90% intervals from 1000 rolling origins of a simulated AR(1)
    from tsrnn.interop import SktimeForecaster

    rng = np.random.default_rng(0)
    n_train, n_origins, phi = 400, 1000, 0.7
    e = rng.normal(size=n_train + n_origins + 100)
    z = np.zeros_like(e)
    for t in range(1, len(z)):
        z[t] = phi * z[t - 1] + e[t]
    y = pd.Series(z[100:], name="y")  # burn-in dropped
    f = SktimeForecaster(_small_forecaster(calibration_size=200)).fit(y.iloc[:n_train])
    hits = 0
    for o in range(n_train, n_train + n_origins):
        band = f.predict_interval(fh=[1], coverage=0.9).to_numpy()[0]
        hits += band[0] <= y.iloc[o] <= band[1]
        f.update(y.iloc[o : o + 1], update_params=False)
    coverage = hits / n_origins
    print(f"one-step 90% interval coverage over {n_origins} origins: {coverage:.3f}")
    assert abs(coverage - 0.9) <= 0.03, coverage


def test_sktime_forecaster_warns_of_nothing_and_update_refits_on_all_data_seen():
    """Construction, fit on timestamps without a freq, and update with refitting announce no
    deprecation (sktime's notice about remember_data's default concerns forecasters that leave it unset);
    update(update_params=True) refits on every value seen: the same forecasts to the bit as the
    wrapped Forecaster fitted on them directly."""
    from sklearn.base import clone

    from tsrnn.interop import SktimeForecaster

    values = np.sin(np.arange(70) / 4) + np.random.default_rng(1).normal(scale=0.1, size=70)
    days = pd.DatetimeIndex(list(pd.date_range("2021-01-01", periods=70, freq="D")))  # no freq
    y = pd.Series(values, index=days, name="load")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        f = clone(SktimeForecaster(_small_forecaster()))
        f.fit(y.iloc[:60], fh=[1, 2])
        f.update(y.iloc[60:], update_params=True)
        got = f.predict()
    direct = _small_forecaster().fit(y.asfreq("D")).predict(2)
    assert list(got.index) == list(pd.date_range("2021-03-12", periods=2, freq="D"))
    np.testing.assert_array_equal(got.to_numpy(), direct.to_numpy())
