"""Forecaster against hand computations: least squares by np.linalg.lstsq on hand-built lag
matrices, forecasts by explicit loops, future labels written out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.multioutput import MultiOutputRegressor

from tsrnn import Forecaster

from ..kpss_oracle import rejects_stationarity

# -- hand oracles ------------------------------------------------------------------------------


def ols(rows: list[list[float]], targets) -> np.ndarray:
    """Least-squares coefficients ``[intercept, *slopes]`` (min-norm, like LinearRegression)."""
    A = np.column_stack([np.ones(len(rows)), np.asarray(rows, dtype=float)])
    return np.linalg.lstsq(A, np.asarray(targets, dtype=float), rcond=None)[0]


def apply(coef, row) -> float:
    return coef[0] + float(np.dot(coef[1:], row))


def hand_recursive(y: np.ndarray, w: int, H: int) -> np.ndarray:
    n = len(y)
    coef = ols([list(y[t - w : t]) for t in range(w, n)], [y[t] for t in range(w, n)])
    hist = list(y)
    for _ in range(H):
        hist.append(apply(coef, hist[-w:]))
    return np.array(hist[n:])


def hand_direct(y: np.ndarray, w: int, H: int) -> np.ndarray:
    n = len(y)
    rows = [list(y[t - w : t]) for t in range(w, n - H + 1)]  # the same rows for every step
    out = []
    for k in range(H):
        coef = ols(rows, [y[t + k] for t in range(w, n - H + 1)])
        out.append(apply(coef, y[n - w :]))
    return np.array(out)


def ar_series(n: int, seed: int, phi=(0.6, -0.2), c=1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(len(phi), n):
        y[t] = c + sum(p * y[t - 1 - i] for i, p in enumerate(phi)) + rng.normal()
    return y


# -- index continuation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (
            pd.period_range("2020-12-25", periods=40, freq="D"),
            pd.period_range("2021-02-03", periods=3, freq="D"),
        ),
        (pd.period_range("2015-06", periods=40, freq="M"), pd.period_range("2018-10", periods=3, freq="M")),
        (pd.period_range("1950", periods=40, freq="Y"), pd.period_range("1990", periods=3, freq="Y")),
        (pd.RangeIndex(40), pd.RangeIndex(40, 43)),
        (pd.RangeIndex(100, 500, 10), pd.RangeIndex(500, 530, 10)),
        (
            pd.date_range("2001-01-01", periods=40, freq="MS"),
            pd.date_range("2004-05-01", periods=3, freq="MS"),
        ),
        (
            pd.DatetimeIndex(list(pd.date_range("2001-01-01", periods=40, freq="D"))),  # no freq: inferred
            pd.DatetimeIndex(["2001-02-10", "2001-02-11", "2001-02-12"]),
        ),
    ],
    ids=[
        "daily-period",
        "monthly-period",
        "yearly-period",
        "range",
        "range-step-10",
        "month-start",
        "inferred",
    ],
)
@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_forecast_index_continues_input(index, expected, strategy):
    y = pd.Series(ar_series(40, 0), index=index, name="y")
    f = Forecaster(Ridge(), window=3, strategy=strategy, horizon=3).fit(y)
    pred = f.predict(3)
    assert isinstance(pred, pd.Series) and pred.name == "y"
    assert type(pred.index) is type(expected)
    assert list(pred.index) == list(expected)
    iv = f.predict_interval(3, coverage=0.5)
    assert list(iv.index) == list(expected)


# -- strategies against hand computation -----------------------------------------------------


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
@pytest.mark.parametrize("standardize", [True, False])
def test_linear_series_continues_exactly(strategy, standardize):
    y = pd.Series(3.0 + 0.5 * np.arange(30.0))
    f = Forecaster(LinearRegression(), window=3, strategy=strategy, horizon=6, standardize=standardize)
    np.testing.assert_allclose(f.fit(y).predict(6).to_numpy(), 3.0 + 0.5 * np.arange(30, 36), rtol=1e-9)


@pytest.mark.parametrize("standardize", [True, False])
def test_recursive_matches_hand_ols(standardize):
    y = ar_series(80, 1)
    f = Forecaster(LinearRegression(), window=3, standardize=standardize).fit(pd.Series(y))
    # OLS with an intercept is equivariant under the affine standardisation: same forecasts
    np.testing.assert_allclose(f.predict(7).to_numpy(), hand_recursive(y, 3, 7), rtol=1e-9)


@pytest.mark.parametrize("standardize", [True, False])
def test_direct_matches_hand_ols(standardize):
    y = ar_series(80, 2)
    f = Forecaster(LinearRegression(), window=3, strategy="direct", horizon=5, standardize=standardize)
    f.fit(pd.Series(y))
    np.testing.assert_allclose(f.predict(5).to_numpy(), hand_direct(y, 3, 5), rtol=1e-9)
    np.testing.assert_allclose(f.predict(2).to_numpy(), hand_direct(y, 3, 5)[:2], rtol=1e-9)


def test_direct_differs_from_recursive():
    # not a tautology check: on a noisy series the two strategies give different forecasts
    y = ar_series(80, 3)
    rec = hand_recursive(y, 3, 5)
    dirc = hand_direct(y, 3, 5)
    assert np.max(np.abs(rec - dirc)) > 1e-3


def test_direct_horizon_is_fixed():
    f = Forecaster(Ridge(), window=3, strategy="direct", horizon=4).fit(pd.Series(ar_series(50, 0)))
    with pytest.raises(ValueError, match=r"direct' fitted for horizon=4.*cannot forecast 5 steps"):
        f.predict(5)
    with pytest.raises(ValueError, match=r"direct' fitted for horizon=4"):
        f.predict_interval(6)
    with pytest.raises(ValueError, match=r"pass horizon=<steps>"):
        Forecaster(Ridge(), strategy="direct").fit(pd.Series(ar_series(50, 0)))


def test_direct_with_single_output_regressor():
    y = pd.Series(ar_series(60, 4))
    with pytest.raises(
        ValueError, match=r"GradientBoostingRegressor could not fit the multi-output.*MultiOutputRegressor"
    ):
        Forecaster(GradientBoostingRegressor(n_estimators=5), window=3, strategy="direct", horizon=3).fit(y)
    # wrapped: one model per step; with LinearRegression inside it equals the hand per-step OLS
    f = Forecaster(MultiOutputRegressor(LinearRegression()), window=3, strategy="direct", horizon=3).fit(y)
    np.testing.assert_allclose(f.predict(3).to_numpy(), hand_direct(y.to_numpy(), 3, 3), rtol=1e-9)


# -- several series ----------------------------------------------------------------------------


def test_global_model_matches_hand_pooled_ols():
    ya, yb = ar_series(50, 5), ar_series(50, 6, c=5.0) * 3
    y = pd.DataFrame({"north": ya, "south": yb}, index=pd.period_range("2000-01", periods=50, freq="M"))
    f = Forecaster(LinearRegression(), window=2).fit(y)
    pred = f.predict(4)
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == ["north", "south"]
    assert list(pred.index) == list(pd.period_range("2004-03", periods=4, freq="M"))
    # by hand: standardise each series with its own mean/std, pool the windows, one OLS
    zs = [(s - s.mean()) / s.std() for s in (ya, yb)]
    rows = [list(z[t - 2 : t]) for t in range(2, 50) for z in zs]
    coef = ols(rows, [z[t] for t in range(2, 50) for z in zs])
    for col, z, s in zip(["north", "south"], zs, (ya, yb)):
        hist = list(z)
        for _ in range(4):
            hist.append(apply(coef, hist[-2:]))
        np.testing.assert_allclose(pred[col].to_numpy(), np.array(hist[50:]) * s.std() + s.mean(), rtol=1e-9)


def test_global_series_id_sets_feature_count():
    y = pd.DataFrame({"a": ar_series(40, 1), "b": ar_series(40, 2), "c": ar_series(40, 3)})
    f = Forecaster(Ridge(), window=4, series_id=True).fit(y)
    assert f.n_step_features_ == 1 + 3
    assert f.estimator_.coef_.shape == (4 * (1 + 3),)
    assert list(f.predict(2).columns) == ["a", "b", "c"]


def test_joint_model_matches_hand_var1():
    ya, yb = ar_series(60, 7), ar_series(60, 8)
    y = pd.DataFrame({"a": ya, "b": yb})
    f = Forecaster(LinearRegression(), window=1, multi_series="joint", standardize=False).fit(y)
    rows = [[ya[t - 1], yb[t - 1]] for t in range(1, 60)]
    ca = ols(rows, ya[1:])
    cb = ols(rows, yb[1:])
    a, b = ya[-1], yb[-1]
    expected = []
    for _ in range(3):
        a, b = apply(ca, [a, b]), apply(cb, [a, b])
        expected.append([a, b])
    pred = f.predict(3)
    assert list(pred.columns) == ["a", "b"]
    np.testing.assert_allclose(pred.to_numpy(), expected, rtol=1e-9)


def test_dataframe_intervals_keep_columns():
    y = pd.DataFrame({"a": ar_series(80, 1), "b": ar_series(80, 2)})
    iv = Forecaster(Ridge(), window=3, calibration_size=30).fit(y).predict_interval(3, coverage=0.8)
    assert list(iv.columns) == [("a", "lower"), ("a", "upper"), ("b", "lower"), ("b", "upper")]
    assert np.all(iv.xs("upper", axis=1, level=1).to_numpy() > iv.xs("lower", axis=1, level=1).to_numpy())


# -- exogenous inputs --------------------------------------------------------------------------


def exog_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n + 5)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.5 * y[t - 1] + 2.0 * x[t] + 0.1 * rng.normal()
    index = pd.period_range("2000-01", periods=n + 5, freq="M")
    return pd.Series(y, index=index[:n]), pd.DataFrame({"x": x}, index=index)


def test_exogenous_recursive_matches_hand():
    y, X = exog_data()
    yv, xv = y.to_numpy(), X["x"].to_numpy()
    f = Forecaster(LinearRegression(), window=1).fit(y, X.iloc[:60])
    pred = f.predict(3, X=X.iloc[60:])
    # window step for target t carries [y(t-1), x(t)]
    coef = ols([[yv[t - 1], xv[t]] for t in range(1, 60)], yv[1:])
    last, expected = yv[-1], []
    for t in range(60, 63):
        last = apply(coef, [last, xv[t]])
        expected.append(last)
    np.testing.assert_allclose(pred.to_numpy(), expected, rtol=1e-9)
    assert abs(coef[2] - 2.0) < 0.1  # sanity: the hand fit finds the true effect


def test_exogenous_direct_matches_hand():
    y, X = exog_data()
    yv, xv = y.to_numpy(), X["x"].to_numpy()
    f = Forecaster(LinearRegression(), window=1, strategy="direct", horizon=2).fit(y, X.iloc[:60])
    # the single step carries [y(t-1), x(t), x(t+1)]
    rows = [[yv[t - 1], xv[t], xv[t + 1]] for t in range(1, 59)]
    expected = [
        apply(ols(rows, [yv[t + k] for t in range(1, 59)]), [yv[59], xv[60], xv[61]]) for k in range(2)
    ]
    np.testing.assert_allclose(f.predict(2, X=X.iloc[60:]).to_numpy(), expected, rtol=1e-9)
    # one step asked: the model still reads the covariates of its whole horizon
    with pytest.raises(ValueError, match="X does not cover the forecast horizon: 1 of the 2"):
        f.predict(1, X=X.iloc[60:61])
    np.testing.assert_allclose(f.predict(1, X=X.iloc[60:62]).to_numpy(), expected[:1], rtol=1e-9)


def test_exogenous_errors_are_clear():
    y, X = exog_data()
    with pytest.raises(ValueError, match=r"X does not cover the index of y: 1 timestamp.*2000-01"):
        Forecaster(Ridge(), window=2).fit(y, X.iloc[1:60])
    f = Forecaster(Ridge(), window=2).fit(y, X.iloc[:60])
    with pytest.raises(ValueError, match=r"fit with exogenous columns \['x'\].*pass X with 4 rows"):
        f.predict(4)
    with pytest.raises(
        ValueError, match=r"2 of the 4 future timestamps are missing, the first Period\('2005-03'"
    ):
        f.predict(4, X=X.iloc[60:62])
    with pytest.raises(ValueError, match=r"columns the forecaster was fit with, \['x'\]"):
        f.predict(1, X=X.iloc[60:].rename(columns={"x": "price"}))
    shifted = X.copy()
    shifted.index = shifted.index.to_timestamp()
    with pytest.raises(ValueError, match="indexed by a DatetimeIndex"):
        f.predict(1, X=shifted)
    g = Forecaster(Ridge(), window=2).fit(y)
    with pytest.raises(ValueError, match="fit without exogenous X"):
        g.predict(1, X=X.iloc[60:])


# -- update ------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_update_forecasts_from_new_end_without_refit(strategy):
    y = ar_series(70, 9)
    index = pd.RangeIndex(70)
    f = Forecaster(LinearRegression(), window=3, strategy=strategy, horizon=4).fit(
        pd.Series(y[:60], index=index[:60])
    )
    coef_before = f.estimator_.coef_.copy()
    f.update(pd.Series(y[60:70], index=index[60:70]))
    pred = f.predict(4)
    assert list(pred.index) == [70, 71, 72, 73]
    np.testing.assert_array_equal(f.estimator_.coef_, coef_before)  # not refitted
    # by hand: the coefficients of the first 60 points, applied from the end of all 70
    if strategy == "recursive":
        coef = ols([list(y[t - 3 : t]) for t in range(3, 60)], y[3:60])
        hist = list(y)
        for _ in range(4):
            hist.append(apply(coef, hist[-3:]))
        expected = hist[70:]
    else:
        rows = [list(y[t - 3 : t]) for t in range(3, 57)]
        expected = [apply(ols(rows, [y[t + k] for t in range(3, 57)]), y[67:70]) for k in range(4)]
    np.testing.assert_allclose(pred.to_numpy(), expected, rtol=1e-9)


def test_update_with_diff_and_exog():
    y, X = exog_data(n=60)
    yc = y.cumsum() + 100.0  # integrated series: diff=1 brings back the AR-X process
    f = Forecaster(LinearRegression(), window=1, diff=1).fit(yc.iloc[:50], X.iloc[:50])
    f.update(yc.iloc[50:60], X.iloc[50:60])
    pred = f.predict(2, X=X.iloc[60:62])
    d, xv = np.diff(yc.to_numpy()), X["x"].to_numpy()  # d[t - 1] = yc[t] - yc[t - 1]
    coef = ols([[d[t - 2], xv[t]] for t in range(2, 50)], [d[t - 1] for t in range(2, 50)])
    d1 = apply(coef, [d[58], xv[60]])
    d2 = apply(coef, [d1, xv[61]])
    last = yc.iloc[-1]
    np.testing.assert_allclose(pred.to_numpy(), [last + d1, last + d1 + d2], rtol=1e-9)
    with pytest.raises(ValueError, match="update\\(\\) needs X_new"):
        f.update(yc.iloc[:1].set_axis(pd.period_range("2005-01", periods=1, freq="M")))


# -- scikit-learn integration ------------------------------------------------------------------


class ShapeRecorder(RegressorMixin, BaseEstimator):
    """A regressor with tsrnn's ``input_size`` parameter that checks the windows it receives."""

    def __init__(self, input_size=1, random_state=None):
        self.input_size = input_size
        self.random_state = random_state

    def fit(self, X, y):
        assert X.shape[1] % self.input_size == 0
        self.seen_shape_ = X.shape
        self.lr_ = LinearRegression().fit(X, y)
        return self

    def predict(self, X):
        assert X.shape[1] == self.seen_shape_[1]
        return self.lr_.predict(X)


