"""The Theta method on statsmodels' ``ThetaModel``, with its seasonality test."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
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

__all__ = ["ThetaForecaster"]


class ThetaForecaster(BaseForecaster):
    """The Theta method (Assimakopoulos & Nikolopoulos 2000) on statsmodels' ``ThetaModel``.

    As Hyndman & Billah (2003) showed, the classic method is simple exponential smoothing with
    a drift of half the slope of a linear trend fitted to the data. With a ``seasonal_period``
    the series is first tested for seasonality (statsmodels' test on the autocorrelation at lag
    ``m``, at the 10 % level, as R's ``forecast::thetaf``); a seasonal series is
    deseasonalised by classical decomposition (multiplicative for positive data, else
    additive) and the forecasts reseasonalised. The trend slope is fitted by OLS, the
    smoothing parameter by SES (statsmodels' two-step estimator).

    Prediction intervals are Gaussian with the variance of the equivalent ARIMA(0,1,1) with
    drift (statsmodels' ``prediction_intervals``). ``update`` moves the SES level over the new
    (deseasonalised) observations with the fitted slope, smoothing parameter and seasonal
    indices unchanged (no refit).

    Several columns in ``y`` get one independent model each.

    Parameters
    ----------
    seasonal_period : int or None, default=None
        Season length ``m`` (12 for monthly data). ``None`` or 1: no deseasonalising.
    theta : float, default=2.0
        Weight of the trend line: forecasts are ``(theta - 1) / theta`` times the trend plus the
        SES forecast (2 is the classic method).
    deseasonalize : bool, default=True
        Deseasonalise when there is a ``seasonal_period`` (and at least two full seasons).
    use_test : bool, default=True
        Deseasonalise only when the seasonality test says so.
    method : {"auto", "additive", "multiplicative"}, default="auto"
        Kind of seasonal decomposition (``"auto"``: multiplicative for positive data).

    Attributes
    ----------
    results_ : statsmodels ThetaModelResults (list for several columns)
    seasonal_ : bool (list for several columns)
        Whether the series was deseasonalised.

    Examples
    --------
    >>> from tsrnn import ThetaForecaster, datasets
    >>> y = datasets.load("sunspots")
    >>> ThetaForecaster().fit(y).predict(2).round(1).tolist()
    [2.9, 3.0]
    """

    def __init__(
        self,
        seasonal_period: int | None = None,
        theta: float = 2.0,
        deseasonalize: bool = True,
        use_test: bool = True,
        method: str = "auto",
    ):
        self.seasonal_period = seasonal_period
        self.theta = theta
        self.deseasonalize = deseasonalize
        self.use_test = use_test
        self.method = method

    _parameter_constraints: ClassVar[dict] = {
        "seasonal_period": [Interval(Integral, 1, None, closed="left"), None],
        "theta": [Interval(Real, 1, None, closed="left")],
        "deseasonalize": ["boolean"],
        "use_test": ["boolean"],
        "method": [StrOptions({"auto", "additive", "multiplicative"})],
    }

    def _check_params(self) -> None:
        if not np.isfinite(self.theta):
            raise ValueError(
                f"theta must be a finite number >= 1 (2 is the classic method), got {self.theta!r}."
            )

    def _model(self, y: np.ndarray, deseasonalize: bool, method: str, use_test: bool):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        return ThetaModel(
            y,
            period=self._m if deseasonalize else None,
            deseasonalize=deseasonalize,
            use_test=use_test,
            method=method,
        )

    def _fit_one(self, y: np.ndarray):
        n = y.shape[0]
        if n < 3 or np.ptp(y) == 0.0:
            raise ValueError(
                f"the Theta method needs a non-constant series of at least 3 values, got {n} "
                f"value(s){' (constant)' if n >= 3 else ''}; use NaiveForecaster for such a series."
            )
        # Classical decomposition needs two full seasons.
        deseasonalize = bool(self.deseasonalize) and self._m > 1 and n >= 2 * self._m
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = self._model(y, deseasonalize, self.method, bool(self.use_test)).fit()
        seasonal = bool(
            deseasonalize and np.ptp(np.asarray(res.forecast_components(self._m)["seasonal"])) > 0
        )
        return res, seasonal

    def _fit(self, values: np.ndarray, X) -> None:
        self._m = 1 if self.seasonal_period is None else int(self.seasonal_period)
        with single_threaded_blas():
            fits = [self._fit_one(values[:, j]) for j in range(values.shape[1])]
        self._results = [f[0] for f in fits]
        self.seasonal_ = fits[0][1] if len(fits) == 1 else [f[1] for f in fits]
        self._publish_results()

    def _publish_results(self) -> None:
        self.results_ = self._results[0] if len(self._results) == 1 else list(self._results)

    def _predict(self, horizon: int, X) -> np.ndarray:
        return np.column_stack(
            [np.asarray(r.forecast(horizon, theta=float(self.theta))) for r in self._results]
        )

    def _predict_interval(self, horizon: int, coverage: float, X):
        lower, upper = [], []
        for r in self._results:
            with warnings.catch_warnings(), single_threaded_blas():
                warnings.simplefilter("ignore")  # the variance's ARIMA(0,1,1) fit may warn
                pi = r.prediction_intervals(horizon, theta=float(self.theta), alpha=1.0 - coverage)
            lower.append(np.asarray(pi["lower"]))
            upper.append(np.asarray(pi["upper"]))
        return np.column_stack(lower), np.column_stack(upper)

    def _results_from(self, y, deseasonalize, method, b0, alpha, sigma2, level, seasonal):
        """Results of a Theta model on ``y`` with these fitted values (no refit, no test)."""
        from statsmodels.tsa.forecasting.theta import ThetaModelResults

        model = self._model(y, deseasonalize, method, False)
        return ThetaModelResults(b0, alpha, sigma2, level, seasonal, False, model)

    def _update(self, values: np.ndarray, X) -> None:
        new = []
        for j, r in enumerate(self._results):
            old = r.model
            k = values.shape[0]
            multiplicative = old.method.startswith("mul")
            # The seasonal index of each new observation (neutral without deseasonalising).
            season = np.asarray(r.forecast_components(k)["seasonal"])
            x = values[:, j] / season if multiplicative else values[:, j] - season
            b0, alpha = (float(v) for v in r.params)
            level = float(np.asarray(r.forecast_components(1)["ses"])[0])
            for value in x:
                level = alpha * value + (1.0 - alpha) * level
            with single_threaded_blas():
                sigma2 = r.sigma2  # estimated on the training data, kept
            y = np.concatenate([np.asarray(old.endog_orig, dtype=np.float64).ravel(), values[:, j]])
            period = old.period if old.deseasonalize else 1
            n = y.shape[0]
            # The seasonal indices by position modulo the period, as ThetaModelResults stores them.
            if old.deseasonalize:
                ahead = np.asarray(r.forecast_components(period)["seasonal"])
                seasonal = ahead[(np.arange(period) - (n - k)) % period]
            else:
                seasonal = np.empty(0)
            new.append(
                self._results_from(y, old.deseasonalize, old.method, b0, alpha, sigma2, level, seasonal)
            )
        self._results = new
        self._publish_results()

    # -- persisted state (see tsrnn._state) ----------------------------------------------------
    # Each column's data and fitted values (drift b0, alpha, the innovation variance, the last
    # smoothed level and the seasonal indices), from which the results are rebuilt as update()
    # rebuilds them.

    _FITTED_STATE = ("target_info_", "n_series_", "exog_columns_", "seasonal_", "_m")

    def _get_state(self) -> dict:
        def describe(r) -> dict:
            model = r.model
            y = np.asarray(model.endog_orig, dtype=np.float64).ravel()
            period = model.period if model.deseasonalize else 1
            if model.deseasonalize:
                ahead = np.asarray(r.forecast_components(period)["seasonal"], dtype=np.float64)
                seasonal = ahead[(np.arange(period) - y.shape[0]) % period]
            else:
                seasonal = np.empty(0)
            with single_threaded_blas():
                sigma2 = float(r.sigma2)
            b0, alpha = (float(v) for v in r.params)
            level = float(np.asarray(r.forecast_components(1)["ses"])[0])
            return {
                "endog": y,
                "deseasonalize": bool(model.deseasonalize),
                "method": model.method,
                "fitted": (b0, alpha, sigma2, level),
                "seasonal": seasonal,
            }

        return per_series_state(self, self._FITTED_STATE, describe)

    def _set_state(self, state: dict) -> None:
        models = restore_per_series_state(self, state, self._FITTED_STATE, "ThetaForecaster")
        if models is None:
            return
        if self.exog_columns_ is not None:
            fail("ThetaForecaster", "does not hold one model per series")
        n = len(self.target_info_.index)
        period = check_int(self._m, "ThetaForecaster._m", 1, n)
        if period != (1 if self.seasonal_period is None else self.seasonal_period):
            fail("ThetaForecaster._m", "does not match seasonal_period")
        self._results = []
        for j, spec in enumerate(models):
            where = f"ThetaForecaster model {j}"
            if not isinstance(spec, dict):
                fail(where, "is not a mapping")
            check_keys(where, spec, ("endog", "deseasonalize", "method", "fitted", "seasonal"))
            y = check_array(spec["endog"], f"{where}.endog", (n,))
            deseasonalize = check_choice(spec["deseasonalize"], f"{where}.deseasonalize", (True, False))
            method = check_choice(
                spec["method"], f"{where}.method", ("add", "mul", "additive", "multiplicative")
            )
            fitted = spec["fitted"]
            if not (
                isinstance(fitted, tuple) and len(fitted) == 4 and all(isinstance(v, float) for v in fitted)
            ):
                fail(f"{where}.fitted", "is not four numbers")
            check_array(spec["seasonal"], f"{where}.seasonal", ((period if deseasonalize else 0),))
            reserve(64.0 * (n + 1), where)
            if deseasonalize and period < 2:
                fail(where, "deseasonalizes without a period")
            self._results.append(self._results_from(y, deseasonalize, method, *fitted, spec["seasonal"]))
        self._publish_results()


register(ThetaForecaster)
