"""RecurrentForecaster: the forecasting recipe of the recurrent models that ``compare`` runs.

The recipe follows Hewamalage, Bergmeir & Bandara (2021, International Journal of Forecasting,
"Recurrent neural networks for time series forecasting: current status and future
directions"): variance stabilisation (log), STL deseasonalising, a window normalised by its
level, a linear autoregression on that window whose residuals the network models (Zhang
2003's hybrid), one multi-output (direct) model for the whole horizon (a recursive one-step model for
series without a season), an input window of about ``1.25 * max(season, horizon)`` (twice the
horizon without a season) and the median of several seeds. Which pieces are on by default was
decided on the tuning half of ``benchmarks/accuracy.py`` (benchmarks/ACCURACY.md).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from .._state import check_int, estimator_state, fail, register, restore_estimator_state
from .._validation import check_positive_int
from ._base import BaseForecaster, check_target_state, to_pandas
from ._forecaster import Forecaster, conformal_quantile

__all__ = ["RecurrentForecaster", "input_window", "recipe_estimator"]


def input_window(horizon: int, seasonal_period: int | None = None, factor: float | None = None) -> int:
    """The input window rule: ``ceil(factor * max(season, horizon))`` steps (at least 2).

    Hewamalage, Bergmeir & Bandara (2021) found about 1.25 times the larger of the seasonal
    period and the horizon a good window for recurrent forecasters; that is the factor with a
    season. Without one (``seasonal_period`` None or 1) the factor is 2: on the yearly series of
    the benchmark's tuning half, twice the horizon was better than 1.25 times for every cell,
    and 2.7 times was not (benchmarks/ACCURACY.md). ``factor`` overrides both.

    >>> input_window(12, 12), input_window(6), input_window(8, 4), input_window(6, factor=1.25)
    (15, 12, 10, 8)
    """
    if factor is None:
        factor = 1.25 if seasonal_period is not None and int(seasonal_period) > 1 else 2.0
    return max(2, math.ceil(factor * max(int(seasonal_period or 1), int(horizon)) - 1e-9))


def recipe_estimator(cell: str = "lstm"):
    """The network of the recipe: ``RecurrentRegressor(cell, hidden_size=8, n_iter_no_change=10,
    early_stopping=True)``.

    Validation-based early stopping on the last 10 % of the windows paid on the tuning half
    even on short series (a fixed number of epochs did worse); 8 hidden units and a patience of
    10 epochs were better than 32 and 20 for every cell there (benchmarks/ACCURACY.md).
    ``tsrnn compare`` runs three of these networks (``n_models=3``) for ``rnn``, ``lstm`` and ``gru``.
    """
    from ..estimators import RecurrentRegressor

    return RecurrentRegressor(cell=cell, hidden_size=8, n_iter_no_change=10, early_stopping=True)


class RecurrentForecaster(BaseForecaster):
    """A recurrent network forecaster with the published forecasting recipe built in.

    ``fit(y)`` fits ``n_models`` :class:`Forecaster` s per estimator, each a clone of it with its
    own seed, on the transformed, windowed series; ``predict`` returns the median of their
    forecasts.

    Parameters
    ----------
    estimator : regressor or list of regressors, optional
        The network, cloned for every model (its ``random_state`` is set per model). A list
        (e.g. one ``RecurrentRegressor`` per cell) makes an ensemble: ``n_models`` clones of
        each, and the forecast is the median over all of them.
        ``None``: :func:`recipe_estimator` ``("lstm")``. Its parameters are reachable as
        ``estimator__<name>``.
    horizon : int, optional
        Steps the direct model forecasts at once (``predict(h)`` works for ``h <= horizon``).
        ``None``: one season when ``seasonal_period`` is set, else 10.
    seasonal_period : int, optional
        The season (12 for monthly data, ...): deseasonalised by STL when ``deseasonalize``,
        and part of the window rule.
    window : int, optional
        Input window; ``None``: :func:`input_window` ``(horizon, seasonal_period)``, capped so
        that the training data holds at least ``horizon + 1`` windows.
    n_models : int, default=3
        Networks with different seeds per estimator; the forecast is their median. Each costs
        one more fit. On the tuning half of the benchmark the median of 3 was better than one
        network for every cell (benchmarks/ACCURACY.md, seventh round); ``n_models=1`` fits a
        third of the networks.
    log : bool or "auto", default="auto"
        Model the log of the series. ``"auto"``: when it is positive and has no
        ``seasonal_period``; on the tuning half the log was better for every cell on the
        yearly series and worse for every cell on the quarterly and monthly ones
        (benchmarks/ACCURACY.md). The choice is in ``log_``.
    deseasonalize : bool or "auto", default="auto"
        Remove the STL seasonal component (with a ``seasonal_period``). ``"auto"``: only when
        the (log) training series is seasonal by the rule ``auto.arima`` uses for seasonal
        differencing, an STL seasonal strength above 0.64 (the choice is in
        ``deseasonalized_``).
    normalize : {"none", "last", "mean", "drift"}, default="last"
        Normalise each window by its level (see :class:`Forecaster`).
    linear : {"auto", True, "aicc", False}, default="auto"
        A least-squares linear autoregression on the normalised window, with the network
        trained on its residuals (see :class:`Forecaster`): on every window step (``True``) or
        on the last ``p`` steps with ``p`` chosen by AICc (``"aicc"``). ``"auto"``: ``"aicc"``
        without a ``seasonal_period``, ``True`` with one (the choice is in ``linear_``). On the
        tuning half of the benchmark the linear part was better for every cell on the yearly
        series and on the seasonal ones, and the AICc order better than the whole window for
        every cell on the yearly series and worse on the seasonal ones
        (benchmarks/ACCURACY.md).
    diff : int or "auto", default=0
        Differencing before windowing (see :class:`Forecaster`).
    strategy : {"auto", "direct", "recursive"}, default="auto"
        Multi-output (one model for the horizon) or recursive one-step forecasts. ``"auto"``:
        recursive without a ``seasonal_period``, direct with one (the choice is in
        ``strategy_``); on the tuning half of the benchmark the recursive model was better on
        every cell for the yearly series and worse on the quarterly ones
        (benchmarks/ACCURACY.md).
    calibration_size : float or int, default=0.2
        Calibration stretch of the conformal intervals (see :class:`Forecaster`).
    max_windows : int, optional
        At most this many training windows per network (see :class:`Forecaster`).
    refit : bool, default=False
        When a network stopped early, refit it without early stopping on every window (the
        held-out tail included) for the number of epochs of its lowest validation loss. Costs
        one more fit per network.
    random_state : int, default=0
        Model ``i`` of ``k = n_models * len(estimators)`` is seeded ``random_state * k + i``
        (distinct seeds for distinct ``random_state`` s).

    Notes
    -----
    Prediction intervals are the ensemble's forecast plus or minus the split-conformal radius
    of the first model's calibration backtest (one calibration fit, not ``n_models``). The
    median of several models is usually closer than one of them, so the intervals err on the
    wide side.
    """

    def __init__(
        self,
        estimator=None,
        *,
        horizon: int | None = None,
        seasonal_period: int | None = None,
        window: int | None = None,
        n_models: int = 3,
        log: bool | str = "auto",
        deseasonalize: bool | str = "auto",
        normalize: str = "last",
        linear: bool | str = "auto",
        diff: int | str = 0,
        strategy: str = "auto",
        calibration_size: float | int = 0.2,
        max_windows: int | None = None,
        refit: bool = False,
        random_state: int = 0,
    ):
        self.estimator = estimator
        self.horizon = horizon
        self.seasonal_period = seasonal_period
        self.window = window
        self.n_models = n_models
        self.log = log
        self.deseasonalize = deseasonalize
        self.normalize = normalize
        self.linear = linear
        self.diff = diff
        self.strategy = strategy
        self.calibration_size = calibration_size
        self.max_windows = max_windows
        self.refit = refit
        self.random_state = random_state

    def _horizon(self) -> int:
        if self.horizon is not None:
            return check_positive_int(self.horizon, "horizon")
        m = self.seasonal_period
        return int(m) if m and m > 1 else 10

    def _use_stl(self, values: np.ndarray, season: int | None) -> bool:
        if season is None or self.deseasonalize is False:
            return False
        if self.deseasonalize is True:
            return True
        if self.deseasonalize != "auto":
            raise ValueError(f"deseasonalize must be True, False or 'auto', got {self.deseasonalize!r}.")
        from .._stattests import select_seasonal_differencing

        z = np.log(values) if self._use_log(values, season) else values
        return any(select_seasonal_differencing(z[:, j], season) > 0 for j in range(z.shape[1]))

    def _use_log(self, values: np.ndarray, season: int | None) -> bool:
        if self.log == "auto":
            return season is None and bool(np.all(values > 0))
        if not isinstance(self.log, (bool, np.bool_)):
            raise ValueError(f"log must be True, False or 'auto', got {self.log!r}.")
        return bool(self.log)

    def _linear(self, season: int | None) -> bool | str:
        if self.linear == "auto":
            return "aicc" if season is None else True
        if self.linear not in (True, False, "aicc"):
            raise ValueError(f"linear must be True, False, 'aicc' or 'auto', got {self.linear!r}.")
        return self.linear

    def _strategy(self, season: int | None) -> str:
        if self.strategy == "auto":
            return "recursive" if season is None else "direct"
        if self.strategy not in ("direct", "recursive"):
            raise ValueError(f"strategy must be 'direct', 'recursive' or 'auto', got {self.strategy!r}.")
        return self.strategy

    def _members(self, values: np.ndarray) -> list[Forecaster]:
        n = len(values)
        check_positive_int(self.n_models, "n_models")
        if not isinstance(self.random_state, (int, np.integer)) or isinstance(self.random_state, bool):
            raise TypeError(f"random_state must be an integer, got {self.random_state!r}.")
        h = self._horizon()
        m = self.seasonal_period
        if m is not None:
            check_positive_int(m, "seasonal_period")
        season = int(m) if m and m > 1 else None
        if self.window is not None:
            window = check_positive_int(self.window, "window")
        else:
            # the rule, shortened when the series is too short for it: the data before the
            # calibration stretch (about 80 %) must still hold a window, a horizon and one more
            window = max(1, min(input_window(h, season), int(0.8 * n) - h - 1))
        self.log_ = self._use_log(values, season)
        self.deseasonalized_ = self._use_stl(values, season)
        self.strategy_ = self._strategy(season)
        self.linear_ = self._linear(season)
        out = []
        templates = self.estimator
        if templates is None:
            templates = recipe_estimator("lstm")
        if not isinstance(templates, (list, tuple)):
            templates = [templates]
        if len(templates) == 0:
            raise ValueError("estimator is an empty list; pass a regressor or a list of regressors.")
        for i in range(self.n_models * len(templates)):
            est = clone(templates[i % len(templates)])
            out.append(
                Forecaster(
                    est,
                    window=window,
                    strategy=self.strategy_,
                    horizon=h if self.strategy_ == "direct" else None,
                    diff=self.diff,
                    log=self.log_,
                    stl_period=season if self.deseasonalized_ else None,
                    normalize=self.normalize,
                    linear=self.linear_,
                    calibration_size=self.calibration_size,
                    max_windows=self.max_windows,
                    random_state=int(self.random_state) * self.n_models * len(templates) + i,
                )
            )
        return out

    def _fit(self, values: np.ndarray, X: np.ndarray | None) -> None:
        y = to_pandas(values, self.target_info_.index, self.target_info_)
        members = self._members(values)
        if not isinstance(self.refit, (bool, np.bool_)):
            raise TypeError(f"refit must be True or False, got {self.refit!r}.")
        for i, f in enumerate(members):
            f.fit(y)
            curve = getattr(f.estimator_, "validation_loss_curve_", None)
            if self.refit and curve:
                # the epoch of the lowest loss on the held-out tail, then every window trained on
                best = int(np.argmin(curve)) + 1
                f = clone(f).set_params(estimator__early_stopping=False, estimator__max_iter=best)
                members[i] = f
                with warnings.catch_warnings():  # stopping at that epoch is the intent
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    f.fit(y)
        self.forecasters_ = members
        self.window_ = members[0].window
        self.horizon_ = self._horizon() if self.strategy_ == "direct" else None

    def _predict(self, horizon: int, X: np.ndarray | None) -> np.ndarray:
        preds = [f._predict(horizon, None) for f in self.forecasters_]
        return np.median(np.stack(preds), axis=0)

    def _predict_interval(self, horizon: int, coverage: float, X: np.ndarray | None):
        point = self._predict(horizon, None)
        residuals = self.forecasters_[0]._calibration_residuals(horizon)[:, :horizon]
        radius = conformal_quantile(residuals, coverage, stacklevel=4)
        return point - radius, point + radius

    def _update(self, values: np.ndarray, X: np.ndarray | None) -> None:
        for f in self.forecasters_:
            f._update(values, None)

    # -- persisted state (see tsrnn._state) ----------------------------------------------------

    _FITTED_STATE = (
        "target_info_",
        "n_series_",
        "exog_columns_",
        "forecasters_",
        "window_",
        "horizon_",
        "log_",
        "deseasonalized_",
        "strategy_",
        "linear_",
    )

    def _get_state(self) -> dict:
        return estimator_state(self, self._FITTED_STATE)

    def _set_state(self, state: dict) -> None:
        from ..estimators import BaseRecurrent

        fitted = restore_estimator_state(self, state, self._FITTED_STATE)
        templates = self.estimator if isinstance(self.estimator, list) else [self.estimator]
        if not all(t is None or isinstance(t, BaseRecurrent) for t in templates):
            fail("RecurrentForecaster.estimator", "is not a tsrnn recurrent estimator (or a list of them)")
        if not fitted:
            return
        m = check_target_state(self, "RecurrentForecaster")
        members = self.forecasters_
        expected = check_int(self.n_models, "RecurrentForecaster.n_models", 1) * len(templates)
        if not isinstance(members, list) or len(members) != expected:
            fail("RecurrentForecaster.forecasters_", f"must be a list of {expected} fitted Forecasters")
        if self.strategy_ not in ("direct", "recursive"):
            fail("RecurrentForecaster.strategy_", "is not 'direct' or 'recursive'")
        if not isinstance(self.log_, bool) or not isinstance(self.deseasonalized_, bool):
            fail("RecurrentForecaster", "log_ and deseasonalized_ must be booleans")
        if self.linear_ not in (True, False, "aicc"):
            fail("RecurrentForecaster.linear_", "is not True, False or 'aicc'")
        window = check_int(self.window_, "RecurrentForecaster.window_", 1)
        for i, f in enumerate(members):
            where = f"RecurrentForecaster.forecasters_[{i}]"
            if type(f) is not Forecaster or not hasattr(f, "_model"):
                fail(where, "is not a fitted Forecaster")
            if (f.window, f.strategy, f.linear, f.n_series_) != (window, self.strategy_, self.linear_, m):
                fail(where, "does not match window_, strategy_, linear_ and n_series_")
            if len(f.history_) != len(self.target_info_.index):
                fail(where, "has a history of another length than target_info_")
        if self.horizon_ != (members[0].horizon_ if self.strategy_ == "direct" else None):
            fail("RecurrentForecaster.horizon_", "does not match the members")


register(RecurrentForecaster)
