"""Metrics by hand, and the season inferred from index frequencies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn.evaluation import infer_seasonal_period, metrics


def test_point_metrics_by_hand():
    y = [1.0, 2.0, 4.0, 0.0]
    p = [2.0, 2.0, 1.0, 0.0]
    assert metrics.mae(y, p) == pytest.approx((1 + 0 + 3 + 0) / 4)
    assert metrics.rmse(y, p) == pytest.approx(np.sqrt((1 + 0 + 9 + 0) / 4))
    # sMAPE terms: 2*1/3, 0, 2*3/5, 0/0 -> 0
    assert metrics.smape(y, p) == pytest.approx(100 * (2 / 3 + 0 + 6 / 5 + 0) / 4)


def test_mase_scale_is_in_sample_seasonal_naive_mae():
    train = [1.0, 3.0, 2.0, 6.0, 4.0]
    assert metrics.seasonal_naive_mae(train, 1) == pytest.approx((2 + 1 + 4 + 2) / 4)
    assert metrics.seasonal_naive_mae(train, 2) == pytest.approx((1 + 3 + 2) / 3)
    assert metrics.seasonal_naive_mae(train, 12) == pytest.approx((2 + 1 + 4 + 2) / 4)  # too short: m = 1
    assert metrics.mase([5.0, 7.0], [6.0, 6.0], y_train=train) == pytest.approx(1.0 / 2.25)
    assert metrics.mase([5.0, 7.0], [6.0, 6.0], scale=0.5) == pytest.approx(2.0)
    assert metrics.mase([5.0], [6.0], scale=0.0) == np.inf
    with pytest.raises(ValueError, match="needs y_train"):
        metrics.mase([1.0], [1.0])


def test_interval_metrics():
    y = [1.0, 5.0, 3.0, 10.0]
    lo = [0.0, 0.0, 3.0, 11.0]
    hi = [2.0, 4.0, 4.0, 12.0]
    assert metrics.coverage(y, lo, hi) == pytest.approx(0.5)  # 1 in, 5 out, 3 on the edge (in), 10 out
    assert metrics.interval_width(lo, hi) == pytest.approx((2 + 4 + 1 + 1) / 4)
    assert np.isnan(metrics.coverage(y, [np.nan] * 4, [np.nan] * 4))


def test_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mae([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        metrics.rmse([], [])


def test_summarize_averages_window_metrics():
    rows = []
    for model, errors in (("a", [[1, -1], [3, 3]]), ("b", [[0, 0], [2, 2]])):
        for w, errs in enumerate(errors):
            for h, e in enumerate(errs, start=1):
                rows.append(
                    {
                        "model": model,
                        "window": w,
                        "step_ahead": h,
                        "y_true": 10.0,
                        "y_pred": 10.0 - e,
                        "lower": 10.0 - e - 1.5,  # covers errors up to 1.5
                        "upper": 10.0 - e + 1.5,
                        "mase_scale": 2.0 if w == 0 else 1.0,
                        "fit_time": 0.5 * (w + 1),
                        "predict_time": 0.1,
                    }
                )
    summary = metrics.summarize(pd.DataFrame(rows))
    assert list(summary.index) == ["b", "a"]  # ranked by MASE
    # a: window MAEs 1 and 3, MASE 1/2 and 3/1; RMSE 1 and 3; coverage 1 and 0.
    assert summary.loc["a", "mae"] == pytest.approx(2.0)
    assert summary.loc["a", "mase"] == pytest.approx((0.5 + 3.0) / 2)
    assert summary.loc["a", "rmse"] == pytest.approx(2.0)
    assert summary.loc["a", "coverage"] == pytest.approx(0.5)
    assert summary.loc["a", "width"] == pytest.approx(3.0)
    assert summary.loc["a", "fit_time"] == pytest.approx(0.75)
    assert summary.loc["b", "mase"] == pytest.approx((0 + 2.0) / 2)
    assert summary.loc["b", "n_windows"] == 2


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.period_range("2000-01", periods=5, freq="M"), 12),
        (pd.date_range("2000-01-01", periods=5, freq="MS"), 12),
        (pd.date_range("2000-01-31", periods=5, freq="ME"), 12),
        (pd.period_range("2000Q1", periods=5, freq="Q"), 4),
        (pd.date_range("2000-01-01", periods=5, freq="QS"), 4),
        (pd.date_range("2000-01-01", periods=5, freq="W-SAT"), 52),
        (pd.date_range("2000-01-01", periods=5, freq="D"), 7),
        (pd.date_range("2000-01-03", periods=5, freq="B"), 5),
        (pd.date_range("2000-01-01", periods=5, freq="h"), 24),
        (pd.period_range("1700", periods=5, freq="Y"), None),
        (pd.date_range("2000-01-01", periods=5, freq="2MS"), None),
        (pd.RangeIndex(10), None),
        (pd.DatetimeIndex(pd.date_range("2000-01-01", periods=6, freq="MS").to_numpy()), 12),  # inferred
    ],
)
def test_infer_seasonal_period(index, expected):
    assert infer_seasonal_period(index) == expected


def test_pinball_loss_matches_scikit_learn():
    from sklearn.metrics import mean_pinball_loss

    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    levels = [0.1, 0.5, 0.8]
    q = y[:, None] + rng.normal(size=(50, 3))
    expect = np.mean([mean_pinball_loss(y, q[:, k], alpha=a) for k, a in enumerate(levels)])
    assert metrics.pinball_loss(y, q, levels) == pytest.approx(expect, rel=1e-12)
    with pytest.raises(ValueError, match="3 probabilities"):
        metrics.pinball_loss(y, q, [0.1, 0.5])


def test_crps_agrees_with_numerical_integration():
    from scipy import integrate, stats

    y, mu, sd = 0.7, -0.2, 1.3
    exact, _ = integrate.quad(lambda x: (stats.norm.cdf(x, mu, sd) - (x >= y)) ** 2, -30, 30, points=[y])
    assert metrics.gaussian_crps(y, mu, sd) == pytest.approx(exact, rel=1e-7)
    levels = (np.arange(2000) + 0.5) / 2000
    q = stats.norm.ppf(levels, mu, sd)
    assert metrics.crps_from_quantiles(np.array(y), q, levels) == pytest.approx(exact, rel=2e-3)
    draws = stats.norm.rvs(mu, sd, size=200_000, random_state=np.random.default_rng(1))
    assert metrics.crps_from_samples(np.array(y), draws) == pytest.approx(exact, rel=1e-2)


def test_crps_from_samples_equals_the_pairwise_energy_form():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 9))
    y = rng.normal(size=4)
    pair = np.abs(x[:, :, None] - x[:, None, :]).mean(axis=(1, 2))
    brute = np.mean(np.abs(x - y[:, None]).mean(axis=1) - 0.5 * pair)
    assert metrics.crps_from_samples(y, x) == pytest.approx(brute, rel=1e-12)


def test_winkler_score_by_hand():
    # 80 % intervals, alpha = 0.2, penalty 2 / alpha = 10 per unit outside
    y = [0.0, 5.0, -3.0]
    lower, upper = [-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]
    assert metrics.winkler_score(y, lower, upper, 0.8) == pytest.approx((2 + (2 + 40) + (2 + 20)) / 3)
