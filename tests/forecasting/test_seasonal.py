"""Seasonal periods from the index, STL/MSTL deseasonalising, and DeseasonalizedForecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import MSTL, STL

from tsrnn import ARIMAForecaster, NaiveForecaster
from tsrnn.evaluation import infer_seasonal_period, infer_seasonal_periods, make_forecaster
from tsrnn.forecasting import DeseasonalizedForecaster, deseasonalize


@pytest.mark.parametrize(
    ("freq", "periods"),
    [
        ("30min", (48, 336)),
        ("h", (24, 168)),
        ("15min", (96, 672)),
        ("D", (7, 365.25)),
        ("MS", (12,)),
        ("QS", (4,)),
        ("YS", ()),
        ("2D", ()),
    ],
)
def test_periods_inferred_from_the_index(freq, periods):
    index = pd.date_range("2021-01-04", periods=20, freq=freq)
    assert infer_seasonal_periods(index) == periods
    assert infer_seasonal_period(index) == (round(periods[0]) if periods else None)


def _half_hourly(n=4032, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 10 * np.sin(2 * np.pi * t / 48) + 4 * np.cos(2 * np.pi * t / 336) + rng.normal(size=n)
    return pd.Series(y, index=pd.date_range("2021-01-04", periods=n, freq="30min"))


def test_deseasonalize_matches_statsmodels_mstl_and_stl():
    y = _half_hourly(n=1344).to_numpy()
    adjusted, comps = deseasonalize(y, (48, 336))
    ref = MSTL(y, periods=[48, 336]).fit()
    np.testing.assert_allclose(adjusted, y - np.asarray(ref.seasonal).sum(axis=1), rtol=1e-12)
    assert comps.periods == (48, 336)
    # Continued components: each one's last cycle repeated, so step s is cycle[s % period].
    season = np.asarray(ref.seasonal)
    expected = season[-48:, 0][np.arange(100) % 48] + season[-336:, 1][np.arange(100) % 336]
    np.testing.assert_allclose(comps.forecast(100), expected, rtol=1e-12)
    one, _ = deseasonalize(y, 48)
    np.testing.assert_allclose(one, y - STL(y, period=48).fit().seasonal, rtol=1e-12)
    # A period that does not fit twice is left out; none left: unchanged.
    same, none = deseasonalize(y[:500], 336)
    np.testing.assert_array_equal(same, y[:500])
    assert none.periods == () and np.all(none.forecast(3) == 0)


def test_a_repeated_decomposition_is_the_same_and_a_changed_series_is_decomposed_anew():
    # oracle: statsmodels' MSTL on each series; the second call on the same values is served
    # from the per-process memo and must not differ, nor let a caller change what it stores
    y = _half_hourly(n=1344).to_numpy()
    first, comps = deseasonalize(y, (48, 336))
    first[:] = 0.0
    comps.forecast(5)
    again, _ = deseasonalize(y.copy(), (48, 336))
    expected = y - np.asarray(MSTL(y, periods=[48, 336]).fit().seasonal).sum(axis=1)
    np.testing.assert_array_equal(again, expected)
    z = y.copy()
    z[-1] += 5.0
    changed, _ = deseasonalize(z, (48, 336))
    np.testing.assert_array_equal(
        changed, z - np.asarray(MSTL(z, periods=[48, 336]).fit().seasonal).sum(axis=1)
    )


def test_deseasonalized_forecaster_adds_the_seasons_back():
    y = _half_hourly(n=1344)
    f = DeseasonalizedForecaster(ARIMAForecaster(order=(1, 0, 0)), (48, 336)).fit(y)
    adjusted, comps = deseasonalize(y.to_numpy(), (48, 336))
    inner = ARIMAForecaster(order=(1, 0, 0)).fit(pd.Series(adjusted, index=y.index))
    seasonal = comps.forecast(60)
    np.testing.assert_allclose(f.predict(60).to_numpy(), inner.predict(60).to_numpy() + seasonal, rtol=1e-10)
    iv, ref = f.predict_interval(60, coverage=0.8), inner.predict_interval(60, coverage=0.8)
    np.testing.assert_allclose(iv["lower"].to_numpy(), ref["lower"].to_numpy() + seasonal, rtol=1e-10)
    assert f.predict(1).index[0] == y.index[-1] + pd.Timedelta("30min")

    # update: new values are adjusted by the continued components, the season phase moves on.
    g = DeseasonalizedForecaster(NaiveForecaster(), 48).fit(y.iloc[:-10])
    _, c48 = deseasonalize(y.to_numpy()[:-10], 48)
    g.update(y.iloc[-10:])
    last_adjusted = y.to_numpy()[-1] - c48.forecast(10)[-1]
    np.testing.assert_allclose(g.predict(5).to_numpy(), last_adjusted + c48.forecast(15)[10:], rtol=1e-10)


def test_registry_decomposes_long_and_multiple_seasons():
    arima = make_forecaster("arima", 48, (48, 336))
    assert isinstance(arima, DeseasonalizedForecaster) and arima.seasonal_periods == (48, 336)
    assert arima.forecaster.get_params()["seasonal_period"] is None
    assert isinstance(make_forecaster("ets", 48), DeseasonalizedForecaster)  # beyond ETS's 24
    assert isinstance(make_forecaster("arima", 24), DeseasonalizedForecaster)  # beyond 12
    assert make_forecaster("arima", 12).get_params()["seasonal_period"] == 12  # seasonal ARIMA
    assert make_forecaster("theta", 48).get_params()["seasonal_period"] == 48
    assert isinstance(make_forecaster("theta", 7, (7, 365)), DeseasonalizedForecaster)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "rnn-ensemble", "linear-ar"])
def test_registry_gives_the_recurrent_models_the_decomposition_the_others_get(name):
    """Several seasons: the recurrent models, like ARIMA, ETS and Theta, forecast the MSTL
    adjusted series with their variant without a season; one season stays with their STL."""
    several = make_forecaster(name, 48, (48, 336), horizon=48)
    assert isinstance(several, DeseasonalizedForecaster) and several.seasonal_periods == (48, 336)
    assert several.forecaster.get_params()["seasonal_period"] is None
    assert several.forecaster.get_params()["horizon"] == 48
    one = make_forecaster(name, 48, horizon=48)
    assert not isinstance(one, DeseasonalizedForecaster) and one.get_params()["seasonal_period"] == 48


def test_linear_ar_with_several_seasons_forecasts_the_mstl_adjusted_series():
    """The oracle: statsmodels' MSTL, the recipe's linear autoregression without a season fitted
    on the adjusted series, and each component's last cycle repeated, put together here."""
    y, h = _half_hourly(n=1344), 48
    got = make_forecaster("linear-ar", 48, (48, 336), horizon=h).fit(y).predict(h).to_numpy()
    seasonal = np.asarray(MSTL(y.to_numpy(), periods=[48, 336]).fit().seasonal)
    adjusted = pd.Series(y.to_numpy() - seasonal.sum(axis=1), index=y.index)
    inner = make_forecaster("linear-ar", None, horizon=h).fit(adjusted).predict(h).to_numpy()
    repeated = seasonal[-48:, 0][np.arange(h) % 48] + seasonal[-336:, 1][np.arange(h) % 336]
    np.testing.assert_allclose(got, inner + repeated, rtol=1e-9)