def test_input_size_and_random_state_set_on_a_clone():
    y = pd.DataFrame({"a": ar_series(40, 1), "b": ar_series(40, 2)})
    X = pd.DataFrame({"p": np.arange(40.0), "q": np.sin(np.arange(40.0))}, index=y.index)
    est = ShapeRecorder()
    f = Forecaster(est, window=5, strategy="direct", horizon=3, series_id=True, random_state=7).fit(y, X)
    # per step: the target, 2 exogenous columns at 3 leads, a 2-way one-hot id
    assert f.estimator_.input_size == 1 + 2 * 3 + 2 == f.n_step_features_
    assert f.estimator_.seen_shape_ == (2 * (40 - 5 - 3 + 1), 5 * 9)
    assert f.estimator_.random_state == 7
    assert est.input_size == 1 and est.random_state is None  # the user's object is untouched


def test_get_set_params_and_clone():
    f = Forecaster(Ridge(alpha=2.0), window=4)
    params = f.get_params()
    assert params["estimator__alpha"] == 2.0 and params["window"] == 4
    f.set_params(estimator__alpha=1e6, window=2)
    g = clone(f)
    assert g.estimator.alpha == 1e6 and g.window == 2 and g.estimator is not f.estimator
    y = pd.Series(ar_series(60, 0))
    # a huge ridge penalty shrinks every coefficient to 0: the forecast is the mean of the targets
    pred = g.fit(y).predict(2).to_numpy()
    np.testing.assert_allclose(pred, y.iloc[2:].mean(), atol=1e-3)


