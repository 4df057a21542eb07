"""Exponential smoothing (ETS) on statsmodels' ``ETSModel``, with automatic model selection by AICc."""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._state import (
    check_array,
    check_choice,
    check_int,
    check_keys,
    fail,
    per_series_state,
    register,
    reserve,
    restore_per_series_state,
)
from ..forecasting import BaseForecaster
from ._common import single_threaded_blas

__all__ = ["ETSForecaster"]

_FIT_ERRORS = (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError, ZeroDivisionError)
_COMPONENTS = (None, "add", "mul")
# R's forecast::ets refuses seasonal models above this period (too many initial states to estimate).
MAX_ETS_PERIOD = 24


def _spec_name(spec: tuple) -> str:
    """``(error, trend, damped, seasonal)`` as R's short name, e.g. ``"MAdN"``."""
    error, trend, damped, seasonal = spec
    letter = {None: "N", "add": "A", "mul": "M"}
    return letter[error] + letter[trend] + ("d" if damped else "") + letter[seasonal]


def _n_params(spec: tuple, m: int) -> int:
    """Free parameters of an ETS model with estimated initial states (as R's ``ets`` counts them)."""
    _, trend, damped, seasonal = spec
    n = 2  # alpha, initial level
    if trend:
        n += 2 + int(damped)  # beta, initial trend (, phi)
    if seasonal:
        n += 1 + m  # gamma, initial seasonal states
    return n


def ets_candidates(
    positive: bool,
    seasonal_period: int,
    n_obs: int,
    error=None,
    trend=None,
    damped_trend=None,
    seasonal=None,
) -> list[tuple]:
    """The ETS models searched by :class:`ETSForecaster`, as ``(error, trend, damped, seasonal)``.

    As R's ``forecast::ets`` by default: errors additive or multiplicative, trend none, additive
    or additive damped (no multiplicative trend), season none, additive or multiplicative (only
    for ``1 < m <= 24``); multiplicative parts only for strictly positive data; additive errors
    never with a multiplicative season (numerically unstable); models with too many parameters
    for the data (``n_obs <= n_params + 4``) left out. ``"auto"`` (or ``None``) leaves a
    component free; a fixed value restricts the search to it.
    """
    m = seasonal_period
    seasons = [None, "add", "mul"] if 1 < m <= MAX_ETS_PERIOD else [None]
    out = []
    for e in ("add", "mul"):
        for t, d in ((None, False), ("add", False), ("add", True)):
            for s in seasons:
                spec = (e, t, d, s)
                if not positive and ("mul" in (e, s)):
                    continue
                if e == "add" and s == "mul":
                    continue
                if error is not None and e != error:
                    continue
                if trend is not None and t != (None if trend == "none" else trend):
                    continue
                if damped_trend is not None and d != damped_trend:
                    continue
                if seasonal is not None and s != (None if seasonal == "none" else seasonal):
                    continue
                if n_obs <= _n_params(spec, m) + 4:
                    continue
                out.append(spec)
    return out


