"""The interface every forecaster shares, and the pandas plumbing behind it.

Recurrent forecasters, ARIMA, the hidden-Markov-model baseline and the naive forecasts all
subclass :class:`BaseForecaster`, so :func:`tsrnn.backtest` and :func:`tsrnn.compare` treat
them alike:

- ``fit(y, X=None)``: ``y`` a Series (one series) or a DataFrame (one column per series or
  target), indexed by time; ``X`` optional exogenous columns on the same index.
- ``predict(horizon, X=None)``: the same kind of pandas object as ``y``, indexed by the
  ``horizon`` timestamps that follow the training index.
- ``predict_interval(horizon, coverage=0.9, X=None)``: a DataFrame with columns ``lower`` and
  ``upper`` (for a DataFrame ``y``: a column MultiIndex ``(target, "lower"|"upper")``).
- ``predict_quantiles(horizon, quantiles=(0.1, 0.5, 0.9), X=None)``: a DataFrame with one
  column per level (for a DataFrame ``y``: a column MultiIndex ``(target, level)``), never
  decreasing across levels.
- ``update(y_new, X_new=None)``: append observations that follow the training data and move
  the forecast origin to their end, without refitting.

Subclasses implement ``_fit(values, X)``, ``_predict(horizon, X)`` and optionally
``_predict_interval(horizon, coverage, X)``, ``_predict_quantiles(horizon, levels, X)`` (by
default read off the central intervals) and ``_update(values, X)`` on float64 NumPy arrays
``(n_timesteps, n_series)``; this base class converts from and to pandas and checks inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._state import check_int, check_keys, fail, register
from .._time_index import regular_offset

__all__ = [
    "BaseForecaster",
    "TargetInfo",
    "align_exog",
    "check_covers",
    "check_series",
    "check_target_state",
    "check_time_index",
    "future_index",
    "to_pandas",
]


@dataclass
class TargetInfo:
    """What ``fit`` learned about the shape of ``y``: enough to rebuild pandas outputs."""

    is_series: bool
    columns: pd.Index
    name: object
    index: pd.Index  # the full index seen so far (training data plus updates)
    freq: object  # frequency used to extend the index, or None for integer indexes

    # -- persisted state (see tsrnn._state) --

    def _get_state(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _set_state(self, state: dict) -> None:
        check_keys("TargetInfo", state, [f.name for f in fields(self)])
        if not isinstance(state["is_series"], bool):
            fail("TargetInfo.is_series", "is not a bool")
        for name in ("columns", "index"):
            if not isinstance(state[name], pd.Index):
                fail(f"TargetInfo.{name}", "is not a pandas Index")
        if state["is_series"] and len(state["columns"]) != 1:
            fail("TargetInfo.columns", "a Series has one column")
        freq = state["freq"]
        if not isinstance(freq, pd.offsets.BaseOffset):
            check_int(freq, "TargetInfo.freq", 1)
        self.__dict__.update(state)


register(TargetInfo)


def check_target_state(forecaster, where: str) -> int:
    """The restored target description of a fitted forecaster that takes no exogenous data
    (``target_info_``, ``n_series_``, ``exog_columns_``); returns ``n_series_``."""
    if not isinstance(forecaster.target_info_, TargetInfo):
        fail(f"{where}.target_info_", "is not a TargetInfo")
    m = check_int(forecaster.n_series_, f"{where}.n_series_", 1)
    if forecaster.exog_columns_ is not None:
        fail(f"{where}.exog_columns_", "must be None: it takes no exogenous data")
    return m


def align_exog(X, index: pd.Index, name: str = "X", columns: list | None = None) -> tuple[np.ndarray, list]:
    """Rows of the exogenous frame ``X`` at the labels ``index``, as float64 ``(len(index), p)``.

    ``X`` may hold more rows than needed (it is aligned by label, not by position). When
    ``columns`` is given, ``X`` must have exactly those columns (in any order; they are returned
    in that order). Returns ``(values, columns)``.
    """
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame indexed like y, got {type(X).__name__}.")
    check_covers(X, index, name)
    if columns is not None:
        if set(X.columns) != set(columns):
            raise ValueError(
                f"{name} must have the columns X was fit with, {columns}; got {list(X.columns)}."
            )
        X = X[columns]
    values, _ = check_series(X.loc[index], name)
    return values, list(X.columns)


def check_covers(X: pd.DataFrame | pd.Series, index: pd.Index, name: str = "X") -> None:
    """Raise a ValueError when the exogenous ``X`` lacks a row for some label of ``index``."""
    missing = index.difference(X.index)
    if len(missing):
        raise ValueError(
            f"{name} does not cover the index of y: {len(missing)} timestamp(s) missing, the first "
            f"{missing[0]!r}; {name} needs a row for every observation of y."
            + _index_kind_hint(X.index, index, name)
        )


def _first_bad_label(index: pd.Index, mask: np.ndarray) -> object:
    return index[int(np.argmax(mask))]


def check_time_index(index: pd.Index, name: str = "y") -> None:
    """Raise a ValueError for duplicated or unsorted timestamps, naming the first offender."""
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise ValueError(
            f"{name} has duplicated timestamps (first: {dup!r}); aggregate them first, "
            f"e.g. {name}.groupby(level=0).mean()."
        )
    if not index.is_monotonic_increasing:
        steps = np.flatnonzero(~(index[1:] > index[:-1])) if len(index) > 1 else []
        where = f" ({index[steps[0] + 1]!r} follows {index[steps[0]]!r})" if len(steps) else ""
        raise ValueError(f"the index of {name} is not sorted in time{where}; call {name}.sort_index() first.")


def check_series(y, name: str = "y", allow_nan: bool = False) -> tuple[np.ndarray, pd.Index]:
    """Validate a Series/DataFrame of numbers indexed by time; return ``(values 2-D, index)``.

    Raises ``TypeError`` for non-pandas input or non-numeric columns and ``ValueError`` for an
    empty input, duplicated or unsorted timestamps and (unless ``allow_nan``) NaN/inf, with a
    message that names the first offending position and what to do about it.
    """
    if isinstance(y, pd.Series):
        frame = y.to_frame()
    elif isinstance(y, pd.DataFrame):
        frame = y
    else:
        raise TypeError(
            f"{name} must be a pandas Series or DataFrame indexed by time, got {type(y).__name__}; "
            f"wrap an array with pd.Series(values, index=pd.RangeIndex(len(values)))."
        )
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {frame.shape}); it needs at least one observation.")
    bad_cols = [
        c
        for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if bad_cols:
        raise TypeError(
            f"{name} has non-numeric column(s) {bad_cols} (dtypes "
            f"{[str(frame[c].dtype) for c in bad_cols]}); convert them with pd.to_numeric or drop them."
        )
    index = frame.index
    check_time_index(index, name)
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if not allow_nan:
        bad = ~np.isfinite(values)
        if bad.any():
            rows = bad.any(axis=1)
            raise ValueError(
                f"{name} contains {int(bad.sum())} NaN or infinite value(s), the first at "
                f"{_first_bad_label(index, rows)!r}; fill them first, e.g. {name}.interpolate(), "
                f"or aggregate a gappy series to a regular grid and fill what is left, e.g. "
                f"{name}.resample({_resample_hint(index)!r}).mean().interpolate(). Dropping the "
                f"rows ({name}.dropna()) leaves holes in the time index, which forecasting cannot use."
            )
    return values, index


def _index_kind_hint(got: pd.Index, want: pd.Index, name: str) -> str:
    """Extra advice when two indexes cannot match because they are of different kinds."""

    def kind(index: pd.Index) -> tuple:
        if isinstance(index, pd.PeriodIndex):
            return ("period", index.freqstr)
        if isinstance(index, pd.DatetimeIndex):
            return ("datetime", str(index.tz))
        if pd.api.types.is_integer_dtype(index.dtype):
            return ("integer",)
        return (str(index.dtype),)

    if kind(got) == kind(want):
        return ""
    return (
        f" {name} is indexed by a {type(got).__name__} ({got.dtype}) but y by a "
        f"{type(want).__name__} ({want.dtype}): index both the same way, e.g. "
        f"{name}.index = {name}.index.to_period(freq) or {name}.index.to_timestamp()."
    )


def _resample_hint(index: pd.Index) -> str:
    """A frequency alias to show in a resampling hint: the index's own, else monthly."""
    freq = getattr(index, "freqstr", None)
    if isinstance(index, pd.DatetimeIndex) and freq:
        return freq
    return "MS"


