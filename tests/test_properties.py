"""Property-based tests: every input either works or raises ValueError/TypeError with a message.

Random lengths, shapes, indexes (regular, irregular, unsorted, duplicated), scales and NaN/inf
patterns go into ``make_windows``, the ``Forecaster`` (with Ridge and with a tiny recurrent
model) and the recurrent estimators. Whatever comes back is checked against an independent
construction (windows built by a plain loop, future timestamps built from the frequency) and
must be finite; whatever is raised must be a ValueError/TypeError with a message, never another
exception. Example counts come from the Hypothesis profile in tests/conftest.py (50 by default,
``HYPOTHESIS_PROFILE=thorough`` for 500).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

from tsrnn import Forecaster, GRURegressor, RecurrentClassifier, RecurrentRegressor, make_windows

pytestmark = pytest.mark.filterwarnings("ignore")

INDEX_KINDS = ("range", "int-step", "daily", "monthly-period", "irregular", "unsorted", "duplicated")


@st.composite
def series(draw, max_len=40, max_series=3):
    """A random Series/DataFrame: its length, columns, index kind, scale and NaN/inf pattern."""
    # mostly lengths that can work, with the edge cases (empty, tiny) among them
    n = draw(st.one_of(st.integers(0, max_len), st.integers(max_len // 2, max_len)))
    m = draw(st.integers(1, max_series))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([1.0, 1e-12, 1e12, 0.0]))  # 0: a constant series
    values = 5.0 + scale * rng.normal(size=(n, m)).cumsum(axis=0)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2])) if n else 0):
        values[rng.integers(n), rng.integers(m)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    n_bad = int((~np.isfinite(values)).sum())
    kind = draw(st.sampled_from((*INDEX_KINDS, "range", "daily", "monthly-period")))  # mostly clean
    if kind == "range":
        index = pd.RangeIndex(n)
    elif kind == "int-step":
        index = pd.Index(np.arange(n) * 2 + 100)
    elif kind == "daily":
        index = pd.date_range("2020-01-01", periods=n, freq="D")
    elif kind == "monthly-period":
        index = pd.period_range("2000-01", periods=n, freq="M")
    elif kind == "irregular":
        index = pd.DatetimeIndex(
            pd.Timestamp("2020-01-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 4, n)), "D")
        )
    elif kind == "unsorted":
        index = pd.RangeIndex(n)[rng.permutation(n)]
    else:  # duplicated
        index = pd.Index(np.sort(rng.integers(0, max(1, n // 2 + 1), n)))
    frame = pd.DataFrame(values, index=index, columns=[f"c{j}" for j in range(m)])
    as_series = m == 1 and draw(st.booleans())
    return (frame["c0"] if as_series else frame), kind, n_bad


def reference_windows(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """One series (n,) cut by a plain loop: the definition, independent of the library."""
    X = [values[t - window : t] for t in range(window, len(values) - horizon + 1)]
    Y = [values[t : t + horizon] for t in range(window, len(values) - horizon + 1)]
    return np.array(X).reshape(-1, window), np.array(Y).reshape(-1, horizon)


def assert_clean_error(exc: Exception) -> None:
    event(f"refused: {type(exc).__name__}: {str(exc)[:40]}")
    assert isinstance(exc, (ValueError, TypeError)), f"{type(exc).__name__}: {exc}"
    assert len(str(exc)) > 20, f"uninformative message: {exc!r}"


@given(data=series(), window=st.integers(1, 8), horizon=st.integers(1, 4), joint=st.booleans())
def test_make_windows_works_or_explains(data, window, horizon, joint):
    y, _kind, n_bad = data
    try:
        Xw, yw = make_windows(y, window, horizon, multi_series="joint" if joint else "global")
    except Exception as exc:
        assert_clean_error(exc)
        n = len(y)
        # each refusal has a reason that the input really has
        if "NaN or infinite" in str(exc):
            assert n_bad > 0
        elif "duplicated" in str(exc):
            assert y.index.has_duplicates
        elif "not sorted" in str(exc):
            assert not y.index.is_monotonic_increasing
        elif "empty" in str(exc):
            assert n == 0
        else:
            assert "too few" in str(exc) and n < window + horizon, str(exc)
        return
    # it worked: so the input was clean, and the windows are the definition's
    event("worked")
    assert n_bad == 0 and not y.index.has_duplicates and y.index.is_monotonic_increasing
    values = y.to_numpy().reshape(len(y), -1)
    assert np.all(np.isfinite(Xw)) and np.all(np.isfinite(yw))
    per_col = [reference_windows(values[:, j], window, horizon) for j in range(values.shape[1])]
    if joint:  # all columns in every step, step-major
        X_ref = np.stack([x for x, _ in per_col], axis=2).reshape(len(per_col[0][0]), -1)
        Y_ref = np.stack([t for _, t in per_col], axis=2).reshape(len(per_col[0][1]), -1)
    else:  # (time, column) rows
        X_ref = np.stack([x for x, _ in per_col], axis=1).reshape(-1, window)
        Y_ref = np.stack([t for _, t in per_col], axis=1).reshape(-1, horizon)
    np.testing.assert_array_equal(Xw, X_ref)
    np.testing.assert_array_equal(yw.reshape(Y_ref.shape), Y_ref)


def expected_future(index: pd.Index, horizon: int) -> pd.Index:
    """The next ``horizon`` labels, from the index's own frequency (independent of tsrnn)."""
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freq or pd.tseries.frequencies.to_offset(pd.infer_freq(index))
        return pd.date_range(index[-1] + freq, periods=horizon, freq=freq)
    step = index[1] - index[0] if len(index) > 1 else 1
    return pd.Index(index[-1] + step * np.arange(1, horizon + 1))