def test_max_windows_trains_on_evenly_spaced_windows_with_the_latest():
    """The oracle: a Ridge regression fitted here on the hand-picked windows."""
    from sklearn.linear_model import Ridge

    from tsrnn import Forecaster

    rng = np.random.default_rng(1)
    y = pd.Series(np.cumsum(rng.normal(size=300)) * 0.1 + np.sin(np.arange(300) / 5))
    window, k = 6, 25
    f = Forecaster(Ridge(alpha=0.5), window=window, standardize=False, max_windows=k).fit(y)
    values = y.to_numpy()
    origins = np.arange(window, len(values))  # one-step windows: inputs y[o-6:o], target y[o]
    pick = origins[np.unique(np.round(np.linspace(0, len(origins) - 1, k)).astype(int))]
    assert pick[-1] == len(values) - 1 and len(pick) == k
    X = np.stack([values[o - window : o] for o in pick])
    ref = Ridge(alpha=0.5).fit(X, values[pick])
    np.testing.assert_allclose(f.estimator_.coef_.ravel(), ref.coef_, rtol=1e-10)
    full = Forecaster(Ridge(alpha=0.5), window=window, standardize=False).fit(y)
    assert not np.allclose(full.estimator_.coef_.ravel(), ref.coef_)


def test_deseasonalized_quantiles_are_the_inner_ones_shifted():
    y = _half_hourly(n=672)
    f = DeseasonalizedForecaster(ARIMAForecaster(order=(1, 0, 0)), 48).fit(y)
    adjusted, comps = deseasonalize(y.to_numpy(), 48)
    inner = ARIMAForecaster(order=(1, 0, 0)).fit(pd.Series(adjusted, index=y.index))
    q = f.predict_quantiles(20, quantiles=(0.1, 0.5, 0.9))
    ref = inner.predict_quantiles(20, quantiles=(0.1, 0.5, 0.9)).to_numpy() + comps.forecast(20)[:, None]
    np.testing.assert_allclose(q.to_numpy(), ref, rtol=1e-10)


@pytest.mark.parametrize(("days", "warned"), [(1155, True), (1540, False)])
def test_compare_warns_when_the_first_window_holds_the_yearly_season_fewer_than_four_times(days, warned):
    """Daily data, 5 windows of 14 days: the first window trains on ``days - 70`` values. By hand,
    1,085 / 365.25 = 2.97 yearly cycles: warned ("3.0 times"); 1,470 > 4 * 365.25 = 1,461: not."""
    import warnings

    from tsrnn import compare

    t = np.arange(days)
    y = pd.Series(
        100 + 3 * np.sin(2 * np.pi * t / 7) + 10 * np.sin(2 * np.pi * t / 365.25),
        index=pd.date_range("2020-01-01", periods=days, freq="D"),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = compare(y, ["snaive"], horizon=14, n_windows=5)
    notes = [str(w.message) for w in caught if "MSTL estimates such a season poorly" in str(w.message)]
    assert summary.attrs["seasonal_periods"] == (7, 365.25)
    if warned:
        assert len(notes) == 1 and "the 365.25-step season 3.0 times" in notes[0]
        assert "seasonal_period=7" in notes[0] and summary.attrs["season_note"] == notes[0]
    else:
        assert notes == [] and summary.attrs["season_note"] is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        one = compare(y, ["snaive"], horizon=14, n_windows=5, seasonal_period=7)
    assert one.attrs["season_note"] is None
    assert not [w for w in caught if "MSTL" in str(w.message)]
