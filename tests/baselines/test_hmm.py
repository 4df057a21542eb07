"""HMMForecaster: the forecast distribution against a Monte-Carlo simulation of the fitted model.

The simulation below is written from the model equation in statsmodels' documentation,

    y_t = mu_{S_t} + sum_i phi_{i,S_t} (y_{t-i} - mu_{S_{t-i}}) + sigma_{S_t} eps_t,

with the parameters read by their statsmodels names (``p[j->i]`` is the probability of moving
from regime j to regime i), simulating regime paths and observations step by step. It shares no
code with the forecaster (which uses exact moment recursions and a Gaussian mixture).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr
from sklearn.base import clone
from statsmodels.tsa.regime_switching.markov_autoregression import MarkovAutoregression

from tsrnn import HMMForecaster, datasets
from tsrnn.baselines._hmm import MarkovARParams, markov_ar_forecast

N_MC = 200_000  # Monte-Carlo paths of the oracle
Z = 4.5  # tolerance in standard errors (the checks are deterministic: fixed seeds)


@pytest.fixture(scope="module")
def sunspots():
    return datasets.load("sunspots")


@pytest.fixture(scope="module")
def fitted(sunspots):
    return HMMForecaster().fit(sunspots)


def _params_by_name(res, model, center=0.0, scale=1.0):
    """mu, phi, sigma2 and a row-stochastic 'from -> to' matrix, read from the parameter names.

    ``results_`` is fitted to ``(y - center) / scale``: means and variances are mapped back here.
    """
    named = dict(zip(model.param_names, np.asarray(res.params)))
    k, p = model.k_regimes, model.order
    mu = np.array([named[f"const[{i}]"] for i in range(k)])
    phi = np.array(
        [[named.get(f"ar.L{lag}[{i}]", named.get(f"ar.L{lag}")) for lag in range(1, p + 1)] for i in range(k)]
    )
    sigma2 = np.array([named.get(f"sigma2[{i}]", named.get("sigma2")) for i in range(k)])
    from_to = np.zeros((k, k))
    for j in range(k):
        for i in range(k - 1):
            from_to[j, i] = named[f"p[{j}->{i}]"]
        from_to[j, k - 1] = 1.0 - from_to[j, : k - 1].sum()
    return center + scale * mu, phi, scale**2 * sigma2, from_to


def _simulate(y, joint, mu, phi, sigma2, from_to, horizon, n, seed):
    """Simulate ``n`` futures: returns ``(n, horizon)`` draws of ``y_{T+1..T+H}``."""
    rng = np.random.default_rng(seed)
    k, p = phi.shape
    flat = np.asarray(joint).ravel()
    idx = rng.choice(flat.size, size=n, p=flat / flat.sum())
    lagged_regimes = np.stack(np.unravel_index(idx, joint.shape), axis=1)[:, :p]  # S_T, ..., S_{T-p+1}
    lagged_y = np.tile(np.asarray(y, dtype=float)[::-1][:p], (n, 1))  # y_T, ..., y_{T-p+1}
    out = np.empty((n, horizon))
    cum = np.cumsum(from_to, axis=1)
    for h in range(horizon):
        u = rng.random(n)
        s = np.minimum((u[:, None] > cum[lagged_regimes[:, 0]]).sum(axis=1), k - 1)
        dev = lagged_y - mu[lagged_regimes]
        y_new = mu[s] + (phi[s] * dev).sum(axis=1) + np.sqrt(sigma2[s]) * rng.standard_normal(n)
        out[:, h] = y_new
        lagged_y = np.concatenate([y_new[:, None], lagged_y[:, :-1]], axis=1)
        lagged_regimes = np.concatenate([s[:, None], lagged_regimes[:, :-1]], axis=1)
    return out


def _check_against_mc(sims, mean, variance, lower, upper, tail, n_paths_impl=None):
    n = sims.shape[0]
    mc_mean = sims.mean(axis=0)
    mc_sd = sims.std(axis=0, ddof=1)
    np.testing.assert_array_less(np.abs(mean - mc_mean), Z * mc_sd / np.sqrt(n))
    if variance is not None:
        centred = sims - mc_mean
        var_se = np.sqrt(((centred**2 - mc_sd**2) ** 2).mean(axis=0) / n)
        np.testing.assert_array_less(np.abs(variance - mc_sd**2), Z * var_se)
    # The interval bounds are quantiles: the simulated share below each must be the tail level.
    se = np.sqrt(tail * (1 - tail) / n)
    if n_paths_impl is not None:  # the forecaster sampled regime paths itself
        se = np.sqrt(se**2 + tail * (1 - tail) / n_paths_impl)
    below_lower = (sims < lower).mean(axis=0)
    above_upper = (sims > upper).mean(axis=0)
    np.testing.assert_array_less(np.abs(below_lower - tail), Z * se)
    np.testing.assert_array_less(np.abs(above_upper - tail), Z * se)


def test_transition_matrix_convention(fitted):
    """statsmodels' regime_transition is column-stochastic: [i, j] = P(S_t = i | S_{t-1} = j)."""
    model = MarkovAutoregression(np.zeros(30) + np.arange(30.0) % 3, k_regimes=2, order=2)
    params = np.asarray(fitted.results_.params)
    named = dict(zip(model.param_names, params))
    prm = MarkovARParams.from_statsmodels(model, params)
    assert prm.transition[0, 1] == pytest.approx(named["p[1->0]"])
    assert prm.transition[0, 0] == pytest.approx(named["p[0->0]"])
    np.testing.assert_allclose(prm.transition.sum(axis=0), 1.0)
    # The public matrix is row-stochastic: [i, j] = P(next = j | current = i).
    tm = fitted.transition_matrix_
    assert tm[1, 0] == pytest.approx(named["p[1->0]"])
    np.testing.assert_allclose(tm.sum(axis=1), 1.0)
    table = fitted.regime_params_
    assert table.loc[0, "expected_duration"] == pytest.approx(1.0 / (1.0 - named["p[0->0]"]))
    assert table.loc[1, "ar.L2"] == pytest.approx(named["ar.L2[1]"])