def unusable_index(index: pd.Index) -> bool:
    """Duplicated, unsorted, or dates without a frequency that can be inferred (by pandas)."""
    if index.has_duplicates or not index.is_monotonic_increasing:
        return True
    if isinstance(index, pd.DatetimeIndex) and index.freq is None:
        return len(index) < 3 or pd.infer_freq(index) is None
    return False


def check_forecaster(make, data, horizon, min_length):
    """``min_length``: the shortest clean series the forecaster must accept (two training
    windows: the input window, the steps its model forecasts at once, and one more)."""
    y, _, n_bad = data
    bad_index = unusable_index(y.index)
    try:
        f = make().fit(y)
        forecast = f.predict(horizon)
    except Exception as exc:
        assert_clean_error(exc)
        if bad_index or n_bad or len(y) < min_length:
            return
        raise AssertionError(f"a clean series of {len(y)} steps was refused: {exc}") from exc
    event("worked")
    assert n_bad == 0 and not bad_index
    assert type(forecast) is type(y) and len(forecast) == horizon
    assert np.all(np.isfinite(forecast.to_numpy())), forecast
    np.testing.assert_array_equal(forecast.index.to_numpy(), expected_future(y.index, horizon).to_numpy())
    if isinstance(y, pd.DataFrame):
        assert list(forecast.columns) == list(y.columns)
    # forecasts stay on the scale of the data: within a generous band around what was seen
    values = y.to_numpy()
    span = np.ptp(values) + np.abs(values).max() * 1e-9 + 1e-300
    assert np.all(np.abs(forecast.to_numpy() - values.mean()) <= 100 * span)


@given(data=series(max_len=50), window=st.integers(1, 6), horizon=st.integers(1, 5), direct=st.booleans())
def test_forecaster_with_ridge_works_or_explains(data, window, horizon, direct):
    kw = {"strategy": "direct", "horizon": horizon} if direct else {}
    min_length = window + (horizon if direct else 1) + 1
    check_forecaster(lambda: Forecaster(Ridge(alpha=1e-3), window=window, **kw), data, horizon, min_length)


@settings(max_examples=10)
@given(data=series(max_len=40, max_series=2), window=st.integers(1, 5), horizon=st.integers(1, 3))
def test_forecaster_with_a_recurrent_model_works_or_explains(data, window, horizon):
    def make():
        return Forecaster(GRURegressor(hidden_size=3, max_iter=2, random_state=0), window=window)

    check_forecaster(make, data, horizon, window + 2)


DTYPES = ("float64", "float32", "int64", "bool", "object-numbers", "str")


@st.composite
def estimator_inputs(draw):
    n = draw(st.one_of(st.integers(0, 12), st.integers(6, 12)))
    steps = draw(st.one_of(st.integers(0, 5), st.integers(2, 5)))
    three_d = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.normal(size=(n, steps, 2) if three_d else (n, steps))
    y = rng.normal(size=n if draw(st.booleans()) else (n, 2))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2])) if X.size else 0):
        X.flat[rng.integers(X.size)] = draw(st.sampled_from([np.nan, np.inf]))
    n_bad = int((~np.isfinite(X)).sum())
    dtype = draw(st.sampled_from(DTYPES))
    if dtype == "object-numbers":
        X = X.astype(object)
    elif dtype == "str":  # text that is not a number ("0.12" alone would be parsed, as numpy does)
        X = np.char.add(X.astype(str), "kg")
    elif dtype in ("int64", "bool"):
        X = np.nan_to_num(X, posinf=7.0).astype(dtype)  # integers have no NaN: the defect is gone
        n_bad = 0
    else:
        X = X.astype(dtype)
    y_len = n + draw(st.sampled_from([0, 0, 0, 0, 0, -1, 1]))  # sometimes a mismatched y
    y = np.resize(y, (max(y_len, 0), *y.shape[1:]))
    return X, y, n_bad, dtype


@given(data=estimator_inputs(), classify=st.booleans())
def test_estimator_input_validation(data, classify):
    X, y, n_bad, dtype = data
    est = (
        RecurrentClassifier("rnn_tanh", hidden_size=3, max_iter=2, random_state=0)
        if classify
        else RecurrentRegressor("gru", hidden_size=3, max_iter=2, random_state=0)
    )
    if classify:  # labels: one column, two classes (a single class is refused with a message)
        y = ((y[:, 0] if y.ndim == 2 else y) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = n_bad == 0 and dtype != "str" and len(y) == len(X) and X.size > 0
        if classify:
            clean = clean and np.unique(y).size >= 2  # one class is refused with a message
        try:
            est.fit(X, y)
        except Exception as exc:
            assert_clean_error(exc)
            if clean:
                raise AssertionError(
                    f"clean X {X.shape} {dtype}, y {np.shape(y)} was refused: {exc}"
                ) from exc
            return
        event("worked")
        assert clean
        out = est.predict(X)
        assert out.shape[0] == len(X)
        if not classify:
            assert np.all(np.isfinite(out))
        else:
            assert np.all(np.isfinite(est.predict_proba(X)))
        # predict-time shape errors are clean too
        wrong = X[:, :-1] if X.shape[1] > 1 else np.concatenate([X, X], axis=1)
        with pytest.raises((ValueError, TypeError)) as info:
            est.predict(wrong)
        assert len(str(info.value)) > 20
        if np.issubdtype(X.dtype, np.floating):
            bad = X.copy()
            bad.flat[0] = np.nan
            with pytest.raises(
                ValueError, match=r"X contains 1 NaN or infinite value\(s\), the first at index"
            ):
                est.predict(bad)
