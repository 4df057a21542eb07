"""Seasonal decomposition (STL / MSTL) for forecasting: deseasonalise, forecast, reseasonalise.

Long seasonal periods (24 or 48 steps a day, 168 or 336 a week) and several seasonalities at
once are beyond seasonal ARIMA and ETS: a seasonal AR term of period 48 has 48 lags and ETS
would estimate 48 initial states. The standard remedy (Hyndman & Athanasopoulos, *Forecasting:
Principles and Practice*, 3rd ed., §12.1; R's ``stlf`` and ``mstl``) is to remove the seasonal
components with STL (one period) or MSTL (several, Bandara, Hyndman & Bergmeir 2021), forecast
the seasonally adjusted series with a non-seasonal model, and add back each seasonal
component's last full cycle, repeated.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods

from .._state import check_array, check_int, estimator_state, fail, register, restore_estimator_state
from ._base import BaseForecaster, check_target_state, to_pandas

__all__ = ["DeseasonalizedForecaster", "SeasonalComponents", "check_periods", "deseasonalize"]


def check_periods(periods) -> tuple[int, ...]:
    """Seasonal periods as sorted distinct integers > 1 (365.25 rounds to 365)."""
    if periods is None:
        return ()
    if isinstance(periods, (int, float, np.integer, np.floating)) and not isinstance(periods, bool):
        periods = (periods,)
    try:
        values = [float(p) for p in periods]
    except (TypeError, ValueError):
        raise TypeError(
            f"seasonal_periods must be a number or a sequence of numbers, got {periods!r}."
        ) from None
    if any(not np.isfinite(p) or p < 1 for p in values):
        raise ValueError(f"seasonal_periods must be finite numbers >= 1, got {periods!r}.")
    return tuple(sorted({round(p) for p in values if round(p) > 1}))


class SeasonalComponents:
    """The seasonal components of one series, continued past its end.

    Each component's last full cycle is repeated: the value ``s`` steps after the end of the
    decomposed data (``s = 0`` the first step) is ``cycle[s % period]``.

    Parameters
    ----------
    periods : tuple of int
    cycles : list of ndarray
        The last ``period`` values of each seasonal component.
    """

    def __init__(self, periods: tuple[int, ...], cycles: list[np.ndarray]):
        self.periods = periods
        self.cycles = cycles

    def forecast(self, horizon: int, start: int = 0) -> np.ndarray:
        """Sum of the components over the ``horizon`` steps from ``start`` steps past the end."""
        steps = start + np.arange(horizon)
        total = np.zeros(horizon)
        for period, cycle in zip(self.periods, self.cycles):
            total += cycle[steps % period]
        return total

    # -- persisted state (see tsrnn._state) --

    def _get_state(self) -> dict:
        return {"periods": [int(p) for p in self.periods], "cycles": list(self.cycles)}

    def _set_state(self, state: dict) -> None:
        if set(state) != {"periods", "cycles"}:
            fail("SeasonalComponents", f"its state must hold periods and cycles, got {sorted(state)}")
        periods, cycles = state["periods"], state["cycles"]
        if not isinstance(periods, list) or not isinstance(cycles, list) or len(periods) != len(cycles):
            fail("SeasonalComponents", "periods and cycles must be lists of the same length")
        for i, (period, cycle) in enumerate(zip(periods, cycles)):
            period = check_int(period, f"SeasonalComponents.periods[{i}]", 2)
            check_array(cycle, f"SeasonalComponents.cycles[{i}]", (period,))
        self.periods = tuple(int(p) for p in periods)
        self.cycles = cycles


def deseasonalize(y, periods, robust: bool = False) -> tuple[np.ndarray, SeasonalComponents]:
    """Remove the seasonal components of ``y`` for the given periods; return the adjusted series.

    STL for one period, MSTL for several (statsmodels). Periods that do not fit twice into the
    series are left out (nothing to estimate them from); with none left, ``y`` is returned
    unchanged with no components.

    Parameters
    ----------
    y : array-like of shape (n,)
    periods : int or sequence of numbers
        Seasonal periods, e.g. ``(48, 336)`` for half-hourly data with daily and weekly cycles.
    robust : bool, default=False
        Robust (outlier-resistant) STL fits.

    Returns
    -------
    adjusted : ndarray of shape (n,)
        ``y`` minus its seasonal components.
    components : SeasonalComponents
        The components, to be continued with :meth:`SeasonalComponents.forecast` and added
        back to forecasts of ``adjusted``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(96)
    >>> y = 10 + np.sin(2 * np.pi * t / 24)
    >>> adjusted, comps = deseasonalize(y, 24)
    >>> bool(np.ptp(adjusted) < 0.1), comps.periods
    (True, (24,))
    """
    x = np.asarray(y, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"y must be one series (1-D), got shape {x.shape}.")
    kept = tuple(p for p in check_periods(periods) if x.shape[0] >= 2 * p)
    if not kept or np.ptp(x) == 0.0:
        return x.copy(), SeasonalComponents((), [])
    key = (x.tobytes(), kept, bool(robust))
    seasonal = _DECOMPOSED.get(key)
    if seasonal is None:
        seasonal = _seasonal_components(x, kept, robust)
        # ARIMA, ETS, Theta and the recurrent models each deseasonalise the same training window
        # in compare: the decomposition is done once per process and window (a few recent ones
        # are kept).
        _DECOMPOSED[key] = seasonal
        while len(_DECOMPOSED) > _DECOMPOSED_MAX:
            del _DECOMPOSED[next(iter(_DECOMPOSED))]
    cycles = [seasonal[-p:, k].copy() for k, p in enumerate(kept)]
    return x - seasonal.sum(axis=1), SeasonalComponents(kept, cycles)


_DECOMPOSED: dict[tuple, np.ndarray] = {}
_DECOMPOSED_MAX = 8


def _seasonal_components(x: np.ndarray, kept: tuple[int, ...], robust: bool) -> np.ndarray:
    """The ``(n, len(kept))`` seasonal components of ``x`` by STL (one period) or MSTL."""
    if len(kept) == 1:
        from statsmodels.tsa.seasonal import STL

        seasonal = STL(x, period=kept[0], robust=robust).fit().seasonal.reshape(-1, 1)
    else:
        from statsmodels.tsa.seasonal import MSTL

        seasonal = np.asarray(MSTL(x, periods=list(kept), stl_kwargs={"robust": robust}).fit().seasonal)
        seasonal = seasonal.reshape(x.shape[0], -1)
    seasonal = np.array(seasonal, dtype=np.float64)  # an array of its own, read-only once stored
    seasonal.flags.writeable = False
    return seasonal


class DeseasonalizedForecaster(BaseForecaster):
    """Forecast the seasonally adjusted series with ``forecaster``; add the seasons back.

    Each column of ``y`` is decomposed by :func:`deseasonalize` (STL or MSTL); ``forecaster``
    (a clone) is fitted to the adjusted series, and its forecasts and interval bounds are
    shifted by the continued seasonal components (the seasonal part is treated as known, as in
    R's ``stlf``). ``update`` removes the continued components from the new observations and
    passes them on to the fitted forecaster (no refit, no new decomposition).

    Parameters
    ----------
    forecaster : forecaster
        A non-seasonal forecaster, e.g. ``ARIMAForecaster()``.
    seasonal_periods : int or sequence of numbers
        The periods to remove, e.g. ``(48, 336)`` for half-hourly data.
    robust : bool, default=False
        Robust STL fits.

    Attributes
    ----------
    forecaster_ : forecaster
        The fitted clone.
    components_ : list of SeasonalComponents
        One per column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrnn import NaiveForecaster
    >>> from tsrnn.forecasting import DeseasonalizedForecaster
    >>> t = np.arange(96)
    >>> y = pd.Series(10 + np.sin(2 * np.pi * t / 24))
    >>> f = DeseasonalizedForecaster(NaiveForecaster(), 24).fit(y)
    >>> bool(np.allclose(f.predict(24).to_numpy(), y.to_numpy()[-24:], atol=0.05))
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "forecaster": [HasMethods(["fit", "predict"])],
        "seasonal_periods": "no_validation",  # check_periods in fit names what is wrong
        "robust": ["boolean"],
    }

    def __init__(self, forecaster, seasonal_periods, robust: bool = False):
        self.forecaster = forecaster
        self.seasonal_periods = seasonal_periods
        self.robust = robust

    def _fit(self, values: np.ndarray, X) -> None:
        if X is not None:
            raise ValueError("DeseasonalizedForecaster does not take exogenous X; pass X=None.")
        periods = check_periods(self.seasonal_periods)
        if not periods:
            raise ValueError(
                f"seasonal_periods={self.seasonal_periods!r} holds no period > 1; give the season "
                "lengths to remove, e.g. (48, 336) for half-hourly data."
            )
        robust = bool(self.robust)
        pairs = [deseasonalize(values[:, j], periods, robust=robust) for j in range(values.shape[1])]
        adjusted = np.column_stack([a for a, _ in pairs])
        self.components_ = [c for _, c in pairs]
        self._steps = 0
        info = self.target_info_
        self.forecaster_ = clone(self.forecaster).fit(to_pandas(adjusted, info.index, info))

    def _seasonal(self, horizon: int) -> np.ndarray:
        return np.column_stack([c.forecast(horizon, self._steps) for c in self.components_])

    def _predict(self, horizon: int, X) -> np.ndarray:
        mean = np.asarray(self.forecaster_.predict(horizon), dtype=np.float64).reshape(horizon, -1)
        return mean + self._seasonal(horizon)

    def _predict_interval(self, horizon: int, coverage: float, X):
        frame = self.forecaster_.predict_interval(horizon, coverage=coverage)
        if isinstance(frame.columns, pd.MultiIndex):
            lower = frame.xs("lower", axis=1, level=1).to_numpy()
            upper = frame.xs("upper", axis=1, level=1).to_numpy()
        else:
            lower, upper = frame[["lower"]].to_numpy(), frame[["upper"]].to_numpy()
        seasonal = self._seasonal(horizon)
        return lower + seasonal, upper + seasonal

    def _predict_quantiles(self, horizon: int, levels: np.ndarray, X) -> np.ndarray:
        frame = self.forecaster_.predict_quantiles(horizon, quantiles=tuple(float(v) for v in levels))
        q = frame.to_numpy().reshape(horizon, -1, len(levels))  # (target, level) columns, level fastest
        return q + self._seasonal(horizon)[:, :, None]

    def _update(self, values: np.ndarray, X) -> None:
        k = values.shape[0]
        adjusted = values - self._seasonal(k)
        index = self._future_index(k)
        self.forecaster_.update(to_pandas(adjusted, index, self.target_info_))
        self._steps += k

    # -- persisted state (see tsrnn._state) ----------------------------------------------------

    _FITTED_STATE = ("target_info_", "n_series_", "exog_columns_", "components_", "forecaster_", "_steps")

    def _get_state(self) -> dict:
        return estimator_state(self, self._FITTED_STATE)

    def _set_state(self, state: dict) -> None:
        fitted = restore_estimator_state(self, state, self._FITTED_STATE)
        if not isinstance(self.forecaster, BaseForecaster):
            fail("DeseasonalizedForecaster.forecaster", "is not a tsrnn forecaster")
        if not fitted:
            return
        m = check_target_state(self, "DeseasonalizedForecaster")
        parts = self.components_
        if not isinstance(parts, list) or len(parts) != m:
            fail("DeseasonalizedForecaster.components_", f"must hold {m} SeasonalComponents")
        if not all(isinstance(c, SeasonalComponents) for c in parts):
            fail("DeseasonalizedForecaster.components_", "must hold SeasonalComponents")
        inner = self.forecaster_
        if type(inner) is not type(self.forecaster) or getattr(inner, "n_series_", None) != m:
            fail("DeseasonalizedForecaster.forecaster_", "is not a fitted clone of forecaster")
        check_int(self._steps, "DeseasonalizedForecaster._steps", 0)


register(SeasonalComponents)
register(DeseasonalizedForecaster)
