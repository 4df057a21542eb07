"""Scale-out: fit_many / PerSeriesForecaster, parallel backtest and compare, Dask clusters.

The oracle of every parallel run is the sequential run (``n_jobs=1``), compared bit for bit,
and for the per-series split, forecasters fitted one by one by hand.
"""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_info

from tsrnn import (
    ARIMAForecaster,
    Forecaster,
    GRURegressor,
    NaiveForecaster,
    PerSeriesForecaster,
    backtest,
    compare,
    fit_many,
)
from tsrnn._parallel import run_tasks

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

VALUES = ["y_true", "y_pred", "lower", "upper", "mase_scale"]


def panel(n_series=5, n=72, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    data = {
        f"s{i:03d}": 10 * (i + 1) + np.sin(2 * np.pi * t / 12 + i) + 0.3 * rng.normal(size=n).cumsum()
        for i in range(n_series)
    }
    return pd.DataFrame(data, index=pd.date_range("2000-01-01", periods=n, freq="MS"))


def tiny_gru():
    return Forecaster(GRURegressor(hidden_size=4, max_iter=3, early_stopping=False, random_state=0), window=6)


def same_results(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Identical tidy backtests, bit for bit, apart from the measured times."""
    timing = ["fit_time", "predict_time"]
    pd.testing.assert_frame_equal(a.drop(columns=timing), b.drop(columns=timing), check_exact=True)


# -- fit_many / PerSeriesForecaster --------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: Forecaster(Ridge(), window=6), lambda: NaiveForecaster(drift=True)])
def test_fit_many_equals_fitting_each_series_by_hand(make):
    y = panel()
    many = fit_many(make(), y)
    assert list(many.forecasters_) == list(y.columns)
    by_hand = pd.DataFrame({c: make().fit(y[c]).predict(4) for c in y.columns})
    pd.testing.assert_frame_equal(many.predict(4), by_hand)
    interval = many.predict_interval(4, coverage=0.8)
    for c in y.columns:
        pd.testing.assert_frame_equal(interval[c], make().fit(y[c]).predict_interval(4, coverage=0.8))
    assert many["s002"].predict(4).equals(by_hand["s002"].rename("s002"))


def test_fit_many_parallel_is_bit_identical_to_sequential():
    y = panel(4)
    one = fit_many(tiny_gru(), y, n_jobs=1).predict(5)
    two = fit_many(tiny_gru(), y, n_jobs=2).predict(5)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_per_series_forecaster_on_a_series_update_and_exog():
    y = panel(2)
    X = pd.DataFrame({"x": np.cos(np.arange(80))}, index=pd.date_range("2000-01-01", periods=80, freq="MS"))
    single = PerSeriesForecaster(Forecaster(Ridge(), window=6)).fit(y["s000"].iloc[:60], X=X)
    expected = Forecaster(Ridge(), window=6).fit(y["s000"].iloc[:60], X=X)
    future = X.iloc[72:75]
    single.update(y["s000"].iloc[60:], X_new=X.iloc[60:72])
    expected.update(y["s000"].iloc[60:], X_new=X.iloc[60:72])
    pd.testing.assert_series_equal(single.predict(3, X=future), expected.predict(3, X=future))
    with pytest.raises(ValueError, match="does not use exogenous"):
        PerSeriesForecaster(NaiveForecaster()).fit(y, X=X)
    with pytest.raises(ValueError, match="columns the forecaster was fit on"):
        fit_many(NaiveForecaster(), y).update(y.iloc[-2:].rename(columns={"s000": "other"}))
    with pytest.raises(TypeError, match="forecaster interface"):
        fit_many(Ridge(), y)


# -- backtest / compare --------------------------------------------------------------------------


def test_per_series_backtest_equals_the_joint_backtest_of_independent_columns():
    """Naive forecasts each column independently, so splitting the frame must change nothing."""
    y = panel(6)
    joint = backtest(NaiveForecaster(seasonal_period=12), y, horizon=6, n_windows=3)
    split = backtest(PerSeriesForecaster(NaiveForecaster(seasonal_period=12)), y, horizon=6, n_windows=3)
    assert list(split.columns) == list(joint.columns)
    np.testing.assert_allclose(split[VALUES].to_numpy(), joint[VALUES].to_numpy(), rtol=1e-12)
    assert split[["window", "series", "step_ahead"]].equals(joint[["window", "series", "step_ahead"]])


@pytest.mark.parametrize("refit", [True, 2, False])
def test_backtest_with_two_jobs_is_bit_identical(refit):
    y = panel(3)
    f = PerSeriesForecaster(tiny_gru())
    one = backtest(f, y, horizon=4, n_windows=3, refit=refit, n_jobs=1)
    two = backtest(f, y, horizon=4, n_windows=3, refit=refit, n_jobs=2)
    same_results(one, two)


@pytest.mark.slow
def test_compare_with_two_jobs_is_identical_and_keeps_failures_per_model():
    y = panel(1)["s000"]
    models = {
        "naive": NaiveForecaster(),
        "gru": tiny_gru(),
        "arima-too-big": ARIMAForecaster(order=(30, 1, 0)),  # too few observations: fails
    }
    with pytest.warns(RuntimeWarning, match="arima-too-big"):
        s1, r1 = compare(y, models, horizon=4, n_windows=3, n_jobs=1, return_results=True)
    with pytest.warns(RuntimeWarning, match="arima-too-big"):
        s2, r2 = compare(y, models, horizon=4, n_windows=3, n_jobs=2, return_results=True)
    same_results(r1, r2)
    assert set(s1.index) == {"naive", "gru"} and "too few" in s2.attrs["failed"]["arima-too-big"]


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_parallel_tasks_run_with_one_blas_thread():
    inside = list(run_tasks(_blas_threads, [()] * 2, n_jobs=2))
    assert all(threads == [1] * len(threads) and threads for threads in inside)
    with joblib.parallel_backend("threading", n_jobs=2):
        assert all(t and set(t) == {1} for t in run_tasks(_blas_threads, [()] * 2))
    # sequential runs are left alone (a single fit may use every core)
    assert list(run_tasks(_blas_threads, [()], n_jobs=1)) == [_blas_threads()]


# -- Dask ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason="pip install 'tsrnn[distributed]'")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="2GiB"
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow
@pytest.mark.dask
def test_many_series_backtest_on_a_local_dask_cluster_equals_sequential_and_two_jobs(dask_client):
    y = panel(40, n=60)
    f = PerSeriesForecaster(NaiveForecaster(seasonal_period=12))
    one = backtest(f, y, horizon=6, n_windows=3, n_jobs=1)
    two = backtest(f, y, horizon=6, n_windows=3, n_jobs=2)
    with joblib.parallel_backend("dask"):
        cluster = backtest(f, y, horizon=6, n_windows=3)
    assert len(one) == 40 * 3 * 6
    same_results(one, two)
    same_results(one, cluster)


@pytest.mark.dask
def test_recurrent_models_on_a_dask_cluster_are_bit_identical(dask_client):
    y = panel(3)
    f = PerSeriesForecaster(tiny_gru())
    local = backtest(f, y, horizon=4, n_windows=2)
    with joblib.parallel_backend("dask"):
        remote = backtest(f, y, horizon=4, n_windows=2)
        many = fit_many(tiny_gru(), y)
        summary = compare(y["s000"], {"naive": NaiveForecaster(), "gru": tiny_gru()}, horizon=4, n_windows=2)
    same_results(local, remote)
    pd.testing.assert_frame_equal(many.predict(3), fit_many(tiny_gru(), y).predict(3), check_exact=True)
    expected = compare(y["s000"], {"naive": NaiveForecaster(), "gru": tiny_gru()}, horizon=4, n_windows=2)
    pd.testing.assert_frame_equal(
        summary.drop(columns=["fit_time", "predict_time"]),
        expected.drop(columns=["fit_time", "predict_time"]),
    )


@pytest.mark.dask
def test_local_panel_fits_on_a_dask_cluster_equal_sequential(dask_client):
    from sklearn.linear_model import Ridge

    from tsrnn import Forecaster

    y = panel(60, n=40)
    long = y.stack().rename("y").rename_axis(["ds", "unique_id"]).reset_index()
    f = Forecaster(Ridge(), window=6, diff=1, scope="local")
    local = f.fit(long).predict(4)
    with joblib.parallel_backend("dask"):
        remote = Forecaster(Ridge(), window=6, diff=1, scope="local").fit(long).predict(4)
        per_series = backtest(NaiveForecaster(), long, horizon=4, n_windows=2)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    sequential = backtest(NaiveForecaster(), long, horizon=4, n_windows=2)
    same_results(sequential, per_series)
    assert len(per_series) == 60 * 2 * 4