def test_grid_search_style_param_grid_runs():
    from sklearn.model_selection import ParameterGrid

    y = pd.Series(ar_series(60, 0))
    errs = {}
    for params in ParameterGrid({"window": [1, 2], "estimator__alpha": [0.1]}):
        f = clone(Forecaster(Ridge())).set_params(**params).fit(y.iloc[:50])
        errs[params["window"]] = np.mean(np.abs(f.predict(10).to_numpy() - y.iloc[50:].to_numpy()))
    assert set(errs) == {1, 2}


# -- parameter and data errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window": 0}, r"'window' parameter of Forecaster must be an int in the range \[1, inf\)"),
        ({"strategy": "dirty"}, r"'strategy' parameter of Forecaster must be a str among"),
        (
            {"diff": -1},
            r"'diff' parameter of Forecaster must be an int in the range \[0, inf\) or a str among",
        ),
        ({"diff": "yes"}, r"'diff' parameter .* or a str among \{'auto'\}"),
        (
            {"seasonal_period": 0},
            r"'seasonal_period' parameter of Forecaster must be an int in the range \[1",
        ),
        ({"multi_series": "local"}, r"'multi_series' parameter of Forecaster must be a str among"),
        (
            {"calibration_size": 1.5},
            r"'calibration_size' parameter .* float in the range \(0.0, 1.0\) or an int",
        ),
        ({"log": "yes"}, r"'log' parameter of Forecaster must be .*'auto'"),
        ({"normalize": "level"}, r"'normalize' parameter of Forecaster must be a str among"),
        ({"stl_period": 0}, r"'stl_period' parameter of Forecaster must be an int in the range \[1"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Forecaster(Ridge(), **params).fit(pd.Series(ar_series(40, 0)))


def test_too_short_series():
    with pytest.raises(ValueError, match=r"y has 10 time steps, too few: window 8 \+ 2 lost to differencing"):
        Forecaster(Ridge(), window=8, diff=2).fit(pd.Series(np.arange(10.0)))


def test_not_a_regressor():
    with pytest.raises(
        TypeError, match="'estimator' parameter of Forecaster must be an object implementing 'fit'"
    ):
        Forecaster("ridge").fit(pd.Series(ar_series(40, 0)))


def test_nan_error_tells_how_to_fill():
    y = pd.Series(
        np.r_[np.arange(10.0), np.nan, np.arange(10.0)],
        index=pd.date_range("2000-01-01", periods=21, freq="W-SAT"),
    )
    with pytest.raises(ValueError, match=r"y\.resample\('W-SAT'\)\.mean\(\)\.interpolate\(\)"):
        Forecaster(Ridge()).fit(y)


# -- diff="auto" -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "series", "expected"),
    [
        ("white noise", np.random.default_rng(0).normal(size=300), 0),
        ("stationary AR(1)", None, 0),
        ("linear trend", 0.05 * np.arange(300) + np.random.default_rng(1).normal(size=300), 1),
        ("random walk", np.cumsum(np.random.default_rng(2).normal(size=300)), 1),
    ],
)
def test_auto_diff_picks_the_order_a_kpss_test_supports(name, series, expected):
    y = ar_series(300, 3) if series is None else series
    f = Forecaster(Ridge(), window=6, diff="auto").fit(pd.Series(y))
    assert f.diff_ == expected, name
    # cross-check with KPSS written from the paper: level-stationarity rejected at 1% exactly
    # when differenced
    assert rejects_stationarity(y, 0.01) == (expected >= 1)


