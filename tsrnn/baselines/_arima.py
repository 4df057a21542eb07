"""ARIMA / seasonal ARIMA on statsmodels' SARIMAX, with automatic order selection."""

from __future__ import annotations

import itertools
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.stats import norm
from sklearn.utils._param_validation import Interval, StrOptions

from .._state import (
    check_array,
    check_choice,
    check_int,
    estimator_state,
    fail,
    register,
    reserve,
    restore_estimator_state,
)
from .._stattests import select_differencing, select_seasonal_differencing
from .._validation import check_non_negative_int
from ..forecasting import BaseForecaster
from ._common import single_threaded_blas

__all__ = ["ARIMAForecaster", "select_differencing", "select_seasonal_differencing"]

_FIT_ERRORS = (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError, IndexError)


def _check_order(value, name: str, length: int) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise ValueError(f"{name} must be a tuple of {length} non-negative integers, got {value!r}.")
    return tuple(check_non_negative_int(v, f"{name}[{i}]") for i, v in enumerate(value))


class ARIMAForecaster(BaseForecaster):
    """(Seasonal) ARIMA forecaster on statsmodels' ``SARIMAX``, with automatic order selection.

    With ``order=None`` the order is chosen as R's ``forecast::auto.arima`` does
    (Hyndman & Khandakar 2008):

    1. seasonal differences ``D`` (only with a ``seasonal_period``) by the STL seasonal strength
       (> 0.64 means difference), then ``d`` by repeated unit-root tests (KPSS at level
       ``alpha`` by default, or ADF);
    2. with ``d`` and ``D`` fixed, the ARMA orders ``p, q`` (and seasonal ``P, Q``) and whether to
       include a constant (allowed when ``d + D <= 1``; with ``d = 1`` it is a drift) minimise the
       information criterion, searched stepwise from four starting models by moving one order
       up or down at a time (``stepwise=True``), or over the whole bounded grid.

    Prediction intervals come from statsmodels' Gaussian forecast distribution (parameter
    uncertainty not included); ``update`` appends observations with
    ``results.append(refit=False)``: the parameters stay, the state is filtered forward.

    Several columns in ``y`` get one independent model each (orders selected per column).

    Parameters
    ----------
    order : tuple (p, d, q) or None, default=None
        Fixed non-seasonal order, or ``None`` to select it automatically.
    seasonal_order : tuple (P, D, Q, m) or None, default=None
        Fixed seasonal order. ``None`` with ``order`` given means no seasonal part; ``None``
        with ``order=None`` searches a seasonal part of period ``seasonal_period`` if given.
    seasonal_period : int or None, default=None
        Season length ``m`` used by the automatic search (12 for monthly data). ``None`` or 1:
        non-seasonal.
    trend : {None, "n", "c"}, default=None
        ``"c"`` adds a constant (a drift when the model is differenced once), ``"n"`` none.
        ``None``: chosen by the search, or for a fixed order a constant only when ``d + D = 0``.
    information_criterion : {"aicc", "aic", "bic"}, default="aicc"
    stepwise : bool, default=True
        Stepwise search (about 10-30 fits) instead of the full grid.
    max_p, max_q : int, default=5
        Upper bounds of the non-seasonal AR and MA orders.
    max_d : int, default=2
        Upper bound of ``d``.
    max_P, max_Q, max_D : int, default=1
        Upper bounds of the seasonal orders (kept small: seasonal fits are slow).
    test : {"kpss", "adf"}, default="kpss"
        Unit-root test used to choose ``d``.
    alpha : float, default=0.05
        Level of the unit-root test.
    max_models : int, default=60
        Cap on the number of models fitted by the stepwise search.
    maxiter : int, default=50
        Iterations of the likelihood optimiser per fit.

    Attributes
    ----------
    order_, seasonal_order_, trend_ : tuple, tuple, str (lists for several columns)
        The model used for each column.
    results_ : statsmodels SARIMAXResults (list for several columns)
        The fitted statsmodels results, moved forward by ``update``.
    ic_ : float (list for several columns)
        Information criterion of the chosen model.
    n_models_ : int (list for several columns)
        Number of models fitted by the search (1 for a fixed order).

    Examples
    --------
    >>> from tsrnn import ARIMAForecaster, datasets
    >>> y = datasets.load("sunspots")
    >>> f = ARIMAForecaster(order=(2, 0, 1)).fit(y)
    >>> f.predict(3).round(1).tolist()
    [14.6, 33.4, 52.3]
    """

    _supports_exog = True

    def __init__(
        self,
        order: tuple[int, int, int] | None = None,
        seasonal_order: tuple[int, int, int, int] | None = None,
        seasonal_period: int | None = None,
        trend: str | None = None,
        information_criterion: str = "aicc",
        stepwise: bool = True,
        max_p: int = 5,
        max_q: int = 5,
        max_d: int = 2,
        max_P: int = 1,
        max_Q: int = 1,
        max_D: int = 1,
        test: str = "kpss",
        alpha: float = 0.05,
        max_models: int = 60,
        maxiter: int = 50,
    ):
        self.order = order
        self.seasonal_order = seasonal_order
        self.seasonal_period = seasonal_period
        self.trend = trend
        self.information_criterion = information_criterion
        self.stepwise = stepwise
        self.max_p = max_p
        self.max_q = max_q
        self.max_d = max_d
        self.max_P = max_P
        self.max_Q = max_Q
        self.max_D = max_D
        self.test = test
        self.alpha = alpha
        self.max_models = max_models
        self.maxiter = maxiter

    # -- validation -----------------------------------------------------------------------------

    _parameter_constraints: ClassVar[dict] = {
        "order": [tuple, list, None],
        "seasonal_order": [tuple, list, None],
        "seasonal_period": [Interval(Integral, 1, None, closed="left"), None],
        "trend": [StrOptions({"n", "c"}), None],
        "information_criterion": [StrOptions({"aicc", "aic", "bic"})],
        "stepwise": ["boolean"],
        **{
            name: [Interval(Integral, 0, None, closed="left")]
            for name in ("max_p", "max_q", "max_d", "max_P", "max_Q", "max_D")
        },
        "test": [StrOptions({"kpss", "adf"})],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "max_models": [Interval(Integral, 1, None, closed="left")],
        "maxiter": [Interval(Integral, 1, None, closed="left")],
    }

    def _orders(self) -> tuple:
        """``(order, seasonal_order, m)`` as tuples of ints (``None`` when not fixed)."""
        order = None if self.order is None else _check_order(self.order, "order", 3)
        sorder = (
            None if self.seasonal_order is None else _check_order(self.seasonal_order, "seasonal_order", 4)
        )
        if sorder is not None and any(sorder[:3]) and sorder[3] < 2:
            raise ValueError(
                f"seasonal_order={self.seasonal_order!r} has seasonal terms but a period m < 2; "
                "give the season length as the fourth entry, e.g. (1, 0, 0, 12)."
            )
        return order, sorder, 1 if self.seasonal_period is None else int(self.seasonal_period)

    def _check_params(self) -> None:
        self._orders()

    # -- fitting --------------------------------------------------------------------------------

    def _fit_candidate(self, y, exog, order, sorder, trend):
        """Fit one SARIMAX; return ``(results, ic)`` with ``ic = inf`` when the fit fails."""
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        try:
            with warnings.catch_warnings():
                # Candidates that do not converge or start non-stationary are judged by their IC.
                warnings.simplefilter("ignore")
                # The variance concentrated out of the likelihood: same MLE, one parameter less
                # for the optimiser (about a third faster).
                # (Not possible when the variance is the only parameter.)
                has_params = any(order[::2]) or any(sorder[::2]) or trend != "n" or exog is not None
                model = SARIMAX(
                    y,
                    exog=exog,
                    order=order,
                    seasonal_order=sorder,
                    trend=trend,
                    concentrate_scale=has_params,
                )
                res = model.fit(disp=False, maxiter=self.maxiter)
        except _FIT_ERRORS:
            return None, np.inf
        ic = float(getattr(res, self.information_criterion))
        return res, (ic if np.isfinite(ic) else np.inf)

    def _fit_one(self, y: np.ndarray, exog):
        """Select (if needed) and fit the model of one column."""
        n = y.shape[0]
        if self._order is not None:
            sorder = self._sorder or (0, 0, 0, 0)
            d, D = self._order[1], sorder[1]
            trend = self.trend or ("c" if d + D == 0 else "n")
            p, _, q = self._order
            P, _, Q, m = sorder
            # Differencing loses d + D m values and the lags p + q + m (P + Q) more; what is left
            # must exceed the parameters (ARMA terms, constant, exogenous, variance). statsmodels
            # itself "fits" such a model and returns meaningless forecasts.
            n_params = p + q + P + Q + (trend == "c") + (0 if exog is None else exog.shape[1]) + 1
            need = d + D * m + p + q + m * (P + Q) + n_params + 1
            if n < need:
                raise ValueError(
                    f"y has {n} observations, too few for ARIMA order={self._order}, seasonal_order="
                    f"{sorder}: it needs at least {need} (differences and lags use "
                    f"{need - n_params - 1}, and more observations than its {n_params} parameters). "
                    "Use a smaller order, order=None or more data."
                )
            res, ic = self._fit_candidate(y, exog, self._order, sorder, trend)
            if res is None:
                raise ValueError(
                    f"statsmodels could not fit ARIMA order={self._order}, seasonal_order={sorder} "
                    f"to a series of {n} values; try a smaller order or order=None."
                )
            return res, self._order, sorder, trend, ic, 1

        # Seasonal part: fixed, searched, or absent.
        if self._sorder is not None:
            m, D = self._sorder[3], self._sorder[1]
            seasonal_fixed = True
        else:
            m = self._m if self._m > 1 else 0
            D = select_seasonal_differencing(y, m, self.max_D) if m and self.max_D else 0
            seasonal_fixed = False
        x = y[m:] - y[:-m] if D else y
        d = select_differencing(x, self.max_d, self.test, self.alpha)
        n_eff = n - d - D * max(m, 1)

        if self.trend is not None:
            trends = (self.trend,)
        elif d + D <= 1:
            trends = ("c", "n")
        else:
            trends = ("n",)

        if seasonal_fixed:
            P_range = (self._sorder[0],)
            Q_range = (self._sorder[2],)
        elif m:
            P_range = range(self.max_P + 1)
            Q_range = range(self.max_Q + 1)
        else:
            P_range = Q_range = (0,)

        tried: dict[tuple, tuple] = {}

        def admissible(p, q, P, Q):
            if not (0 <= p <= self.max_p and 0 <= q <= self.max_q and P in P_range and Q in Q_range):
                return False
            # Leave enough observations per parameter for the likelihood to be meaningful.
            n_params = p + q + P + Q + 2
            lags = p + q + max(m, 1) * (P + Q)
            return n_eff - lags > 2 * n_params + 2

        def attempt(p, q, P, Q, trend):
            key = (p, q, P, Q, trend)
            if key in tried or not admissible(p, q, P, Q) or len(tried) >= self.max_models:
                return
            sorder = (P, D, Q, m) if (m and (P or D or Q)) else (0, 0, 0, 0)
            res, ic = self._fit_candidate(y, exog, (p, d, q), sorder, trend)
            tried[key] = (ic, res, sorder)

        if self.stepwise:
            P0, Q0 = (1 if 1 in P_range else P_range[0]), (1 if 1 in Q_range else Q_range[0])
            starts = [(2, 2, P0, Q0), (0, 0, P_range[0], Q_range[0]), (1, 0, P0, Q_range[0])]
            starts.append((0, 1, P_range[0], Q0))
            for p, q, P, Q in starts:
                attempt(min(p, self.max_p), min(q, self.max_q), P, Q, trends[0])
            best = None
            while tried:
                current = min(tried, key=lambda k: tried[k][0])
                if current == best or len(tried) >= self.max_models:
                    break
                best = current
                p, q, P, Q, trend = best
                moves = [
                    (1, 0, 0, 0),
                    (-1, 0, 0, 0),
                    (0, 1, 0, 0),
                    (0, -1, 0, 0),
                    (1, 1, 0, 0),
                    (-1, -1, 0, 0),
                ]
                moves += [(0, 0, 1, 0), (0, 0, -1, 0), (0, 0, 0, 1), (0, 0, 0, -1)]
                moves += [(0, 0, 1, 1), (0, 0, -1, -1)]
                for dp, dq, dP, dQ in moves:
                    attempt(p + dp, q + dq, P + dP, Q + dQ, trend)
                for other in trends:
                    attempt(p, q, P, Q, other)
        else:
            grid = itertools.product(range(self.max_p + 1), range(self.max_q + 1), P_range, Q_range, trends)
            for p, q, P, Q, trend in grid:
                key = (p, q, P, Q, trend)
                if admissible(p, q, P, Q):
                    sorder = (P, D, Q, m) if (m and (P or D or Q)) else (0, 0, 0, 0)
                    res, ic = self._fit_candidate(y, exog, (p, d, q), sorder, trend)
                    tried[key] = (ic, res, sorder)

        finite = {k: v for k, v in tried.items() if np.isfinite(v[0])}
        if not finite:
            raise ValueError(
                f"no ARIMA model could be fitted to this series of {n} values (d={d}, D={D}); "
                "check that it is not constant, or pass a fixed order=(p, d, q)."
            )
        key = min(finite, key=lambda k: finite[k][0])
        ic, res, sorder = finite[key]
        p, q, _, _, trend = key
        return res, (p, d, q), sorder, trend, ic, len(tried)

    def _fit(self, values: np.ndarray, X) -> None:
        self._order, self._sorder, self._m = self._orders()
        with single_threaded_blas():
            fits = [self._fit_one(values[:, j], X) for j in range(values.shape[1])]
        self._results = [f[0] for f in fits]
        one = len(fits) == 1
        pick = (lambda i: fits[0][i]) if one else (lambda i: [f[i] for f in fits])
        self.order_ = pick(1)
        self.seasonal_order_ = pick(2)
        self.trend_ = pick(3)
        self.ic_ = pick(4)
        self.n_models_ = pick(5)
        self._publish_results()

    def _publish_results(self) -> None:
        self.results_ = self._results[0] if len(self._results) == 1 else list(self._results)

    # -- forecasting ----------------------------------------------------------------------------

    def _predict(self, horizon: int, X) -> np.ndarray:
        with single_threaded_blas():
            return np.column_stack([np.asarray(r.forecast(horizon, exog=X)) for r in self._results])

    def _predict_interval(self, horizon: int, coverage: float, X):
        lower, upper = [], []
        for r in self._results:
            with single_threaded_blas():
                ci = np.asarray(r.get_forecast(horizon, exog=X).conf_int(alpha=1.0 - coverage))
            lower.append(ci[:, 0])
            upper.append(ci[:, 1])
        return np.column_stack(lower), np.column_stack(upper)

    def _predict_quantiles(self, horizon: int, levels: np.ndarray, X) -> np.ndarray:
        # statsmodels' Gaussian forecast distribution: mean +- z * (standard error of the forecast)
        z = norm.ppf(levels)
        out = []
        for r in self._results:
            with single_threaded_blas():
                fc = r.get_forecast(horizon, exog=X)
                mean, se = np.asarray(fc.predicted_mean), np.asarray(fc.se_mean)
            out.append(mean[:, None] + se[:, None] * z)
        return np.stack(out, axis=1)

    def _update(self, values: np.ndarray, X) -> None:
        with warnings.catch_warnings(), single_threaded_blas():
            warnings.simplefilter("ignore")
            self._results = [r.append(values[:, j], exog=X, refit=False) for j, r in enumerate(self._results)]
        self._publish_results()

    # -- persisted state (see tsrnn._state) ----------------------------------------------------
    # The statsmodels results are not stored: each column's model specification, data and
    # fitted parameters are, and the results are rebuilt with SARIMAX(...).smooth(params), the
    # call that ends statsmodels' own fit.

    _FITTED_STATE = (
        "target_info_",
        "n_series_",
        "exog_columns_",
        "order_",
        "seasonal_order_",
        "trend_",
        "ic_",
        "n_models_",
        "_models",
    )

    def _get_state(self) -> dict:
        if hasattr(self, "_results"):
            self._models = [
                {
                    "endog": np.asarray(r.model.endog, dtype=np.float64)[:, 0],
                    "exog": None if r.model.exog is None else np.asarray(r.model.exog, dtype=np.float64),
                    "order": tuple(int(v) for v in r.model.order),
                    "seasonal_order": tuple(int(v) for v in r.model.seasonal_order),
                    "trend": r.model.trend,
                    "concentrate_scale": bool(r.model.concentrate_scale),
                    "params": np.asarray(r.params, dtype=np.float64),
                }
                for r in self._results
            ]
        try:
            return estimator_state(self, self._FITTED_STATE)
        finally:
            self.__dict__.pop("_models", None)

    def _set_state(self, state: dict) -> None:
        if not restore_estimator_state(self, state, self._FITTED_STATE):
            return
        models = self.__dict__.pop("_models")
        m = check_int(self.n_series_, "ARIMAForecaster.n_series_", 1)
        if not (isinstance(models, list) and len(models) == m):
            fail("ARIMAForecaster", "does not hold one model per series")
        p = 0 if self.exog_columns_ is None else len(self.exog_columns_)
        n = len(self.target_info_.index)
        specs = [_check_model_spec(spec, n, p, f"ARIMAForecaster model {j}") for j, spec in enumerate(models)]
        self._order, self._sorder, self._m = self._orders()
        self._results = [_rebuild(spec) for spec in specs]
        self._publish_results()


