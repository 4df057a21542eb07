"""The Theta method on statsmodels' ``ThetaModel``, with its seasonality test."""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import check_bool, check_choice, check_positive_int
from ..forecasting._base import BaseForecaster
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

    def _check_params(self) -> None:
        self._m = (
            1 if self.seasonal_period is None else check_positive_int(self.seasonal_period, "seasonal_period")
        )
        if (
            isinstance(self.theta, bool)
            or not isinstance(self.theta, (int, float, np.integer, np.floating))
            or not np.isfinite(self.theta)
            or self.theta < 1
        ):
            raise ValueError(
                f"theta must be a finite number >= 1 (2 is the classic method), got {self.theta!r}."
            )
        check_bool(self.deseasonalize, "deseasonalize")
        check_bool(self.use_test, "use_test")
        check_choice(self.method, "method", ("auto", "additive", "multiplicative"))

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
        self._check_params()
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

    def _update(self, values: np.ndarray, X) -> None:
        from statsmodels.tsa.forecasting.theta import ThetaModelResults

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
            model = self._model(y, old.deseasonalize, old.method, False)
            new.append(ThetaModelResults(b0, alpha, sigma2, level, seasonal, False, model))
        self._results = new
        self._publish_results()