def _index_freq(index: pd.Index, freq=None):
    """The step that extends ``index``: a pandas offset, or an int for integer indexes."""
    if isinstance(index, pd.PeriodIndex):
        return index.freq if freq is None else pd.tseries.frequencies.to_offset(freq)
    if isinstance(index, pd.DatetimeIndex):
        if freq is not None:
            return pd.tseries.frequencies.to_offset(freq)
        offset = regular_offset(index)
        if offset is None:
            raise ValueError(
                "the DatetimeIndex has no regular frequency (index.freq is None and none can be "
                "inferred), so future timestamps are undefined; resample to a regular grid "
                "(y.resample('MS').mean()) or pass freq=..., e.g. freq='D'."
            )
        return offset
    if pd.api.types.is_integer_dtype(index.dtype):
        if isinstance(index, pd.RangeIndex):
            return index.step
        steps = np.diff(index.to_numpy())
        if len(steps) == 0:
            return 1
        if np.all(steps == steps[0]) and steps[0] > 0:
            return int(steps[0])
        raise ValueError(
            "the integer index is not evenly spaced, so future positions are undefined; "
            "use a RangeIndex or a DatetimeIndex/PeriodIndex with a frequency."
        )
    raise TypeError(
        f"the index must be a DatetimeIndex, PeriodIndex or integer index, got {type(index).__name__}; "
        "convert it with pd.to_datetime(...) or reset it with .reset_index(drop=True)."
    )


