"""Panels: long format, ragged series, global/local models, covariates, calendar, zero-shot."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, Ridge

from tsrnn import Forecaster, backtest
from tsrnn.evaluation.metrics import seasonal_naive_mae, summarize
from tsrnn.forecasting import calendar_features, to_panel


def _ar_panel(n_series=4, lengths=None, starts=None, seed=0, freq="MS"):
    rng = np.random.default_rng(seed)
    lengths = lengths or [40] * n_series
    starts = starts or [0] * n_series
    frames = []
    for i, (n, s0) in enumerate(zip(lengths, starts)):
        x = np.zeros(n)
        for t in range(1, n):
            x[t] = 0.7 * x[t - 1] + rng.normal()
        ds = pd.date_range("2000-01-01", periods=n + s0, freq=freq)[s0:]
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": 5 * i + (1 + i) * x}))
    return pd.concat(frames, ignore_index=True)


def _oracle_global(df, window, horizon):
    """Global linear model by hand: per-series standardisation, stacked windows, recursion."""
    Xs, ys, stats = [], [], {}
    for uid, g in df.groupby("unique_id", sort=False):
        v = g["y"].to_numpy()
        mu, sd = v.mean(), v.std()
        z = (v - mu) / sd
        stats[uid] = (z, mu, sd)
        for o in range(window, len(z)):
            Xs.append(z[o - window : o])
            ys.append(z[o])
    reg = LinearRegression().fit(np.array(Xs), np.array(ys))
    out = {}
    for uid, (z, mu, sd) in stats.items():
        buf = list(z[-window:])
        for _ in range(horizon):
            buf.append(float(reg.predict(np.array(buf[-window:])[None])[0]))
        out[uid] = np.array(buf[window:]) * sd + mu
    return out


def test_global_model_matches_hand_built_stacked_windows():
    df = _ar_panel(lengths=[30, 45, 38], starts=[0, 5, 12])  # ragged: lengths and starts differ
    f = Forecaster(LinearRegression(), window=3).fit(df)
    pred = f.predict(4)
    want = _oracle_global(df, 3, 4)
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    for uid, g in pred.groupby("unique_id"):
        last = df.loc[df.unique_id == uid, "ds"].iloc[-1]
        assert list(g["ds"]) == list(pd.date_range(last, periods=5, freq="MS")[1:])
        np.testing.assert_allclose(g["y"].to_numpy(), want[uid], rtol=1e-9, atol=1e-9)


def test_dict_of_series_equals_long_frame():
    df = _ar_panel(lengths=[30, 35], starts=[0, 3])
    as_dict = {uid: g.set_index("ds")["y"] for uid, g in df.groupby("unique_id")}
    a = Forecaster(Ridge(), window=4).fit(df).predict(3)
    b = Forecaster(Ridge(), window=4).fit(as_dict).predict(3)
    pd.testing.assert_frame_equal(a, b)


def test_custom_column_names():
    df = _ar_panel(lengths=[30, 35]).rename(columns={"unique_id": "item", "ds": "date", "y": "sales"})
    pred = (
        Forecaster(Ridge(), window=4, id_col="item", time_col="date", target_col="sales").fit(df).predict(2)
    )
    assert list(pred.columns) == ["item", "date", "sales"] and len(pred) == 4


def test_local_scope_equals_one_forecaster_per_series():
    df = _ar_panel(lengths=[30, 41, 36], starts=[0, 2, 7])
    pred = Forecaster(LinearRegression(), window=3, diff=1, scope="local").fit(df).predict(3)
    for uid, g in df.groupby("unique_id"):
        series = g.set_index("ds")["y"].asfreq("MS")
        want = Forecaster(LinearRegression(), window=3, diff=1).fit(series).predict(3)
        got = pred[pred.unique_id == uid]["y"].to_numpy()
        np.testing.assert_allclose(got, want.to_numpy(), rtol=1e-9)


def test_gap_inside_a_series_names_series_and_first_gap():
    df = _ar_panel(lengths=[30, 30])
    gappy = df.drop(
        index=df.index[(df.unique_id == "s1") & df.ds.isin(pd.to_datetime(["2000-05-01", "2000-09-01"]))]
    )
    with pytest.raises(ValueError, match=r"series 's1'.*first gap is at Timestamp\('2000-05-01"):
        Forecaster(Ridge()).fit(gappy)
    ints = pd.DataFrame(
        {"unique_id": ["a"] * 4 + ["b"] * 3, "ds": [1, 2, 3, 4, 1, 2, 4], "y": np.arange(7.0)}
    )
    with pytest.raises(ValueError, match=r"series 'b'.*first gap is at 3"):
        to_panel(ints)


def test_missing_columns_and_nan_named():
    df = _ar_panel(lengths=[20, 20])
    with pytest.raises(ValueError, match=r"\['y'\] are absent"):
        Forecaster(Ridge()).fit(df.drop(columns="y"))
    df.loc[25, "y"] = np.nan
    with pytest.raises(ValueError, match=r"series 's1'.*NaN"):
        Forecaster(Ridge()).fit(df)


def _promo_panel(seed=0, n=120):
    """y = AR noise + 3 * promo: a known future covariate (a promotion flag)."""
    rng = np.random.default_rng(seed)
    frames, xs = [], []
    for i in range(3):
        promo = (rng.random(n) < 0.3).astype(float)
        y = 10 + 3 * promo + rng.normal(scale=0.5, size=n)
        ds = pd.RangeIndex(n)
        frames.append(pd.DataFrame({"unique_id": i, "ds": ds, "y": y}))
        xs.append(pd.DataFrame({"unique_id": i, "ds": np.arange(n + 5), "promo": np.r_[promo, np.zeros(5)]}))
    return pd.concat(frames, ignore_index=True), pd.concat(xs, ignore_index=True)


def test_future_covariate_changes_the_forecast_at_exactly_those_steps():
    from tsrnn.estimators import RecurrentRegressor

    df, X = _promo_panel()
    est = RecurrentRegressor(cell="gru", hidden_size=8, max_iter=15, random_state=0, dtype="float64")
    f = Forecaster(est, window=6, strategy="direct", horizon=5).fit(df, X=X)
    base = f.predict(5, X=X)
    X2 = X.copy()
    X2.loc[(X2.unique_id == 1) & X2.ds.isin([121, 123]), "promo"] = 1.0  # steps 2 and 4 of series 1
    moved = f.predict(5, X=X2)
    diff = np.abs(moved["y"].to_numpy() - base["y"].to_numpy()).reshape(3, 5)
    assert np.all(diff[[0, 2]] == 0)  # other series untouched
    assert np.all(diff[1, [0, 2, 4]] == 0)  # steps 1, 3, 5 bit-identical
    assert np.all(diff[1, [1, 3]] > 0.3)  # promotion effect is 3: the network learnt part of it


def test_future_covariate_missing_names_series_and_timestamp():
    df, X = _promo_panel()
    f = Forecaster(Ridge(), window=4).fit(df, X=X[X.ds < 120])
    short = X[~((X.unique_id == 2) & (X.ds >= 122))]
    with pytest.raises(ValueError, match=r"lacks series 2 at 3 timestamp\(s\).*the first 122"):
        f.predict(5, X=short)


def _leading_series(seed, n=300):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.5 * x[t - 1] + rng.normal()
    y = np.r_[0.0, 2.0 * x[:-1]] + rng.normal(scale=0.3, size=n)  # x leads y by one step
    ds = np.arange(n)
    return pd.DataFrame({"unique_id": "a", "ds": ds, "y": y}), pd.DataFrame(
        {"unique_id": "a", "ds": ds, "x": x}
    )


def test_past_covariate_leading_by_one_step_lowers_mase():
    df, P = _leading_series(0)
    kw = {"window": 4, "strategy": "direct", "horizon": 1}
    with_x = backtest(Forecaster(Ridge(1e-3), **kw), df, horizon=1, n_windows=40, past_covariates=P)
    without = backtest(Forecaster(Ridge(1e-3), **kw), df, horizon=1, n_windows=40)
    m_with, m_without = summarize(with_x)["mase"].iloc[0], summarize(without)["mase"].iloc[0]
    assert m_with < 0.5 * m_without  # the AR(1) part alone leaves most of the variance unexplained
    # predict needs no future value of the past covariate: P ends with the last observation
    f = Forecaster(Ridge(1e-3), window=4, strategy="direct", horizon=3).fit(df, past_covariates=P)
    pred = f.predict(3)
    assert len(pred) == 3 and np.isfinite(pred["y"]).all()
    # one step ahead, the forecast is the covariate's last value times two (the simulated relation)
    one = Forecaster(Ridge(1e-3), **kw).fit(df, past_covariates=P).predict(1)
    assert abs(one["y"].iloc[0] - 2.0 * P["x"].iloc[-1]) < 0.3


def test_past_covariates_need_the_direct_strategy():
    df, P = _leading_series(1, n=50)
    with pytest.raises(ValueError, match="strategy='direct'"):
        Forecaster(Ridge()).fit(df, past_covariates=P)


def test_static_covariates_encoded_and_missing_series_named():
    df = _ar_panel(lengths=[30, 30, 30])
    static = pd.DataFrame(
        {"unique_id": ["s0", "s1", "s2"], "store": ["a", "b", "a"], "size": [1.0, 2.0, 3.0]}
    )
    f = Forecaster(LinearRegression(), window=2).fit(df, static_covariates=static)
    # per step: y, size (standardised), store one-hot (2)
    assert f.estimator_.n_features_in_ == 2 * 4
    with pytest.raises(ValueError, match=r"no row for series 'new'"):
        f.predict(2, y=df[df.unique_id == "s0"].assign(unique_id="new"))
    with pytest.raises(ValueError, match=r"category 'c', unseen"):
        f.predict(2, y=df[df.unique_id == "s0"], static_covariates=static.assign(store="c"))


def test_calendar_features_cyclic_and_onehot():
    ix = pd.date_range("2021-01-01", periods=3, freq="MS")
    cyc = calendar_features(ix, ("month",), "cyclic")
    np.testing.assert_allclose(cyc[:, 0], np.sin(2 * np.pi * np.array([0, 1, 2]) / 12))
    np.testing.assert_allclose(cyc[:, 1], np.cos(2 * np.pi * np.array([0, 1, 2]) / 12))
    hot = calendar_features(pd.date_range("2021-01-04", periods=2, freq="D"), ("dayofweek",), "onehot")
    assert hot.shape == (2, 7) and hot[0, 0] == 1 and hot[1, 1] == 1  # Monday, Tuesday
    df = _ar_panel(lengths=[40, 40])
    f = Forecaster(LinearRegression(), window=2, calendar=("month",)).fit(df)
    assert f.estimator_.n_features_in_ == 2 * 3
    with pytest.raises(TypeError, match="calendar features need dates"):
        Forecaster(Ridge(), calendar="month").fit(_leading_series(0, 30)[0])


def test_zero_shot_equals_fitting_on_the_union_with_shared_weights():
    from sklearn.frozen import FrozenEstimator

    from tsrnn.estimators import RecurrentRegressor

    df = _ar_panel(lengths=[40, 50, 45], seed=2)
    new = _ar_panel(n_series=5, lengths=[10, 10, 10, 10, 36], seed=7)
    new = new[new.unique_id == "s4"].assign(unique_id="new")  # a level and scale no training series has
    est = RecurrentRegressor(cell="gru", hidden_size=8, max_iter=5, random_state=0, dtype="float64")
    f = Forecaster(est, window=5, diff=1).fit(df)
    zero_shot = f.predict(4, y=new)
    union = pd.concat([df, new], ignore_index=True)
    g = Forecaster(FrozenEstimator(f.estimator_), window=5, diff=1).fit(union)
    assert g.diff_ == f.diff_
    want = g.predict(4)
    np.testing.assert_array_equal(zero_shot["y"].to_numpy(), want[want.unique_id == "new"]["y"].to_numpy())
    # and the training series forecast from their own history equal plain predict
    pd.testing.assert_frame_equal(f.predict(4, y=df), f.predict(4))


def test_series_id_refuses_unseen_series():
    df = _ar_panel(lengths=[30, 30])
    f = Forecaster(Ridge(), window=3, series_id=True).fit(df)
    with pytest.raises(ValueError, match=r"series 'z' was not seen in fit.*series_id=False"):
        f.predict(2, y=df[df.unique_id == "s0"].assign(unique_id="z"))


class _Recorder(RegressorMixin, BaseEstimator):
    """A linear regression that records every row it is given (fit or partial_fit)."""

    seen: ClassVar[list] = []

    def __init__(self, max_iter=2, batch_size=8):
        self.max_iter = max_iter
        self.batch_size = batch_size

    def fit(self, X, y):
        _Recorder.seen.append(np.asarray(X).copy())
        self.model_ = LinearRegression().fit(X, y)
        return self

    partial_fit = fit

    def predict(self, X):
        return self.model_.predict(X)


def test_streaming_visits_every_window_once_per_epoch():
    df = _ar_panel(n_series=6, lengths=[30, 35, 40, 45, 50, 55], starts=[0, 3, 6, 9, 12, 15])
    _Recorder.seen = []
    f = Forecaster(_Recorder(), window=4).fit(df)
    assert not f.panel_.model.streamed
    full = _Recorder.seen[0]
    _Recorder.seen = []
    g = Forecaster(_Recorder(), window=4, max_window_bytes=8 * 4 * 8 * 5).fit(df)  # 40-window chunks
    assert g.panel_.model.streamed
    chunks = _Recorder.seen
    assert len(chunks) > 2 * 2 and max(len(c) for c in chunks) <= 40
    per_epoch = len(chunks) // 2
    for epoch in (chunks[:per_epoch], chunks[per_epoch:]):
        rows = np.concatenate(epoch)
        # the same windows as the in-memory design matrix, each exactly once
        np.testing.assert_array_equal(np.unique(rows, axis=0), np.unique(full, axis=0))
        assert len(rows) == len(full)
    # the first chunk mixes series (drawn across the panel, not series by series)
    levels = np.round(chunks[0][:, 0], 6)
    assert len(chunks[0]) == 40 and len(np.unique(levels)) > 20


def test_backtest_panel_shared_cutoffs_and_hand_metrics():
    from tsrnn import NaiveForecaster

    df = _ar_panel(lengths=[30, 26, 34], starts=[0, 4, 0])
    res = backtest(NaiveForecaster(), df, horizon=2, n_windows=3)
    cutoffs = sorted(res["cutoff"].unique())
    assert cutoffs == list(pd.to_datetime(["2002-04-01", "2002-06-01", "2002-08-01"]))
    for (uid, _), g in res.groupby(["series", "window"]):
        s = df[df.unique_id == uid].set_index("ds")["y"]
        train = s[s.index <= g["cutoff"].iloc[0]]
        np.testing.assert_allclose(g["y_pred"], train.iloc[-1])
        np.testing.assert_allclose(g["y_true"], s[s.index > g["cutoff"].iloc[0]].iloc[:2])
        assert g["mase_scale"].iloc[0] == pytest.approx(seasonal_naive_mae(train.to_numpy(), 12))
    # s0 and s1 end at 2002-06-01, s2 at 2002-10-01: windows after 2002-04 need later values
    assert set(res[res.window == 0]["series"]) == {"s0", "s1", "s2"}
    assert set(res[res.window >= 1]["series"]) == {"s2"}


def test_backtest_refit_false_fits_once_and_forecasts_from_each_history():
    df = _ar_panel(lengths=[40, 40, 40])
    f = Forecaster(Ridge(), window=3)
    res = backtest(f, df, horizon=2, n_windows=3, refit=False)
    first = res["cutoff"].min()
    fitted = Forecaster(Ridge(), window=3).fit(df[df.ds <= first])
    for cutoff, g in res.groupby("cutoff"):
        want = fitted.predict(2, y=df[df.ds <= cutoff])
        np.testing.assert_allclose(g["y_pred"].to_numpy(), want["y"].to_numpy())
    assert (res.groupby("window")["fit_time"].first().iloc[1:] == 0).all()


def test_compare_on_a_panel_ranks_models_with_the_backtest_figures():
    from tsrnn import NaiveForecaster, compare
    from tsrnn.evaluation.metrics import summarize_series

    df = _ar_panel(lengths=[40, 36, 44], starts=[0, 4, 0])
    models = {"naive": NaiveForecaster(), "ridge": Forecaster(Ridge(), window=3)}
    summary, results = compare(df, models, horizon=3, n_windows=2, return_results=True)
    assert set(summary.index) == {"naive", "ridge"}
    alone = backtest(NaiveForecaster(), df, horizon=3, n_windows=2, seasonal_period=12)
    assert summary.loc["naive", "mase"] == pytest.approx(summarize(alone)["mase"].iloc[0])
    per_series = summarize_series(results)
    # overall = mean over (series, window) pairs; with equal windows per series, mean of series means
    naive = per_series.loc["naive"]
    weights = naive["n_windows"] / naive["n_windows"].sum()
    assert summary.loc["naive", "mase"] == pytest.approx(float((naive["mase"] * weights).sum()))


def test_panel_forecaster_refuses_update_and_saving_a_foreign_regressor(tmp_path):
    import tsrnn

    df = _ar_panel(lengths=[30, 30])
    f = Forecaster(Ridge(), window=3).fit(df)
    with pytest.raises(ValueError, match="update is not available"):
        f.update(df)
    with pytest.raises(TypeError, match=r"Ridge.*joblib"):
        tsrnn.save(f, tmp_path / "f.tsrnn")
    # the same object refitted on one series works as before
    s = df[df.unique_id == "s0"].set_index("ds")["y"].asfreq("MS")
    assert len(f.set_params(calibration_size=12).fit(s).predict_interval(2)) == 2


def test_backtest_with_future_covariates_uses_their_values_at_the_horizon():
    df, X = _promo_panel(n=80)
    X = X[X.ds < 80]
    res = backtest(Forecaster(LinearRegression(), window=3, strategy="direct", horizon=2), df, 2, 3, X=X)
    for cutoff, g in res.groupby("cutoff"):
        train = df[df.ds <= cutoff]
        want = (
            Forecaster(LinearRegression(), window=3, strategy="direct", horizon=2)
            .fit(train, X=X)
            .predict(2, X=X)
        )
        np.testing.assert_allclose(g["y_pred"].to_numpy(), want["y"].to_numpy())
    # the promotion effect (+3) is forecast: the errors are those of the noise (sd 0.5)
    assert np.abs(res["y_true"] - res["y_pred"]).mean() < 1.0


def test_series_id_lets_a_global_model_learn_each_series_dynamics():
    """Two AR(1) series, coefficients +0.9 and -0.8, seen through a window of one value: without
    the id a global model cannot tell them apart (its best one-step forecast is near the mean);
    with the one-hot id it learns both. Held-out one-step MSE against the true model's (1.0)."""
    from tsrnn.estimators import RecurrentRegressor

    rng = np.random.default_rng(4)
    frames = []
    for uid, phi in (("up", 0.9), ("alt", -0.8)):
        x = np.zeros(400)
        for t in range(1, 400):
            x[t] = phi * x[t - 1] + rng.normal()
        frames.append(pd.DataFrame({"unique_id": uid, "ds": np.arange(400), "y": x}))
    df = pd.concat(frames, ignore_index=True)
    train = df[df.ds < 300]
    est = RecurrentRegressor(cell="gru", hidden_size=8, max_iter=40, learning_rate=0.01, random_state=0)
    mse = {}
    for with_id in (False, True):
        f = Forecaster(est, window=1, series_id=with_id, random_state=0).fit(train)
        errors = []
        for o in range(300, 400, 4):
            pred = f.predict(1, y=df[df.ds < o])
            errors.extend(pred["y"].to_numpy() - df[df.ds == o]["y"].to_numpy())
        mse[with_id] = float(np.mean(np.square(errors)))
    # measured: 1.25 with the id, 6.96 without (the unconditional variances are 5.3 and 2.8)
    assert mse[True] < 1.4 < 0.6 * mse[False], mse


