"""ARIMAForecaster against statsmodels' ARIMA (an independent fit) and against hand computation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.base import clone
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.statespace.sarimax import SARIMAX
from threadpoolctl import threadpool_limits

from tsrnn import ARIMAForecaster, datasets
from tsrnn.baselines import select_differencing, select_seasonal_differencing

from ..kpss_oracle import rejects_stationarity


@pytest.fixture(scope="module")
def sunspots():
    return datasets.load("sunspots")


def _statsmodels_arima(y, order, trend, seasonal_order=(0, 0, 0, 0), exog=None):
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):  # tiny matrices: 1 thread
        warnings.simplefilter("ignore")
        return ARIMA(y, order=order, trend=trend, seasonal_order=seasonal_order, exog=exog).fit()


@pytest.mark.parametrize(("order", "trend"), [((2, 0, 1), "c"), ((1, 1, 1), "n"), ((3, 0, 0), "c")])
def test_fixed_order_matches_statsmodels_arima(sunspots, order, trend):
    """Same model, fitted by statsmodels' ARIMA class (other parametrisation and optimiser path)."""
    f = ARIMAForecaster(order=order).fit(sunspots)
    ref = _statsmodels_arima(sunspots.to_numpy(), order, trend)
    tol = 1e-3 * sunspots.std()  # two optimisers stop at slightly different points
    assert f.results_.llf == pytest.approx(ref.llf, abs=1e-3)
    np.testing.assert_allclose(f.predict(12).to_numpy(), ref.forecast(12), atol=tol)
    iv = f.predict_interval(12, coverage=0.8)
    ci = ref.get_forecast(12).conf_int(alpha=0.2)
    np.testing.assert_allclose(iv["lower"].to_numpy(), ci[:, 0], atol=tol)
    np.testing.assert_allclose(iv["upper"].to_numpy(), ci[:, 1], atol=tol)
    assert f.order_ == order and f.trend_ == trend
    assert iv.index[0] == sunspots.index[-1] + 1


def test_ar_forecast_and_interval_by_hand(sunspots):
    """A pure AR(3): forecasts by the AR recursion, variances by the psi weights, from the fitted params."""
    f = ARIMAForecaster(order=(3, 0, 0)).fit(sunspots)
    named = dict(zip(f.results_.model.param_names, f.results_.params))
    c, phi = named["intercept"], np.array([named["ar.L1"], named["ar.L2"], named["ar.L3"]])
    sigma2 = f.results_.scale
    hist = list(sunspots.to_numpy()[-3:])
    mean = []
    for _ in range(8):
        nxt = c + phi[0] * hist[-1] + phi[1] * hist[-2] + phi[2] * hist[-3]
        mean.append(nxt)
        hist.append(nxt)
    psi = [1.0]
    for j in range(1, 8):
        psi.append(sum(phi[i] * psi[j - 1 - i] for i in range(3) if j - 1 - i >= 0))
    sd = np.sqrt(sigma2 * np.cumsum(np.square(psi)))
    z = norm.ppf(0.95)
    np.testing.assert_allclose(f.predict(8).to_numpy(), mean, rtol=1e-9)
    iv = f.predict_interval(8, coverage=0.9)
    np.testing.assert_allclose(iv["lower"].to_numpy(), np.array(mean) - z * sd, rtol=1e-8)
    np.testing.assert_allclose(iv["upper"].to_numpy(), np.array(mean) + z * sd, rtol=1e-8)


def test_seasonal_fixed_order_matches_statsmodels():
    y = datasets.load("co2_monthly").iloc[-180:]
    f = ARIMAForecaster(order=(1, 1, 0), seasonal_order=(0, 1, 1, 12)).fit(y)
    ref = _statsmodels_arima(y.to_numpy(), (1, 1, 0), "n", seasonal_order=(0, 1, 1, 12))
    np.testing.assert_allclose(f.predict(24).to_numpy(), ref.forecast(24), atol=1e-3 * y.std())
    assert f.predict(24).index[0] == pd.Timestamp("2002-01-01")


def test_update_appends_without_refitting(sunspots):
    f = ARIMAForecaster(order=(2, 0, 1)).fit(sunspots.iloc[:-7])
    params = np.asarray(f.results_.params).copy()
    f.update(sunspots.iloc[-7:])
    np.testing.assert_array_equal(np.asarray(f.results_.params), params)
    # Oracle: the same model filtered over all the data at the same parameters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SARIMAX(sunspots.to_numpy(), order=(2, 0, 1), trend="c", concentrate_scale=True).filter(params)
    np.testing.assert_allclose(f.predict(5).to_numpy(), ref.forecast(5), rtol=1e-9)
    assert f.predict(5).index[0] == sunspots.index[-1] + 1


