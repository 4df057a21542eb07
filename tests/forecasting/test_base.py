"""BaseForecaster plumbing: index continuation, pandas in/out, input errors.

The oracle for every index is written by hand (explicit timestamps or ``pd.Period`` arithmetic),
never produced by ``future_index`` itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn.forecasting import BaseForecaster, check_series, future_index


class LastValue(BaseForecaster):
    """Forecasts the last observed value (plus the last exogenous value, if any): a hand oracle."""

    _supports_exog = True

    def __init__(self, freq=None):
        self.freq = freq

    def _fit(self, values, X):
        self.last_ = values[-1].copy()

    def _predict(self, horizon, X):
        out = np.tile(self.last_, (horizon, 1))
        if X is not None:
            out = out + X[:, :1]
        return out

    def _predict_interval(self, horizon, coverage, X):
        point = self._predict(horizon, X)
        return point - 1.0, point + 1.0

    def _update(self, values, X):
        self.last_ = values[-1].copy()


# -- future_index: index continuation --------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (
            pd.period_range("2021-02-26", periods=3, freq="D"),
            pd.PeriodIndex([pd.Period("2021-03-01", "D"), pd.Period("2021-03-02", "D")]),
        ),
        (
            pd.period_range("2019-11", periods=2, freq="M"),
            pd.PeriodIndex([pd.Period("2020-01", "M"), pd.Period("2020-02", "M")]),
        ),
        (
            pd.period_range("1998", periods=3, freq="Y"),
            pd.PeriodIndex([pd.Period("2001", "Y"), pd.Period("2002", "Y")]),
        ),
        (
            pd.period_range("2020Q3", periods=2, freq="Q"),
            pd.PeriodIndex([pd.Period("2021Q1", "Q"), pd.Period("2021Q2", "Q")]),
        ),
    ],
    ids=["daily-period-over-month-end", "monthly-period-over-year", "yearly-period", "quarterly-period"],
)
def test_future_index_period(index, expected):
    got = future_index(index, 2)
    assert isinstance(got, pd.PeriodIndex)
    assert got.freqstr == index.freqstr
    assert list(got) == list(expected)


def test_future_index_period_keeps_name():
    index = pd.period_range("2000", periods=3, freq="Y", name="year")
    assert future_index(index, 2).name == "year"


def test_future_index_datetime_with_freq():
    index = pd.date_range("2020-01-31", periods=3, freq="ME", name="t")
    got = future_index(index, 3)
    assert list(got) == [pd.Timestamp("2020-04-30"), pd.Timestamp("2020-05-31"), pd.Timestamp("2020-06-30")]
    assert got.freqstr == "ME" and got.name == "t"


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        (["2020-01-01", "2020-01-02", "2020-01-03"], ["2020-01-04", "2020-01-05"]),
        (["2020-01-01", "2020-02-01", "2020-03-01"], ["2020-04-01", "2020-05-01"]),
        (["2018-12-31", "2019-12-31", "2020-12-31"], ["2021-12-31", "2022-12-31"]),
        (["2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"], ["2024-01-10", "2024-01-11"]),
    ],
    ids=["daily", "month-start", "year-end", "business-days"],
)
def test_future_index_datetime_inferred_freq(stamps, expected):
    index = pd.DatetimeIndex(stamps)  # built from a list: no freq attached
    assert index.freq is None
    got = future_index(index, 2)
    assert list(got) == [pd.Timestamp(s) for s in expected]
    assert got.dtype == index.dtype


def test_future_index_datetime_tz_preserved():
    index = pd.date_range("2020-03-27", periods=2, freq="D", tz="Europe/Paris")
    got = future_index(index, 3)
    # crosses the 2020-03-29 daylight-saving change: still midnight local time
    assert list(got) == [pd.Timestamp(f"2020-03-{d} 00:00", tz="Europe/Paris") for d in (29, 30, 31)]


def test_future_index_user_freq_overrides_missing():
    index = pd.DatetimeIndex(["2020-01-01", "2020-01-03"])  # two points: no inference possible
    got = future_index(index, 2, freq="2D")
    assert list(got) == [pd.Timestamp("2020-01-05"), pd.Timestamp("2020-01-07")]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.RangeIndex(5), [5, 6, 7]),
        (pd.RangeIndex(10, 25, 5), [25, 30, 35]),
        (pd.Index([3, 5, 7, 9]), [11, 13, 15]),
        (pd.Index([1990, 1991]), [1992, 1993, 1994]),
        (pd.Index([4]), [5, 6, 7]),
    ],
)
def test_future_index_integer(index, expected):
    got = future_index(index, 3)
    assert isinstance(got, pd.RangeIndex)
    assert list(got) == expected


def test_future_index_irregular_datetime_error():
    index = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-06"])
    with pytest.raises(ValueError, match=r"no regular frequency.*freq="):
        future_index(index, 2)


def test_future_index_uneven_integer_error():
    with pytest.raises(ValueError, match="not evenly spaced"):
        future_index(pd.Index([0, 1, 3]), 2)


def test_future_index_float_index_error():
    with pytest.raises(TypeError, match=r"DatetimeIndex, PeriodIndex or integer index.*Index"):
        future_index(pd.Index([0.0, 0.5, 1.0]), 2)


# -- BaseForecaster: pandas in and out --------------------------------------------------------


def test_predict_series_in_series_out():
    y = pd.Series([1.0, 2.0, 5.0], index=pd.period_range("2000-01", periods=3, freq="M"), name="sales")
    f = LastValue().fit(y)
    pred = f.predict(2)
    assert isinstance(pred, pd.Series) and pred.name == "sales"
    assert list(pred.index) == [pd.Period("2000-04", "M"), pd.Period("2000-05", "M")]
    np.testing.assert_array_equal(pred.to_numpy(), [5.0, 5.0])


def test_predict_dataframe_in_dataframe_out():
    y = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=pd.RangeIndex(2))
    pred = LastValue().fit(y).predict(3)
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == ["a", "b"]
    assert list(pred.index) == [2, 3, 4]
    np.testing.assert_array_equal(pred.to_numpy(), [[2.0, 4.0]] * 3)


def test_predict_interval_layout():
    y = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    iv = LastValue().fit(y).predict_interval(2)
    assert list(iv.columns) == [("a", "lower"), ("a", "upper"), ("b", "lower"), ("b", "upper")]
    np.testing.assert_array_equal(iv.to_numpy(), [[1.0, 3.0, 3.0, 5.0]] * 2)
    iv1 = LastValue().fit(y["a"]).predict_interval(2)
    assert list(iv1.columns) == ["lower", "upper"]


def test_datetime_without_freq_is_inferred_in_fit():
    y = pd.Series([1.0, 2.0, 3.0], index=pd.DatetimeIndex(["2021-01-01", "2021-02-01", "2021-03-01"]))
    pred = LastValue().fit(y).predict(1)
    assert list(pred.index) == [pd.Timestamp("2021-04-01")]


def test_freq_parameter_used_when_not_inferable():
    y = pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2021-01-01", "2021-01-08"]))
    with pytest.raises(ValueError, match="no regular frequency"):
        LastValue().fit(y)
    pred = LastValue(freq="7D").fit(y).predict(1)
    assert list(pred.index) == [pd.Timestamp("2021-01-15")]


# -- update ------------------------------------------------------------------------------------


def test_update_moves_origin():
    y = pd.Series([1.0, 2.0, 3.0], index=pd.period_range("2000", periods=3, freq="Y"))
    f = LastValue().fit(y)
    f.update(pd.Series([7.0], index=pd.period_range("2003", periods=1, freq="Y")))
    pred = f.predict(1)
    assert list(pred.index) == [pd.Period("2004", "Y")]
    assert pred.iloc[0] == 7.0
    f.update(pd.Series([8.0, 9.0], index=pd.period_range("2004", periods=2, freq="Y")))
    assert list(f.predict(1).index) == [pd.Period("2006", "Y")]


def test_update_range_index_twice():
    f = LastValue().fit(pd.Series([1.0, 2.0]))
    f.update(pd.Series([3.0], index=pd.RangeIndex(2, 3)))
    f.update(pd.Series([4.0], index=pd.RangeIndex(3, 4)))
    pred = f.predict(2)
    assert list(pred.index) == [4, 5] and pred.iloc[0] == 4.0


def test_update_gap_error():
    y = pd.Series([1.0, 2.0, 3.0], index=pd.period_range("2000", periods=3, freq="Y"))
    f = LastValue().fit(y)
    with pytest.raises(ValueError, match=r"continue the training data.*2003"):
        f.update(pd.Series([7.0], index=pd.period_range("2004", periods=1, freq="Y")))


def test_update_column_mismatch_errors():
    y = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    f = LastValue().fit(y)
    with pytest.raises(ValueError, match="1 column"):
        f.update(pd.DataFrame({"a": [5.0]}, index=pd.RangeIndex(2, 3)))
    with pytest.raises(ValueError, match=r"columns the forecaster was fit on, \['a', 'b'\]"):
        f.update(pd.DataFrame({"a": [5.0], "c": [6.0]}, index=pd.RangeIndex(2, 3)))
    # same columns in another order: reordered, not mixed up
    f.update(pd.DataFrame({"b": [6.0], "a": [5.0]}, index=pd.RangeIndex(2, 3)))
    np.testing.assert_array_equal(f.predict(1).to_numpy(), [[5.0, 6.0]])


# -- errors ------------------------------------------------------------------------------------


def test_check_series_errors():
    with pytest.raises(TypeError, match="pandas Series or DataFrame"):
        check_series(np.arange(3.0))
    with pytest.raises(ValueError, match="empty"):
        check_series(pd.Series([], dtype=float))
    with pytest.raises(TypeError, match="non-numeric"):
        check_series(pd.Series(["a", "b"]))
    with pytest.raises(ValueError, match="duplicated timestamps"):
        check_series(pd.Series([1.0, 2.0], index=[0, 0]))
    with pytest.raises(ValueError, match="not sorted"):
        check_series(pd.Series([1.0, 2.0], index=[1, 0]))


def test_nan_error_says_what_to_do():
    index = pd.date_range("2000-01-01", periods=5, freq="W-SAT")
    y = pd.Series([1.0, np.nan, 3.0, 4.0, 5.0], index=index)
    with pytest.raises(ValueError, match=r"2000-01-08.*y\.interpolate\(\).*y\.resample\('W-SAT'\)"):
        LastValue().fit(y)
    values, _ = check_series(y, allow_nan=True)
    assert np.isnan(values[1, 0])


@pytest.mark.parametrize("horizon", [0, -1, 1.5, True, "3"])
def test_bad_horizon(horizon):
    f = LastValue().fit(pd.Series([1.0, 2.0]))
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        f.predict(horizon)


@pytest.mark.parametrize("coverage", [0.0, 1.0, 90, "0.9"])
def test_bad_coverage(coverage):
    f = LastValue().fit(pd.Series([1.0, 2.0]))
    with pytest.raises(ValueError, match="coverage must be a probability"):
        f.predict_interval(2, coverage=coverage)


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LastValue().predict(1)


def test_exogenous_errors():
    index = pd.RangeIndex(4)
    y = pd.Series([1.0, 2.0, 3.0, 4.0], index=index)
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}, index=index)
    with pytest.raises(ValueError, match=r"X does not cover the index of y: 1 timestamp.*3"):
        LastValue().fit(y, X.iloc[:3])
    f = LastValue().fit(y, X)
    with pytest.raises(ValueError, match=r"needs their future values: pass X with 2 rows"):
        f.predict(2)
    with pytest.raises(ValueError, match=r"1 of the 2 future timestamps are missing, the first 5"):
        f.predict(2, X=pd.DataFrame({"x": [9.0]}, index=pd.RangeIndex(4, 5)))
    with pytest.raises(ValueError, match=r"columns the forecaster was fit with, \['x'\]"):
        f.predict(1, X=pd.DataFrame({"z": [9.0]}, index=pd.RangeIndex(4, 5)))
    with pytest.raises(TypeError, match="pandas DataFrame"):
        f.predict(1, X=np.ones((1, 1)))
    with pytest.raises(ValueError, match="update\\(\\) needs X_new"):
        f.update(pd.Series([5.0], index=pd.RangeIndex(4, 5)))
    # extra future rows are fine: X is aligned on the forecast index, not taken by position
    Xf = pd.DataFrame({"x": [10.0, 20.0, 30.0]}, index=pd.RangeIndex(3, 6))
    np.testing.assert_array_equal(f.predict(2, X=Xf).to_numpy(), [4.0 + 20.0, 4.0 + 30.0])
    g = LastValue().fit(y)
    with pytest.raises(ValueError, match="fit without exogenous X; pass X=None"):
        g.predict(1, X=Xf)
    with pytest.raises(ValueError, match="fit without exogenous X; pass X_new=None"):
        g.update(pd.Series([5.0], index=pd.RangeIndex(4, 5)), X_new=Xf)


def test_exogenous_index_kind_mismatch_hint():
    y = pd.Series([1.0, 2.0, 3.0], index=pd.period_range("2000-01", periods=3, freq="M"))
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0]}, index=pd.date_range("2000-01-01", periods=3, freq="MS"))
    with pytest.raises(ValueError, match=r"indexed by a DatetimeIndex.*but y by a PeriodIndex"):
        LastValue().fit(y, X)


def test_exogenous_nan_error():
    y = pd.Series([1.0, 2.0, 3.0])
    X = pd.DataFrame({"x": [0.0, np.nan, 2.0]})
    with pytest.raises(ValueError, match=r"X contains 1 NaN"):
        LastValue().fit(y, X)


def test_no_exog_support_error():
    class NoExog(LastValue):
        _supports_exog = False

    y = pd.Series([1.0, 2.0])
    with pytest.raises(ValueError, match="does not use exogenous regressors"):
        NoExog().fit(y, pd.DataFrame({"x": [1.0, 2.0]}))


def test_unimplemented_hooks_name_the_class():
    class Minimal(BaseForecaster):
        def _fit(self, values, X):
            self.v_ = values[-1]

        def _predict(self, horizon, X):
            return np.tile(self.v_, (horizon, 1))

    f = Minimal().fit(pd.Series([1.0, 2.0]))
    with pytest.raises(NotImplementedError, match="Minimal does not provide prediction intervals"):
        f.predict_interval(1)
    with pytest.raises(NotImplementedError, match="Minimal does not support update"):
        f.update(pd.Series([3.0], index=pd.RangeIndex(2, 3)))


def test_sklearn_clone_and_params():
    from sklearn.base import clone

    f = LastValue(freq="D")
    g = clone(f)
    assert g.get_params() == {"freq": "D"} and g is not f


# -- parameter rules as data, checked in fit without side effects --------------------------------


def _forecasters():
    from sklearn.linear_model import Ridge

    from tsrnn import ARIMAForecaster, Forecaster, HMMForecaster, NaiveForecaster, PerSeriesForecaster

    return [
        (Forecaster(Ridge(), window=3), {"window": 0}),
        (NaiveForecaster(), {"drift": "yes"}),
        (ARIMAForecaster(), {"order": (1, -1, 0)}),
        (ARIMAForecaster(), {"seasonal_order": (1, 0, 0, 1)}),
        (HMMForecaster(), {"k_regimes": 1}),
        (PerSeriesForecaster(NaiveForecaster()), {"n_jobs": "many"}),
        (PerSeriesForecaster(NaiveForecaster()), {"forecaster": object()}),
    ]


@pytest.mark.parametrize("index", range(7))
def test_every_forecaster_declares_its_parameter_rules_and_checks_them_in_fit_only(index):
    forecaster, bad = _forecasters()[index]
    cls = type(forecaster)
    assert set(cls._parameter_constraints) == set(cls._get_param_names())
    forecaster.set_params(**bad)  # __init__ and set_params store, never check
    before = dict(vars(forecaster))
    y = pd.Series(np.sin(np.arange(40.0)))
    with pytest.raises((ValueError, TypeError)):
        forecaster.fit(y)
    assert vars(forecaster).keys() == before.keys()  # a refused fit sets nothing
    assert all(vars(forecaster)[k] is v for k, v in before.items())