def test_auto_diff_on_the_documented_real_series():
    from tsrnn import datasets

    assert Forecaster(Ridge(), window=24, diff="auto").fit(datasets.load("sunspots")).diff_ == 0
    assert Forecaster(Ridge(), window=24, diff="auto").fit(datasets.load("co2_monthly")).diff_ == 1


def test_auto_diff_forecasts_equal_the_explicit_order():
    y = pd.Series(0.2 * np.arange(120) + np.sin(np.arange(120) / 3.0))
    auto = Forecaster(Ridge(alpha=1e-3), window=8, diff="auto").fit(y)
    explicit = Forecaster(Ridge(alpha=1e-3), window=8, diff=auto.diff_).fit(y)
    assert auto.diff_ == 1
    pd.testing.assert_series_equal(auto.predict(10), explicit.predict(10))
    pd.testing.assert_frame_equal(auto.predict_interval(10), explicit.predict_interval(10))


@pytest.mark.parametrize("normalize", ["none", "last"])
def test_linear_part_then_regressor_on_its_residuals_by_hand(normalize):
    """``linear=True``: least squares of the target on the window, the regressor fitted on its
    residuals, forecasts the sum; built by hand on the raw windows (no other transform)."""
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(3)
    y = pd.Series(np.cumsum(rng.normal(size=80)) + np.sin(np.arange(80)))
    w, h = 4, 3
    tree = DecisionTreeRegressor(max_depth=3, random_state=0)
    f = Forecaster(tree, window=w, standardize=False, normalize=normalize, linear=True).fit(y)
    v = y.to_numpy()
    windows = np.lib.stride_tricks.sliding_window_view(v[:-1], w)
    level = windows[:, -1:] if normalize == "last" else np.zeros((len(windows), 1))
    X, target = windows - level, v[w:] - level[:, 0]
    A = np.column_stack([X, np.ones(len(X))])
    beta = np.linalg.lstsq(A, target, rcond=None)[0]
    by_hand = clone(tree).fit(X, target - A @ beta)
    buf = list(v[-w:])
    for _ in range(h):
        win = np.array(buf[-w:])
        lvl = win[-1] if normalize == "last" else 0.0
        x = (win - lvl)[None, :]
        buf.append(float(np.append(x, 1.0) @ beta + by_hand.predict(x)[0] + lvl))
    np.testing.assert_allclose(f.predict(h).to_numpy(), buf[w:], rtol=1e-10)
    # the regressor alone (linear=False) forecasts something else
    plain = Forecaster(tree, window=w, standardize=False, normalize=normalize).fit(y)
    assert not np.allclose(plain.predict(h).to_numpy(), buf[w:])