@pytest.mark.parametrize("n_paths", [10_000, 1_000], ids=["enumerated", "sampled"])
def test_fitted_forecast_matches_monte_carlo(sunspots, fitted, n_paths):
    horizon = 10
    coverage = 0.9
    f = clone(fitted).set_params(n_paths=n_paths).fit(sunspots)
    res = f.results_
    model = res.model
    mu, phi, sigma2, from_to = _params_by_name(res, model, f.center_, f.scale_)
    joint = np.asarray(res.filtered_joint_probabilities)[..., -1]
    sims = _simulate(sunspots.to_numpy(), joint, mu, phi, sigma2, from_to, horizon, N_MC, seed=12345)

    mean = f.predict(horizon).to_numpy()
    interval = f.predict_interval(horizon, coverage=coverage)
    detail = f._forecast(horizon, quantiles=(0.05,))[0]
    assert detail["exact"] == (n_paths >= 4 * 2**horizon)
    _check_against_mc(
        sims,
        mean,
        detail["variance"],
        interval["lower"].to_numpy(),
        interval["upper"].to_numpy(),
        tail=(1 - coverage) / 2,
        n_paths_impl=None if detail["exact"] else n_paths,
    )
    # The forecast index continues the yearly index.
    assert interval.index[0] == sunspots.index[-1] + 1


def test_three_regimes_order_three_asymmetric_chain():
    """The forecast engine on hand-set parameters: 3 regimes, AR(3), a strongly asymmetric chain."""
    rng = np.random.default_rng(7)
    k, p, horizon = 3, 3, 6
    mu = np.array([-5.0, 0.0, 8.0])
    phi = np.array([[0.5, 0.2, -0.1], [0.9, -0.3, 0.1], [-0.4, 0.1, 0.2]])
    sigma2 = np.array([0.5, 2.0, 4.0])
    from_to = np.array([[0.90, 0.08, 0.02], [0.30, 0.60, 0.10], [0.05, 0.45, 0.50]])
    joint = rng.dirichlet(np.ones(k ** (p + 1))).reshape((k,) * (p + 1))
    y_last = np.array([1.0, -2.0, 6.5])  # oldest first
    prm = MarkovARParams(mu, phi, sigma2, from_to.T.copy())
    for n_paths in (100_000, 3_000):  # 27 * 3^6 = 19683 paths: enumerated, then sampled
        out = markov_ar_forecast(y_last, joint, prm, horizon, quantiles=(0.1, 0.9), n_paths=n_paths)
        assert out["exact"] == (n_paths >= 19683)
        sims = _simulate(y_last, joint, mu, phi, sigma2, from_to, horizon, N_MC, seed=99)
        _check_against_mc(
            sims,
            out["mean"],
            out["variance"],
            out["quantiles"][0],
            out["quantiles"][1],
            tail=0.1,
            n_paths_impl=None if out["exact"] else n_paths,
        )
        # Regime probabilities: the marginal of S_T pushed through the chain.
        start = joint.sum(axis=tuple(range(1, p + 1)))
        expected = np.array([start @ np.linalg.matrix_power(from_to, h) for h in range(1, horizon + 1)])
        np.testing.assert_allclose(out["regime_probabilities"], expected, atol=1e-12)


