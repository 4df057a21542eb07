"""Hidden-Markov-model baseline: a Markov-switching autoregression with out-of-sample forecasts.

statsmodels fits the model (``MarkovAutoregression``) but cannot forecast it out of sample
(its ``forecast`` raises ``NotImplementedError``). :func:`markov_ar_forecast` computes the
forecast distribution from the fitted parameters and the last filtered regime probabilities.

The model (Hamilton 1989; statsmodels' parametrisation)::

    y_t = mu_{S_t} + sum_{i=1..p} phi_{i,S_t} (y_{t-i} - mu_{S_{t-i}}) + sigma_{S_t} eps_t

with ``eps_t ~ N(0, 1)`` and a Markov chain ``S_t`` on ``k`` regimes. The autoregression runs on
deviations from the mean of the regime that was active at each lag, so the deviation vector
``z_t = (y_t - mu_{S_t}, ..., y_{t-p+1} - mu_{S_{t-p+1}})`` follows the Markov jump linear
system ``z_{t+1} = A_{S_{t+1}} z_t + sigma_{S_{t+1}} eps_{t+1} e_1`` (``A_s`` the companion
matrix of ``phi_s``) and ``y_t = mu_{S_t} + z_t[0]``.

Conditionally on a regime path, the future is Gaussian; the predictive distribution is the
mixture of these Gaussians over regime paths, weighted by their probabilities:

- starting point: statsmodels' filtered joint probabilities of ``(S_T, ..., S_{T-p})`` at the
  last observation, summed over ``S_{T-p}``; each configuration of ``(S_T, ..., S_{T-p+1})``
  fixes the deviations ``z_T`` exactly;
- regime paths continue with the transition matrix. statsmodels stores it column-stochastic,
  ``P[i, j] = P(S_t = i | S_{t-1} = j)`` (its parameter ``p[j->i]``);
- **mean** (exact): the first-moment recursion of the jump linear system,
  ``M_{s'}(h+1) = A_{s'} sum_s P[s', s] M_s(h)`` with ``M_s(h) = E[z_{T+h} 1{S_{T+h} = s}]``,
  so ``E[y_{T+h}] = sum_s P(S_{T+h} = s) mu_s + sum_s M_s(h)[0]``; the variance likewise from
  the second moments;
- **interval** (mixture quantiles): every regime path gives ``y_{T+h} | path ~ N(m, v)`` (mean
  and variance by the AR recursion along the path); the mixture CDF
  ``F(x) = sum_paths w Phi((x - m) / sqrt(v))`` is inverted by root finding (Brent). When the
  number of paths ``k^p * k^H`` is at most ``n_paths``, all paths are enumerated with their
  exact probabilities (the interval is exact); otherwise ``n_paths`` regime paths are drawn
  (conditional Monte Carlo: the Gaussian part is integrated exactly, only the regimes are
  sampled), with a fixed seed, so forecasts are reproducible.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from numbers import Integral
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr
from sklearn.utils._param_validation import Interval, StrOptions

from .._state import check_array, check_int, estimator_state, fail, register, reserve, restore_estimator_state
from ..forecasting import BaseForecaster
from ._common import single_threaded_blas

__all__ = ["HMMForecaster", "MarkovARParams", "markov_ar_forecast"]


@dataclass
class MarkovARParams:
    """Parameters of a Markov-switching AR(p) in plain arrays.

    ``transition`` is column-stochastic as in statsmodels: ``transition[i, j] = P(S_t = i | S_{t-1} = j)``.
    """

    mean: np.ndarray  # (k,)
    ar: np.ndarray  # (k, p)
    variance: np.ndarray  # (k,)
    transition: np.ndarray  # (k, k), columns sum to one

    @classmethod
    def from_statsmodels(cls, model, params) -> MarkovARParams:
        """Read the parameters of a statsmodels ``MarkovAutoregression`` (trend "c" or "n")."""
        params = np.asarray(params, dtype=np.float64)
        k = model.k_regimes
        mean = np.zeros(k)
        if model.trend == "c":
            mean = np.array([params[model.parameters[i, "exog"]][0] for i in range(k)])
        ar = np.array([params[model.parameters[i, "autoregressive"]] for i in range(k)])
        variance = np.array([params[model.parameters[i, "variance"]].ravel()[0] for i in range(k)])
        transition = np.asarray(model.regime_transition_matrix(params))[:, :, 0]
        return cls(mean, ar.reshape(k, model.order), variance, transition)

    def unstandardized(self, center: float, scale: float) -> MarkovARParams:
        """The parameters of ``center + scale * x`` when these are those of ``x``.

        Means shift and scale, variances scale by ``scale**2``; the AR coefficients (on
        deviations) and the chain are unchanged.
        """
        return MarkovARParams(
            center + scale * self.mean, self.ar.copy(), scale**2 * self.variance, self.transition
        )


def _regime_paths(start_weights, transition, horizon, n_paths, rng):
    """Regime paths ``(N, H)``, their start configuration index, weights summing to one, exactness.

    All paths when there are at most ``n_paths`` of them (exact weights), else ``n_paths`` draws.
    """
    k = transition.shape[0]
    configs, first = start_weights
    n_cfg = configs.shape[0]
    if n_cfg * k**horizon <= n_paths:
        futures = np.array(list(itertools.product(range(k), repeat=horizon)), dtype=np.intp)
        cfg = np.repeat(np.arange(n_cfg), futures.shape[0])
        paths = np.tile(futures, (n_cfg, 1))
        weights = first[cfg].copy()
        prev = configs[cfg, 0]
        for h in range(horizon):
            weights *= transition[paths[:, h], prev]
            prev = paths[:, h]
        return cfg, paths, weights / weights.sum(), True
    cfg = rng.choice(n_cfg, size=n_paths, p=first)
    paths = np.empty((n_paths, horizon), dtype=np.intp)
    prev = configs[cfg, 0]
    cumulative = np.cumsum(transition, axis=0)  # column j: CDF of the next regime given j
    for h in range(horizon):
        u = rng.random(n_paths)
        nxt = (u[:, None] > cumulative[:, prev].T).sum(axis=1)
        paths[:, h] = np.minimum(nxt, k - 1)
        prev = paths[:, h]
    return cfg, paths, np.full(n_paths, 1.0 / n_paths), False


def _mixture_quantile(q: float, means: np.ndarray, sds: np.ndarray, weights: np.ndarray) -> float:
    lo = float(np.min(means - 12.0 * sds))
    hi = float(np.max(means + 12.0 * sds))

    def excess(x):
        return float(weights @ ndtr((x - means) / sds)) - q

    scale = max(hi - lo, 1e-300)
    return brentq(excess, lo, hi, xtol=1e-12 * scale, rtol=1e-14)


def markov_ar_forecast(
    y_last: np.ndarray,
    joint_probabilities: np.ndarray,
    params: MarkovARParams,
    horizon: int,
    quantiles=(),
    n_paths: int = 10_000,
    random_state=0,
) -> dict[str, np.ndarray]:
    """Forecast distribution of a Markov-switching AR(p) (see the module docstring for the method).

    Parameters
    ----------
    y_last : ndarray of shape (p,)
        The last ``p`` observations, oldest first.
    joint_probabilities : ndarray of shape (k,) * (p + 1)
        ``P(S_T, S_{T-1}, ..., S_{T-p} | y_1..y_T)``: statsmodels'
        ``results.filtered_joint_probabilities[..., -1]``.
    params : MarkovARParams
    horizon : int
    quantiles : sequence of float
        Probability levels of the predictive quantiles to return.
    n_paths : int
        Enumerate all regime paths when there are at most this many, else draw this many.
    random_state : int or None
        Seed for the drawn paths.

    Returns
    -------
    dict
        ``mean`` and ``variance`` (H,) exact; ``quantiles`` (len(quantiles), H);
        ``regime_probabilities`` (H, k), ``P(S_{T+h} = s | y_1..y_T)``; ``exact`` whether the
        quantiles come from all paths.
    """
    mu, phi, var, P = params.mean, params.ar, params.variance, params.transition
    k, p = phi.shape
    y_last = np.asarray(y_last, dtype=np.float64)
    recent = y_last[::-1]  # y_T, y_{T-1}, ..., y_{T-p+1}

    # Configurations of (S_T, ..., S_{T-p+1}) with their filtered probabilities.
    start = np.asarray(joint_probabilities, dtype=np.float64).sum(axis=-1)
    configs = np.array(list(np.ndindex(start.shape)), dtype=np.intp).reshape(-1, p)
    first = start.ravel()
    keep = first > 1e-15 * first.max()
    configs, first = configs[keep], first[keep] / first[keep].sum()
    z0 = recent[None, :] - mu[configs]  # (C, p) deviations from each lag's regime mean

    # Exact first and second moments (Markov jump linear system).
    pi = np.zeros(k)
    M = np.zeros((k, p))
    Q = np.zeros((k, p, p))
    np.add.at(pi, configs[:, 0], first)
    np.add.at(M, configs[:, 0], first[:, None] * z0)
    np.add.at(Q, configs[:, 0], first[:, None, None] * z0[:, :, None] * z0[:, None, :])
    mean = np.empty(horizon)
    variance = np.empty(horizon)
    regime_prob = np.empty((horizon, k))
    for h in range(horizon):
        pi = P @ pi
        mix_m = np.einsum("ij,jp->ip", P, M)
        mix_q = np.einsum("ij,jpq->ipq", P, Q)
        M = np.empty_like(mix_m)
        M[:, 0] = np.einsum("ip,ip->i", phi, mix_m)
        M[:, 1:] = mix_m[:, :-1]
        Q = _companion_cov(phi, mix_q, pi * var)
        regime_prob[h] = pi
        mean[h] = pi @ mu + M[:, 0].sum()
        second = pi @ mu**2 + 2.0 * mu @ M[:, 0] + Q[:, 0, 0].sum()
        variance[h] = max(second - mean[h] ** 2, 0.0)

    out = {"mean": mean, "variance": variance, "regime_probabilities": regime_prob}
    quantiles = tuple(quantiles)
    if not quantiles:
        return out

    rng = np.random.default_rng(random_state)
    cfg, paths, weights, exact = _regime_paths((configs, first), P, horizon, n_paths, rng)
    m = z0[cfg].copy()  # (N, p) conditional mean of z along each path
    V = np.zeros((m.shape[0], p, p))  # conditional covariance of z
    comp_mean = np.empty((m.shape[0], horizon))
    comp_sd = np.empty((m.shape[0], horizon))
    for h in range(horizon):
        s = paths[:, h]
        phi_s = phi[s]
        d = np.einsum("np,np->n", phi_s, m)
        V = _companion_cov(phi_s, V, var[s])
        m = np.concatenate([d[:, None], m[:, :-1]], axis=1)
        comp_mean[:, h] = mu[s] + d
        comp_sd[:, h] = np.sqrt(V[:, 0, 0])
    out["quantiles"] = np.array(
        [
            [_mixture_quantile(q, comp_mean[:, h], comp_sd[:, h], weights) for h in range(horizon)]
            for q in quantiles
        ]
    )
    out["exact"] = exact
    return out


def _companion_cov(phi: np.ndarray, V: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``A V A^T + noise e1 e1^T`` for companion matrices ``A`` built from the rows of ``phi``."""
    p = phi.shape[1]
    pv = np.einsum("np,npq->nq", phi, V)  # first row of A V
    out = np.empty_like(V)
    out[:, 0, 0] = np.einsum("nq,nq->n", pv, phi) + noise
    out[:, 0, 1:] = pv[:, : p - 1]
    out[:, 1:, 0] = pv[:, : p - 1]
    out[:, 1:, 1:] = V[:, :-1, :-1]
    return out


