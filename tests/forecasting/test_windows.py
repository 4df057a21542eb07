"""make_windows: layout checked against matrices written out by hand, and against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn import make_windows


def test_one_series_hand_matrix():
    Xw, yw, idx = make_windows(np.arange(7.0), window=3, horizon=2, return_index=True)
    np.testing.assert_array_equal(Xw, [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(yw, [[3, 4], [4, 5], [5, 6]])
    assert list(idx) == [3, 4, 5]


def test_list_input_and_int_dtype():
    Xw, yw = make_windows([1, 2, 3, 4], window=2)
    np.testing.assert_array_equal(Xw, [[1, 2], [2, 3]])
    np.testing.assert_array_equal(yw, [3, 4])
    assert Xw.dtype == np.float64


def test_period_index_targets():
    y = pd.Series([10.0, 11, 12, 13], index=pd.period_range("2000", periods=4, freq="Y"))
    _, yw, idx = make_windows(y, window=2, return_index=True)
    np.testing.assert_array_equal(yw, [12, 13])
    assert list(idx) == [pd.Period("2002", "Y"), pd.Period("2003", "Y")]


def test_global_two_series_stacks_columns():
    y = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [10.0, 11, 12, 13]})
    Xw, yw, idx = make_windows(y, window=2, return_index=True)
    # time-major: the windows of both columns that end at the same time are adjacent
    np.testing.assert_array_equal(Xw, [[0, 1], [10, 11], [1, 2], [11, 12]])
    np.testing.assert_array_equal(yw, [2, 12, 3, 13])
    assert list(idx) == [(2, "a"), (2, "b"), (3, "a"), (3, "b")]


def test_global_series_id():
    y = pd.DataFrame({"a": [0.0, 1, 2], "b": [10.0, 11, 12]})
    Xw, yw = make_windows(y, window=2, series_id=True)
    # per step: [value, id_a, id_b]
    np.testing.assert_array_equal(Xw, [[0, 1, 0, 1, 1, 0], [10, 0, 1, 11, 0, 1]])
    np.testing.assert_array_equal(yw, [2, 12])


def test_joint_two_series_step_major():
    y = pd.DataFrame({"a": [0.0, 1, 2, 3, 4], "b": [10.0, 11, 12, 13, 14]})
    Xw, yw = make_windows(y, window=2, horizon=2, multi_series="joint")
    # step-major features: [a(t-2), b(t-2), a(t-1), b(t-1)]; targets [a(t), b(t), a(t+1), b(t+1)]
    np.testing.assert_array_equal(Xw, [[0, 10, 1, 11], [1, 11, 2, 12]])
    np.testing.assert_array_equal(yw, [[2, 12, 3, 13], [3, 13, 4, 14]])


def test_exogenous_leads_hand():
    index = pd.RangeIndex(5)
    y = pd.Series([0.0, 1, 2, 3, 4], index=index)
    X = pd.DataFrame({"p": [100.0, 101, 102, 103, 104], "q": [200.0, 201, 202, 203, 204]}, index=index)
    Xw, yw = make_windows(y, window=2, horizon=2, X=X)
    # step features: [y(s), p(s+1), q(s+1), p(s+2), q(s+2)]
    expected_first = [0, 101, 201, 102, 202, 1, 102, 202, 103, 203]
    expected_second = [1, 102, 202, 103, 203, 2, 103, 203, 104, 204]
    np.testing.assert_array_equal(Xw, [expected_first, expected_second])
    np.testing.assert_array_equal(yw, [[2, 3], [3, 4]])


def test_exogenous_aligned_by_label_not_position():
    index = pd.RangeIndex(4)
    y = pd.Series([0.0, 1, 2, 3], index=index)
    X = pd.DataFrame({"p": [3.0, 2, 1, 0, 9]}, index=[3, 2, 1, 0, 4])  # shuffled, one extra row
    Xw, _ = make_windows(y, window=1, X=X.sort_index(ascending=False))
    np.testing.assert_array_equal(Xw, [[0, 1], [1, 2], [2, 3]])


def test_exogenous_array():
    Xw, _ = make_windows(np.arange(4.0), window=1, X=np.arange(4.0) * 10)
    np.testing.assert_array_equal(Xw, [[0, 10], [1, 20], [2, 30]])


def test_as_3d_is_the_reshape_of_2d():
    rng = np.random.default_rng(0)
    y = pd.DataFrame(rng.normal(size=(12, 2)), columns=["a", "b"])
    X = pd.DataFrame(rng.normal(size=(12, 3)))
    flat, _ = make_windows(y, window=4, horizon=2, X=X, series_id=True)
    cube, _ = make_windows(y, window=4, horizon=2, X=X, series_id=True, as_3d=True)
    n_features = 1 + 3 * 2 + 2
    assert cube.shape == (2 * (12 - 4 - 2 + 1), 4, n_features)
    np.testing.assert_array_equal(cube.reshape(len(cube), -1), flat)
    # step k of sample 0 (column "a") starts with y["a"][k]
    np.testing.assert_array_equal(cube[0, :, 0], y["a"].to_numpy()[:4])


def test_matches_statsmodels_autoreg():
    from sklearn.linear_model import LinearRegression
    from statsmodels.tsa.ar_model import AutoReg

    rng = np.random.default_rng(1)
    e = rng.normal(size=300)
    y = np.zeros(300)
    for t in range(2, 300):
        y[t] = 0.5 * y[t - 1] - 0.3 * y[t - 2] + e[t]
    Xw, yw = make_windows(y, window=2)
    lr = LinearRegression().fit(Xw, yw)
    ar = AutoReg(y, lags=2, trend="c").fit()
    # statsmodels orders params [const, lag1, lag2]; our columns are [y(t-2), y(t-1)]
    np.testing.assert_allclose([lr.intercept_, lr.coef_[1], lr.coef_[0]], ar.params, rtol=1e-10)


def test_grid_search_over_windows():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    rng = np.random.default_rng(2)
    y = np.sin(np.arange(200) / 5) + 0.01 * rng.normal(size=200)
    Xw, yw = make_windows(y, window=5)
    gs = GridSearchCV(Ridge(), {"alpha": [1e-4, 100.0]}, cv=TimeSeriesSplit(3)).fit(Xw, yw)
    assert gs.best_params_["alpha"] == 1e-4  # a clean sinusoid needs no shrinkage


def test_errors():
    with pytest.raises(ValueError, match=r"5 time steps, too few for window=4 and horizon=2.*6 steps"):
        make_windows(np.arange(5.0), window=4, horizon=2)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        make_windows(np.arange(5.0), window=0)
    with pytest.raises(ValueError, match=r"1-D .* or 2-D"):
        make_windows(np.zeros((2, 2, 2)), window=1)
    with pytest.raises(ValueError, match="NaN"):
        make_windows(np.array([1.0, np.nan, 3.0]), window=1)
    with pytest.raises(ValueError, match="one row per time step of y \\(4\\), got 3"):
        make_windows(np.arange(4.0), window=1, X=np.arange(3.0))
    with pytest.raises(ValueError, match="X does not cover the index of y"):
        make_windows(pd.Series(np.arange(4.0)), window=1, X=pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(TypeError, match="both as pandas or both as arrays"):
        make_windows(np.arange(4.0), window=1, X=pd.DataFrame({"x": np.arange(4.0)}))
    with pytest.raises(ValueError, match="multi_series must be one of"):
        make_windows(np.arange(4.0), window=1, multi_series="local")