def test_exogenous_regressor_matches_statsmodels():
    rng = np.random.default_rng(3)
    n = 160
    x = rng.normal(size=n + 6)
    e = np.zeros(n + 6)
    for t in range(1, n + 6):
        e[t] = 0.6 * e[t - 1] + rng.normal()
    yv = 2.0 + 1.5 * x + e
    idx = pd.period_range("2000-01", periods=n + 6, freq="M")
    y = pd.Series(yv[:n], index=idx[:n])
    X = pd.DataFrame({"x": x}, index=idx)
    f = ARIMAForecaster(order=(1, 0, 0)).fit(y, X=X.iloc[:n])
    ref = _statsmodels_arima(yv[:n], (1, 0, 0), "c", exog=x[:n, None])
    np.testing.assert_allclose(
        f.predict(6, X=X.iloc[n:]).to_numpy(), ref.forecast(6, exog=x[n:, None]), atol=1e-3 * y.std()
    )


def test_select_differencing_follows_kpss():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=300)
    walk = np.cumsum(rng.normal(size=300))
    walk2 = np.cumsum(np.cumsum(rng.normal(size=300)))
    assert select_differencing(noise) == 0
    assert select_differencing(walk) == 1
    assert select_differencing(walk2) == 2
    assert select_differencing(walk2, max_d=1) == 1
    assert select_differencing(walk, test="adf") == 1
    assert select_differencing(noise, test="adf") == 0
    # Sunspots: KPSS (written from the paper) rejects level-stationarity at 5 %, so d = 1.
    x = datasets.load("sunspots").to_numpy()
    assert rejects_stationarity(x, 0.05) and not rejects_stationarity(np.diff(x), 0.05)
    assert select_differencing(x) == 1


def _statsmodels_release(monkeypatch, release: str) -> None:
    """Make ``kpss`` and ``adfuller`` behave as in another statsmodels ``release``: "0.14" has no
    result objects (tuples only), "0.16" returns them by default (0.15 announces the change)."""
    import statsmodels.tsa.stattools as stattools

    for name in ("kpss", "adfuller"):
        real = getattr(stattools, name)
        if release == "0.14":

            def test(x, *args, _real=real, **kwargs):
                return _real(x, *args, result_object=False, **kwargs)

        else:

            def test(x, *args, _real=real, result_object=True, **kwargs):
                return _real(x, *args, result_object=result_object, **kwargs)

        monkeypatch.setattr(stattools, name, test)


@pytest.mark.parametrize("release", ["installed", "0.14", "0.16"])
def test_select_differencing_reads_every_statsmodels_release(monkeypatch, release):
    """The unit-root tests' results are read right whatever statsmodels returns (the tuples of
    0.14, the result objects that 0.16 makes the default), with no FutureWarning. Oracles: the
    KPSS test written from the paper, and a random walk (one unit root) against white noise."""
    if release != "installed":
        _statsmodels_release(monkeypatch, release)
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(size=200))
    trend = np.arange(150.0) + rng.normal(size=150)
    noise = rng.normal(size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecation the library does not handle fails here
        for x in (walk, trend, noise, datasets.load("sunspots").to_numpy()):
            for alpha in (0.05, 0.01):
                assert select_differencing(x, max_d=1, alpha=alpha) == int(rejects_stationarity(x, alpha))
        assert select_differencing(walk, max_d=1, test="adf") == 1
        assert select_differencing(noise, max_d=1, test="adf") == 0


def test_select_seasonal_differencing():
    rng = np.random.default_rng(1)
    t = np.arange(240)
    seasonal = 10 * np.sin(2 * np.pi * t / 12) + rng.normal(size=240)
    assert select_seasonal_differencing(seasonal, 12) == 1
    assert select_seasonal_differencing(rng.normal(size=240), 12) == 0
    assert select_seasonal_differencing(seasonal[:20], 12) == 0  # fewer than two seasons


def _simulated_arma(seed=0, n=400):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n + 100)
    y = np.zeros(n + 100)
    for t in range(2, n + 100):
        y[t] = 0.6 * y[t - 1] + 0.25 * y[t - 2] + e[t] + 0.4 * e[t - 1]
    return pd.Series(10.0 + y[100:], index=pd.RangeIndex(n))


def test_grid_search_picks_the_information_criterion_minimum():
    y = _simulated_arma()
    assert select_differencing(y.to_numpy()) == 0  # so the oracle below compares ARMA models
    f = ARIMAForecaster(stepwise=False, max_p=2, max_q=2, information_criterion="bic").fit(y)
    assert f.n_models_ == 18  # 3 x 3 orders x (constant or not)
    # Oracle: every candidate fitted here by statsmodels' ARIMA, BIC compared.
    best = None
    for p in range(3):
        for q in range(3):
            for trend in ("c", "n"):
                bic = _statsmodels_arima(y.to_numpy(), (p, 0, q), trend).bic
                if best is None or bic < best[0]:
                    best = (bic, (p, 0, q), trend)
    assert f.ic_ == pytest.approx(best[0], abs=0.05)
    assert (f.order_, f.trend_) == (best[1], best[2])