def future_index(index: pd.Index, horizon: int, freq=None) -> pd.Index:
    """The ``horizon`` labels that follow ``index`` at its frequency.

    A ``DatetimeIndex`` without ``freq`` uses :func:`pandas.infer_freq`, or ``freq`` when given.
    """
    step = _index_freq(index, freq)
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(start=index[-1] + 1 * step, periods=horizon, freq=step, name=index.name)
    if isinstance(index, pd.DatetimeIndex):
        return pd.date_range(start=index[-1] + step, periods=horizon, freq=step, tz=index.tz, name=index.name)
    start = int(index[-1]) + step
    return pd.RangeIndex(start, start + horizon * step, step, name=index.name)


def to_pandas(values: np.ndarray, index: pd.Index, info: TargetInfo):
    """Wrap forecasts ``(horizon, n_series)`` as the same kind of pandas object as ``y``."""
    if info.is_series:
        return pd.Series(values[:, 0], index=index, name=info.name)
    return pd.DataFrame(values, index=index, columns=info.columns)


def check_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer number of steps, got {horizon!r}.")
    return int(horizon)


class BaseForecaster(BaseEstimator):
    """Base class of all forecasters (see the module docstring for the interface).

    Parameters of subclasses are stored by ``__init__`` only (scikit-learn convention), so
    ``clone``, ``get_params`` and ``set_params`` work on every forecaster.
    """

    #: whether the forecaster can use exogenous regressors ``X``
    _supports_exog: bool = False
    #: the rule of each constructor parameter (scikit-learn's ``_validate_params``), checked in fit
    _parameter_constraints: ClassVar[dict] = {}

    def _check_params(self) -> None:
        """Rules that tie several parameters together (none by default); no side effects."""

    # -- public API ---------------------------------------------------------------------------

    def fit(self, y, X=None):
        """Fit to the series ``y`` (Series or DataFrame) with optional exogenous ``X``."""
        self._validate_params()
        self._check_params()
        values, index = check_series(y, "y")
        freq = getattr(self, "freq", None)
        step = _index_freq(index, freq)
        x_values = self._check_exog_fit(X, index)
        self.target_info_ = TargetInfo(
            is_series=isinstance(y, pd.Series),
            columns=y.columns if isinstance(y, pd.DataFrame) else pd.Index([y.name]),
            name=y.name if isinstance(y, pd.Series) else None,
            index=index,
            freq=step,
        )
        self.n_series_ = values.shape[1]
        self._fit(values, x_values)
        return self

    def predict(self, horizon: int, X=None):
        """Point forecasts for the next ``horizon`` steps, indexed by future timestamps."""
        check_is_fitted(self, "target_info_")
        horizon = check_horizon(horizon)
        x_future = self._check_exog_future(X, horizon)
        values = np.asarray(self._predict(horizon, x_future), dtype=np.float64)
        return to_pandas(values.reshape(horizon, -1), self._future_index(horizon), self.target_info_)

    def predict_interval(self, horizon: int, coverage: float = 0.9, X=None) -> pd.DataFrame:
        """Prediction intervals with nominal ``coverage`` for the next ``horizon`` steps."""
        check_is_fitted(self, "target_info_")
        horizon = check_horizon(horizon)
        if not (isinstance(coverage, (float, int, np.floating)) and 0.0 < coverage < 1.0):
            raise ValueError(f"coverage must be a probability strictly between 0 and 1, got {coverage!r}.")
        x_future = self._check_exog_future(X, horizon)
        lower, upper = self._predict_interval(horizon, float(coverage), x_future)
        return self._interval_frame(horizon, lower, upper)

    def _interval_frame(self, horizon: int, lower, upper) -> pd.DataFrame:
        """Interval ends ``(horizon, n_series)`` as the DataFrame of :meth:`predict_interval`."""
        lower = np.asarray(lower, dtype=np.float64).reshape(horizon, -1)
        upper = np.asarray(upper, dtype=np.float64).reshape(horizon, -1)
        index = self._future_index(horizon)
        info = self.target_info_
        if info.is_series:
            return pd.DataFrame({"lower": lower[:, 0], "upper": upper[:, 0]}, index=index)
        columns = pd.MultiIndex.from_product([info.columns, ["lower", "upper"]])
        data = np.stack([lower, upper], axis=2).reshape(horizon, -1)
        return pd.DataFrame(data, index=index, columns=columns)

    def predict_quantiles(self, horizon: int, quantiles=(0.1, 0.5, 0.9), X=None) -> pd.DataFrame:
        """Quantiles of the predictive distribution of the next ``horizon`` steps.

        Parameters
        ----------
        horizon : int
        quantiles : sequence of float, default=(0.1, 0.5, 0.9)
            Increasing probability levels in (0, 1).
        X : DataFrame, optional
            Future exogenous values (as for :meth:`predict`).

        Returns
        -------
        DataFrame
            Indexed by the future timestamps, one column per level (the float level as its
            label); for a DataFrame ``y`` the columns are a MultiIndex ``(target, level)``.
            Quantiles never decrease with the level.
        """
        from ..nn import check_quantile_levels

        check_is_fitted(self, "target_info_")
        horizon = check_horizon(horizon)
        levels = check_quantile_levels(quantiles)
        x_future = self._check_exog_future(X, horizon)
        q = np.asarray(self._predict_quantiles(horizon, levels, x_future), dtype=np.float64)
        q = q.reshape(horizon, self.n_series_, len(levels))
        return self._quantile_frame(q, levels)

    def _quantile_frame(self, q: np.ndarray, levels: np.ndarray) -> pd.DataFrame:
        """``(horizon, n_series, K)`` quantiles as the DataFrame of :meth:`predict_quantiles`."""
        index = self._future_index(q.shape[0])
        labels = [float(v) for v in levels]
        info = self.target_info_
        if info.is_series:
            return pd.DataFrame(q[:, 0, :], index=index, columns=pd.Index(labels, name="quantile"))
        columns = pd.MultiIndex.from_product([info.columns, labels], names=[None, "quantile"])
        return pd.DataFrame(q.reshape(q.shape[0], -1), index=index, columns=columns)

    def update(self, y_new, X_new=None):
        """Append observations that follow the training data; forecasts then start after them.

        The model is not refitted.
        """
        check_is_fitted(self, "target_info_")
        info = self.target_info_
        values, index = check_series(y_new, "y_new")
        if values.shape[1] != self.n_series_:
            raise ValueError(
                f"y_new has {values.shape[1]} column(s) but the forecaster was fit on {self.n_series_}."
            )
        if isinstance(y_new, pd.DataFrame) and not info.is_series and not y_new.columns.equals(info.columns):
            if set(y_new.columns) != set(info.columns):
                raise ValueError(
                    f"y_new must have the columns the forecaster was fit on, {list(info.columns)}; "
                    f"got {list(y_new.columns)}."
                )
            values, index = check_series(y_new[info.columns], "y_new")  # same columns, fit order
        expected = future_index(info.index, len(index), info.freq if not isinstance(info.freq, int) else None)
        if not index.equals(expected):
            raise ValueError(
                f"y_new must continue the training data: expected its index to start at "
                f"{expected[0]!r} and step by the training frequency, got {index[0]!r}...{index[-1]!r}."
            )
        x_values = self._check_exog_fit(X_new, index, name="X_new")
        self._update(values, x_values)
        info.index = info.index.append(index)
        return self

    # -- hooks for subclasses -------------------------------------------------------------------

    def _fit(self, values: np.ndarray, X: np.ndarray | None) -> None:
        raise NotImplementedError

    def _predict(self, horizon: int, X: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _predict_interval(self, horizon: int, coverage: float, X: np.ndarray | None):
        raise NotImplementedError(f"{type(self).__name__} does not provide prediction intervals.")

    def _predict_quantiles(self, horizon: int, levels: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        """``(horizon, n_series, K)`` quantiles read off the central intervals.

        Level ``tau < 0.5`` is the lower end of the interval with coverage ``1 - 2 tau``,
        ``tau > 0.5`` the upper end of the one with coverage ``2 tau - 1``, and 0.5 the point
        forecast: exact for forecasters whose intervals are central intervals of a predictive
        distribution whose median is the point forecast (the Gaussian baselines).
        """
        out = np.empty((horizon, self.n_series_, len(levels)))
        for k, tau in enumerate(levels):
            if np.isclose(tau, 0.5):
                out[:, :, k] = np.asarray(self._predict(horizon, X)).reshape(horizon, -1)
                continue
            lower, upper = self._predict_interval(horizon, float(abs(2.0 * tau - 1.0)), X)
            out[:, :, k] = np.asarray(lower if tau < 0.5 else upper).reshape(horizon, -1)
        return out

    def _update(self, values: np.ndarray, X: np.ndarray | None) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support update(); refit instead.")

    # -- helpers ---------------------------------------------------------------------------------

    def _future_index(self, horizon: int) -> pd.Index:
        info = self.target_info_
        freq = None if isinstance(info.freq, int) else info.freq
        return future_index(info.index, horizon, freq)

    def _check_exog_fit(self, X, index: pd.Index, name: str = "X") -> np.ndarray | None:
        fitted_with_x = getattr(self, "exog_columns_", None) is not None
        if X is None:
            if name == "X_new" and fitted_with_x:
                raise ValueError(
                    "the forecaster was fit with exogenous X, so update() needs X_new "
                    "for the new observations."
                )
            if name == "X":
                self.exog_columns_ = None
            return None
        if not self._supports_exog:
            raise ValueError(f"{type(self).__name__} does not use exogenous regressors; pass {name}=None.")
        if name != "X" and not fitted_with_x:
            raise ValueError(f"the forecaster was fit without exogenous X; pass {name}=None.")
        columns = None if name == "X" else self.exog_columns_
        values, columns = align_exog(X, index, name, columns)
        if name == "X":
            self.exog_columns_ = columns
        return values

    def _check_exog_future(self, X, horizon: int) -> np.ndarray | None:
        columns = getattr(self, "exog_columns_", None)
        if columns is None:
            if X is not None:
                raise ValueError("the forecaster was fit without exogenous X; pass X=None to predict.")
            return None
        if X is None:
            raise ValueError(
                f"the forecaster was fit with exogenous columns {columns}, so predict needs their "
                f"future values: pass X with {horizon} rows indexed by the forecast timestamps."
            )
        if isinstance(X, pd.Series):
            X = X.to_frame()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}.")
        future = self._future_index(horizon)
        missing = future.difference(X.index)
        if len(missing):
            raise ValueError(
                f"X does not cover the forecast horizon: {len(missing)} of the {horizon} future "
                f"timestamps are missing, the first {missing[0]!r} (X must extend from {future[0]!r} "
                f"to {future[-1]!r})." + _index_kind_hint(X.index, future, "X")
            )
        if set(X.columns) != set(columns):
            raise ValueError(
                f"X must have the columns the forecaster was fit with, {columns}; got {list(X.columns)}."
            )
        values, _ = check_series(X.loc[future, columns], "X")
        return values
