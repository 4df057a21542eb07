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
    fail,
    per_series_state,
    register,
    reserve,
    restore_per_series_state,
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


def _lag_poly(coefs, step: int, sign: float) -> np.ndarray:
    """``1 + sign * (c_1 B^step + c_2 B^(2 step) + ...)`` as coefficients of ``B^0, B^1, ...``."""
    poly = np.zeros(len(coefs) * step + 1)
    poly[0] = 1.0
    poly[step::step] = sign * np.asarray(coefs, dtype=np.float64)
    return poly


def _polymul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Product of two lag polynomials (coefficients of ``B^0, B^1, ...``)."""
    return a if b.shape[0] == 1 else np.convolve(a, b)


def _min_root(poly: np.ndarray) -> float:
    """Smallest modulus of the roots of ``poly[0] + poly[1] z + ...`` (inf for a constant)."""
    nonzero = np.flatnonzero(np.abs(poly) > 1e-8)
    last = nonzero[-1] if nonzero.size else 0
    if last == 0:
        return np.inf
    return float(np.min(np.abs(np.roots(poly[: last + 1][::-1]))))


# R's auto.arima rejects models with an AR or MA root this close to the unit circle: they are
# near-integrated or near-non-invertible, and their forecasts and intervals are unreliable.
_MIN_ROOT = 1.01
# Exact-likelihood refits after a CSS search (the chosen order and at most two runners-up).
_MAX_REFITS = 3


def _roots_ok(ar: np.ndarray, ma: np.ndarray) -> bool:
    return _min_root(ar) >= _MIN_ROOT and _min_root(ma) >= _MIN_ROOT


class _CSSSearch:
    """Conditional-sum-of-squares ARMA fits of one differenced series, for the order search.

    Every candidate is scored on the same residuals (those after the longest AR lag the search
    can reach), so their information criteria are comparable. The residuals of an ARMA with AR
    polynomial ``a`` and MA polynomial ``b`` are ``lfilter(a, b, x - mu)`` (zero initial MA
    errors), minimised by a trust-region least-squares solver (scipy's ``trf``) from
    Hannan-Rissanen starting values and, when the search moves from a neighbouring order, also
    from that order's parameters (warm start); the better of the two is kept (a warm start
    alone can stay in the smaller model's optimum).
    """

    def __init__(self, x: np.ndarray, m: int, n_cond: int, criterion: str):
        self.x = x
        self.m = max(m, 1)
        self.n_cond = n_cond
        self.criterion = criterion
        self.fits: dict[tuple, np.ndarray] = {}

    def _polys(self, theta, p, q, P, Q, const):
        i = int(const)
        phi, th = theta[i : i + p], theta[i + p : i + p + q]
        sphi, sth = theta[i + p + q : i + p + q + P], theta[i + p + q + P : i + p + q + P + Q]
        ar = _polymul(_lag_poly(phi, 1, -1.0), _lag_poly(sphi, self.m, -1.0))
        ma = _polymul(_lag_poly(th, 1, 1.0), _lag_poly(sth, self.m, 1.0))
        return ar, ma

    def _resid(self, theta, p, q, P, Q, const):
        from scipy.signal import lfilter

        ar, ma = self._polys(theta, p, q, P, Q, const)
        mu = theta[0] if const else 0.0
        e = lfilter(ar, ma, self.x - mu)[self.n_cond :]
        return np.where(np.isfinite(e), e, 1e150)

    def _jac(self, theta, p, q, P, Q, const):
        """Analytic Jacobian of the residuals: each column one linear filter of a lagged series.

        With ``a = a1(B) a2(B^m)``, ``b = b1(B) b2(B^m)`` and ``e = a / b (x - mu)``:
        ``de/dmu = -a/b 1``, ``de/dphi_i = -B^i a2/b (x - mu)``, ``de/dtheta_j = -B^j b2/b e``,
        and likewise for the seasonal terms with ``a1``, ``b1`` and lags ``m k``.
        """
        from scipy.signal import lfilter

        i = int(const)
        m = self.m
        a1 = _lag_poly(theta[i : i + p], 1, -1.0)
        b1 = _lag_poly(theta[i + p : i + p + q], 1, 1.0)
        a2 = _lag_poly(theta[i + p + q : i + p + q + P], m, -1.0)
        b2 = _lag_poly(theta[i + p + q + P : i + p + q + P + Q], m, 1.0)
        a, b = _polymul(a1, a2), _polymul(b1, b2)
        xc = self.x - (theta[0] if const else 0.0)
        e = lfilter(a, b, xc)
        n = xc.shape[0]

        def lagged(v, lags):
            out = np.zeros((n, len(lags)))
            for c, lag in enumerate(lags):
                out[lag:, c] = v[: n - lag]
            return out

        cols = []
        if const:
            cols.append(-lfilter(a, b, np.ones((n, 1)), axis=0))
        for num, v, lags in (
            (a2, xc, range(1, p + 1)),
            (b2, e, range(1, q + 1)),
            (a1, xc, range(m, m * P + 1, m)),
            (b1, e, range(m, m * Q + 1, m)),
        ):
            if len(lags):
                cols.append(-lfilter(num, b, lagged(v, list(lags)), axis=0))
        jac = np.hstack(cols)[self.n_cond :]
        return np.where(np.isfinite(jac), jac, 1e150)

    def _start(self, p, q, P, Q, const, warm):
        """Starting values: a neighbour's parameters where they exist, else Hannan-Rissanen."""
        k = int(const) + p + q + P + Q
        if warm is not None:
            (wp, wq, wP, wQ, wc), wtheta = warm
            named = {}
            i = int(wc)
            if wc:
                named["c"] = wtheta[0]
            for name, count in (("ar", wp), ("ma", wq), ("sar", wP), ("sma", wQ)):
                for j in range(count):
                    named[name, j] = wtheta[i]
                    i += 1
            out = [named.get("c", float(np.mean(self.x)))] if const else []
            for name, count in (("ar", p), ("ma", q), ("sar", P), ("sma", Q)):
                out += [named.get((name, j), 0.0) for j in range(count)]
            return np.asarray(out)
        theta = np.zeros(k)
        mu = float(np.mean(self.x)) if const else 0.0
        if const:
            theta[0] = mu
        if p or q:
            from statsmodels.tsa.arima.estimators.hannan_rissanen import hannan_rissanen

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    hr, _ = hannan_rissanen(self.x - mu, ar_order=p, ma_order=q, demean=False)
                start = np.concatenate([hr.ar_params, hr.ma_params])
                ar, ma = _lag_poly(hr.ar_params, 1, -1.0), _lag_poly(hr.ma_params, 1, 1.0)
                if np.all(np.isfinite(start)) and _min_root(ar) > 1.0 and _min_root(ma) > 1.0:
                    theta[int(const) : int(const) + p + q] = start
            except _FIT_ERRORS:
                pass  # zeros are a valid start
        return theta

    def score(self, p, q, P, Q, const, warm=None) -> float:
        """Information criterion of the CSS fit of this order (inf when rejected)."""
        from scipy.optimize import least_squares

        key = (p, q, P, Q, const)
        k = int(const) + p + q + P + Q
        args = (p, q, P, Q, const)
        n_used = self.x.shape[0] - self.n_cond
        best, sse = None, np.inf
        for start in (self._start(*args, None), None if warm is None else self._start(*args, warm)):
            if start is None:
                continue
            theta = start
            if k:
                try:
                    with np.errstate(all="ignore"):
                        # "trf", not MINPACK's "lm": scipy's lm sometimes returned a different
                        # optimum from the same start in the same process, so the forecasts
                        # differed run to run; trf gives the same bits every time. A candidate
                        # that has not converged in 50 evaluations is heading for a
                        # non-invertible region; the cap bounds its cost.
                        theta = least_squares(
                            self._resid, start, jac=self._jac, method="trf", args=args, max_nfev=50
                        ).x
                except _FIT_ERRORS:
                    continue
            ar, ma = self._polys(theta, *args)
            if not _roots_ok(ar, ma):
                continue
            value = float(np.sum(self._resid(theta, *args) ** 2))
            if np.isfinite(value) and 0.0 < value < sse:
                best, sse = theta, value
        if best is None:
            return np.inf
        theta = best
        self.fits[key] = theta
        sigma2 = sse / n_used
        llf = -0.5 * n_used * (np.log(2.0 * np.pi * sigma2) + 1.0)
        n_par = k + 1  # and the variance
        if self.criterion == "bic":
            return -2.0 * llf + n_par * np.log(n_used)
        aic = -2.0 * llf + 2.0 * n_par
        if self.criterion == "aic":
            return aic
        return aic + 2.0 * n_par * (n_par + 1) / (n_used - n_par - 1) if n_used > n_par + 1 else np.inf

    def sarimax_start(self, key, d: int, D: int) -> np.ndarray | None:
        """The CSS estimates of ``key`` as SARIMAX start parameters (intercept, not mean)."""
        theta = self.fits.get(key)
        if theta is None or theta.shape[0] == 0:  # nothing to start but the variance
            return None
        p, q, P, Q, const = key
        out = list(theta)
        if const:
            ar, _ = self._polys(theta, p, q, P, Q, const)
            out[0] = theta[0] * float(np.sum(ar))  # SARIMAX's intercept: mu times a(1)
        return np.asarray(out)


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
       up or down at a time (``stepwise=True``), or over the whole bounded grid. As in
       ``auto.arima``, the grid is capped at ``p + q + P + Q <= max_order`` and a model with
       an AR or MA root within 1.01 of the unit circle is rejected.
    3. With ``search="css"`` (the default, as ``auto.arima``'s ``approximation``) the search
       scores each order by a conditional-sum-of-squares fit of the differenced series
       (a trust-region least-squares fit from Hannan-Rissanen starting values, or from the
       parameters of the neighbouring order it moves from), all orders on the same residuals;
       only the chosen order is refitted by exact maximum likelihood (statsmodels' ``SARIMAX``,
       started from its CSS estimates), falling back to the next best (at most two) when that
       fit fails or has a near-unit root, and else keeping the chosen order's fit.
       ``search="mle"`` fits every candidate by exact maximum likelihood (slower).

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
        Upper bounds of the seasonal orders. R's ``auto.arima`` searches ``P`` and ``Q`` up to 2;
        on the tuning half of the accuracy benchmark that forecast slightly worse and cost more
        (benchmarks/ACCURACY.md), so the bounds stay at 1.
    test : {"kpss", "adf"}, default="kpss"
        Unit-root test used to choose ``d``.
    alpha : float, default=0.05
        Level of the unit-root test.
    max_models : int, default=60
        Cap on the number of models fitted by the stepwise search.
    maxiter : int, default=50
        Iterations of the likelihood optimiser per fit.
    max_order : int, default=5
        Upper bound of ``p + q + P + Q`` in the grid search (``stepwise=False``).
    search : {"css", "mle"}, default="css"
        How the search scores candidate orders (see above).

    Attributes
    ----------
    order_, seasonal_order_, trend_ : tuple, tuple, str (lists for several columns)
        The model used for each column.
    results_ : statsmodels SARIMAXResults (list for several columns)
        The fitted statsmodels results, moved forward by ``update``.
    ic_ : float (list for several columns)
        Information criterion of the chosen model (of its exact-likelihood fit).
    n_models_ : int (list for several columns)
        Number of models fitted by the search (1 for a fixed order).
    search_ic_ : dict (list for several columns)
        The search's information criterion of each candidate ``(p, q, P, Q, trend)`` (of its
        CSS fit with ``search="css"``; inf for a rejected model); empty for a fixed order.

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
        max_order: int = 5,
        search: str = "css",
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
        self.max_order = max_order
        self.search = search

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
        "max_order": [Interval(Integral, 0, None, closed="left")],
        "search": [StrOptions({"css", "mle"})],
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

    def _fit_candidate(self, y, exog, order, sorder, trend, start_params=None, check_roots=False):
        """Fit one SARIMAX by exact ML; return ``(results, ic)``, ``ic = inf`` when the fit fails.

        With ``check_roots``, a model with an AR or MA root within 1.01 of the unit circle is
        rejected too (``ic = inf``), as in R's ``auto.arima``.
        """
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
                res = model.fit(start_params=start_params, disp=False, maxiter=self.maxiter)
        except _FIT_ERRORS:
            return None, np.inf
        if check_roots and not _roots_ok(res.polynomial_reduced_ar, res.polynomial_reduced_ma):
            return res, np.inf
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
            return res, self._order, sorder, trend, ic, 1, {}

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

        if np.ptp(y) == 0.0:  # a constant: its mean is the model
            trend = "c" if "c" in trends else "n"
            res, ic = self._fit_candidate(y, exog, (0, d, 0), (0, 0, 0, 0), trend)
            if res is not None:
                return res, (0, d, 0), (0, 0, 0, 0), trend, ic, 1, {}

        max_order = self.max_order

        def admissible(p, q, P, Q):
            if not (0 <= p <= self.max_p and 0 <= q <= self.max_q and P in P_range and Q in Q_range):
                return False
            if not self.stepwise and p + q + P + Q > max_order:
                return False
            # Leave enough observations per parameter for the likelihood to be meaningful.
            n_params = p + q + P + Q + 2
            lags = p + q + max(m, 1) * (P + Q)
            return n_eff - lags > 2 * n_params + 2

        def sorder_of(P, Q):
            return (P, D, Q, m) if (m and (P or D or Q)) else (0, 0, 0, 0)

        css = None
        if self.search == "css":
            # The series the ARMA part describes: differenced (after regressing out exog).
            u = y
            if exog is not None:
                design = np.column_stack([np.ones(n), exog])
                u = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
            x = u[m:] - u[:-m] if D else u
            x = np.diff(x, n=d) if d else x
            reach = self.max_p + max(m, 1) * max(P_range)
            css = _CSSSearch(x, m, min(reach, max(x.shape[0] // 4, 0)), self.information_criterion)

        tried: dict[tuple, float] = {}
        results: dict[tuple, tuple] = {}

        def attempt(p, q, P, Q, trend, warm=None):
            key = (p, q, P, Q, trend)
            if key in tried or not admissible(p, q, P, Q) or len(tried) >= self.max_models:
                return
            if css is not None:
                ic = css.score(p, q, P, Q, trend == "c", warm)
            else:
                res, ic = self._fit_candidate(y, exog, (p, d, q), sorder_of(P, Q), trend, check_roots=True)
                results[key] = res
            tried[key] = ic

        if self.stepwise:
            P0, Q0 = (1 if 1 in P_range else P_range[0]), (1 if 1 in Q_range else Q_range[0])
            starts = [(2, 2, P0, Q0), (0, 0, P_range[0], Q_range[0]), (1, 0, P0, Q_range[0])]
            starts.append((0, 1, P_range[0], Q0))
            for p, q, P, Q in starts:
                attempt(min(p, self.max_p), min(q, self.max_q), P, Q, trends[0])
            best = None
            while tried:
                current = min(tried, key=lambda k: tried[k])
                if current == best or len(tried) >= self.max_models or not np.isfinite(tried[current]):
                    break
                best = current
                p, q, P, Q, trend = best
                warm = None
                if css is not None and (p, q, P, Q, trend == "c") in css.fits:
                    warm = ((p, q, P, Q, trend == "c"), css.fits[(p, q, P, Q, trend == "c")])
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
                    attempt(p + dp, q + dq, P + dP, Q + dQ, trend, warm)
                for other in trends:
                    attempt(p, q, P, Q, other, warm)
        else:
            grid = itertools.product(range(self.max_p + 1), range(self.max_q + 1), P_range, Q_range, trends)
            for p, q, P, Q, trend in grid:
                attempt(p, q, P, Q, trend)

        def fittable(key) -> bool:
            # statsmodels' SARIMAX refuses a lag in both the seasonal and the non-seasonal
            # polynomial (p or q of at least m next to P or Q); the CSS search can score them
            p, q, P, Q, _ = key
            return not (m and ((P and p >= m) or (Q and q >= m)))

        ranked = sorted((k for k in tried if np.isfinite(tried[k]) and fittable(k)), key=lambda k: tried[k])
        fallback = None
        for rank, key in enumerate(ranked):
            if css is not None and rank >= _MAX_REFITS and fallback is not None:
                # Exact ML only for the chosen order, started from its CSS estimates; when that
                # fit fails or lands on a root near the unit circle, the next best (at most
                # _MAX_REFITS orders in all, so the cost stays bounded), else the first fit
                # anyway; only when none of them could be fitted at all, further down.
                break
            p, q, P, Q, trend = key
            if css is None:
                res, ic = results[key], tried[key]
            else:
                start = None if exog is not None else css.sarimax_start((p, q, P, Q, trend == "c"), d, D)
                res, ic = self._fit_candidate(
                    y, exog, (p, d, q), sorder_of(P, Q), trend, start_params=start, check_roots=True
                )
                if fallback is None and res is not None:
                    fallback = (res, key)
            if res is not None and np.isfinite(ic):
                return res, (p, d, q), sorder_of(P, Q), trend, ic, len(tried), dict(tried)
        if fallback is not None:
            res, (p, q, P, Q, trend) = fallback
            ic = float(getattr(res, self.information_criterion))
            if np.isfinite(ic):
                return res, (p, d, q), sorder_of(P, Q), trend, ic, len(tried), dict(tried)
        raise ValueError(
            f"no ARIMA model could be fitted to this series of {n} values (d={d}, D={D}); "
            "check that it is not constant, or pass a fixed order=(p, d, q)."
        )

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
        self.search_ic_ = pick(6)
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
    )

    def _get_state(self) -> dict:
        def describe(r) -> dict:
            return {
                "endog": np.asarray(r.model.endog, dtype=np.float64)[:, 0],
                "exog": None if r.model.exog is None else np.asarray(r.model.exog, dtype=np.float64),
                "order": tuple(int(v) for v in r.model.order),
                "seasonal_order": tuple(int(v) for v in r.model.seasonal_order),
                "trend": r.model.trend,
                "concentrate_scale": bool(r.model.concentrate_scale),
                "params": np.asarray(r.params, dtype=np.float64),
            }

        return per_series_state(self, self._FITTED_STATE, describe)

    def _set_state(self, state: dict) -> None:
        models = restore_per_series_state(self, state, self._FITTED_STATE, "ARIMAForecaster")
        if models is None:
            return
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