def ets_model(y: np.ndarray, spec: tuple, seasonal_period: int | None):
    """The statsmodels ``ETSModel`` of ``spec = (error, trend, damped, seasonal)`` on ``y``."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    error, trend, damped, seasonal = spec
    return ETSModel(
        # A Series on a RangeIndex: statsmodels' out-of-sample get_prediction needs an index.
        pd.Series(y, index=pd.RangeIndex(y.shape[0])),
        error=error,
        trend=trend,
        damped_trend=damped,
        seasonal=seasonal,
        seasonal_periods=seasonal_period if seasonal else None,
    )


def fit_ets(y: np.ndarray, spec: tuple, seasonal_period: int, maxiter: int):
    """Fit one statsmodels ``ETSModel`` of ``spec = (error, trend, damped, seasonal)`` to ``y``."""
    return ets_model(y, spec, seasonal_period).fit(disp=False, maxiter=maxiter)


def _spec_of(results) -> tuple:
    m = results.model
    return (m.error, m.trend, bool(m.damped_trend), m.seasonal)


class ETSForecaster(BaseForecaster):
    """Exponential smoothing state-space model (ETS) with automatic model selection.

    Each candidate ETS model (Hyndman, Koehler, Ord & Snyder 2008) is fitted by maximum
    likelihood with statsmodels' ``ETSModel`` (initial states estimated), and the one with the
    smallest AICc is kept, as R's ``forecast::ets`` does. The candidates are those of
    :func:`ets_candidates`: error additive or multiplicative, trend none, additive or additive
    damped, season none, additive or multiplicative (season only for ``1 < m <= 24``);
    multiplicative components only for strictly positive series. Fixing ``error``, ``trend``,
    ``damped_trend`` or ``seasonal`` restricts the search.

    Prediction intervals come from statsmodels: closed-form variances for the linear (additive)
    models, simulated quantiles (``n_simulations`` paths, seeded by ``random_state``) for the
    others. ``update`` filters new observations through the fitted model with its parameters
    and initial states unchanged (no refit).

    Several columns in ``y`` get one independent model each.

    Parameters
    ----------
    seasonal_period : int or None, default=None
        Season length ``m`` (12 for monthly data). ``None`` or 1: no seasonal models.
    error : {"auto", "add", "mul"}, default="auto"
    trend : {"auto", "none", "add"}, default="auto"
    damped_trend : {"auto", True, False}, default="auto"
    seasonal : {"auto", "none", "add", "mul"}, default="auto"
        Components of the model; ``"auto"`` lets AICc choose.
    maxiter : int, default=1000
        Iterations of statsmodels' L-BFGS optimiser per fit.
    n_simulations : int, default=1000
        Simulated paths for the intervals of the nonlinear models.
    random_state : int or None, default=0
        Seed of those simulations.

    Attributes
    ----------
    model_ : str (list for several columns)
        The chosen model in R's notation, e.g. ``"AAdN"`` (additive error, damped additive
        trend, no season).
    spec_ : tuple (list for several columns)
        ``(error, trend, damped_trend, seasonal)`` of the chosen model.
    results_ : statsmodels ETSResults (list for several columns)
    aicc_ : float (list for several columns)
        AICc of the chosen model.
    n_models_ : int (list for several columns)
        Candidate models fitted.

    Examples
    --------
    >>> from tsrnn import ETSForecaster, datasets
    >>> y = datasets.load("sunspots")
    >>> f = ETSForecaster().fit(y)
    >>> f.model_
    'ANN'
    """

    def __init__(
        self,
        seasonal_period: int | None = None,
        error: str = "auto",
        trend: str = "auto",
        damped_trend="auto",
        seasonal: str = "auto",
        maxiter: int = 1000,
        n_simulations: int = 1000,
        random_state: int | None = 0,
    ):
        self.seasonal_period = seasonal_period
        self.error = error
        self.trend = trend
        self.damped_trend = damped_trend
        self.seasonal = seasonal
        self.maxiter = maxiter
        self.n_simulations = n_simulations
        self.random_state = random_state

    _parameter_constraints: ClassVar[dict] = {
        "seasonal_period": [Interval(Integral, 1, None, closed="left"), None],
        "error": [StrOptions({"auto", "add", "mul"})],
        "trend": [StrOptions({"auto", "none", "add"})],
        "damped_trend": ["boolean", StrOptions({"auto"})],
        "seasonal": [StrOptions({"auto", "none", "add", "mul"})],
        "maxiter": [Interval(Integral, 1, None, closed="left")],
        "n_simulations": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def _period(self) -> int:
        return 1 if self.seasonal_period is None else int(self.seasonal_period)

    def _check_params(self) -> None:
        m = self._period()
        if self.seasonal in ("add", "mul") and not 1 < m <= MAX_ETS_PERIOD:
            raise ValueError(
                f"seasonal={self.seasonal!r} needs 1 < seasonal_period <= {MAX_ETS_PERIOD}, got "
                f"seasonal_period={self.seasonal_period!r}; pass the season length (12 for monthly data) "
                "or seasonal='auto'."
            )

    def _restrictions(self) -> dict:
        auto = lambda v: None if (isinstance(v, str) and v == "auto") else v  # noqa: E731
        return {
            "error": auto(self.error),
            "trend": auto(self.trend),
            "damped_trend": auto(self.damped_trend),
            "seasonal": auto(self.seasonal),
        }

    def _fit_one(self, y: np.ndarray, restrict: dict):
        positive = bool(np.all(y > 0))
        candidates = ets_candidates(positive, self._m, y.shape[0], **restrict)
        if not candidates:
            why = (
                "strictly positive data"
                if restrict["error"] == "mul" or restrict["seasonal"] == "mul"
                else ""
            )
            raise ValueError(
                f"no ETS model fits a series of {y.shape[0]} values with these settings "
                f"(error={self.error!r}, trend={self.trend!r}, damped_trend={self.damped_trend!r}, "
                f"seasonal={self.seasonal!r}){'; multiplicative parts need ' + why if why else ''}: "
                "use more data, a simpler model or the 'auto' settings."
            )
        best = (np.inf, None, None)
        for spec in candidates:
            try:
                with warnings.catch_warnings():
                    # Candidates that do not converge are judged by their AICc like the others.
                    warnings.simplefilter("ignore")
                    res = fit_ets(y, spec, self._m, self.maxiter)
            except _FIT_ERRORS:
                continue
            aicc = float(res.aicc)
            if np.isfinite(aicc) and aicc < best[0]:
                best = (aicc, spec, res)
        if best[1] is None:
            raise ValueError(
                f"no ETS model could be fitted to this series of {y.shape[0]} values; check that "
                "it is not constant."
            )
        return best[2], best[1], best[0], len(candidates)

    def _fit(self, values: np.ndarray, X) -> None:
        self._m = self._period()
        restrict = self._restrictions()
        with single_threaded_blas():
            fits = [self._fit_one(values[:, j], restrict) for j in range(values.shape[1])]
        self._results = [f[0] for f in fits]
        one = len(fits) == 1
        pick = (lambda i: fits[0][i]) if one else (lambda i: [f[i] for f in fits])
        self.spec_ = pick(1)
        self.model_ = _spec_name(self.spec_) if one else [_spec_name(s) for s in self.spec_]
        self.aicc_ = pick(2)
        self.n_models_ = pick(3)
        self._publish_results()

    def _publish_results(self) -> None:
        self.results_ = self._results[0] if len(self._results) == 1 else list(self._results)

    def _predict(self, horizon: int, X) -> np.ndarray:
        return np.column_stack([np.asarray(r.forecast(horizon)) for r in self._results])

    def _prediction(self, r, horizon: int):
        """statsmodels' predictive distribution of ``horizon`` steps (simulated where not exact)."""
        n = r.model.nobs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return r.get_prediction(
                start=n,
                end=n + horizon - 1,
                simulate_repetitions=self.n_simulations,
                rng=np.random.default_rng(self.random_state),
            )

    def _predict_interval(self, horizon: int, coverage: float, X):
        lower, upper = [], []
        for r in self._results:
            pred = self._prediction(r, horizon)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = pred.summary_frame(alpha=1.0 - coverage)
            lower.append(np.asarray(frame["pi_lower"]))
            upper.append(np.asarray(frame["pi_upper"]))
        return np.column_stack(lower), np.column_stack(upper)

    def _predict_quantiles(self, horizon: int, levels: np.ndarray, X) -> np.ndarray:
        out = []
        for r in self._results:
            pred = self._prediction(r, horizon)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # level tau is an end of statsmodels' central interval with alpha = 2 min(tau,
                # 1 - tau): Gaussian for the linear models, simulated quantiles for the others
                ends = [
                    np.asarray(pred.pred_int(alpha=2.0 * min(tau, 1.0 - tau)), dtype=np.float64)[
                        :, 0 if tau < 0.5 else 1
                    ]
                    for tau in levels
                ]
            out.append(np.column_stack(ends))
        return np.stack(out, axis=1)

    def _update(self, values: np.ndarray, X) -> None:
        new = []
        for j, r in enumerate(self._results):
            old = r.model
            y = np.concatenate([np.asarray(old.endog).ravel(), values[:, j]])
            model = ets_model(y, _spec_of(r), old.seasonal_periods)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                new.append(model.smooth(np.asarray(r.params)))
        self._results = new
        self._publish_results()

    # -- persisted state (see tsrnn._state) ----------------------------------------------------
    # Each column's specification, data and fitted parameters; the results are rebuilt with
    # ETSModel(...).smooth(params), the call that ends statsmodels' own fit (and update()).

    _FITTED_STATE = (
        "target_info_",
        "n_series_",
        "exog_columns_",
        "spec_",
        "model_",
        "aicc_",
        "n_models_",
    )

    def _get_state(self) -> dict:
        def describe(r) -> dict:
            return {
                "endog": np.asarray(r.model.endog, dtype=np.float64).ravel(),
                "spec": _spec_of(r),
                "seasonal_periods": r.model.seasonal_periods if r.model.seasonal else None,
                "params": np.asarray(r.params, dtype=np.float64),
            }

        return per_series_state(self, self._FITTED_STATE, describe)

    def _set_state(self, state: dict) -> None:
        models = restore_per_series_state(self, state, self._FITTED_STATE, "ETSForecaster")
        if models is None:
            return
        if self.exog_columns_ is not None:
            fail("ETSForecaster", "does not hold one model per series")
        n = len(self.target_info_.index)
        self._m = self._period()
        self._results = []
        for j, spec in enumerate(models):
            where = f"ETSForecaster model {j}"
            if not isinstance(spec, dict):
                fail(where, "is not a mapping")
            check_keys(where, spec, ("endog", "spec", "seasonal_periods", "params"))
            y = check_array(spec["endog"], f"{where}.endog", (n,))
            kind = spec["spec"]
            if not (isinstance(kind, tuple) and len(kind) == 4):
                fail(f"{where}.spec", "is not (error, trend, damped, seasonal)")
            check_choice(kind[0], f"{where}.error", ("add", "mul"))
            check_choice(kind[1], f"{where}.trend", (None, "add"))
            check_choice(kind[2], f"{where}.damped", (True, False))
            check_choice(kind[3], f"{where}.seasonal", (None, "add", "mul"))
            period = spec["seasonal_periods"]
            if kind[3] is not None or period is not None:
                period = check_int(period, f"{where}.seasonal_periods", 2, MAX_ETS_PERIOD)
            params = check_array(spec["params"], f"{where}.params", ndim=1)
            reserve(64.0 * (n + 1) * ((period or 1) + 3), where)  # the states at every step
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ets_model(y, kind, period)
                if model.k_params != params.shape[0]:
                    fail(where, "the fitted parameters do not match the model")
                self._results.append(model.smooth(params))
        self._publish_results()


register(ETSForecaster)
