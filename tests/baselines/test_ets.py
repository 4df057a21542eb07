"""ETSForecaster against statsmodels' ETSModel fitted directly, and against hand computation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from tsrnn import ETSForecaster, datasets


def _quarterly(n=48, seed=0):
    """A positive quarterly series with a trend and a multiplicative-looking season."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = np.array([1.1, 0.9, 1.2, 0.8])[t % 4]
    y = (50 + 0.8 * t) * season * np.exp(0.03 * rng.normal(size=n))
    return pd.Series(y, index=pd.period_range("2000Q1", periods=n, freq="Q"))


def _direct(y, error, trend, damped, seasonal, m=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(
            pd.Series(np.asarray(y, dtype=float)),
            error=error,
            trend=trend,
            damped_trend=damped,
            seasonal=seasonal,
            seasonal_periods=m if seasonal else None,
        )
        return model.fit(disp=False)


@pytest.mark.slow
def test_aicc_selection_matches_candidates_fitted_by_hand():
    """R's default candidate set written out here: 6 additive-error and 9 multiplicative-error models."""
    y = _quarterly()
    f = ETSForecaster(seasonal_period=4).fit(y)
    candidates = [
        (e, t, d, s)
        for e in ("add", "mul")
        for t, d in ((None, False), ("add", False), ("add", True))
        for s in (None, "add", "mul")
        if not (e == "add" and s == "mul")
    ]
    assert len(candidates) == 15 and f.n_models_ == 15
    fits = {c: _direct(y, *c, m=4) for c in candidates}
    best = min(fits, key=lambda c: fits[c].aicc)
    assert f.spec_ == best
    assert f.aicc_ == pytest.approx(fits[best].aicc, rel=1e-10)
    np.testing.assert_allclose(f.results_.fittedvalues, fits[best].fittedvalues, rtol=1e-10)
    np.testing.assert_allclose(f.predict(8).to_numpy(), fits[best].forecast(8), rtol=1e-10)
    letters = {None: "N", "add": "A", "mul": "M"}
    assert f.model_ == letters[best[0]] + letters[best[1]] + ("d" if best[2] else "") + letters[best[3]]
    # The AICc itself, by hand from the log-likelihood: k parameters plus the variance.
    res = fits[best]
    k, n = len(res.params) + 1, len(y)
    assert res.aicc == pytest.approx(-2 * res.llf + 2 * k + 2 * k * (k + 1) / (n - k - 1), rel=1e-8)


def test_fixed_damped_model_matches_statsmodels_with_exact_intervals():
    y = datasets.load("sunspots")
    f = ETSForecaster(error="add", trend="add", damped_trend=True, seasonal="none").fit(y)
    ref = _direct(y, "add", "add", True, None)
    assert f.n_models_ == 1 and f.model_ == "AAdN"
    np.testing.assert_allclose(f.results_.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(f.predict(6).to_numpy(), ref.forecast(6), rtol=1e-10)
    n = len(y)
    frame = ref.get_prediction(start=n, end=n + 5).summary_frame(alpha=0.2)
    iv = f.predict_interval(6, coverage=0.8)
    np.testing.assert_allclose(iv["lower"].to_numpy(), frame["pi_lower"], rtol=1e-10)
    np.testing.assert_allclose(iv["upper"].to_numpy(), frame["pi_upper"], rtol=1e-10)
    assert iv.index[0] == y.index[-1] + 1


def test_ann_forecast_and_interval_by_hand():
    """Simple exponential smoothing: level recursion and variance sigma^2 (1 + (h-1) alpha^2)."""
    y = datasets.load("nile")
    f = ETSForecaster(error="add", trend="none", seasonal="none").fit(y)
    p = dict(zip(f.results_.model.param_names, f.results_.params))
    alpha, level = p["smoothing_level"], p["initial_level"]
    errors = []
    for v in y.to_numpy():
        errors.append(v - level)
        level = level + alpha * (v - level)
    np.testing.assert_allclose(f.predict(4).to_numpy(), level, rtol=1e-9)
    sigma2 = np.mean(np.square(errors))  # statsmodels' ML variance of the additive model
    h = np.arange(1, 5)
    sd = np.sqrt(sigma2 * (1 + (h - 1) * alpha**2))
    iv = f.predict_interval(4, coverage=0.9)
    np.testing.assert_allclose(iv["upper"].to_numpy() - level, 1.6448536269514722 * sd, rtol=1e-6)

    # update: the level moves through the new values with alpha unchanged, no refit.
    head, tail = y.iloc[:-5], y.iloc[-5:]
    g = ETSForecaster(error="add", trend="none", seasonal="none").fit(head)
    q = dict(zip(g.results_.model.param_names, g.results_.params))
    level = q["initial_level"]
    for v in y.to_numpy():
        level = level + q["smoothing_level"] * (v - level)
    g.update(tail)
    np.testing.assert_allclose(g.predict(3).to_numpy(), level, rtol=1e-9)
    assert g.predict(3).index[0] == y.index[-1] + 1
    np.testing.assert_allclose(g.results_.params, list(q.values()))


def test_simulated_intervals_match_statsmodels_with_the_same_seed():
    y = _quarterly()
    f = ETSForecaster(seasonal_period=4, error="mul", trend="add", damped_trend=False, seasonal="mul")
    f.set_params(random_state=3, n_simulations=400).fit(y)
    ref = _direct(y, "mul", "add", False, "mul", m=4)
    n = len(y)
    frame = ref.get_prediction(
        start=n, end=n + 7, simulate_repetitions=400, rng=np.random.default_rng(3)
    ).summary_frame(alpha=0.1)
    iv = f.predict_interval(8)
    np.testing.assert_allclose(iv["lower"].to_numpy(), frame["pi_lower"], rtol=1e-9)
    np.testing.assert_allclose(iv["upper"].to_numpy(), frame["pi_upper"], rtol=1e-9)
    # Same seed, same intervals; the point forecast lies inside them.
    pd.testing.assert_frame_equal(iv, f.predict_interval(8))
    point = f.predict(8).to_numpy()
    assert np.all(iv["lower"].to_numpy() < point) and np.all(point < iv["upper"].to_numpy())


def test_non_positive_data_never_gets_multiplicative_parts():
    y = _quarterly() - 80.0  # crosses zero
    f = ETSForecaster(seasonal_period=4).fit(y)
    assert f.n_models_ == 6 and f.spec_[0] == "add" and f.spec_[3] != "mul"
    with pytest.raises(ValueError, match="multiplicative parts need strictly positive"):
        ETSForecaster(error="mul").fit(y)


def test_short_series_drops_models_with_too_many_parameters():
    y = _quarterly(n=12)
    f = ETSForecaster(seasonal_period=4).fit(y)
    # Seasonal models have 2 + 5 (+ 2 or 3 with a trend) parameters: kept only while n > k + 4.
    assert f.n_models_ == 2 * 3 + 3  # no seasonal model with a trend: n=12 <= 9 + 4
    assert f.spec_[1] is None or f.spec_[3] is None


def test_several_columns_get_their_own_models():
    y = _quarterly()
    frame = pd.DataFrame({"a": y, "b": -y[::-1].to_numpy() + 300})
    f = ETSForecaster(seasonal_period=4, error="add").fit(frame)
    assert isinstance(f.model_, list) and len(f.model_) == 2
    single = ETSForecaster(seasonal_period=4, error="add").fit(frame["b"])
    np.testing.assert_allclose(f.predict(4)["b"].to_numpy(), single.predict(4).to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"error": "multiplicative"}, ValueError, "error"),
        ({"seasonal": "add"}, ValueError, "seasonal_period"),
        ({"damped_trend": "yes"}, TypeError, "damped_trend"),
        ({"seasonal_period": 0}, ValueError, "seasonal_period"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        ETSForecaster(**kwargs).fit(_quarterly())


def test_quantiles_from_statsmodels_predictive_distribution():
    from scipy.stats import norm

    # linear model: Gaussian with the closed-form variance sigma^2 (1 + (h - 1) alpha^2)
    y = datasets.load("nile")
    f = ETSForecaster(error="add", trend="none", seasonal="none").fit(y)
    p = dict(zip(f.results_.model.param_names, f.results_.params))
    alpha = p["smoothing_level"]
    level, errors = p["initial_level"], []
    for v in y.to_numpy():
        errors.append(v - level)
        level = level + alpha * (v - level)
    sd = np.sqrt(np.mean(np.square(errors)) * (1 + (np.arange(1, 5) - 1) * alpha**2))
    q = f.predict_quantiles(4, quantiles=(0.1, 0.5, 0.8))
    for tau in (0.1, 0.5, 0.8):
        np.testing.assert_allclose(q[tau].to_numpy(), level + norm.ppf(tau) * sd, rtol=1e-6)
    # nonlinear model: quantiles of statsmodels' simulated paths with the same seed
    yq = _quarterly()
    g = ETSForecaster(seasonal_period=4, error="mul", trend="add", damped_trend=False, seasonal="mul")
    g.set_params(random_state=3, n_simulations=400).fit(yq)
    ref = _direct(yq, "mul", "add", False, "mul", m=4)
    n = len(yq)
    sims = ref.get_prediction(start=n, end=n + 7, simulate_repetitions=400, rng=np.random.default_rng(3))
    qs = g.predict_quantiles(8, quantiles=(0.05, 0.5, 0.95)).to_numpy()
    np.testing.assert_allclose(
        qs, np.quantile(sims._results.simulation_results, [0.05, 0.5, 0.95], axis=1).T, rtol=1e-9
    )
    assert np.all(np.diff(qs, axis=1) > 0)
