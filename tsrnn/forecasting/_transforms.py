"""Target transforms applied before windowing and inverted exactly on the way out.

The chain is, in order: log (opt-in), removal of an STL seasonal component (optional), one
seasonal difference at lag ``s`` (optional), ``d`` ordinary differences, standardisation (per
series). Each differencing step loses its first values (``s + d`` in total); the inverse
rebuilds every level from the last observed values of the level below, so a forecast that is
exact on the transformed scale is exact on the original scale. A forecast made at origin ``o``
gets back the seasonal component of the same season at the latest time before ``o``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._scaling import moments
from .._state import check_array, check_int, check_keys, check_vector, fail, register


def _lag_diff(a: np.ndarray, lag: int) -> np.ndarray:
    out = np.full_like(a, np.nan)
    out[lag:] = a[lag:] - a[:-lag]
    return out


def stl_seasonal(values: np.ndarray, period: int) -> np.ndarray:
    """The seasonal component ``(n, m)`` of a robust STL decomposition of each column.

    A column shorter than two periods has no season to estimate: its component is zero.
    """
    from statsmodels.tsa.seasonal import STL

    out = np.zeros_like(values, dtype=np.float64)
    if period < 2 or values.shape[0] < 2 * period:
        return out
    for j in range(values.shape[1]):
        out[:, j] = STL(values[:, j], period=period, robust=True).fit().seasonal
    return out


def extend_seasonal(seasonal: np.ndarray, period: int, n: int) -> np.ndarray:
    """``seasonal`` ``(n_fit, m)`` continued periodically to ``n`` rows (its last period repeated)."""
    n_fit = seasonal.shape[0]
    if n <= n_fit:
        return seasonal[:n]
    t = np.arange(n_fit, n)
    back = period * np.ceil((t - n_fit + 1) / period).astype(int)
    return np.concatenate([seasonal, seasonal[t - back]], axis=0)


class TargetTransform:
    """log → STL deseasonalising → seasonal difference → differences → standardisation.

    On arrays ``(n, m)``.

    Parameters
    ----------
    log : bool
        Take ``np.log`` first; every value must be strictly positive.
    seasonal_period : int or None
        Lag ``s`` of one seasonal difference ``a[t] - a[t - s]``.
    diff : int
        Number ``d`` of ordinary differences ``a[t] - a[t - 1]``.
    standardize : bool
        Subtract the per-series mean and divide by the per-series standard deviation of the
        differenced training series (see :func:`tsrnn._scaling.moments`: a constant series
        is divided by its level instead).
    stl_period : int or None
        Subtract the seasonal component of a robust STL decomposition (statsmodels' ``STL``)
        with this period, fitted on the (log) training series; values after the training data
        get the last estimated period repeated.
    """

    def __init__(
        self,
        log: bool = False,
        seasonal_period: int | None = None,
        diff: int = 0,
        standardize=True,
        stl_period: int | None = None,
    ):
        self.log = log
        self.seasonal_period = seasonal_period
        self.diff = diff
        self.standardize = standardize
        self.stl_period = stl_period

    @property
    def lost(self) -> int:
        """Number of leading values differencing makes undefined."""
        return (self.seasonal_period or 0) + self.diff

    def check_positive(self, values: np.ndarray, index: pd.Index | None = None, name: str = "y") -> None:
        if not self.log:
            return
        bad = ~(values > 0)
        if bad.any():
            row = int(np.argmax(bad.any(axis=1)))
            where = repr(index[row]) if index is not None and len(index) > row else f"position {row}"
            raise ValueError(
                f"log=True needs strictly positive {name}, but {name} has {int(bad.sum())} value(s) <= 0, "
                f"the first at {where}; use log=False, or shift the series to positive values before "
                f"fitting (e.g. {name} - {name}.min() + 1) and subtract the shift from the forecasts."
            )

    def levels(self, values: np.ndarray) -> list[np.ndarray]:
        """Every intermediate level: ``[log/raw, seasonal diff (if any), diff 1, ..., diff d]``."""
        level = np.log(values) if self.log else np.asarray(values, dtype=np.float64)
        if self.stl_period:
            level = level - extend_seasonal(self.seasonal_, self.stl_period, level.shape[0])
        out = [level]
        if self.seasonal_period:
            out.append(_lag_diff(out[-1], self.seasonal_period))
        for _ in range(self.diff):
            out.append(_lag_diff(out[-1], 1))
        return out

    def fit(self, values: np.ndarray, index: pd.Index | None = None) -> TargetTransform:
        self.check_positive(values, index)
        if self.stl_period:
            raw = np.log(values) if self.log else np.asarray(values, dtype=np.float64)
            self.seasonal_ = stl_seasonal(raw, self.stl_period)
        top = self.levels(values)[-1][self.lost :]
        if self.standardize and len(top):
            # a constant (differenced) series has no spread to divide by: scaled by its level
            self.mean_, self.scale_ = moments(top, axis=0)
        else:
            self.mean_ = np.zeros(values.shape[1])
            self.scale_ = np.ones(values.shape[1])
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        """The model's scale, ``(n, m)``; the first :attr:`lost` rows are NaN."""
        return (self.levels(values)[-1] - self.mean_) / self.scale_

    def inverse(self, z: np.ndarray, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Map forecasts ``z`` ``(N, H, m)`` made at ``origins`` back to the original scale.

        ``origins[i]`` is the time of the first forecast of row ``i``; ``values[:origins[i]]``
        is the observed history the differences are undone from.
        """
        levels = self.levels(values)
        out = z * self.scale_ + self.mean_
        for j in range(len(levels) - 1, 0, -1):
            below = levels[j - 1]
            if self.seasonal_period and j == 1:
                s = self.seasonal_period
                rebuilt = np.empty_like(out)
                for k in range(out.shape[1]):
                    # a[t] = S[t] + a[t - s]: from history for the first s steps, then from the forecast
                    prev = below[origins + k - s] if k < s else rebuilt[:, k - s]
                    rebuilt[:, k] = out[:, k] + prev
                out = rebuilt
            else:
                out = below[origins - 1][:, None, :] + np.cumsum(out, axis=1)
        if self.stl_period:
            # step k from origin o gets the season of time o + k one period (or more) back
            p = self.stl_period
            seasonal = extend_seasonal(self.seasonal_, p, int(origins.max()))
            k = np.arange(out.shape[1])
            out = out + seasonal[origins[:, None] + k - p * (k // p + 1)]
        return np.exp(out) if self.log else out

    # -- persisted state (see tsrnn._state): the settings and the fitted scaling (and season) --

    _STATE = ("log", "seasonal_period", "diff", "standardize", "stl_period", "mean_", "scale_")

    def _get_state(self) -> dict:
        state = {name: getattr(self, name) for name in self._STATE}
        if self.stl_period:
            state["seasonal_"] = self.seasonal_
        return state

    def _set_state(self, state: dict) -> None:
        check_keys("TargetTransform", state, self._STATE, ("seasonal_",))
        for name in ("log", "standardize"):
            if not isinstance(state[name], bool):
                fail(f"TargetTransform.{name}", "is not a bool")
        for name in ("seasonal_period", "stl_period"):
            if state[name] is not None:
                check_int(state[name], f"TargetTransform.{name}", 1)
        check_int(state["diff"], "TargetTransform.diff", 0)
        mean = state["mean_"]
        size = mean.shape[0] if isinstance(mean, np.ndarray) and mean.ndim == 1 else -1
        check_vector(mean, "TargetTransform.mean_", size)
        check_vector(state["scale_"], "TargetTransform.scale_", size, positive=True)
        if bool(state["stl_period"]) != ("seasonal_" in state):
            fail("TargetTransform.seasonal_", "must be present exactly when stl_period is set")
        if "seasonal_" in state:
            check_array(state["seasonal_"], "TargetTransform.seasonal_", (None, size))
        self.__dict__.update(state)


register(TargetTransform)
