"""Unit-root and seasonality tests that choose how often to difference a series.

Shared statistics below both the forecasters (``Forecaster(diff="auto")``) and the baselines
(``ARIMAForecaster``'s order selection), after R's ``forecast::ndiffs``/``nsdiffs``.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

__all__ = ["select_differencing", "select_seasonal_differencing"]


def _offers_result_objects(test) -> bool:
    """Whether statsmodels' ``test`` returns a result object on request (0.15 and later). Then
    it is asked for one: 0.15 warns that the result object becomes the default (0.16), which
    changes what the plain tuple of the older releases unpacks to."""
    return "result_object" in inspect.signature(test).parameters


def _kpss(x: np.ndarray, nlags: int) -> tuple[float, float, dict]:
    """``(statistic, p-value, critical values)`` of statsmodels' level-stationarity KPSS test."""
    from statsmodels.tsa.stattools import kpss

    if _offers_result_objects(kpss):
        result = kpss(x, regression="c", nlags=nlags, result_object=True)
        return result.statistic, result.pvalue, result.critical_values
    statistic, p_value, _lags, critical = kpss(x, regression="c", nlags=nlags)
    return statistic, p_value, critical


def _adf_pvalue(x: np.ndarray) -> float:
    """The p-value of statsmodels' augmented Dickey-Fuller test, lags chosen by AIC."""
    from statsmodels.tsa.stattools import adfuller

    if _offers_result_objects(adfuller):
        return adfuller(x, autolag="AIC", result_object=True).pvalue
    return adfuller(x, autolag="AIC")[1]


def _needs_difference(x: np.ndarray, test: str, alpha: float) -> bool:
    """Whether a unit-root test says ``x`` should be differenced once more."""
    from statsmodels.tools.sm_exceptions import InterpolationWarning

    n = x.shape[0]
    if n < 10 or np.ptp(x) == 0.0:
        return False
    with warnings.catch_warnings():
        # kpss warns when the p-value lies outside its table (reported as 0.01 or 0.1): fine here.
        warnings.simplefilter("ignore", InterpolationWarning)
        if test == "kpss":
            # Null: stationary. Bandwidth as R's tseries::kpss.test(lshort=TRUE), used by auto.arima.
            statistic, p_value, critical = _kpss(x, nlags=max(1, int(4 * (n / 100) ** 0.25)))
            # The p-value is interpolated in a table and clipped to [0.01, 0.1], so "p < 0.01" can
            # never hold: at a tabulated level compare the statistic with its critical value.
            level = f"{alpha * 100:g}%"
            return bool(statistic > critical[level]) if level in critical else bool(p_value < alpha)
        # Null: unit root.
        return bool(_adf_pvalue(x) > alpha)


def select_differencing(y, max_d: int = 2, test: str = "kpss", alpha: float = 0.05) -> int:
    """Number of differences ``d`` chosen by repeated unit-root tests (as ``forecast::ndiffs``).

    Difference while the test rejects stationarity (KPSS: p-value < ``alpha``) or fails to
    reject a unit root (ADF: p-value > ``alpha``), at most ``max_d`` times.
    """
    x = np.asarray(y, dtype=np.float64)
    d = 0
    while d < max_d and _needs_difference(x, test, alpha):
        x = np.diff(x)
        d += 1
    return d


def _seasonal_strength(x: np.ndarray, m: int) -> float:
    """``max(0, 1 - Var(R) / Var(S + R))`` from an STL decomposition (Wang, Smith & Hyndman 2006)."""
    from statsmodels.tsa.seasonal import STL

    res = STL(x, period=m, robust=False).fit()
    var_sr = np.var(res.seasonal + res.resid)
    if var_sr == 0.0:
        return 0.0
    return float(max(0.0, 1.0 - np.var(res.resid) / var_sr))


def select_seasonal_differencing(y, m: int, max_D: int = 1, threshold: float = 0.64) -> int:
    """Seasonal differences ``D``: difference while the STL seasonal strength exceeds ``threshold``.

    This is the default rule of ``forecast::nsdiffs`` (and so of ``auto.arima``). Series with
    fewer than two full seasons are never seasonally differenced.
    """
    x = np.asarray(y, dtype=np.float64)
    D = 0
    while D < max_D and x.shape[0] >= 2 * m + 1 and np.ptp(x) > 0.0:
        if _seasonal_strength(x, m) <= threshold:
            break
        x = x[m:] - x[:-m]
        D += 1
    return D