class HMMForecaster(BaseForecaster):
    """Hidden-Markov-model baseline: Markov-switching autoregression (statsmodels), forecast by tsrnn.

    The series switches between ``k_regimes`` hidden regimes following a Markov chain; in each
    regime it is an AR(``order``) around the regime's mean with the regime's noise level::

        y_t = mu_{S_t} + sum_i phi_{i,S_t} (y_{t-i} - mu_{S_{t-i}}) + sigma_{S_t} eps_t

    Fitted by maximum likelihood (Hamilton filter) with statsmodels' ``MarkovAutoregression``
    on the standardised series ``(y - center_) / scale_`` (its optimiser fails or returns NaN on
    raw series with large levels, such as monthly CO2 or El Nino temperatures); the parameters
    are mapped back exactly (means and standard deviations rescale, AR coefficients and the
    chain do not), so forecasts are in the units of ``y``.
    Forecasts: exact predictive mean, and prediction intervals as quantiles of the exact
    Gaussian mixture over regime paths (enumerated, or sampled when there are more than
    ``n_paths``), given the fitted parameters: their estimation uncertainty is not included,
    so on short series the intervals are narrower than they should be; see
    :mod:`tsrnn.baselines._hmm` and ``docs/compare.md``. ``update`` runs the
    Hamilton filter over the extended series with the fitted parameters (no refit).

    Several columns in ``y`` get one independent model each.

    Parameters
    ----------
    k_regimes : int, default=2
        Number of hidden regimes.
    order : int, default=2
        Autoregressive order ``p`` (at least 1).
    switching_ar : bool, default=True
        Whether the AR coefficients differ between regimes.
    switching_variance : bool, default=False
        Whether the noise variance differs between regimes. Off by default, as in statsmodels
        and Hamilton (1989): with switching variances the likelihood tends to give a regime to a
        few extreme observations (docs/compare.md).
    trend : {"c", "n"}, default="c"
        ``"c"``: a (regime-dependent) mean; ``"n"``: zero mean.
    em_iter : int, default=5
        EM iterations used to improve the starting values before the likelihood optimiser.
    search_reps : int, default=0
        Random restarts to search for better starting values (seeded by ``random_state``).
    maxiter : int, default=300
        Iterations of the likelihood optimiser (BFGS).
    n_paths : int, default=10000
        Regime paths for the interval: all paths are enumerated when there are at most this
        many, otherwise this many are drawn.
    random_state : int or None, default=0
        Seed of the start-value search and of the drawn regime paths.
    max_obs : int or None, default=1000
        Fit to the last ``max_obs`` observations only (all with ``None``), so that the cost of
        a fit (Hamilton filter times optimiser steps) stays bounded on long series; the regime
        probabilities of the earlier observations are NaN.

    Attributes
    ----------
    results_ : statsmodels MarkovSwitchingResults (list for several columns)
        Results at the fitted parameters, filtered up to the last observation seen; fitted to
        the standardised series ``(y - center_) / scale_``.
    center_, scale_ : float (lists for several columns)
        Mean and standard deviation of the training series used to standardise it.
    regime_probabilities_ : DataFrame
        Smoothed probability of each regime at each time, indexed like ``y`` (NaN for the first
        ``order`` observations, which the model conditions on). Columns: the regimes
        (``(series, regime)`` for several columns). Regime labels are arbitrary; see
        ``regime_params_``.
    filtered_regime_probabilities_ : DataFrame
        Same with filtered probabilities (using data up to each time only).
    regime_params_ : DataFrame (list for several columns)
        Per regime: ``mean``, ``sigma``, AR coefficients ``ar.L1...`` and ``expected_duration``
        ``1 / (1 - P(stay))``.
    transition_matrix_ : ndarray (k, k) (list for several columns)
        Row-stochastic transition matrix, ``[i, j] = P(S_t = j | S_{t-1} = i)`` (the transpose
        of statsmodels' ``regime_transition``).
    converged_ : bool (list for several columns)
        Whether the optimiser reported convergence.
    """

    _parameter_constraints: ClassVar[dict] = {
        "k_regimes": [Interval(Integral, 2, None, closed="left")],
        "order": [Interval(Integral, 1, None, closed="left")],
        "switching_ar": ["boolean"],
        "switching_variance": ["boolean"],
        "trend": [StrOptions({"c", "n"})],
        "em_iter": [Interval(Integral, 0, None, closed="left")],
        "search_reps": [Interval(Integral, 0, None, closed="left")],
        "maxiter": [Interval(Integral, 1, None, closed="left")],
        "n_paths": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "max_obs": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        k_regimes: int = 2,
        order: int = 2,
        switching_ar: bool = True,
        switching_variance: bool = False,
        trend: str = "c",
        em_iter: int = 5,
        search_reps: int = 0,
        maxiter: int = 300,
        n_paths: int = 10_000,
        random_state: int | None = 0,
        max_obs: int | None = 1000,
    ):
        self.k_regimes = k_regimes
        self.order = order
        self.switching_ar = switching_ar
        self.switching_variance = switching_variance
        self.trend = trend
        self.em_iter = em_iter
        self.search_reps = search_reps
        self.maxiter = maxiter
        self.n_paths = n_paths
        self.random_state = random_state
        self.max_obs = max_obs

    def _model(self, y: np.ndarray):
        from statsmodels.tsa.regime_switching.markov_autoregression import MarkovAutoregression

        return MarkovAutoregression(
            y,
            k_regimes=self.k_regimes,
            order=self.order,
            trend=self.trend,
            switching_ar=self.switching_ar,
            switching_variance=self.switching_variance,
        )

    def _fit(self, values: np.ndarray, X) -> None:
        k, p = int(self.k_regimes), int(self.order)
        if self.max_obs is not None:
            values = values[-int(self.max_obs) :]
        n = values.shape[0]
        n_min = max(3 * (p + 1) * k, 20)
        if n < n_min:
            raise ValueError(
                f"y has {n} observations; a {k}-regime switching AR({p}) needs at least {n_min}."
            )
        self._history = [values[:, j].copy() for j in range(values.shape[1])]
        self._center = [float(np.mean(y)) for y in self._history]
        self._scale = [float(np.std(y)) for y in self._history]
        flat = [j for j, scale in enumerate(self._scale) if not scale > 0.0]
        if flat:
            where = "y" if values.shape[1] == 1 else f"column {flat[0]} of y"
            raise ValueError(
                f"{where} is constant (every value {self._center[flat[0]]!r}): a regime-switching "
                "model has no regimes to find in it. Its forecast is that constant: use "
                "NaiveForecaster(), which forecasts it exactly."
            )
        self._results, self._params, converged = [], [], []
        for y, center, scale in zip(self._history, self._center, self._scale):
            model = self._model((y - center) / scale)
            hint = "try fewer regimes, a lower order or search_reps > 0"
            try:
                with warnings.catch_warnings(), single_threaded_blas():
                    # statsmodels warns on every non-converged BFGS run; converged_ records it instead.
                    warnings.simplefilter("ignore")
                    res = model.fit(
                        em_iter=self.em_iter,
                        search_reps=self.search_reps,
                        maxiter=self.maxiter,
                        rng=None if self.search_reps == 0 else np.random.default_rng(self.random_state),
                    )
            except (np.linalg.LinAlgError, FloatingPointError) as exc:
                raise ValueError(
                    f"the Markov-switching AR({p}) fit with {k} regimes failed ({exc}); {hint}."
                ) from exc
            if not (np.all(np.isfinite(res.params)) and np.isfinite(res.llf)):
                raise ValueError(
                    f"the Markov-switching AR({p}) fit with {k} regimes failed "
                    f"(non-finite likelihood); {hint}."
                )
            self._results.append(res)
            self._params.append(
                MarkovARParams.from_statsmodels(model, res.params).unstandardized(center, scale)
            )
            converged.append(bool(res.mle_retvals.get("converged", True)) if res.mle_retvals else True)
        one = len(self._results) == 1
        self.converged_ = converged[0] if one else converged
        self.center_ = self._center[0] if one else list(self._center)
        self.scale_ = self._scale[0] if one else list(self._scale)
        self._publish()

    def _publish(self) -> None:
        one = len(self._results) == 1
        tables, matrices = [], []
        for prm in self._params:
            k, p = prm.ar.shape
            table = pd.DataFrame(
                {"mean": prm.mean, "sigma": np.sqrt(prm.variance)}, index=pd.RangeIndex(k, name="regime")
            )
            for i in range(p):
                table[f"ar.L{i + 1}"] = prm.ar[:, i]
            stay = np.diag(prm.transition)
            with np.errstate(divide="ignore"):
                table["expected_duration"] = 1.0 / (1.0 - stay)
            tables.append(table)
            matrices.append(prm.transition.T.copy())
        self.results_ = self._results[0] if one else list(self._results)
        self.regime_params_ = tables[0] if one else tables
        self.transition_matrix_ = matrices[0] if one else matrices

    def _probabilities(self, kind: str) -> pd.DataFrame:
        info = self.target_info_
        frames = []
        for res in self._results:
            probs = np.asarray(getattr(res, f"{kind}_marginal_probabilities"))
            full = np.full((len(info.index), probs.shape[1]), np.nan)
            full[-probs.shape[0] :] = probs
            frames.append(full)
        regimes = pd.RangeIndex(self.k_regimes, name="regime")
        if info.is_series:
            return pd.DataFrame(frames[0], index=info.index, columns=regimes)
        columns = pd.MultiIndex.from_product([info.columns, regimes], names=["series", "regime"])
        return pd.DataFrame(np.hstack(frames), index=info.index, columns=columns)

    @property
    def regime_probabilities_(self) -> pd.DataFrame:
        """Smoothed regime probabilities indexed like the data seen (see the class docstring)."""
        if not hasattr(self, "_results"):
            raise AttributeError("regime_probabilities_ is available after fit().")
        return self._probabilities("smoothed")

    @property
    def filtered_regime_probabilities_(self) -> pd.DataFrame:
        """Filtered regime probabilities indexed like the data seen (see the class docstring)."""
        if not hasattr(self, "_results"):
            raise AttributeError("filtered_regime_probabilities_ is available after fit().")
        return self._probabilities("filtered")

    def _forecast(self, horizon: int, quantiles=()) -> list[dict]:
        out = []
        for y, res, prm in zip(self._history, self._results, self._params):
            joint = np.asarray(res.filtered_joint_probabilities)[..., -1]
            out.append(
                markov_ar_forecast(
                    y[-self.order :],
                    joint,
                    prm,
                    horizon,
                    quantiles=quantiles,
                    n_paths=self.n_paths,
                    random_state=self.random_state,
                )
            )
        return out

    def _predict(self, horizon: int, X) -> np.ndarray:
        return np.column_stack([f["mean"] for f in self._forecast(horizon)])

    def _predict_interval(self, horizon: int, coverage: float, X):
        tail = (1.0 - coverage) / 2.0
        fc = self._forecast(horizon, quantiles=(tail, 1.0 - tail))
        return (
            np.column_stack([f["quantiles"][0] for f in fc]),
            np.column_stack([f["quantiles"][1] for f in fc]),
        )

    def _predict_quantiles(self, horizon: int, levels: np.ndarray, X) -> np.ndarray:
        # quantiles of the predictive Gaussian mixture over regime paths, (K, H) per series
        fc = self._forecast(horizon, quantiles=tuple(float(v) for v in levels))
        return np.stack([f["quantiles"].T for f in fc], axis=1)

    def _update(self, values: np.ndarray, X) -> None:
        for j, res in enumerate(self._results):
            self._history[j] = np.concatenate([self._history[j], values[:, j]])
            model = self._model((self._history[j] - self._center[j]) / self._scale[j])
            with warnings.catch_warnings(), single_threaded_blas():
                warnings.simplefilter("ignore")
                self._results[j] = model.smooth(res.params)
        self._publish()

    # -- persisted state (see tsrnn._state) ----------------------------------------------------
    # The statsmodels results are not stored: each column's data, standardisation and fitted
    # parameters are, and the results are rebuilt with MarkovAutoregression(...).smooth(params),
    # the call that ends statsmodels' own fit (and that update() uses).

    _FITTED_STATE = (
        "target_info_",
        "n_series_",
        "exog_columns_",
        "converged_",
        "center_",
        "scale_",
        "_history",
        "_center",
        "_scale",
        "_fitted_params",
    )

    def _get_state(self) -> dict:
        if hasattr(self, "_results"):
            self._fitted_params = [np.asarray(r.params, dtype=np.float64) for r in self._results]
        try:
            return estimator_state(self, self._FITTED_STATE)
        finally:
            self.__dict__.pop("_fitted_params", None)

    def _set_state(self, state: dict) -> None:
        if not restore_estimator_state(self, state, self._FITTED_STATE):
            return
        fitted = self.__dict__.pop("_fitted_params")
        m = check_int(self.n_series_, "HMMForecaster.n_series_", 1)
        n = len(self.target_info_.index)
        for name in ("_history", "_center", "_scale"):
            if not (isinstance(getattr(self, name), list) and len(getattr(self, name)) == m):
                fail(f"HMMForecaster.{name}", "does not hold one entry per series")
        if not (isinstance(fitted, list) and len(fitted) == m) or self.exog_columns_ is not None:
            fail("HMMForecaster", "does not hold one fitted model per series")
        k, p = self.k_regimes, self.order
        if p >= n:
            fail("HMMForecaster.order", "is not below the number of observations")
        self._results, self._params = [], []
        for j, (y, center, scale, params) in enumerate(zip(self._history, self._center, self._scale, fitted)):
            where = f"HMMForecaster series {j}"
            check_array(y, f"{where} history", (n,))
            check_array(params, f"{where} params", ndim=1)
            if not (
                isinstance(center, float) and isinstance(scale, float) and np.isfinite(center) and scale > 0
            ):
                fail(where, "center / scale are not finite numbers with a positive scale")
            # statsmodels keeps probabilities of the k^(p+1) joint regimes at every observation
            reserve(80.0 * n * float(k) ** min(p + 1, 64), f"{where} (k_regimes={k}, order={p})")
            with warnings.catch_warnings(), single_threaded_blas():
                warnings.simplefilter("ignore")
                model = self._model((y - center) / scale)
                if model.k_params != params.shape[0]:
                    fail(where, "the fitted parameters do not match the model")
                self._results.append(model.smooth(params))
            self._params.append(MarkovARParams.from_statsmodels(model, params).unstandardized(center, scale))
        self._publish()


register(HMMForecaster)
