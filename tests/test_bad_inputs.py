"""Bad input at every public entry point: a clear error naming what, where and how to fix it.

And the inputs that must work (constant series, values around 1e12 and 1e-12) do, with the
forecast checked against the scale-free answer. ``examples/bad_inputs.py`` tabulates the same
cases for docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsrnn import (
    ARIMAForecaster,
    Forecaster,
    GRURegressor,
    HMMForecaster,
    NaiveForecaster,
    RecurrentRegressor,
    backtest,
    compare,
    fit_many,
    make_windows,
)
from tsrnn._scaling import moments
from tsrnn.cli import main as cli_main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def monthly(n=48, level=10.0, scale=1.0, seed=0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = level + scale * (np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=n))
    return pd.Series(values, index=pd.date_range("2000-01-01", periods=n, freq="MS"), name="y")


def gru(**kw):
    return GRURegressor(**{"hidden_size": 4, "max_iter": 3, "early_stopping": False, "random_state": 0, **kw})


def forecaster():
    return Forecaster(gru(), window=6)


ENTRY_POINTS = {
    "Forecaster.fit": lambda y: forecaster().fit(y),
    "make_windows": lambda y: make_windows(y, 6),
    "NaiveForecaster.fit": lambda y: NaiveForecaster().fit(y),
    "ARIMAForecaster.fit": lambda y: ARIMAForecaster(order=(1, 0, 0)).fit(y),
    "HMMForecaster.fit": lambda y: HMMForecaster().fit(y),
    "backtest": lambda y: backtest(NaiveForecaster(), y, horizon=3),
    "compare": lambda y: compare(y, ["naive"], horizon=3),
    "fit_many": lambda y: fit_many(NaiveForecaster(), pd.DataFrame({"ok": monthly(), "bad": y})),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_nan_and_inf_name_count_first_timestamp_and_fix(entry):
    y = monthly()
    y.iloc[[9, 20, 30]] = [np.nan, np.inf, np.nan]
    with pytest.raises(ValueError) as info:
        ENTRY_POINTS[entry](y)
    message = str(info.value)
    assert "3 NaN or infinite value(s)" in message
    assert repr(y.index[9]) in message  # the first bad timestamp
    assert ".interpolate()" in message and ".dropna()" in message


def test_estimator_nan_messages_name_count_and_position():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 5)), rng.normal(size=20)
    X[3, 2] = X[7, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"X contains 2 NaN or infinite value\(s\), the first at index \(3, 2\)"
    ):
        gru().fit(X, y)
    y[5] = np.inf
    with pytest.raises(ValueError, match=r"y contains 1 NaN .*index \(5,\).*interpolate"):
        gru().fit(np.nan_to_num(X), y)
    est = gru().fit(np.nan_to_num(X), np.nan_to_num(y, posinf=0.0))
    with pytest.raises(ValueError, match=r"X contains 2 NaN"):
        est.predict(X)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda y: make_windows(y.iloc[:8], 6, horizon=3), r"8 time steps, too few.*window \+ horizon = 9"),
        (lambda y: forecaster().fit(y.iloc[:7]), r"7 time steps, too few.*needs at least 8"),
        (
            lambda y: Forecaster(gru(), window=6, strategy="direct", horizon=3).fit(y.iloc[:9]),
            r"9 time steps, too few: window 6 \+ horizon 3 \+ 1 needs at least 10",
        ),
        (
            lambda y: Forecaster(gru(), window=6, diff=1, seasonal_period=12).fit(y.iloc[:19]),
            r"window 6 \+ 13 lost to differencing \+ horizon 1 \+ 1 needs at least 21",
        ),
        (lambda y: ARIMAForecaster(order=(2, 1, 1)).fit(y.iloc[:6]), r"6 observations.*needs at least 9"),
        (lambda y: HMMForecaster().fit(y.iloc[:10]), r"10 observations.*needs at least 20"),
        (lambda y: backtest(NaiveForecaster(), y.iloc[:10], horizon=3), r"10 observations.*need at least 17"),
        (
            lambda y: NaiveForecaster(seasonal_period=12).fit(y.iloc[:12]),
            r"12 observation.*needs at least 13",
        ),
    ],
)
def test_too_short_series_state_the_minimum_length(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(monthly())


@pytest.mark.parametrize(
    ("fit", "n"),
    [
        (lambda y: forecaster().fit(y), 8),
        (lambda y: Forecaster(gru(), window=6, strategy="direct", horizon=3).fit(y), 10),
        (lambda y: Forecaster(gru(), window=6, diff=1, seasonal_period=12).fit(y), 21),
        (lambda y: ARIMAForecaster(order=(2, 1, 1)).fit(y), 9),
        (lambda y: NaiveForecaster(seasonal_period=12).fit(y), 13),
    ],
)
def test_short_enough_is_accepted_exactly_at_the_stated_minimum(fit, n):
    """The minimum lengths stated by the errors above are accepted, and the forecast follows.

    (HMMForecaster's stated 20 passes its length check, but on this 20-step series the
    Markov-switching fit itself fails with a clean error, so it is not listed here.)
    """
    y = monthly().iloc[:n]
    forecast = fit(y).predict(3)
    expected_index = pd.date_range(y.index[-1], periods=4, freq="MS")[1:]
    assert forecast.index.equals(expected_index)
    assert np.isfinite(forecast.to_numpy()).all()
    # on the data's scale: the series lives in [level - 1.3, level + 1.3] = [8.7, 11.3]
    assert np.abs(forecast.to_numpy() - 10.0).max() < 10.0


def test_windows_and_backtest_at_the_stated_minimum():
    y = monthly()
    X, Y = make_windows(y.iloc[:9], 6, horizon=3)
    values = y.to_numpy()
    np.testing.assert_array_equal(X, values[None, :6])
    np.testing.assert_array_equal(Y, values[None, 6:9])
    res = backtest(NaiveForecaster(), y.iloc[:17], horizon=3)
    # the last window's naive forecast repeats the last value before its origin (by hand)
    last = res[res["window"] == res["window"].max()]
    origin = len(y.iloc[:17]) - 3
    np.testing.assert_array_equal(last["y_pred"].to_numpy(), np.full(3, values[origin - 1]))


def test_non_numeric_duplicated_unsorted_irregular_and_empty():
    y = monthly()
    text = pd.DataFrame({"y": y, "label": "a"})
    for call in (
        lambda d: forecaster().fit(d),
        lambda d: make_windows(d, 6),
        lambda d: fit_many(NaiveForecaster(), d),
    ):
        with pytest.raises(TypeError, match=r"non-numeric column\(s\) \['label'\].*pd.to_numeric"):
            call(text)
    dup = pd.concat([y.iloc[:20], y.iloc[19:]])
    with pytest.raises(ValueError, match=r"duplicated timestamps \(first: Timestamp\('2001-08-01.*groupby"):
        ARIMAForecaster(order=(1, 0, 0)).fit(dup)
    swapped = y.iloc[[*range(10), 11, 10, *range(12, 48)]]
    with pytest.raises(ValueError, match=r"not sorted in time \(Timestamp\('2000-11-01.*follows.*sort_index"):
        HMMForecaster().fit(swapped)
    irregular = y.iloc[[0, 1, 2, 4, 7, 8, 10, 15, 16, 17, 20, 21, 25, 30, 31, 33, 40, 41, 44, 47]]
    with pytest.raises(ValueError, match=r"no regular frequency.*resample.*freq="):
        NaiveForecaster().fit(irregular)
    # with the frequency given, the same data is accepted (a gappy monthly series)
    NaiveForecaster().set_params().fit(irregular.resample("MS").mean().interpolate())
    for call in (lambda d: forecaster().fit(d), lambda d: backtest(NaiveForecaster(), d, horizon=2)):
        with pytest.raises(ValueError, match=r"y is empty \(shape \(0, 1\)\)"):
            call(y.iloc[:0])
    with pytest.raises(ValueError, match="0 sample"):
        gru().fit(np.empty((0, 6)), np.empty(0))


def test_exogenous_frames_must_cover_the_index_and_the_horizon():
    y = monthly()
    X = pd.DataFrame({"x": np.cos(np.arange(60))}, index=pd.date_range("2000-01-01", periods=60, freq="MS"))
    for call in (
        lambda: forecaster().fit(y, X=X.iloc[5:]),
        lambda: ARIMAForecaster(order=(1, 0, 0)).fit(y, X=X.iloc[5:]),
        lambda: backtest(forecaster(), y, horizon=3, X=X.iloc[5:]),
        lambda: make_windows(y, 6, X=X.iloc[5:]),
    ):
        with pytest.raises(ValueError, match=r"X does not cover the index of y: 5 timestamp\(s\) missing"):
            call()
    f = forecaster().fit(y, X=X.iloc[:48])
    with pytest.raises(ValueError, match=r"does not cover the forecast horizon: 1 of the 3.*2004-03-01"):
        f.predict(3, X=X.iloc[47:50])
    with pytest.raises(ValueError, match=r"needs their future values"):
        f.predict(3)
    with pytest.raises(ValueError, match=r"columns the forecaster was fit with, \['x'\]; got \['z'\]"):
        f.predict(3, X=X.iloc[48:51].rename(columns={"x": "z"}))


def test_wrong_x_shape_at_predict_time():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 6)), rng.normal(size=20)
    est = gru().fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but GRURegressor is expecting 6"):
        est.predict(X[:, :5])
    with pytest.raises(ValueError, match=r"X is 3-D but GRURegressor was fitted on 2-D X.*\(n_samples, 6\)"):
        est.predict(X[:, :, None])
    est3 = gru().fit(X.reshape(20, 3, 2), y)
    with pytest.raises(ValueError, match="X has 2 features, but GRURegressor is expecting 3"):  # time steps
        est3.predict(X.reshape(20, 2, 3))


def run_cli(tmp_path, csv: str) -> tuple[int, str]:
    path = tmp_path / "data.csv"
    path.write_text(csv)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli_main(
            ["compare", "--csv", str(path), "--time-col", "date", "--target", "y", "--models", "naive",
             "--horizon", "3", "--windows", "2", "--no-progress"]
        )  # fmt: skip
    return code, err.getvalue()


def csv_of(y: pd.Series) -> str:
    return pd.DataFrame({"date": y.index.strftime("%Y-%m-%d"), "y": y.to_numpy()}).to_csv(index=False)


def test_cli_reports_bad_csv_files_in_one_line(tmp_path):
    y = monthly()
    cases = {
        "date,y\n": "has a header but no data rows",
        csv_of(
            pd.concat([y.iloc[:20], y.iloc[19:]])
        ): r"duplicated timestamps \(first: Timestamp\('2001-08-01",
        csv_of(y.iloc[::-1]): "is not sorted in time",
        csv_of(y).replace(
            f"{y.iloc[10]}", "n/a", 1
        ): r"1 missing or non-numeric value\(s\), the first in data row 11",
    }
    for csv, pattern in cases.items():
        code, err = run_cli(tmp_path, csv)
        assert code == 2 and re.search(pattern, err), err
        assert err.count("\n") == 1  # one line, no traceback


def test_scaling_rule_for_constant_huge_and_tiny_columns():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(50, 1))
    data = np.hstack([np.full((50, 1), 7.5), np.zeros((50, 1)), 1e-12 * (1 + 0.1 * noise), 1e12 + noise])
    mean, scale = moments(data)
    np.testing.assert_allclose(mean, data.mean(axis=0))
    assert scale[0] == 7.5 and scale[1] == 1.0  # constant: its level (zero column: 1)
    np.testing.assert_allclose(scale[2:], data[:, 2:].std(axis=0))  # real spreads, however small or offset


def scale_free(make, factor: float, fit_predict):
    """Fit on the plain data and on the data times ``factor``: the second must be the first times factor."""
    return fit_predict(make(), 1.0) * factor, fit_predict(make(), factor)


@pytest.mark.parametrize("factor", [1e12, 1e-12])
def test_huge_and_tiny_values_train_like_unit_values(factor):
    y = monthly()
    expected, got = scale_free(forecaster, factor, lambda f, k: f.fit(y * k).predict(4).to_numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    rng = np.random.default_rng(1)
    X, t = rng.normal(size=(40, 6)), rng.normal(size=40)
    expected, got = scale_free(gru, factor, lambda est, k: est.fit(X * k, t * k).predict(X[:5] * k))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_constant_series_forecast_the_constant():
    const = pd.Series(7.5, index=monthly().index)
    np.testing.assert_allclose(forecaster().fit(const).predict(3), 7.5, rtol=1e-2)
    np.testing.assert_allclose(Forecaster(Ridge(), window=6).fit(const).predict(3), 7.5, rtol=1e-12)
    np.testing.assert_allclose(NaiveForecaster(drift=True).fit(const).predict(3), 7.5, rtol=0)
    np.testing.assert_allclose(ARIMAForecaster().fit(const).predict(3), 7.5, rtol=1e-6)
    np.testing.assert_allclose(
        RecurrentRegressor(hidden_size=4, max_iter=5)
        .fit(np.ones((20, 6)), np.full(20, 3.0))
        .predict(np.ones((2, 6))),
        3.0,
        rtol=1e-2,
    )
    with pytest.raises(ValueError, match=r"constant \(every value 7.5\).*NaiveForecaster"):
        HMMForecaster().fit(const)
    summary = compare(const, ["naive", "drift"], horizon=3, n_windows=2)
    assert (summary["mae"] == 0).all()


def _without_rounding_noise(table: str) -> str:
    """The table with the figures that vary in the last bits (relative differences far below
    their bound, run times) replaced by ``*``."""
    table = re.sub(r"max relative difference [-+.e0-9]+", "max relative difference *", table)
    return re.sub(r"in [0-9.]+ s", "in * s", table)


@pytest.mark.slow
def test_the_documented_bad_input_table_is_what_the_code_does():
    """docs/reliability.md's table of 76 cases (written by examples/bad_inputs.py) matches a
    fresh run of every case, and every case still behaves as expected."""
    import importlib.util
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "tsrnn_example_bad_inputs", root / "examples" / "bad_inputs.py"
    )
    example = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = example  # its dataclass looks its module up there
    spec.loader.exec_module(example)
    rows = [(case, *example.run(case)) for case in example.cases()]
    assert [f"{case.name} / {case.entry}" for case, _, ok in rows if not ok] == []
    doc = (root / "docs" / "reliability.md").read_text(encoding="utf-8")
    documented = doc.split(example.START, 1)[1].split(example.END, 1)[0]
    documented_table = documented.strip().split("\n\n")[0]
    assert _without_rounding_noise(example.table(rows)) == _without_rounding_noise(documented_table)