def test_mixture_quantile_exact_for_one_path():
    """With the regime known and fixed, the forecast is an AR(1) Gaussian: quantiles by formula."""
    prm = MarkovARParams(np.array([2.0, -1.0]), np.array([[0.5], [0.0]]), np.array([1.0, 1.0]), np.eye(2))
    joint = np.array([[1.0, 0.0], [0.0, 0.0]])  # S_T = S_{T-1} = 0
    out = markov_ar_forecast(np.array([4.0]), joint, prm, 3, quantiles=(0.05,))
    h = np.arange(1, 4)
    mean = 2.0 + 0.5**h * 2.0
    var = np.cumsum(0.25 ** (h - 1))
    np.testing.assert_allclose(out["mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(out["variance"], var, rtol=1e-12)
    np.testing.assert_allclose(ndtr((out["quantiles"][0] - mean) / np.sqrt(var)), 0.05, atol=1e-9)


def test_one_step_mean_matches_statsmodels_in_sample_prediction(sunspots, fitted):
    """E[y_{T+1} | y_1..y_T] equals statsmodels' in-sample 'predicted' prediction at T+1."""
    train = sunspots.iloc[:-1]
    f = HMMForecaster().fit(train)
    params = np.asarray(f.results_.params)
    assert f.center_ == pytest.approx(train.mean()) and f.scale_ == pytest.approx(train.std(ddof=0))
    z = (sunspots.to_numpy() - f.center_) / f.scale_
    full = MarkovAutoregression(z, k_regimes=2, order=2, switching_variance=False)
    expected = np.asarray(full.predict(params, probabilities="predicted"))[-1]
    assert f.predict(1).iloc[0] == pytest.approx(f.center_ + f.scale_ * expected, rel=1e-9)


def test_forecasts_follow_affine_changes_of_units(sunspots):
    """Fitting 10 y + 3 gives 10 times the forecasts plus 3 (the fit runs on the standardised series)."""
    f = HMMForecaster().fit(sunspots.iloc[-120:])
    g = HMMForecaster().fit(10.0 * sunspots.iloc[-120:] + 3.0)
    np.testing.assert_allclose(g.predict(5).to_numpy(), 10 * f.predict(5).to_numpy() + 3, rtol=1e-6)
    np.testing.assert_allclose(
        g.predict_interval(5).to_numpy(), 10 * f.predict_interval(5).to_numpy() + 3, rtol=1e-6
    )
    np.testing.assert_allclose(g.regime_params_["sigma"], 10 * f.regime_params_["sigma"], rtol=1e-6)


def test_update_filters_with_fixed_parameters(sunspots):
    f = HMMForecaster().fit(sunspots.iloc[:-5])
    params = np.asarray(f.results_.params).copy()
    f.update(sunspots.iloc[-5:])
    np.testing.assert_array_equal(np.asarray(f.results_.params), params)
    z = (sunspots.to_numpy() - f.center_) / f.scale_  # the fit's standardisation, kept by update
    full = MarkovAutoregression(z, k_regimes=2, order=2, switching_variance=False)
    smoothed = full.smooth(params)
    np.testing.assert_allclose(
        f.regime_probabilities_.to_numpy()[2:],
        np.asarray(smoothed.smoothed_marginal_probabilities),
        atol=1e-12,
    )
    assert f.regime_probabilities_.index.equals(sunspots.index)
    assert f.predict(2).index[0] == sunspots.index[-1] + 1


def test_update_then_one_step_mean_matches_statsmodels(sunspots):
    """After update, the one-step forecast uses the filter at the new end: statsmodels' in-sample
    'predicted' value for the next observation, at the same parameters."""
    f = HMMForecaster().fit(sunspots.iloc[:-6])
    f.update(sunspots.iloc[-6:-1])
    z = (sunspots.to_numpy() - f.center_) / f.scale_
    full = MarkovAutoregression(z, k_regimes=2, order=2, switching_variance=False)
    expected = np.asarray(full.predict(np.asarray(f.results_.params), probabilities="predicted"))[-1]
    assert f.predict(1).iloc[0] == pytest.approx(f.center_ + f.scale_ * expected, rel=1e-9)


def test_regime_probabilities_frame(sunspots, fitted):
    probs = fitted.regime_probabilities_
    assert probs.index.equals(sunspots.index)
    assert list(probs.columns) == [0, 1]
    assert probs.iloc[:2].isna().all().all()  # the first `order` observations are conditioned on
    np.testing.assert_allclose(probs.iloc[2:].sum(axis=1), 1.0)
    filtered = fitted.filtered_regime_probabilities_
    np.testing.assert_allclose(filtered.iloc[2:].sum(axis=1), 1.0)
    np.testing.assert_allclose(
        filtered.iloc[-1].to_numpy(), np.asarray(fitted.results_.filtered_marginal_probabilities)[-1]
    )


def test_several_columns_fit_independently(sunspots):
    y = sunspots.iloc[-150:]
    frame = pd.DataFrame({"a": y.to_numpy(), "b": y.to_numpy()[::-1].copy()}, index=y.index)
    both = HMMForecaster().fit(frame)
    one = HMMForecaster().fit(frame["b"])
    np.testing.assert_allclose(both.predict(4)["b"].to_numpy(), one.predict(4).to_numpy(), rtol=1e-10)
    iv = both.predict_interval(4)
    np.testing.assert_allclose(iv[("b", "upper")].to_numpy(), one.predict_interval(4)["upper"].to_numpy())
    assert both.regime_probabilities_.columns.names == ["series", "regime"]
    assert isinstance(both.results_, list) and len(both.results_) == 2


def test_clone_and_params():
    f = HMMForecaster(k_regimes=3, order=1, n_paths=500)
    g = clone(f)
    assert g.get_params() == f.get_params()
    assert not hasattr(g, "results_")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"k_regimes": 1}, ValueError, r"'k_regimes' parameter .* int in the range \[2, inf\)"),
        ({"order": 0}, ValueError, r"'order' parameter .* int in the range \[1, inf\)"),
        ({"trend": "t"}, ValueError, "'trend' parameter of HMMForecaster must be a str among"),
        ({"switching_variance": "yes"}, TypeError, "'switching_variance' parameter .* instance of 'bool'"),
        ({"n_paths": 0}, ValueError, r"'n_paths' parameter .* int in the range \[1, inf\)"),
    ],
)
def test_bad_parameters(sunspots, kwargs, error, match):
    with pytest.raises(error, match=match):
        HMMForecaster(**kwargs).fit(sunspots)


