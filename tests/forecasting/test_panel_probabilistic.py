"""Quantiles, intervals and sample paths of Forecasters fitted on panels, checked against the
single-series path (where the maths says they must agree) and by Monte-Carlo coverage on
simulated panels with known distributions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsrnn import Forecaster
from tsrnn.estimators import RecurrentRegressor

GRU = dict(cell="gru", hidden_size=4, max_iter=5, random_state=0)


def ar_panel(n_series=3, n=60, seed=0, phi=0.7, start="2000-01-01"):
    """Gaussian AR(1) series ``level_i + scale_i * x_t``: known one-step distributions."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        x = np.zeros(n)
        for t in range(1, n):
            x[t] = phi * x[t - 1] + rng.normal()
        ds = pd.date_range(start, periods=n + i, freq="MS")[i:]  # ragged starts
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": 10 * i + (1 + i) * x}))
    return pd.concat(frames, ignore_index=True)


def _fit(est, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few epochs do not converge
        return Forecaster(est, window=4, random_state=0, **kw).fit(y)


def test_one_series_panel_draws_and_quantiles_equal_the_single_series_path():
    df = ar_panel(n_series=1, n=80)
    series = df.set_index("ds")["y"].asfreq("MS")
    est = RecurrentRegressor(loss="gaussian", **GRU)
    panel, single = _fit(est, df), _fit(est, series)
    paths = panel.sample_paths(3, 40, random_state=3)
    assert list(paths.columns[:2]) == ["unique_id", "ds"] and list(paths.columns[2:]) == list(range(40))
    np.testing.assert_array_equal(
        paths.iloc[:, 2:].to_numpy(), single.sample_paths(3, 40, random_state=3).to_numpy()
    )
    q = panel.predict_quantiles(3, (0.1, 0.5, 0.9), n_paths=200, random_state=1)
    want = single.predict_quantiles(3, (0.1, 0.5, 0.9), n_paths=200, random_state=1)
    assert list(q.columns) == ["unique_id", "ds", 0.1, 0.5, 0.9]
    np.testing.assert_array_equal(q[[0.1, 0.5, 0.9]].to_numpy(), want.to_numpy())
    iv = panel.predict_interval(3, 0.8, method="model", n_paths=200, random_state=1)
    np.testing.assert_array_equal(
        iv[["lower", "upper"]].to_numpy(),
        single.predict_interval(3, 0.8, method="model", n_paths=200, random_state=1).to_numpy(),
    )
    assert list(iv["ds"]) == list(pd.date_range(series.index[-1], periods=4, freq="MS")[1:])


@pytest.mark.parametrize("loss", ["gaussian", "student_t", "quantile"])
def test_local_head_quantiles_equal_each_series_fitted_alone(loss):
    """One recursive step: the head's exact quantiles, as for the series fitted on its own."""
    df = ar_panel(n_series=3, n=50)
    est = RecurrentRegressor(loss=loss, quantiles=(0.1, 0.5, 0.9), **GRU)
    panel = _fit(est, df, scope="local")
    q = panel.predict_quantiles(1, (0.1, 0.5, 0.9))
    iv = panel.predict_interval(1, 0.8, method="model")
    for uid, g in df.groupby("unique_id"):
        single = _fit(est, g.set_index("ds")["y"].asfreq("MS"))
        np.testing.assert_allclose(
            q[q.unique_id == uid][[0.1, 0.5, 0.9]].to_numpy(),
            single.predict_quantiles(1, (0.1, 0.5, 0.9)).to_numpy(),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            iv[iv.unique_id == uid][["lower", "upper"]].to_numpy(),
            single.predict_interval(1, 0.8, method="model").to_numpy(),
            rtol=1e-12,
        )


def test_direct_panel_quantiles_per_step_from_the_head():
    """Direct strategy without differencing: every step's quantiles come from the head (its
    Gaussian median is the point forecast, and the 10-90 % width is 2.563 scales)."""
    df = ar_panel(n_series=3, n=50)
    f = _fit(RecurrentRegressor(loss="gaussian", **GRU), df, strategy="direct", horizon=3)
    q = f.predict_quantiles(3, (0.1, 0.5, 0.9))
    np.testing.assert_allclose(q[0.5], f.predict(3)["y"], rtol=1e-10)
    width = (q[0.9] - q[0.1]).to_numpy()
    iv = f.predict_interval(3, 0.8, method="model")
    np.testing.assert_allclose(iv["upper"] - iv["lower"], width, rtol=1e-10)
    assert np.all(width > 0)


@pytest.mark.slow
def test_global_model_interval_coverage_on_a_simulated_panel():
    """One global Gaussian head on 4 AR(1) series of different levels and scales, on 3
    simulated panels; 1,600 one-step 80 % / 90 % model intervals per panel, each origin
    forecast as a history given to predict (no refit).

    Known shortfall (docs/panels.md): on 7 such panels this head covers about 75 % and 85.5 %,
    5 and 4.5 points short, whichever windows early stopping holds out; the single-series
    heads are calibrated (test_probabilistic.py). The pooled 4,800 forecasts have a binomial
    standard error of 0.6 / 0.45 points, so the bounds below (7 points short, 3 over) catch a
    further loss of calibration, not the known one.
    """
    est = RecurrentRegressor(
        loss="gaussian",
        cell="gru",
        hidden_size=8,
        max_iter=60,
        batch_size=128,
        learning_rate=0.01,
        random_state=0,
    )
    hits = {0.8: [], 0.9: []}
    for seed in (5, 6, 7):
        df = ar_panel(n_series=4, n=700, seed=seed)
        f = _fit(est, df.groupby("unique_id").head(300))
        histories, truth = [], []
        for uid, g in df.groupby("unique_id", sort=False):
            for o in range(300, 700):
                histories.append(g.iloc[o - 60 : o].assign(unique_id=f"{uid}@{o}"))
                truth.append(g["y"].iloc[o])
        histories, truth = pd.concat(histories, ignore_index=True), np.array(truth)
        for coverage in hits:
            iv = f.predict_interval(1, coverage, method="model", y=histories)
            hits[coverage].extend((truth >= iv["lower"].to_numpy()) & (truth <= iv["upper"].to_numpy()))
    for coverage, inside in hits.items():
        share = np.mean(inside)
        print(f"global gaussian head, model interval {coverage:.0%}: coverage {100 * share:.1f}")
        assert -0.07 <= share - coverage <= 0.03, (coverage, share)


@pytest.mark.slow
def test_conformal_interval_coverage_per_series_on_a_panel():
    """Each series' own split-conformal radius: 90 % coverage over 150 origins x 4 series of
    Gaussian AR(1) data with scales 1 to 4 (every series covered, not only the average)."""
    df = ar_panel(n_series=4, n=450, seed=3)
    train = df.groupby("unique_id").head(300)
    f = Forecaster(Ridge(1e-6), window=3, calibration_size=150).fit(train)
    hits = {uid: [] for uid in df.unique_id.unique()}
    for o in range(300, 450):
        history = df.groupby("unique_id").head(o)
        truth = df.groupby("unique_id").nth(o)["y"].to_numpy()
        iv = f.predict_interval(1, 0.9, y=history)
        for uid, lo, hi, t in zip(iv.unique_id, iv.lower, iv.upper, truth):
            hits[uid].append(lo <= t <= hi)
    overall = np.mean([np.mean(v) for v in hits.values()])
    print(
        "conformal 90 %: overall",
        round(100 * overall, 1),
        {u: round(100 * np.mean(v), 1) for u, v in hits.items()},
    )
    assert abs(overall - 0.9) < 0.03, overall  # 600 forecasts: standard error 1.2 points
    assert all(abs(np.mean(v) - 0.9) < 0.08 for v in hits.values())  # 150 each: 2.4 points
    # quantiles of a point regressor are the interval ends; the median is the point forecast
    q = f.predict_quantiles(1, (0.05, 0.5, 0.95))
    iv = f.predict_interval(1, 0.9)
    np.testing.assert_allclose(q[0.05], iv["lower"])
    np.testing.assert_allclose(q[0.95], iv["upper"])
    np.testing.assert_allclose(q[0.5], f.predict(1)["y"])


def test_panel_probabilistic_refusals_name_the_fix():
    df = ar_panel(n_series=2, n=40)
    f = Forecaster(Ridge(), window=3).fit(df)
    with pytest.raises(ValueError, match="sample_paths needs a regressor that predicts a distribution"):
        f.sample_paths(2)
    with pytest.raises(ValueError, match="method='cqr' is not available on panels"):
        f.predict_interval(2, method="cqr")
    with pytest.raises(ValueError, match=r"series 'new' was not seen in fit.*method='model'"):
        f.predict_interval(1, y=df[df.unique_id == "s0"].assign(unique_id="new"))
    d = _fit(RecurrentRegressor(loss="gaussian", **GRU), df, strategy="direct", horizon=2, diff=1)
    with pytest.raises(ValueError, match="strategy='direct' and differencing"):
        d.predict_quantiles(2)
