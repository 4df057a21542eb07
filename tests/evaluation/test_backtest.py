"""backtest() and compare(): windows, refit/update schedule, alignment, metrics, failures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import NaiveForecaster, backtest, compare, datasets
from tsrnn.evaluation import default_model_names, make_forecaster
from tsrnn.forecasting import BaseForecaster


class Probe(BaseForecaster):
    """Forecasts encode what the forecaster saw: ``[n_fit_observations, n_updates, last value]``.

    Tells the test when fit and update were called, without any shared state between clones.
    """

    def __init__(self, offset=0.0):
        self.offset = offset

    def _fit(self, values, X):
        self.n_fit_ = values.shape[0]
        self.n_updates_ = 0
        self.last_ = values[-1].copy()
        self.x_last_ = None if X is None else X[-1, 0]

    def _update(self, values, X):
        self.n_updates_ += 1
        self.last_ = values[-1].copy()

    def _predict(self, horizon, X):
        out = np.tile(self.last_ + self.offset, (horizon, 1))
        out[0] = self.n_fit_
        if horizon > 1:
            out[1] = self.n_updates_
        if X is not None and horizon > 2:
            out[2] = X[0, 0]  # the first future exogenous value
        return out


class Broken(NaiveForecaster):
    def _fit(self, values, X):
        raise FloatingPointError("diverged")


@pytest.fixture
def y():
    return pd.Series(np.arange(40, dtype=float) ** 1.1, index=pd.period_range("1980", periods=40, freq="Y"))


def test_windows_cutoffs_and_alignment(y):
    res = backtest(NaiveForecaster(), y, horizon=3, n_windows=4, step=2)
    assert len(res) == 12
    assert list(res.columns) == [
        "model",
        "window",
        "cutoff",
        "timestamp",
        "step_ahead",
        "y_true",
        "y_pred",
        "lower",
        "upper",
        "q0.05",
        "q0.5",
        "q0.95",
        "nominal_coverage",
        "mase_scale",
        "fit_time",
        "predict_time",
    ]
    # The last window ends with the data; origins 2 apart: test starts at 31, 33, 35, 37.
    starts = [31, 33, 35, 37]
    assert res.groupby("window")["cutoff"].first().tolist() == [y.index[s - 1] for s in starts]
    for w, s in enumerate(starts):
        g = res[res["window"] == w]
        assert g["timestamp"].tolist() == list(y.index[s : s + 3])
        np.testing.assert_array_equal(g["y_true"], y.to_numpy()[s : s + 3])
        np.testing.assert_array_equal(g["y_pred"], np.full(3, y.to_numpy()[s - 1]))  # naive: last value
        train = y.to_numpy()[:s]
        assert g["mase_scale"].iloc[0] == pytest.approx(np.mean(np.abs(np.diff(train))))
        assert (g["lower"] < g["y_pred"]).all() and (g["upper"] > g["y_pred"]).all()
    assert (res["model"] == "NaiveForecaster").all()
    assert res.groupby("window")["step_ahead"].apply(list).tolist() == [[1, 2, 3]] * 4


@pytest.mark.parametrize(
    ("refit", "fits", "updates"),
    [
        (True, [30, 32, 34, 36, 38], [0, 0, 0, 0, 0]),
        (False, [30, 30, 30, 30, 30], [0, 1, 2, 3, 4]),
        (2, [30, 30, 34, 34, 38], [0, 1, 0, 1, 0]),
    ],
)
def test_refit_schedule(y, refit, fits, updates, monkeypatch):
    # A fake clock that only fit (10 s) and update (1 s) move: the reported fit time of a
    # window is the time of what ran there.
    clock = [0.0]
    monkeypatch.setattr("tsrnn.evaluation._backtest.time.perf_counter", lambda: clock[0])

    class Timed(Probe):
        def _fit(self, values, X):
            clock[0] += 10.0
            super()._fit(values, X)

        def _update(self, values, X):
            clock[0] += 1.0
            super()._update(values, X)

    res = backtest(Timed(), y, horizon=2, n_windows=5, refit=refit)
    first = res[res["step_ahead"] == 1].sort_values("window")
    second = res[res["step_ahead"] == 2].sort_values("window")
    assert first["y_pred"].tolist() == fits
    assert second["y_pred"].tolist() == updates
    # Windows that only updated report the update's time as their fit time.
    expected = [1.0 if n else 10.0 for n in updates]
    assert first["fit_time"].tolist() == expected
    assert (first["predict_time"] == 0.0).all()


def test_parallel_gives_the_same_forecasts(y):
    one = backtest(NaiveForecaster(drift=True), y, horizon=4, n_windows=3, n_jobs=1)
    two = backtest(NaiveForecaster(drift=True), y, horizon=4, n_windows=3, n_jobs=2)
    cols = ["window", "cutoff", "timestamp", "y_true", "y_pred", "lower", "upper", "mase_scale"]
    pd.testing.assert_frame_equal(one[cols], two[cols])


def test_exogenous_future_values_reach_predict(y):
    X = pd.DataFrame({"x": np.arange(100.0, 140.0)}, index=y.index)
    Probe._supports_exog = True
    try:
        res = backtest(Probe(), y, horizon=3, n_windows=2, X=X)
    finally:
        Probe._supports_exog = False
    third = res[res["step_ahead"] == 3].sort_values("window")
    assert third["y_pred"].tolist() == [100.0 + 34, 100.0 + 37]  # X at the first forecast step


def test_dataframe_y_gets_a_series_column(y):
    frame = pd.DataFrame({"a": y.to_numpy(), "b": -y.to_numpy()}, index=y.index)
    res = backtest(NaiveForecaster(), frame, horizon=2, n_windows=2)
    assert res["series"].tolist()[:4] == ["a", "a", "b", "b"]
    b = res[res["series"] == "b"]
    np.testing.assert_array_equal(b["y_true"], -y.to_numpy()[[36, 37, 38, 39]])
    np.testing.assert_array_equal(b["lower"] < b["y_pred"], True)


def test_seasonal_mase_scale():
    y = pd.Series(np.sin(np.arange(60) * 2 * np.pi / 12) * 10 + np.arange(60), index=pd.RangeIndex(60))
    res = backtest(NaiveForecaster(), y, horizon=6, n_windows=1, seasonal_period=12)
    train = y.to_numpy()[:54]
    assert res["mase_scale"].iloc[0] == pytest.approx(np.mean(np.abs(train[12:] - train[:-12])))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_windows": 20}, ValueError, "too few"),
        ({"horizon": 0}, ValueError, "horizon must be a positive integer"),
        ({"refit": 0}, ValueError, "refit must be True"),
        ({"refit": "yes"}, ValueError, "refit must be True"),
        ({"step": 0}, ValueError, "step must be a positive integer"),
        ({"coverage": 90}, ValueError, "coverage must be strictly between 0 and 1"),
        ({"X": np.zeros(40)}, TypeError, "X must be a pandas DataFrame"),
    ],
)
def test_bad_arguments(y, kwargs, error, match):
    args = {"horizon": 3, **kwargs}
    with pytest.raises(error, match=match):
        backtest(NaiveForecaster(), y, **args)


def test_not_a_forecaster(y):
    with pytest.raises(TypeError, match="forecaster interface"):
        backtest(object(), y, horizon=2)


# -- compare ----------------------------------------------------------------------------------------


def test_compare_ranks_by_mase_and_matches_the_results(y):
    summary, results = compare(
        y, ["naive", "drift", Probe(offset=100.0)], horizon=3, n_windows=3, return_results=True
    )
    assert list(summary.columns) == [
        "mase",
        "mae",
        "rmse",
        "smape",
        "coverage",
        "width",
        "crps",
        "winkler",
        "fit_time",
        "predict_time",
        "n_windows",
    ]
    assert summary["mase"].is_monotonic_increasing
    assert set(summary.index) == {"naive", "drift", "Probe"}
    # The drift forecast is exact-ish on this smooth trend, the naive one lags behind.
    assert summary.index[0] == "drift"
    for model, g in results.groupby("model"):
        per_window_mae = g.groupby("window").apply(
            lambda d: np.mean(np.abs(d.y_true - d.y_pred)), include_groups=False
        )
        per_window_mase = per_window_mae / g.groupby("window")["mase_scale"].first()
        assert summary.loc[model, "mae"] == pytest.approx(per_window_mae.mean())
        assert summary.loc[model, "mase"] == pytest.approx(per_window_mase.mean())
    assert np.isnan(summary.loc["Probe", "coverage"])  # Probe has no intervals
    assert np.isnan(summary.loc["Probe", "width"])
    naive = results[results["model"] == "naive"]
    inside = (naive["lower"] <= naive["y_true"]) & (naive["y_true"] <= naive["upper"])
    assert summary.loc["naive", "coverage"] == pytest.approx(inside.groupby(naive["window"]).mean().mean())
    width = (naive["upper"] - naive["lower"]).groupby(naive["window"]).mean().mean()
    assert summary.loc["naive", "width"] == pytest.approx(width)
    assert summary.attrs["horizon"] == 3 and summary.attrs["seasonal_period"] is None


def test_compare_keeps_the_others_when_a_model_fails(y):
    with pytest.warns(RuntimeWarning, match="'broken' failed and is left out: FloatingPointError: diverged"):
        summary = compare(y, {"naive": NaiveForecaster(), "broken": Broken()}, horizon=2, n_windows=2)
    assert list(summary.index) == ["naive"]
    assert "diverged" in summary.attrs["failed"]["broken"]
    with pytest.raises(FloatingPointError):
        compare(y, {"broken": Broken()}, horizon=2, n_windows=2, errors="raise")


def test_compare_argument_errors_are_raised_not_swallowed(y):
    with pytest.raises(ValueError, match="too few"):
        compare(y, ["naive"], horizon=10, n_windows=10)
    with pytest.raises(ValueError, match="unknown model 'prophet'"):
        compare(y, ["naive", "prophet"], horizon=2)
    with pytest.raises(ValueError, match="needs a seasonal period"):
        compare(y, ["snaive"], horizon=2)
    with pytest.raises(TypeError, match="forecasters must be None"):
        compare(y, 3, horizon=2)


def test_compare_default_horizon_and_season():
    y = pd.Series(
        10 * np.sin(np.arange(72) * 2 * np.pi / 12) + np.random.default_rng(0).normal(size=72),
        index=pd.period_range("2000-01", periods=72, freq="M"),
    )
    summary = compare(y, ["naive", "snaive"], n_windows=2)
    assert summary.attrs["horizon"] == 12 and summary.attrs["seasonal_period"] == 12
    assert summary.index[0] == "snaive"  # the seasonal naive wins on a seasonal series
    assert default_model_names(12) == [
        "naive",
        "snaive",
        "arima",
        "ets",
        "theta",
        "hmm",
        "rnn",
        "lstm",
        "gru",
    ]
    assert default_model_names(None) == ["naive", "arima", "ets", "theta", "hmm", "rnn", "lstm", "gru"]


@pytest.mark.slow
def test_compare_defaults_run_the_baselines_and_the_recurrent_family():
    """forecasters=None: every default model runs (yearly data: no seasonal naive)."""
    y = datasets.load("sunspots").iloc[-100:]
    summary, results = compare(y, horizon=3, n_windows=1, return_results=True)
    assert set(summary.index) == {"naive", "arima", "ets", "theta", "hmm", "rnn", "lstm", "gru"}
    truth = y.to_numpy()[-3:]
    for model, g in results.groupby("model"):
        np.testing.assert_array_equal(g["y_true"].to_numpy(), truth)
        # the table's MAE is the mean absolute error of that model's forecasts, by hand
        assert summary.loc[model, "mae"] == pytest.approx(np.mean(np.abs(truth - g["y_pred"].to_numpy())))
    # the naive forecast repeats the last observation before the origin
    naive = results[results["model"] == "naive"]["y_pred"].to_numpy()
    np.testing.assert_array_equal(naive, np.full(3, y.to_numpy()[-4]))


def test_registry_builds_fresh_forecasters():
    a, b = make_forecaster("arima", 12), make_forecaster("arima", 12)
    assert a is not b and a.get_params()["seasonal_period"] == 12
    assert make_forecaster("snaive", 4).get_params() == {"seasonal_period": 4, "drift": False}


def test_recurrent_registry_entries_build_with_the_right_cell():
    from sklearn.base import clone

    for name, cell in (("rnn", "rnn_tanh"), ("lstm", "lstm"), ("gru", "gru")):
        f = make_forecaster(name, None)
        assert clone(f).get_params()["estimator__cell"] == cell


def test_compare_gives_exogenous_columns_only_to_models_that_use_them():
    rng = np.random.default_rng(2)
    n = 80
    x = rng.normal(size=n)
    idx = pd.period_range("2000-01", periods=n, freq="M")
    y = pd.Series(5.0 + 3.0 * x + 0.1 * rng.normal(size=n), index=idx)
    X = pd.DataFrame({"x": x}, index=idx)
    summary = compare(
        y, {"naive": NaiveForecaster(), "regression": tsrnn.ARIMAForecaster(order=(0, 0, 0))}, X=X, horizon=4,
        n_windows=2, seasonal_period=1,
    )  # fmt: skip
    assert summary.attrs["failed"] == {}
    assert summary.index[0] == "regression" and summary.loc["regression", "mase"] < 0.1


def test_backtest_records_quantiles_and_summary_scores_them(y):
    from scipy.stats import norm

    from tsrnn.evaluation import metrics

    res = backtest(NaiveForecaster(), y, horizon=3, n_windows=2, coverage=0.8, quantiles=(0.1, 0.5, 0.75))
    assert [c for c in res.columns if c.startswith("q")] == ["q0.1", "q0.5", "q0.75"]
    for _, g in res.groupby("window"):
        start = y.index.get_loc(g["timestamp"].iloc[0])
        train = y.to_numpy()[:start]
        sigma = np.sqrt(np.mean(np.diff(train) ** 2))
        for level in (0.1, 0.5, 0.75):
            expect = train[-1] + norm.ppf(level) * sigma * np.sqrt([1, 2, 3])
            np.testing.assert_allclose(g[f"q{level:g}"], expect, rtol=1e-12)
    summary = metrics.summarize(res)
    per_window = [
        (
            2
            * np.mean(
                [
                    np.maximum(t * (g.y_true - g[f"q{t:g}"]), (t - 1) * (g.y_true - g[f"q{t:g}"]))
                    for t in (0.1, 0.5, 0.75)
                ]
            ),
            np.mean(
                g.upper
                - g.lower
                + 10 * (np.maximum(g.lower - g.y_true, 0) + np.maximum(g.y_true - g.upper, 0))
            ),
        )
        for _, g in res.groupby("window")
    ]
    assert summary.loc["NaiveForecaster", "crps"] == pytest.approx(np.mean([c for c, _ in per_window]))
    assert summary.loc["NaiveForecaster", "winkler"] == pytest.approx(np.mean([w for _, w in per_window]))
    assert (res["nominal_coverage"] == 0.8).all()
    none = backtest(NaiveForecaster(), y, horizon=3, n_windows=2, quantiles=())
    assert not [c for c in none.columns if c.startswith("q")]
    assert np.isnan(metrics.summarize(none).loc["NaiveForecaster", "crps"])


def test_forecast_figure_shades_the_quantile_fan(y):
    import matplotlib

    matplotlib.use("Agg")
    from tsrnn.evaluation._report import plot_forecasts

    res = backtest(NaiveForecaster(), y, horizon=3, n_windows=1, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95))
    fig = plot_forecasts(res, y, coverage=0.9)
    ax = fig.axes[0]
    bands = list(ax.collections)
    assert len(bands) == 2  # the 90 % and the 50 % central bands
    # the outer band spans the recorded 5 % and 95 % quantiles
    outer = bands[0].get_paths()[0].vertices[:, 1]
    assert outer.min() == pytest.approx(res["q0.05"].min()) and outer.max() == pytest.approx(
        res["q0.95"].max()
    )
    assert "quantile fan (90%, 50% central)" in fig._suptitle.get_text()


def test_linear_ar_is_the_recipes_least_squares_autoregression_by_hand():
    """``linear-ar``: on a positive series without a season, the log, windows of twice the
    horizon minus their last value, least squares on the last p steps with p by AICc (the
    variance counted), forecasts fed back recursively; built here with NumPy alone."""
    from tsrnn.evaluation import make_forecaster

    rng = np.random.default_rng(5)
    n, h = 90, 4
    x = np.zeros(n)
    for t in range(2, n):
        x[t] = 1.2 * x[t - 1] - 0.4 * x[t - 2] + 0.05 * rng.normal()
    y = pd.Series(np.exp(3.0 + x + 0.01 * np.arange(n)))
    got = make_forecaster("linear-ar", None, horizon=h).fit(y).predict(h).to_numpy()

    z, w = np.log(y.to_numpy()), 2 * h
    windows = np.lib.stride_tricks.sliding_window_view(z[:-1], w)
    X, target = windows - windows[:, -1:], z[w:] - windows[:, -1]
    best = None
    for p in range(w + 1):
        A = np.column_stack([X[:, w - p :], np.ones(len(X))])
        coef = np.linalg.lstsq(A, target, rcond=None)[0]
        rss, m, k = float(np.sum((target - A @ coef) ** 2)), len(target), p + 2
        aicc = m * np.log(rss / m) + 2 * k + 2 * k * (k + 1) / (m - k - 1)
        if best is None or aicc < best[0]:
            best = (aicc, p, coef)
    _, p, coef = best
    buf = list(z)
    for _ in range(h):
        last = buf[-1]
        lags = np.array(buf[len(buf) - p :]) - last if p else np.zeros(0)
        buf.append(last + lags @ coef[:-1] + coef[-1])
    np.testing.assert_allclose(got, np.exp(buf[n:]), rtol=1e-8)