def test_too_short_series():
    y = pd.Series(np.arange(10.0))
    with pytest.raises(ValueError, match="needs at least"):
        HMMForecaster().fit(y)


def test_exogenous_rejected(sunspots):
    X = pd.DataFrame({"x": np.arange(len(sunspots), dtype=float)}, index=sunspots.index)
    with pytest.raises(ValueError, match="does not use exogenous"):
        HMMForecaster().fit(sunspots, X=X)


def test_max_obs_fits_the_last_observations_only(sunspots):
    """Bounded cost on long series: the fit is that of the tail, the earlier probabilities NaN."""
    tail = HMMForecaster(max_obs=None).fit(sunspots.iloc[-150:])
    f = HMMForecaster(max_obs=150).fit(sunspots)
    np.testing.assert_allclose(f.predict(5).to_numpy(), tail.predict(5).to_numpy(), rtol=1e-10)
    probs = f.regime_probabilities_
    assert probs.index.equals(sunspots.index)
    assert probs.iloc[: len(sunspots) - 150].isna().all().all()
    np.testing.assert_allclose(
        probs.iloc[-148:].to_numpy(), tail.regime_probabilities_.iloc[-148:].to_numpy()
    )


def test_quantiles_match_monte_carlo(sunspots, fitted):
    """The share of simulated futures below each quantile is its level (Monte-Carlo oracle)."""
    horizon, levels = 6, (0.1, 0.5, 0.8)
    res = fitted.results_
    mu, phi, sigma2, from_to = _params_by_name(res, res.model, fitted.center_, fitted.scale_)
    joint = np.asarray(res.filtered_joint_probabilities)[..., -1]
    sims = _simulate(sunspots.to_numpy(), joint, mu, phi, sigma2, from_to, horizon, N_MC, seed=7)
    q = fitted.predict_quantiles(horizon, quantiles=levels).to_numpy()
    assert np.all(np.diff(q, axis=1) > 0)
    for k, tau in enumerate(levels):
        se = np.sqrt(tau * (1 - tau) / N_MC + tau * (1 - tau) / fitted.n_paths)
        np.testing.assert_array_less(np.abs((sims < q[:, k]).mean(axis=0) - tau), Z * se)
