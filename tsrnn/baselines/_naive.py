"""Naive, seasonal naive and drift forecasts with their textbook prediction intervals."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
from scipy.stats import norm
from sklearn.utils._param_validation import Interval

from .._state import (
    check_array,
    check_int,
    check_vector,
    estimator_state,
    fail,
    register,
    restore_estimator_state,
)
from ..forecasting import BaseForecaster, TargetInfo

__all__ = ["NaiveForecaster"]


class NaiveForecaster(BaseForecaster):
    """Last value, seasonal naive or drift forecast (a random walk, possibly seasonal).

    The model behind all three is the lag-``m`` random walk
    ``y_t = y_{t-m} + c + e_t`` with ``e_t ~ N(0, sigma^2)`` independent, where ``m`` is
    ``seasonal_period`` (1 when ``None``) and ``c = 0`` unless ``drift=True``. Its forecast
    ``h`` steps after the last observation ``T`` is the value one, two, ... full seasons back
    plus the drift accumulated over those seasons::

        yhat_{T+h} = y_{T+h-m(k+1)} + (k+1) c,    k = floor((h - 1) / m)

    Prediction intervals are Gaussian, ``yhat +- z sigma_h``, with the standard variances
    (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.5, and
    R's ``forecast::rwf``/``snaive``)::

        naive            sigma_h^2 = h sigma^2
        seasonal naive   sigma_h^2 = (k+1) sigma^2
        drift            sigma_h^2 = (k+1) sigma^2 + (k+1)^2 se(c)^2

    where ``sigma`` is estimated from the in-sample lag-``m`` differences
    ``d_t = y_t - y_{t-m}``: without drift ``sigma^2 = mean(d_t^2)`` (nothing is estimated, so
    no degrees of freedom are lost); with drift ``c = mean(d_t)``,
    ``sigma^2 = sum((d_t - c)^2) / (n_d - 1)`` and ``se(c)^2 = sigma^2 / n_d`` with ``n_d``
    differences. For ``m = 1`` the drift variance is ``h sigma^2 (1 + h / n_d)``, the
    textbook ``h (1 + h / T)`` with the exact count of differences.

    Several columns in ``y`` are forecast independently, each with its own ``sigma`` and drift.

    Parameters
    ----------
    seasonal_period : int or None, default=None
        ``None`` or 1: last-value (naive) forecast. ``m > 1``: seasonal naive, repeating the
        last observed season of ``m`` values (12 for monthly data with a yearly cycle).
    drift : bool, default=False
        Add the average change per ``m`` steps (a straight line through the first and last
        observation for ``m = 1``).

    Attributes
    ----------
    sigma_ : ndarray of shape (n_series,)
        Standard deviation of the one-season-ahead errors.
    drift_ : ndarray of shape (n_series,)
        Estimated drift per ``m`` steps (zeros without ``drift``).
    drift_se_ : ndarray of shape (n_series,)
        Standard error of ``drift_`` (zeros without ``drift``).

    Examples
    --------
    >>> import pandas as pd
    >>> from tsrnn import NaiveForecaster
    >>> y = pd.Series([1.0, 2.0, 3.0, 4.0], index=pd.period_range("2000", periods=4, freq="Y"))
    >>> NaiveForecaster(drift=True).fit(y).predict(2).tolist()
    [5.0, 6.0]
    """

    _parameter_constraints: ClassVar[dict] = {
        "seasonal_period": [Interval(Integral, 1, None, closed="left"), None],
        "drift": ["boolean"],
    }

    def __init__(self, seasonal_period: int | None = None, drift: bool = False):
        self.seasonal_period = seasonal_period
        self.drift = drift

    def _fit(self, values: np.ndarray, X) -> None:
        m = 1 if self.seasonal_period is None else int(self.seasonal_period)
        drift = bool(self.drift)
        n = values.shape[0]
        need = m + (2 if drift else 1)
        if n < need:
            kind = f"seasonal_period={m}" + (" with drift" if drift else "")
            raise ValueError(
                f"y has {n} observation(s); a naive forecast with {kind} needs at least {need} "
                f"to estimate its error variance."
            )
        diffs = values[m:] - values[:-m]
        n_d = diffs.shape[0]
        if drift:
            self.drift_ = diffs.mean(axis=0)
            sigma2 = ((diffs - self.drift_) ** 2).sum(axis=0) / (n_d - 1)
            self.drift_se_ = np.sqrt(sigma2 / n_d)
        else:
            self.drift_ = np.zeros(values.shape[1])
            sigma2 = (diffs**2).mean(axis=0)
            self.drift_se_ = np.zeros(values.shape[1])
        self.sigma_ = np.sqrt(sigma2)
        self.period_ = m
        self._last_season = values[-m:].copy()

    def _seasons_back(self, horizon: int) -> np.ndarray:
        """``k + 1 = floor((h-1)/m) + 1`` for ``h = 1..horizon``: how many seasons each step reaches back."""
        return np.arange(horizon) // self.period_ + 1

    def _predict(self, horizon: int, X) -> np.ndarray:
        steps = self._seasons_back(horizon)
        position = np.arange(horizon) % self.period_
        return self._last_season[position] + steps[:, None] * self.drift_[None, :]

    def _predict_interval(self, horizon: int, coverage: float, X):
        mean = self._predict(horizon, X)
        steps = self._seasons_back(horizon)[:, None].astype(np.float64)
        sd = np.sqrt(steps * self.sigma_**2 + steps**2 * self.drift_se_**2)
        z = norm.ppf(0.5 + coverage / 2.0)
        return mean - z * sd, mean + z * sd

    def _update(self, values: np.ndarray, X) -> None:
        # Only the last season moves; sigma and the drift keep their fitted values (no refit).
        self._last_season = np.concatenate([self._last_season, values])[-self.period_ :]

    # -- persisted state (see tsrnn._state) ----------------------------------------------------

    _FITTED_STATE = (
        "target_info_",
        "n_series_",
        "exog_columns_",
        "sigma_",
        "drift_",
        "drift_se_",
        "period_",
        "_last_season",
    )

    def _get_state(self) -> dict:
        return estimator_state(self, self._FITTED_STATE)

    def _set_state(self, state: dict) -> None:
        if not restore_estimator_state(self, state, self._FITTED_STATE):
            return
        m = check_int(self.n_series_, "NaiveForecaster.n_series_", 1)
        for attr in ("sigma_", "drift_", "drift_se_"):
            check_vector(getattr(self, attr), f"NaiveForecaster.{attr}", m)
        period = 1 if self.seasonal_period is None else self.seasonal_period
        if self.period_ != period:
            fail("NaiveForecaster.period_", "does not match seasonal_period")
        check_array(self._last_season, "NaiveForecaster._last_season", (period, m))
        info = self.target_info_
        if not isinstance(info, TargetInfo) or len(info.columns) != m or self.exog_columns_ is not None:
            fail("NaiveForecaster.target_info_", "does not match the series")


register(NaiveForecaster)
