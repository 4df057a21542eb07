"""One model per series: :class:`PerSeriesForecaster` and :func:`fit_many`."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .._parallel import run_tasks
from .._state import check_int, estimator_state, fail, register, restore_estimator_state
from ._base import BaseForecaster, check_horizon, check_series

__all__ = ["PerSeriesForecaster", "fit_many"]


def _fit_one(forecaster, y: pd.Series, X):
    return forecaster.fit(y, X=X) if X is not None else forecaster.fit(y)


def check_forecaster_interface(forecaster, name: str = "forecaster") -> None:
    """Raise a TypeError unless ``forecaster`` has the forecaster interface (fit/predict/...)."""
    if isinstance(forecaster, BaseForecaster):
        return
    needed = ("fit", "predict", "predict_interval", "update", "get_params")
    missing = [m for m in needed if not callable(getattr(forecaster, m, None))]
    if missing:
        raise TypeError(
            f"{name} must follow the forecaster interface (fit/predict/predict_interval/update "
            f"and scikit-learn get_params); {type(forecaster).__name__} lacks {missing}."
        )


class PerSeriesForecaster(BaseForecaster):
    """Fit one clone of ``forecaster`` to each column of ``y``, independently.

    Each series gets its own model (a "local" model, unlike :class:`Forecaster`'s default
    ``multi_series="global"``, which shares one model between all columns). The clones are
    fitted in parallel with joblib (``n_jobs``), so the same code runs on a Dask cluster inside
    ``with joblib.parallel_backend("dask"):``. :func:`tsrnn.backtest` and :func:`tsrnn.compare`
    recognise this forecaster and parallelise over series as well as over forecast origins.

    Parameters
    ----------
    forecaster : forecaster
        Any tsrnn forecaster (or an object with the same interface); cloned per column, never
        modified. Exogenous ``X`` is given to every clone.
    n_jobs : int or None, default=None
        Parallel jobs for ``fit`` (see :func:`tsrnn._parallel.run_tasks`): ``None`` is one job
        unless a ``joblib.parallel_backend`` context says otherwise, ``-1`` every core.

    Attributes
    ----------
    forecasters_ : dict
        Column name -> fitted clone (for a Series ``y``: its name -> the one clone).
    columns_ : pandas.Index
        The columns of ``y`` in order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrnn import NaiveForecaster, fit_many
    >>> y = pd.DataFrame({"a": [1.0, 2, 3], "b": [5.0, 4, 3]}, index=pd.RangeIndex(3))
    >>> many = fit_many(NaiveForecaster(drift=True), y)
    >>> many.predict(2)
         a    b
    3  4.0  2.0
    4  5.0  1.0
    >>> many["b"].drift_.tolist()
    [-1.0]
    """

    _supports_exog = True
    _parameter_constraints: ClassVar[dict] = {"forecaster": "no_validation", "n_jobs": [Integral, None]}

    def __init__(self, forecaster, *, n_jobs: int | None = None):
        self.forecaster = forecaster
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        check_forecaster_interface(self.forecaster)

    def fit(self, y, X=None):
        """Fit one clone of ``forecaster`` per column of ``y`` (in parallel with ``n_jobs``)."""
        self._validate_params()
        self._check_params()
        check_series(y, "y")
        if X is not None and not getattr(self.forecaster, "_supports_exog", True):
            raise ValueError(
                f"{type(self.forecaster).__name__} does not use exogenous regressors; pass X=None."
            )
        self.is_series_ = isinstance(y, pd.Series)
        frame = y.to_frame() if self.is_series_ else y
        if not frame.columns.is_unique:
            dup = frame.columns[frame.columns.duplicated()][0]
            raise ValueError(
                f"y has duplicated column names (first: {dup!r}); each series needs its own name."
            )
        self.columns_ = frame.columns
        self.name_ = y.name if self.is_series_ else None
        tasks = [(clone(self.forecaster), frame[c], X) for c in frame.columns]
        fitted = list(run_tasks(_fit_one, tasks, self.n_jobs))
        self.forecasters_ = dict(zip(frame.columns, fitted))
        self.n_series_ = len(fitted)
        return self

    def __getitem__(self, column):
        check_is_fitted(self, "forecasters_")
        return self.forecasters_[column]

    def _join(self, parts: list[pd.Series]):
        if self.is_series_:
            out = parts[0].copy()
            out.name = self.name_
            return out
        return pd.concat(parts, axis=1, keys=self.columns_)

    def predict(self, horizon: int, X=None):
        """Point forecasts of every series: a DataFrame with the columns of ``y`` (Series for a Series)."""
        check_is_fitted(self, "forecasters_")
        horizon = check_horizon(horizon)
        parts = [
            f.predict(horizon, X=X) if X is not None else f.predict(horizon)
            for f in self.forecasters_.values()
        ]
        return self._join(parts)

    def predict_interval(self, horizon: int, coverage: float = 0.9, X=None) -> pd.DataFrame:
        """Intervals of every series: columns ``(series, "lower"|"upper")`` (as other forecasters)."""
        check_is_fitted(self, "forecasters_")
        horizon = check_horizon(horizon)
        parts = [f.predict_interval(horizon, coverage=coverage, X=X) for f in self.forecasters_.values()]
        if self.is_series_:
            return parts[0]
        return pd.concat(parts, axis=1, keys=self.columns_)

    def predict_quantiles(self, horizon: int, quantiles=(0.1, 0.5, 0.9), X=None) -> pd.DataFrame:
        """Quantiles of every series: columns ``(series, level)`` (as other forecasters)."""
        check_is_fitted(self, "forecasters_")
        horizon = check_horizon(horizon)
        parts = [f.predict_quantiles(horizon, quantiles=quantiles, X=X) for f in self.forecasters_.values()]
        if self.is_series_:
            return parts[0]
        return pd.concat(parts, axis=1, keys=self.columns_)

    def update(self, y_new, X_new=None):
        """Append new observations of every series (see :meth:`BaseForecaster.update`)."""
        check_is_fitted(self, "forecasters_")
        values, _ = check_series(y_new, "y_new")
        frame = y_new.to_frame() if isinstance(y_new, pd.Series) else y_new
        if self.is_series_:
            frame.columns = self.columns_
        if values.shape[1] != self.n_series_ or set(frame.columns) != set(self.columns_):
            raise ValueError(
                f"y_new must have the columns the forecaster was fit on, {list(self.columns_)}; "
                f"got {list(frame.columns)}."
            )
        for column, f in self.forecasters_.items():
            f.update(frame[column], X_new=X_new)
        return self

    # -- persisted state (see tsrnn._state) ----------------------------------------------------

    _FITTED_STATE = ("is_series_", "columns_", "name_", "forecasters_", "n_series_")

    def _get_state(self) -> dict:
        return estimator_state(self, self._FITTED_STATE)

    def _set_state(self, state: dict) -> None:
        fitted = restore_estimator_state(self, state, self._FITTED_STATE)
        if not isinstance(self.forecaster, BaseForecaster):
            fail("PerSeriesForecaster.forecaster", "is not a tsrnn forecaster")
        if not fitted:
            return
        columns, many = self.columns_, self.forecasters_
        if not (isinstance(columns, pd.Index) and isinstance(many, dict) and list(many) == list(columns)):
            fail("PerSeriesForecaster.forecasters_", "does not hold one forecaster per column")
        if check_int(self.n_series_, "PerSeriesForecaster.n_series_", 1) != len(columns):
            fail("PerSeriesForecaster.n_series_", "does not match columns_")
        if not isinstance(self.is_series_, bool) or (self.is_series_ and len(columns) != 1):
            fail("PerSeriesForecaster.is_series_", "does not match columns_")
        for column, f in many.items():
            if type(f) is not type(self.forecaster) or getattr(f, "n_series_", None) != 1:
                fail(f"PerSeriesForecaster[{column!r}]", "is not a fitted one-series clone of forecaster")


register(PerSeriesForecaster)


def fit_many(forecaster, y, X=None, *, n_jobs: int | None = None) -> PerSeriesForecaster:
    """Fit one clone of ``forecaster`` per column of ``y``, in parallel; return them all.

    Shorthand for ``PerSeriesForecaster(forecaster, n_jobs=n_jobs).fit(y, X)``.

    Parameters
    ----------
    forecaster : forecaster
        Cloned once per column (never modified), e.g. ``Forecaster(GRURegressor(...))``,
        ``ARIMAForecaster()``.
    y : pandas DataFrame (or Series)
        One column per series, indexed by time.
    X : DataFrame, optional
        Exogenous regressors shared by every series.
    n_jobs : int or None, default=None
        Parallel jobs (joblib). Inside ``with joblib.parallel_backend("dask"):`` the fits run on
        the Dask cluster; results are identical to ``n_jobs=1``.

    Returns
    -------
    PerSeriesForecaster
        Fitted: ``result[column]`` is that series' forecaster, ``result.predict(horizon)``
        forecasts every series (a DataFrame with the columns of ``y``). To evaluate it, pass
        the unfitted ``PerSeriesForecaster(forecaster)`` to :func:`tsrnn.backtest`.
    """
    return PerSeriesForecaster(forecaster, n_jobs=n_jobs).fit(y, X)