def test_stepwise_search_reaches_the_grid_optimum():
    y = _simulated_arma()
    stepwise = ARIMAForecaster(max_p=3, max_q=3).fit(y)
    grid = ARIMAForecaster(stepwise=False, max_p=3, max_q=3).fit(y)
    assert stepwise.n_models_ < grid.n_models_
    # on this ARMA(1,1) the greedy search finds the grid's minimum itself, not a neighbour
    assert (stepwise.order_, stepwise.trend_) == (grid.order_, grid.trend_)
    assert stepwise.ic_ == pytest.approx(grid.ic_, rel=1e-12)
    assert stepwise.order_[1] == 0


def test_several_columns_get_their_own_models(sunspots):
    y = sunspots.iloc[-120:]
    frame = pd.DataFrame({"a": y.to_numpy(), "b": np.cumsum(y.to_numpy() - y.mean())}, index=y.index)
    both = ARIMAForecaster(order=(2, 0, 0)).fit(frame)
    one = ARIMAForecaster(order=(2, 0, 0)).fit(frame["b"])
    np.testing.assert_allclose(both.predict(3)["b"].to_numpy(), one.predict(3).to_numpy(), rtol=1e-10)
    assert isinstance(both.order_, list) and len(both.results_) == 2


def test_clone_keeps_parameters():
    f = ARIMAForecaster(order=(1, 0, 0), max_p=3, information_criterion="bic")
    assert clone(f).get_params() == f.get_params()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"order": (1, 0)}, ValueError, "order must be a tuple of 3"),
        ({"order": (1, -1, 0)}, ValueError, r"order\[1\] must be a non-negative integer"),
        ({"seasonal_order": (1, 0, 0, 1)}, ValueError, "fourth entry"),
        ({"trend": "ct"}, ValueError, "'trend' parameter of ARIMAForecaster must be a str among"),
        ({"information_criterion": "hqic"}, ValueError, "'information_criterion' parameter .* must be a str"),
        ({"test": "pp"}, ValueError, "'test' parameter of ARIMAForecaster must be a str among"),
        ({"alpha": 1.5}, ValueError, r"'alpha' parameter .* float in the range \(0.0, 1.0\)"),
        ({"seasonal_period": 0}, ValueError, r"'seasonal_period' parameter .* int in the range \[1, inf\)"),
    ],
)
def test_bad_parameters(sunspots, kwargs, error, match):
    with pytest.raises(error, match=match):
        ARIMAForecaster(**kwargs).fit(sunspots)


def test_exog_needed_for_predict_when_fitted_with_it():
    y = pd.Series(np.random.default_rng(0).normal(size=60))
    X = pd.DataFrame({"x": np.arange(60.0)})
    f = ARIMAForecaster(order=(1, 0, 0)).fit(y, X=X)
    with pytest.raises(ValueError, match="needs their future values"):
        f.predict(3)


def _css_sse_by_hand(x, mu, phi, theta, start):
    """The conditional sum of squares of an ARMA(p, q), by its recursion with zero initial errors."""
    e = np.zeros(len(x))
    for t in range(len(x)):
        ar = sum(phi[i] * (x[t - 1 - i] - mu) for i in range(len(phi)) if t - 1 - i >= 0)
        ma = sum(theta[j] * e[t - 1 - j] for j in range(len(theta)) if t - 1 - j >= 0)
        e[t] = x[t] - mu - ar - ma
    return float(np.sum(e[start:] ** 2))


def test_css_search_scores_orders_by_the_conditional_likelihood():
    """The search's CSS fit minimises the hand-computed conditional sum of squares; its AICc is
    the Gaussian one with the ML variance SSE / n on the common residuals."""
    from scipy.optimize import minimize

    y = _simulated_arma().to_numpy()
    f = ARIMAForecaster(stepwise=False, max_p=2, max_q=1, information_criterion="aicc").fit(pd.Series(y))
    assert f.order_[1] == 0
    # The oracle: the same CSS problem minimised by Nelder-Mead on the recursion above.
    start = 2  # the common residuals start after the longest AR lag of the search (max_p)
    objective = lambda v: _css_sse_by_hand(y, v[0], v[1:3], v[3:4], start)  # noqa: E731
    oracle = minimize(objective, [y.mean(), 0.5, 0.2, 0.3], method="Nelder-Mead",
                      options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 20000, "maxfev": 20000})  # fmt: skip
    n_used = len(y) - start
    sigma2 = oracle.fun / n_used
    k = 5  # mean, 2 AR, 1 MA, variance
    aicc = n_used * (np.log(2 * np.pi * sigma2) + 1) + 2 * k + 2 * k * (k + 1) / (n_used - k - 1)
    assert f.search_ic_[(2, 1, 0, 0, "c")] == pytest.approx(aicc, abs=1e-4)
    assert len(f.search_ic_) == f.n_models_ == 12
    # The chosen order's final fit is exact ML: the same as statsmodels' own fit of that order.
    ref = _statsmodels_arima(y, f.order_, f.trend_)
    assert f.results_.llf == pytest.approx(ref.llf, abs=1e-3)