def test_linear_part_is_refused_on_panels():
    panel = {"a": pd.Series(np.arange(30.0)), "b": pd.Series(np.arange(30.0) ** 0.5)}
    with pytest.raises(ValueError, match=r"linear=True is not available on panels yet"):
        Forecaster(LinearRegression(), window=3, linear=True).fit(panel)
    with pytest.raises(ValueError, match=r"normalize='last' is not available on panels yet"):
        Forecaster(LinearRegression(), window=3, normalize="last").fit(panel)


def test_linear_aicc_picks_the_order_statsmodels_likelihood_picks():
    """``linear="aicc"``: the order p of the least-squares autoregression on the last p window
    steps minimises the AICc computed from statsmodels' OLS log-likelihood; the one-step
    forecast is that OLS model's prediction."""
    import statsmodels.api as sm
    from sklearn.dummy import DummyRegressor

    rng = np.random.default_rng(11)
    x = np.zeros(300)
    for t in range(2, 300):
        x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + rng.normal()
    y = pd.Series(x)
    w = 6
    f = Forecaster(DummyRegressor(), window=w, standardize=False, linear="aicc").fit(y)
    windows = np.lib.stride_tricks.sliding_window_view(x[:-1], w)
    target = x[w:]
    n = len(target)
    aicc = []
    for p in range(w + 1):
        design = sm.add_constant(windows[:, w - p :], has_constant="add")
        res = sm.OLS(target, design).fit()
        k = p + 2  # coefficients and the noise variance
        aicc.append(-2 * res.llf + 2 * k + 2 * k * (k + 1) / (n - k - 1))
    p = int(np.argmin(aicc))
    assert p == 2  # the simulation's order
    assert f._model.linear.shape == (p + 1, 1)
    res = sm.OLS(target, sm.add_constant(windows[:, w - p :], has_constant="add")).fit()
    want = res.predict(np.r_[1.0, x[-p:]][None, :])[0]
    assert f.predict(1).iloc[0] == pytest.approx(want, rel=1e-9)
