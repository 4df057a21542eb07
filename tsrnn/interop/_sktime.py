"""SktimeForecaster: tsrnn's Forecaster behind sktime's forecasting interface."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon

from .._time_index import regular_offset
from ..forecasting import Forecaster

__all__ = ["SktimeForecaster"]


class SktimeForecaster(BaseForecaster):
    """A :class:`tsrnn.Forecaster` as an sktime forecaster.

    ``fit(y, X=None, fh=None)``, ``predict(fh, X=None)``, ``predict_interval(fh, X,
    coverage)``, ``predict_quantiles(fh, X, alpha)`` and ``update`` follow sktime; underneath,
    the wrapped forecaster is fitted on ``y`` (and ``X``) and forecasts up to the furthest step
    of ``fh``, from which the asked steps are taken.

    Parameters
    ----------
    forecaster : tsrnn.Forecaster, default=None
        Cloned at fit; None means ``Forecaster(GRURegressor(), window=12)``. Its
        ``predict_interval`` and ``predict_quantiles`` give sktime's (for a point regressor
        the split-conformal intervals, symmetric around the point forecast, and their ends
        as quantiles).

    Attributes
    ----------
    forecaster_ : tsrnn.Forecaster
        The fitted clone.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from tsrnn import Forecaster, GRURegressor
    >>> from tsrnn.interop import SktimeForecaster
    >>> y = load_airline()
    >>> f = SktimeForecaster(Forecaster(GRURegressor(max_iter=5, random_state=0), window=12, diff=1))
    >>> f.fit(y, fh=[1, 2, 3]).predict().shape
    (3,)
    """

    _tags: ClassVar[dict] = {
        "authors": ["tsrnn developers"],
        "python_dependencies": ["tsrnn"],
        "scitype:y": "univariate",
        "y_inner_mtype": "pd.Series",
        "X_inner_mtype": "pd.DataFrame",
        "capability:exogenous": True,
        "requires-fh-in-fit": False,
        "capability:missing_values": False,
        "capability:insample": False,
        "capability:pred_int": True,
        "capability:pred_int:insample": False,
        "enforce_index_type": None,
        "fit_is_empty": False,
    }
    # update(update_params=True) refits on all the data seen, which sktime keeps only when asked
    _config: ClassVar[dict] = {"remember_data": True}

    def __init__(self, forecaster=None):
        self.forecaster = forecaster
        with warnings.catch_warnings():
            # sktime announces that remember_data's default becomes False, on every construction
            # of a forecaster that remembers data, even one that sets it explicitly, as this does
            warnings.filterwarnings("ignore", "The default of config ``remember_data``", FutureWarning)
            super().__init__()

    # -- sktime hooks ------------------------------------------------------------------------

    def _fit(self, y, X=None, fh=None):
        if self.forecaster is None:
            from ..estimators import GRURegressor

            base = Forecaster(GRURegressor(), window=12)
        elif isinstance(self.forecaster, Forecaster):
            base = self.forecaster
        else:
            raise TypeError(
                f"forecaster must be a tsrnn.Forecaster, got {type(self.forecaster).__name__}; wrap a "
                "regressor as SktimeForecaster(tsrnn.Forecaster(regressor, window=...))."
            )
        self.forecaster_ = clone(base).fit(self._plain(y), self._plain_x(X))
        return self

    def _steps(self, fh) -> np.ndarray:
        steps = np.asarray(fh.to_relative(self.cutoff), dtype=np.int64)
        if steps.min() < 1:
            raise NotImplementedError(
                "SktimeForecaster forecasts out of sample only: fh must be after the cutoff "
                f"(relative steps >= 1), got {list(steps)}."
            )
        return steps

    def _future_x(self, X, horizon: int):
        """``X`` at every step up to ``horizon``; a missing step repeats the last known row.

        A recursive forecast needs the covariates of every step up to the furthest one, but
        sktime may pass ``X`` only at the times in ``fh``.
        """
        if X is None or getattr(self.forecaster_, "exog_columns_", None) is None:
            return None
        future = ForecastingHorizon(np.arange(1, horizon + 1), is_relative=True).to_absolute_index(
            self.cutoff
        )
        X = self._plain_x(X)
        full = X.reindex(future)
        missing = full.isna().any(axis=1)
        if missing.any():
            warnings.warn(
                f"X has no values for {int(missing.sum())} of the {horizon} steps up to the furthest "
                f"step of fh (the first {future[np.argmax(missing.to_numpy())]!r}); the recursive "
                "forecast repeats the last known row there. Pass X for every step after the cutoff "
                "to avoid it.",
                UserWarning,
                stacklevel=3,
            )
            # steps before the first given row take the last training row
            full = full.ffill().fillna(self._plain_x(self._X).iloc[-1])
        return full

    def _predict(self, fh, X=None):
        steps = self._steps(fh)
        horizon = int(steps.max())
        point = self.forecaster_.predict(horizon, X=self._future_x(X, horizon))
        values = np.asarray(point, dtype=np.float64)[steps - 1]
        return pd.Series(values, index=fh.to_absolute_index(self.cutoff), name=self._y.name)

    def _predict_interval(self, fh, X, coverage):
        steps = self._steps(fh)
        horizon = int(steps.max())
        index = fh.to_absolute_index(self.cutoff)
        name = self._y.name if self._y.name is not None else 0
        columns = pd.MultiIndex.from_product([[name], coverage, ["lower", "upper"]])
        out = pd.DataFrame(index=index, columns=columns, dtype=np.float64)
        x_future = self._future_x(X, horizon)
        for c in coverage:
            frame = self.forecaster_.predict_interval(horizon, coverage=float(c), X=x_future)
            out[(name, c, "lower")] = frame["lower"].to_numpy()[steps - 1]
            out[(name, c, "upper")] = frame["upper"].to_numpy()[steps - 1]
        return out

    def _predict_quantiles(self, fh, X, alpha):
        steps = self._steps(fh)
        horizon = int(steps.max())
        levels = sorted({float(a) for a in alpha})
        frame = self.forecaster_.predict_quantiles(horizon, quantiles=levels, X=self._future_x(X, horizon))
        name = self._y.name if self._y.name is not None else 0
        out = pd.DataFrame(
            index=fh.to_absolute_index(self.cutoff),
            columns=pd.MultiIndex.from_product([[name], alpha]),
            dtype=np.float64,
        )
        for a in alpha:
            out[(name, a)] = frame[float(a)].to_numpy()[steps - 1]
        return out

    def _update(self, y, X=None, update_params=True):
        if update_params:
            self.forecaster_ = clone(self.forecaster_).fit(self._plain(self._y), self._plain_x(self._X))
        else:
            new = self._plain(y)
            seen = self.forecaster_.target_info_.index
            keep = ~new.index.isin(seen)
            if keep.any():
                x_new = self._plain_x(X)
                self.forecaster_.update(new[keep], None if x_new is None else x_new.loc[new.index[keep]])
        return self

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _plain(y: pd.Series) -> pd.Series:
        """``y`` with a plain index: tsrnn reads frequencies from the index itself."""
        y = y.astype(np.float64)
        if isinstance(y.index, pd.DatetimeIndex) and y.index.freq is None:
            freq = regular_offset(y.index)
            if freq is not None:
                y = y.copy()
                y.index = pd.DatetimeIndex(y.index, freq=freq)
        return y

    @staticmethod
    def _plain_x(X):
        if X is None:
            return None
        return X.astype(np.float64)

    @classmethod
    def get_test_params(cls, parameter_set: str = "default"):
        """Small, fast configurations for sktime's estimator checks."""
        from ..estimators import GRURegressor

        # tiny networks: the checks fit hundreds of them
        reg = GRURegressor(hidden_size=2, max_iter=2, early_stopping=False, random_state=0)
        return [
            {"forecaster": Forecaster(reg, window=2, calibration_size=6)},
            {"forecaster": Forecaster(reg, window=3, calibration_size=6, diff=1, standardize=False)},
        ]