def test_backtest_leaves_out_series_too_short_for_the_model_and_compare_shares_the_rule():
    from tsrnn import NaiveForecaster, compare

    # s1 starts at position 33 of 40: 3 observations at the first cutoff (position 35), 5 at
    # the second (37); window 3 with one difference needs 4
    df = _ar_panel(lengths=[40, 7], starts=[0, 33])
    f = Forecaster(Ridge(), window=3, diff=1)
    assert f.min_history() == 4
    res = backtest(f, df, horizon=2, n_windows=2)
    assert set(res[res.window == 0]["series"]) == {"s0"}
    assert set(res[res.window == 1]["series"]) == {"s0", "s1"}
    # the second window's forecast of s1 is the model fitted on the panel up to that cutoff
    cutoff = res[res.window == 1]["cutoff"].iloc[0]
    want = Forecaster(Ridge(), window=3, diff=1).fit(df[df.ds <= cutoff]).predict(2)
    got = res[(res.window == 1) & (res.series == "s1")]["y_pred"].to_numpy()
    np.testing.assert_allclose(got, want[want.unique_id == "s1"]["y"].to_numpy())
    # asked to include every series with one observation, the forecaster says which is too short
    with pytest.raises(ValueError, match=r"series 's1' has 3 observations, too few"):
        backtest(f, df, horizon=2, n_windows=2, min_history=1)
    # alone, the naive forecaster scores s1 in both windows; in compare it gets the shared rule
    alone = backtest(NaiveForecaster(), df, horizon=2, n_windows=2)
    assert set(alone[alone.window == 0]["series"]) == {"s0", "s1"}
    _, results = compare(
        df, {"naive": NaiveForecaster(), "ridge": f}, horizon=2, n_windows=2, return_results=True
    )
    for _, g in results.groupby("model"):
        assert set(g[g.window == 0]["series"]) == {"s0"}
        assert set(g[g.window == 1]["series"]) == {"s0", "s1"}
    with pytest.raises(ValueError, match="min_history need a panel"):
        backtest(NaiveForecaster(), df[df.unique_id == "s0"].set_index("ds")["y"], horizon=2, min_history=3)