def _check_model_spec(spec, n: int, p: int, where: str) -> dict:
    """Check one column's SARIMAX description, and charge its state space to the load budget."""
    from .._state import check_keys

    if not isinstance(spec, dict):
        fail(where, "is not a mapping")
    check_keys(
        where, spec, ("endog", "exog", "order", "seasonal_order", "trend", "concentrate_scale", "params")
    )
    endog = check_array(spec["endog"], f"{where}.endog", (n,))
    if p:
        check_array(spec["exog"], f"{where}.exog", (n, p))
    elif spec["exog"] is not None:
        fail(f"{where}.exog", "is set but the forecaster has no exogenous columns")
    order, sorder = spec["order"], spec["seasonal_order"]
    if not (isinstance(order, tuple) and len(order) == 3 and isinstance(sorder, tuple) and len(sorder) == 4):
        fail(where, "order / seasonal_order are not tuples of 3 and 4 integers")
    o = [check_int(v, f"{where}.order", 0, n) for v in order]
    so = [check_int(v, f"{where}.seasonal_order", 0, n) for v in sorder]
    check_choice(spec["trend"], f"{where}.trend", ("n", "c"))
    if not isinstance(spec["concentrate_scale"], bool):
        fail(f"{where}.concentrate_scale", "is not a bool")
    # SARIMAX's state dimension; the smoother keeps a few (k x k) matrices per observation.
    s = so[3]
    k_states = o[1] + so[1] * s + max(o[0] + s * so[0], o[2] + s * so[2] + 1)
    reserve(8.0 * (n + 1) * (k_states + 1) ** 2 * 8, where)
    check_array(spec["params"], f"{where}.params", ndim=1)
    return {**spec, "endog": endog}


def _rebuild(spec: dict):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings(), single_threaded_blas():
        warnings.simplefilter("ignore")
        model = SARIMAX(
            spec["endog"],
            exog=spec["exog"],
            order=spec["order"],
            seasonal_order=spec["seasonal_order"],
            trend=spec["trend"],
            concentrate_scale=spec["concentrate_scale"],
        )
        if model.k_params != len(spec["params"]):
            fail("ARIMAForecaster", "the fitted parameters do not match the model")
        return model.smooth(spec["params"])


register(ARIMAForecaster)