def test_css_and_exact_searches_agree_on_a_simulated_arma():
    y = _simulated_arma()
    css = ARIMAForecaster(max_p=3, max_q=3).fit(y)
    mle = ARIMAForecaster(max_p=3, max_q=3, search="mle").fit(y)
    assert css.order_ == mle.order_ and css.trend_ == mle.trend_
    assert css.ic_ == pytest.approx(mle.ic_, abs=0.05)


def test_near_unit_roots_are_rejected():
    """Over-differenced white noise is an MA(1) with theta = -1: R's auto.arima rejects that fit."""
    rng = np.random.default_rng(1)
    e = rng.normal(size=401)
    y = pd.Series(e[1:] - e[:-1])
    ma1 = _statsmodels_arima(y.to_numpy(), (0, 0, 1), "n")
    assert np.min(np.abs(ma1.maroots)) < 1.01  # the oracle: statsmodels' own MA(1) fit is non-invertible
    for search in ("css", "mle"):
        f = ARIMAForecaster(stepwise=False, max_p=0, max_q=1, max_d=0, search=search).fit(y)
        assert f.order_ == (0, 0, 0), search
        assert f.n_models_ == 4


def test_automatic_search_gives_the_same_bits_every_time(sunspots):
    """The same data, the same forecast, bit for bit: on this window of sunspots the CSS search's
    (4, 0, 4) candidate once converged to a different optimum from call to call."""
    train = sunspots.iloc[:269]
    forecasts = [ARIMAForecaster().fit(train).predict(10).to_numpy() for _ in range(6)]
    for other in forecasts[1:]:
        np.testing.assert_array_equal(other, forecasts[0])


def test_grid_search_caps_the_total_order():
    y = _simulated_arma()
    f = ARIMAForecaster(stepwise=False, max_p=3, max_q=3, max_order=2).fit(y)
    assert f.n_models_ == 2 * 6  # (p, q) with p + q <= 2, with and without a constant
    assert sum(f.order_[::2]) <= 2


def test_quantiles_are_statsmodels_forecast_distribution(sunspots):
    """Each quantile is an end of statsmodels' own central interval of the matching coverage."""
    f = ARIMAForecaster(order=(2, 0, 1)).fit(sunspots)
    q = f.predict_quantiles(6, quantiles=(0.05, 0.25, 0.5, 0.9))
    assert list(q.columns) == [0.05, 0.25, 0.5, 0.9] and q.index.equals(f.predict(6).index)
    fc = f.results_.get_forecast(6)
    for level, alpha, end in [(0.05, 0.1, 0), (0.25, 0.5, 0), (0.9, 0.2, 1)]:
        np.testing.assert_allclose(q[level].to_numpy(), fc.conf_int(alpha=alpha)[:, end], rtol=1e-10)
    np.testing.assert_allclose(q[0.5].to_numpy(), f.predict(6).to_numpy(), rtol=1e-10)


def test_orders_statsmodels_cannot_fit_are_not_chosen():
    """On US real GDP's first 199 quarters with a season of 4, the CSS search's three best
    candidates have q >= 4 next to a seasonal MA term, which statsmodels' SARIMAX refuses
    ("lags in both the seasonal and non-seasonal components"); the search used to end in
    "no ARIMA model could be fitted". The order it chooses now is one statsmodels fits by
    itself to the same likelihood (the oracle: an independent SARIMAX fit of that order)."""
    y = datasets.load("macrodata")["realgdp"].iloc[:199]
    f = ARIMAForecaster(seasonal_period=4).fit(y)
    (p, _, q), (P, _, Q, m) = f.order_, f.seasonal_order_
    assert not ((P and p >= m) or (Q and q >= m))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = SARIMAX(y.to_numpy(), order=f.order_, seasonal_order=f.seasonal_order_, trend=f.trend_).fit(
            disp=False
        )
    assert f.results_.llf == pytest.approx(oracle.llf, rel=1e-4, abs=0.5)
    assert np.all(np.isfinite(f.predict(4).to_numpy()))
