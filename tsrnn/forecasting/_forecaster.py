"""Forecaster: any scikit-learn regressor (default: tsrnn's LSTM) on sliding windows of a series."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from numbers import Integral
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._scaling import moments
from .._state import (
    check_array,
    check_int,
    check_keys,
    check_vector,
    estimator_state,
    fail,
    register,
    restore_estimator_state,
)
from .._stattests import select_differencing
from .._validation import check_positive_int
from ..estimators import RecurrentRegressor
from ..nn import check_quantile_levels
from ._base import BaseForecaster, TargetInfo, check_horizon
from ._panel import (
    CALENDAR_ENCODINGS,
    CALENDAR_FEATURES,
    SCOPES,
    by_model,
    calibration_forecasts,
    check_panel_state,
    fit_panel,
    is_panel,
    long_frame,
    panel_series,
    predict_panel,
)
from ._transforms import TargetTransform
from ._windows import (
    MULTI_SERIES,
    assemble,
    design,
    exog_leads,
    n_step_features,
    stack_targets,
    unstack_outputs,
)

__all__ = ["INTERVAL_METHODS", "Forecaster", "conformal_quantile"]

STRATEGIES = ("recursive", "direct")
NORMALIZE = ("none", "last", "mean", "drift")
INTERVAL_METHODS = ("conformal", "model", "cqr")
#: sample paths drawn by the distribution methods unless told otherwise
DEFAULT_PATHS = 1000

# diff="auto": difference while KPSS rejects level-stationarity at this level (see Forecaster).
AUTO_DIFF_ALPHA = 0.01


def conformal_quantile(residuals: np.ndarray, coverage: float, *, stacklevel: int = 2) -> np.ndarray:
    """Split-conformal radius from absolute calibration residuals ``(n, ...)``, along axis 0.

    Returns the ``ceil((n + 1) * coverage)``-th smallest residual: with ``n`` exchangeable
    calibration residuals, a new residual falls at or below it with probability at least
    ``coverage``. When ``ceil((n + 1) * coverage) > n`` no finite radius has that guarantee:
    the result is ``inf`` (with a warning).
    """
    n = residuals.shape[0]
    # the small tolerance keeps (n + 1) * coverage = 18.000000000000004 from rounding up to 19
    rank = math.ceil((n + 1) * coverage - 1e-9)
    if rank > n:
        warnings.warn(
            f"{n} calibration residuals are too few for coverage={coverage} (needs at least "
            f"{math.ceil(coverage / (1 - coverage) - 1e-9)}): the interval is infinite. Use a larger "
            "calibration_size, a shorter horizon or a lower coverage.",
            UserWarning,
            stacklevel=stacklevel,
        )
        return np.full(residuals.shape[1:], np.inf)
    return np.sort(residuals, axis=0)[rank - 1]


def fit_linear_part(rows: np.ndarray, targets: np.ndarray, n_features: int, steps: int | None) -> np.ndarray:
    """Least squares of ``targets`` ``(N, outputs)`` on the last ``steps`` window steps of
    ``rows`` (``n_features`` columns per step, step-major) and an intercept; ``steps=None``
    chooses them, 0 to the whole window, by the AICc of the fit (all outputs pooled).

    Returns the coefficients ``(steps * n_features + 1, outputs)``, intercept last.
    """
    n, width = rows.shape

    def fit(p: int) -> np.ndarray:
        design_matrix = np.column_stack([rows[:, width - p * n_features :], np.ones(n)])
        return np.linalg.lstsq(design_matrix, targets, rcond=None)[0]

    if steps is not None:
        return fit(steps)
    best, best_aicc, m = None, np.inf, targets.size
    for p in range(width // n_features + 1):
        coef = fit(p)
        n_params = coef.size + 1  # and the (pooled) noise variance, as auto.arima counts it
        if m - n_params - 1 <= 0:  # AICc undefined: no more parameters than the data carry
            break
        rss = float(np.sum((targets - linear_prediction(coef, rows)) ** 2))
        aicc = m * np.log(max(rss, np.finfo(float).tiny) / m) + 2 * n_params
        aicc += 2 * n_params * (n_params + 1) / (m - n_params - 1)
        if aicc < best_aicc:
            best, best_aicc = coef, aicc
    return fit(0) if best is None else best  # too few windows for any AICc: the intercept


def linear_prediction(coef: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The linear part ``coef`` (from :func:`fit_linear_part`) applied to input rows ``(N, n_inputs)``."""
    k = coef.shape[0] - 1
    return rows[:, rows.shape[1] - k :] @ coef[:-1] + coef[-1]


@dataclass
class _Model:
    """One fitted pipeline: target transform, exogenous scaling and the fitted regressor."""

    transform: TargetTransform
    x_mean: np.ndarray | None
    x_scale: np.ndarray | None
    estimator: object
    horizon: int  # steps the regressor predicts at once: 1 (recursive) or the direct horizon
    #: the least-squares linear part (``linear``): ``(k + 1, n_outputs)``, intercept last, for
    #: the last ``k`` input columns (the last window steps: every step, or the AICc choice)
    linear: np.ndarray | None = None

    def linear_part(self, rows: np.ndarray) -> np.ndarray | None:
        """The linear part's prediction for input rows ``(N, n_inputs)``: ``(N, n_outputs)``."""
        return None if self.linear is None else linear_prediction(self.linear, rows)

    # -- persisted state (see tsrnn._state); the Forecaster checks the sizes against its data --

    def _get_state(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _set_state(self, state: dict) -> None:
        from ..estimators import BaseRecurrent

        check_keys("_Model", state, [f.name for f in fields(self) if f.name != "linear"], ["linear"])
        if not isinstance(state["transform"], TargetTransform):
            fail("_Model.transform", "is not a fitted TargetTransform")
        if (state["x_mean"] is None) != (state["x_scale"] is None):
            fail("_Model", "x_mean and x_scale must both be set or both be None")
        est = state["estimator"]
        if not (isinstance(est, BaseRecurrent) and hasattr(est, "params_")):
            fail("_Model.estimator", "is not a fitted tsrnn recurrent estimator")
        check_int(state["horizon"], "_Model.horizon", 1)
        if state.get("linear") is not None:
            check_array(state["linear"], "_Model.linear", (None, None))
        self.__dict__.update({"linear": None, **state})


register(_Model)


class Forecaster(BaseForecaster):
    """Forecast a pandas series with any scikit-learn regressor trained on sliding windows.

    ``fit(y)`` cuts the (transformed) series into windows of ``window`` past values (see
    :func:`tsrnn.make_windows` for the exact layout) and fits the regressor to predict what
    follows; ``predict(horizon)`` returns the next ``horizon`` values as a Series/DataFrame on
    the future timestamps.

    Parameters
    ----------
    estimator : scikit-learn regressor, default=None
        Any object with ``fit(X, y)``/``predict(X)``; it is cloned, never modified. ``None``
        means ``tsrnn.estimators.RecurrentRegressor(cell="lstm")``. When the regressor has an
        ``input_size`` parameter (tsrnn's recurrent models), the clone gets
        ``input_size = n_features`` per step, so it reads the flattened windows as
        ``(n, window, n_features)`` sequences. Its parameters are reachable as
        ``estimator__<name>`` in ``get_params``/``set_params``/grid searches.
    window : int, default=12
        Number of past steps the regressor sees.
    strategy : {"recursive", "direct"}, default="recursive"
        ``"recursive"``: one one-step-ahead model; a ``horizon``-step forecast feeds each
        prediction back into the window (any horizon at predict time; errors compound).
        ``"direct"``: ONE multi-output model predicting all ``horizon`` steps from the same
        window (y of shape ``(n, horizon)``; no feedback). ``horizon`` is then fixed at fit
        time: ``predict(h)`` works for ``h <= horizon`` and raises for more. A regressor that
        cannot fit 2-D targets gets a clear error; wrap it in
        :class:`sklearn.multioutput.MultiOutputRegressor` to fit one model per step.
    horizon : int, optional
        Forecast horizon of the direct strategy (required there; ignored by ``"recursive"``).
    standardize : bool, default=True
        Standardise each series (after differencing) with its training mean and standard
        deviation, and each exogenous column likewise. Neural nets need it.
    diff : int or "auto", default=0
        Order ``d`` of ordinary differencing (``d=1`` removes a linear trend; the regressor
        then predicts changes, and forecasts are integrated back from the last observations).
        ``"auto"`` chooses ``d`` (0, 1 or 2) at fit time by repeated KPSS tests, differencing
        while level-stationarity is rejected at the 1 % level (every series of a DataFrame is
        tested; the largest ``d`` is used). The level is stricter than ``auto.arima``'s 5 %
        because a network models a stationary nonlinear cycle well and over-differencing hurts
        it: on yearly sunspots (KPSS p = 0.02) ``"auto"`` keeps ``d = 0``, on monthly CO2 (a
        trend) it picks ``d = 1``. The choice is in ``diff_``.
    seasonal_period : int, optional
        Take one seasonal difference ``y[t] - y[t - s]`` at this lag (e.g. 12 for monthly
        data), before the ordinary differences.
    log : bool or "auto", default=False
        Model ``log(y)`` (multiplicative effects; positive data only, else a ``ValueError``
        saying how to shift the data). ``"auto"``: log when every training value is positive
        (the choice is in ``log_``).
    stl_period : int, optional
        Deseasonalise first: subtract the seasonal component of a robust STL decomposition
        (statsmodels' ``STL``) with this period from the (log) series, and add the component of
        the same season, one period back, to the forecasts. Needs two periods of data (with
        less the series is left as it is).
    normalize : {"none", "last", "mean", "drift"}, default="none"
        Local normalisation of every window (after the transforms above): subtract the
        window's level, its last value or its mean, from its inputs and its targets, and add it
        back to the forecast. The network then learns the shape of the next values relative to
        the current level, which lets one model serve every level a trending series reaches.
        ``"drift"`` subtracts the line through the window's first and last values instead,
        continued over the targets: the network learns the deviation from the window's own
        trend (an untrained network forecasts the random walk with drift).
    linear : {False, True, "aicc"}, default=False
        Fit an ordinary least-squares linear model of the targets on the same (transformed,
        normalised) window first, and train the regressor on what it leaves: the forecast is
        the sum of the two. ``True``: on every window step; ``"aicc"``: on the last ``p``
        steps, ``p`` from 0 (an intercept) to ``window`` chosen by the AICc of the
        least-squares fit (an autoregression's order, chosen as ``auto.arima`` chooses one).
        The hybrid of a linear autoregression and a network that models its residuals (Zhang
        2003, "Time series forecasting using a hybrid ARIMA and neural network model",
        Neurocomputing 50; the autoregressive component of LSTNet, Lai et al. 2018). On short
        smooth series the linear part carries the curvature of a trend that a small network
        trained on a few dozen windows does not learn. Single series only.
    multi_series : {"global", "joint"}, default="global"
        For a DataFrame ``y``: ``"global"`` fits ONE model shared by all columns (each column
        windowed separately, standardised with its own statistics; samples stacked);
        ``"joint"`` fits one model whose steps see all columns and that predicts all of them
        (several related targets). Either way the forecast is a DataFrame with the same columns.
    series_id : bool, default=False
        With ``"global"``: add a one-hot column indicator to every window step.
    calibration_size : float or int, default=0.2
        Length of the calibration stretch used by :meth:`predict_interval`: a fraction of the
        training length, or a number of time steps.
    freq : str or pandas offset, optional
        Frequency of a ``DatetimeIndex`` that has none and from which none can be inferred.
    random_state : int, optional
        If set, it replaces the regressor's own ``random_state`` (when it has one): the
        fitted ``estimator_`` is seeded with it whatever the template says. ``None`` keeps the
        regressor's.
    max_windows : int, optional
        Train on at most this many windows: on a long series, that many evenly spaced over
        the history, the most recent always among them (bounded training cost; the windows of
        a long series overlap heavily). ``None``: every window.
    scope : {"global", "local"}, default="global"
        For a panel ``y`` (see :meth:`fit` and docs/panels.md): ``"global"`` fits one model on
        the windows of every series (each scaled by its own training statistics, samples in
        time order across series, shuffled mini-batches drawn across series); ``"local"`` one
        model per series, fitted through joblib (a ``joblib.parallel_backend("dask")`` context
        sends them to a cluster).
    id_col, time_col, target_col : str, default="unique_id", "ds", "y"
        Column names of a long-format panel (and of its covariate frames and forecasts).
    calendar : tuple of str, optional
        Calendar features of a panel's timestamps used as future covariates: any of
        ``"month", "quarter", "dayofweek", "day", "dayofyear", "weekofyear", "hour",
        "minute"``.
    calendar_encoding : {"cyclic", "onehot"}, default="cyclic"
        ``sin``/``cos`` of the position in the period, or one column per value.
    max_window_bytes : int, default=2**28
        A global model whose training windows would take more memory than this trains by
        streaming: each epoch (``max_iter`` of the regressor) visits every window once, in
        shuffled chunks gathered on the fly, with ``partial_fit`` (no early stopping).

    Attributes
    ----------
    estimator_ : regressor
        The fitted clone of ``estimator``.
    transform_ : TargetTransform
        The fitted target transform.
    n_step_features_ : int
        Features per window step (the ``input_size`` given to recurrent regressors).
    diff_ : int or dict
        The order of differencing used (``diff``, or the one ``diff="auto"`` chose; on a
        panel the largest over the series, or with ``scope="local"`` a dict id -> order).
    horizon_ : int or None
        The fixed horizon of the direct strategy (``None`` for recursive).
    history_ : ndarray of shape (n_timesteps, n_series)
        Observations the next forecast starts after (training data plus :meth:`update`\\ s).
    calibration_residuals_ : ndarray of shape (n_origins, H, n_series)
        Absolute calibration residuals, computed by the first :meth:`predict_interval`.

    Notes
    -----
    **Prediction intervals** (:meth:`predict_interval`) are split-conformal, per step ahead.
    The last ``C`` training steps (``calibration_size``) are held out; a copy of the whole
    pipeline (transform + regressor, with ``diff="auto"``'s choice made again on its data) is
    fitted on the data before them; from every origin
    ``o`` in the held-out stretch whose next ``H`` values are observed it forecasts ``H`` steps
    (a rolling-origin backtest without refitting, ``C - H + 1`` origins), and the absolute
    errors ``|y[o + k - 1] - ŷ_o(k)|`` are collected for each step ``k`` and each series. The
    interval for step ``k`` is the final model's point forecast ± the
    ``ceil((n + 1) * coverage)``-th smallest of the ``n`` step-``k`` errors (the finite-sample
    corrected quantile; infinite, with a warning, when ``n`` is too small). This copy is
    fitted once, at the first call, and reused.

    The guarantee (coverage at least nominal, on average) rests on the future errors being
    exchangeable with the calibration errors: a stationary error distribution, and a final
    model (fitted on all the data) no better or worse than the calibration copy. It is
    marginal (over time, not conditional on the current state), the errors of one origin's
    steps are correlated, and a level shift or volatility change after the calibration
    stretch breaks it. Intervals are symmetric around the point forecast on the original scale.
    """

    _supports_exog = True

    def __init__(
        self,
        estimator=None,
        *,
        window: int = 12,
        strategy: str = "recursive",
        horizon: int | None = None,
        standardize: bool = True,
        diff: int | str = 0,
        seasonal_period: int | None = None,
        log: bool | str = False,
        stl_period: int | None = None,
        normalize: str = "none",
        linear: bool = False,
        multi_series: str = "global",
        series_id: bool = False,
        calibration_size: float | int = 0.2,
        freq=None,
        random_state: int | None = None,
        max_windows: int | None = None,
        scope: str = "global",
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        calendar: tuple | str | None = None,
        calendar_encoding: str = "cyclic",
        max_window_bytes: int = 2**28,
    ):
        self.estimator = estimator
        self.window = window
        self.strategy = strategy
        self.horizon = horizon
        self.standardize = standardize
        self.diff = diff
        self.seasonal_period = seasonal_period
        self.log = log
        self.stl_period = stl_period
        self.normalize = normalize
        self.linear = linear
        self.multi_series = multi_series
        self.series_id = series_id
        self.calibration_size = calibration_size
        self.freq = freq
        self.random_state = random_state
        self.max_windows = max_windows
        self.scope = scope
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.calendar = calendar
        self.calendar_encoding = calendar_encoding
        self.max_window_bytes = max_window_bytes

    # -- panels (long format, dict of Series): see tsrnn.forecasting._panel -------------------

    _supports_panels = True

    def min_history(self) -> int:
        """The fewest observations of one series this forecaster can forecast from.

        ``window`` plus the leading steps the transforms consume: the seasonal difference and
        the ordinary differences (for ``diff="auto"``, the most it can choose, 2). With
        ``scope="local"`` each series also trains its own model, on at least two windows: add
        the horizon (1 for the recursive strategy) and one. A panel backtest fits on, and
        forecasts, only the series with this many observations up to a cutoff
        (:func:`tsrnn.backtest`, ``min_history``).
        """
        diff = 2 if self.diff == "auto" else int(self.diff)
        need = int(self.window) + int(self.seasonal_period or 0) + diff
        if self.scope == "local":
            need += (int(self.horizon) if self.strategy == "direct" else 1) + 1
        return need

    def fit(self, y, X=None, *, past_covariates=None, static_covariates=None):
        """Fit to ``y``: a Series/DataFrame indexed by time, or a panel.

        A panel is a long DataFrame with columns ``id_col``, ``time_col``, ``target_col`` or a
        dict ``{id: Series}``. Then ``X`` holds future covariates (long: ``id_col``,
        ``time_col`` and one column each), ``past_covariates`` the covariates known only up to
        the forecast origin (same layout; ``strategy="direct"`` only) and
        ``static_covariates`` one row per series (indexed by ``id_col`` or with that column).
        """
        if is_panel(y, self.id_col, self.time_col):
            for stale in ("target_info_", "history_", "exog_history_"):
                if hasattr(self, stale):
                    delattr(self, stale)
            return fit_panel(self, y, X, past_covariates, static_covariates)
        if past_covariates is not None or static_covariates is not None:
            raise ValueError(
                "past_covariates and static_covariates need a panel y: a long DataFrame with "
                f"columns {[self.id_col, self.time_col, self.target_col]} or a dict of Series."
            )
        # a refused fit leaves the object as it was (a panel fit included); a successful one
        # replaces any earlier panel fit
        had_panel = "panel_" in self.__dict__
        earlier_panel = self.__dict__.pop("panel_", None)
        try:
            super().fit(y, X)
        except BaseException:
            if had_panel:
                self.panel_ = earlier_panel
            raise
        self.panel_ = None
        return self

    def predict(self, horizon: int, X=None, *, y=None, past_covariates=None, static_covariates=None):
        """Forecast ``horizon`` steps; for a panel, a long DataFrame (one row per series and step).

        On a panel, ``y`` (same layout as in ``fit``) forecasts from that history instead of the
        training data, without refitting; a global model (``series_id=False``) forecasts series
        it never saw, each scaled by the statistics of its given history.
        """
        if getattr(self, "panel_", None) is not None:
            return predict_panel(self, horizon, y, X, past_covariates, static_covariates)
        if y is not None or past_covariates is not None or static_covariates is not None:
            raise ValueError(
                "predict(y=..., past_covariates=..., static_covariates=...) needs a forecaster fitted "
                "on a panel; for one series use update(y_new) to move the origin."
            )
        return super().predict(horizon, X)

    def update(self, y_new, X_new=None):
        """Append observations (see :meth:`BaseForecaster.update`); on panels use ``predict(y=...)``."""
        self._refuse_on_panel("update")
        return super().update(y_new, X_new=X_new)

    def _refuse_on_panel(self, method: str) -> None:
        if getattr(self, "panel_", None) is not None:
            raise ValueError(
                f"{method} is not available for a Forecaster fitted on a panel; forecast from new "
                "observations with predict(horizon, y=history) instead (no refit)."
            )

    def _on_panel(self) -> bool:
        return getattr(self, "panel_", None) is not None

    def _check_panel_only(self, y, past_covariates, static_covariates) -> None:
        if y is not None or past_covariates is not None or static_covariates is not None:
            raise ValueError(
                "y=, past_covariates= and static_covariates= need a forecaster fitted on a panel; for "
                "one series use update(y_new) to move the origin."
            )

    def _require_panel_distribution(self, what: str) -> None:
        state = self.panel_
        model = state.model if state.scope == "global" else next(iter(state.models.values()))
        self._require_distribution(what, model.estimator)

    def _panel_quantiles(self, series, horizon, levels, n_paths, random_state) -> np.ndarray:
        """``(n_series, horizon, K)``: the head's quantiles, else the conformal interval ends."""
        state = self.panel_
        model = state.model if state.scope == "global" else next(iter(state.models.values()))
        if self._has_distribution(model.estimator):
            rng = self._sampling_rng(random_state)
            return np.stack(
                by_model(state, series, lambda m, ss: m.quantiles(ss, horizon, levels, n_paths, rng))
            )
        point = np.stack(by_model(state, series, lambda m, ss: m.forecast(ss, horizon)))
        out = np.empty((len(series), horizon, len(levels)))
        for k, tau in enumerate(levels):
            if np.isclose(tau, 0.5):
                out[:, :, k] = point
                continue
            radius = self._panel_radius(series, horizon, float(abs(2.0 * tau - 1.0)))
            out[:, :, k] = point - radius if tau < 0.5 else point + radius
        return out

    def _panel_radius(self, series, horizon: int, coverage: float) -> np.ndarray:
        """Split-conformal radius ``(n_series, horizon)`` of each series (its own calibration
        errors; a series not seen in fit has none and raises)."""
        cached = getattr(self, "panel_calibration_", None)
        if cached is None or cached[0] < horizon:
            cached = self.panel_calibration_ = (horizon, calibration_forecasts(self, horizon))
        errors = cached[1]
        out = np.empty((len(series), horizon))
        for j, s in enumerate(series):
            if s["uid"] not in errors:
                raise ValueError(
                    f"series {s['uid']!r} was not seen in fit, so it has no calibration errors for "
                    "conformal intervals; use a distribution head and method='model'."
                )
            actual, forecast = errors[s["uid"]]
            residuals = np.abs(actual - forecast)[:, :horizon]
            out[j] = conformal_quantile(residuals, coverage, stacklevel=5)
        return out

    def _panel_interval(self, horizon, coverage, method, n_paths, random_state, y, X, past, static):
        horizon = check_horizon(horizon)
        if not (isinstance(coverage, (float, int, np.floating)) and 0.0 < coverage < 1.0):
            raise ValueError(f"coverage must be a probability strictly between 0 and 1, got {coverage!r}.")
        n_paths = check_positive_int(n_paths, "n_paths")
        panel, series = panel_series(self, horizon, y, X, past, static)
        if method == "cqr":
            raise ValueError(
                "method='cqr' is not available on panels; use method='model' (the head's "
                "distribution) or method='conformal' (each series' own calibration errors)."
            )
        if method == "model":
            self._require_panel_distribution("method='model'")
            levels = np.array([(1.0 - coverage) / 2.0, (1.0 + coverage) / 2.0])
            q = self._panel_quantiles(series, horizon, levels, n_paths, random_state)
        else:
            point = np.stack(by_model(self.panel_, series, lambda m, ss: m.forecast(ss, horizon)))
            radius = self._panel_radius(series, horizon, float(coverage))
            q = np.stack([point - radius, point + radius], axis=-1)
        return long_frame(self, panel, horizon, q, ["lower", "upper"])

    # -- parameters --------------------------------------------------------------------------

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions(set(STRATEGIES))],
        "horizon": [Interval(Integral, 1, None, closed="left"), None],
        "standardize": ["boolean"],
        "diff": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "seasonal_period": [Interval(Integral, 1, None, closed="left"), None],
        "log": ["boolean", StrOptions({"auto"})],
        "stl_period": [Interval(Integral, 1, None, closed="left"), None],
        "normalize": [StrOptions(set(NORMALIZE))],
        "linear": ["boolean", StrOptions({"aicc"})],
        "multi_series": [StrOptions(set(MULTI_SERIES))],
        "series_id": ["boolean"],
        "calibration_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "freq": "no_validation",
        "random_state": ["random_state"],
        "max_windows": [Interval(Integral, 1, None, closed="left"), None],
        "scope": [StrOptions(set(SCOPES))],
        "id_col": [str],
        "time_col": [str],
        "target_col": [str],
        "calendar": [StrOptions(set(CALENDAR_FEATURES)), tuple, list, None],
        "calendar_encoding": [StrOptions(set(CALENDAR_ENCODINGS))],
        "max_window_bytes": [Interval(Integral, 1, None, closed="left")],
    }

    def _check_params(self) -> None:
        if self.strategy == "direct" and self.horizon is None:
            raise ValueError(
                "strategy='direct' fits one model for a fixed horizon: pass horizon=<steps>, "
                "e.g. Forecaster(..., strategy='direct', horizon=12)."
            )

    def _default_estimators(self) -> dict:
        """The estimator built in ``fit`` when ``estimator=None`` (for ``find_recurrent``)."""
        return {"estimator": RecurrentRegressor(cell="lstm")}

    def _make_estimator(self, n_features: int):
        if self.estimator is None:
            est = self._default_estimators()["estimator"]
        else:
            if not (hasattr(self.estimator, "fit") and hasattr(self.estimator, "predict")):
                raise TypeError(
                    "estimator must be a scikit-learn style regressor with fit and predict, got "
                    f"{type(self.estimator).__name__}."
                )
            est = clone(self.estimator)
        params = est.get_params(deep=False)
        if "input_size" in params:
            est.set_params(input_size=n_features)
        if self.random_state is not None and "random_state" in params:
            est.set_params(random_state=self.random_state)
        return est

    # -- the pipeline on arrays --------------------------------------------------------------

    def _model_horizon(self) -> int:
        return int(self.horizon) if self.strategy == "direct" else 1

    def _choose_log(self, *arrays: np.ndarray) -> bool:
        """``log``, or for ``"auto"`` whether every value of the training ``arrays`` is positive."""
        if self.log == "auto":
            return all(bool(np.all(a > 0)) for a in arrays)
        return bool(self.log)

    def _transform_choice(self, values: np.ndarray, log: bool | None = None) -> tuple[bool, int]:
        """``(log, diff)`` for training data ``values``: ``log`` and ``diff``, or what their
        ``"auto"`` rules choose on these values (``log`` given: only ``diff`` is chosen)."""
        if log is None:
            log = self._choose_log(values)
        return log, self._select_diff(values, log)

    def _select_diff(self, values: np.ndarray, log: bool) -> int:
        """``diff``, or for ``"auto"`` the order chosen by KPSS tests on the training data."""
        if self.diff != "auto":
            return int(self.diff)
        z = np.log(values) if log and np.all(values > 0) else values
        if self.seasonal_period is not None and len(z) > self.seasonal_period:
            z = z[self.seasonal_period :] - z[: -self.seasonal_period]
        return max(
            select_differencing(z[:, j], max_d=2, test="kpss", alpha=AUTO_DIFF_ALPHA)
            for j in range(z.shape[1])
        )

    def _fit_model(
        self, values: np.ndarray, X: np.ndarray | None, choice: tuple[bool, int], what: str = "y"
    ) -> _Model:
        """The pipeline (transform + regressor) fitted on ``values``; ``choice`` is its
        ``(log, diff)`` (:meth:`_transform_choice`)."""
        log, diff = choice
        transform = TargetTransform(log, self.seasonal_period, diff, self.standardize, self.stl_period)
        transform.fit(values, self.target_info_.index)
        z = transform.transform(values)
        x_mean = x_scale = xs = None
        if X is not None:
            if self.standardize:
                x_mean, x_scale = moments(X, axis=0)
            else:
                x_mean, x_scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
            xs = (X - x_mean) / x_scale
        horizon = self._model_horizon()
        n = len(values)
        first = transform.lost + self.window
        need = first + horizon + 1  # at least two training windows
        if n < need:
            lost = f" + {transform.lost} lost to differencing" if transform.lost else ""
            raise ValueError(
                f"{what} has {n} time steps, too few: window {self.window}{lost} + horizon {horizon} "
                f"+ 1 needs at least {need}. Use a shorter window, less differencing or more data."
            )
        origins = np.arange(first, n - horizon + 1)
        if self.max_windows is not None and origins.shape[0] > self.max_windows:
            keep = np.round(np.linspace(0, origins.shape[0] - 1, self.max_windows)).astype(np.intp)
            origins = origins[np.unique(keep)]
        features, targets = design(z, xs, origins, self.window, horizon, self.multi_series, self.series_id)
        offsets = self._window_offsets(features, len(origins), z.shape[1], horizon)
        if offsets is not None:
            features = self._shift_targets(features, offsets[0], -1.0)
            targets = targets - offsets[1]
        Xw = features.reshape(features.shape[0], -1)
        yw = stack_targets(targets, self.multi_series)
        if yw.shape[1] == 1:
            yw = yw[:, 0]
        linear = None
        if self.linear is not False:
            steps = self.window if self.linear is True else None
            linear = fit_linear_part(Xw, yw.reshape(len(Xw), -1), features.shape[2], steps)
            yw = yw - linear_prediction(linear, Xw).reshape(yw.shape)
        est = self._make_estimator(features.shape[2])
        try:
            est.fit(Xw, yw)
        except (ValueError, TypeError) as exc:
            if yw.ndim == 1:
                raise
            name = type(est).__name__
            raise ValueError(
                f"{name} could not fit the multi-output targets of shape {yw.shape} that "
                f"strategy={self.strategy!r} / multi_series={self.multi_series!r} needs ({exc}). "
                f"Wrap it to fit one model per output: "
                f"Forecaster(sklearn.multioutput.MultiOutputRegressor({name}(...)), ...)."
            ) from exc
        return _Model(transform, x_mean, x_scale, est, horizon, linear)

    def _window_offsets(
        self, feats: np.ndarray, n: int, m: int, horizon: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The offsets ``normalize`` subtracts from each window, or None.

        Returns ``(inputs, targets)``: ``(n, window, m)`` for the input steps and
        ``(n, horizon, m)`` for the steps after the window. ``"last"`` and ``"mean"`` give one
        level for every step; ``"drift"`` gives the line through the window's first and last
        values, continued over the horizon.
        """
        if self.normalize == "none":
            return None
        if self.multi_series == "joint":
            target = feats[:, :, :m]  # (n, window, m)
        else:
            target = feats[:, :, 0].reshape(n, m, -1).transpose(0, 2, 1)
        w = target.shape[1]
        if self.normalize == "drift":
            last = target[:, -1, :]
            slope = (last - target[:, 0, :]) / max(w - 1, 1)
            steps = np.arange(-(w - 1), horizon + 1, dtype=float)[None, :, None]
            line = last[:, None, :] + slope[:, None, :] * steps
            return line[:, :w], line[:, w:]
        level = target[:, -1, :] if self.normalize == "last" else target.mean(axis=1)
        return (
            np.broadcast_to(level[:, None, :], (n, w, m)),
            np.broadcast_to(level[:, None, :], (n, horizon, m)),
        )

    def _shift_targets(self, feats: np.ndarray, offsets: np.ndarray, sign: float) -> np.ndarray:
        """``feats`` with ``sign * offsets`` (``(n, window, m)``) added to the target channels."""
        feats = feats.copy()
        n, w, m = offsets.shape
        if self.multi_series == "joint":
            feats[:, :, :m] += sign * offsets
        else:
            feats[:, :, 0] += sign * offsets.transpose(0, 2, 1).reshape(n * m, w)
        return feats

    def _inputs(
        self, model: _Model, zwin: np.ndarray, xwin: np.ndarray | None, horizon: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The regressor's input rows for target windows ``zwin`` ``(N, window, m)``, and what
        goes on its outputs ``(N, horizon, m)``: the level ``normalize`` took off plus the
        linear part (None without either). Every forecast path (point, quantiles, sample
        paths) goes through here, so they all see the windows training saw."""
        n, _, m = zwin.shape
        feats = assemble(zwin, xwin, self.multi_series, self.series_id)
        offsets = self._window_offsets(feats, n, m, horizon)
        if offsets is not None:
            feats = self._shift_targets(feats, offsets[0], -1.0)
        rows = feats.reshape(feats.shape[0], -1)
        shift = None if offsets is None else offsets[1]
        linear = model.linear_part(rows)
        if linear is not None:
            linear = unstack_outputs(linear, n, horizon, m, self.multi_series)
            shift = linear if shift is None else shift + linear
        return rows, shift

    def _forecast(
        self, model: _Model, values: np.ndarray, X: np.ndarray | None, origins: np.ndarray, horizon: int
    ) -> np.ndarray:
        """Forecasts ``(len(origins), horizon, m)`` on the original scale from each origin.

        ``values[:o]`` is the history of origin ``o``; ``X`` must have rows up to
        ``o + max(horizon, model.horizon) - 1``.
        """
        z = model.transform.transform(values)
        xs = None if X is None else (X - model.x_mean) / model.x_scale
        n_orig, m = len(origins), values.shape[1]
        w, est = self.window, model.estimator
        steps = np.arange(w)
        if self.strategy == "direct":
            times = origins[:, None] - w + steps
            xwin = None if xs is None else exog_leads(xs, times, model.horizon)
            rows, offsets = self._inputs(model, z[times], xwin, model.horizon)
            zf = unstack_outputs(est.predict(rows), n_orig, model.horizon, m, self.multi_series)
            if offsets is not None:
                zf = zf + offsets
            zf = zf[:, :horizon]
        else:
            buf = np.empty((n_orig, w + horizon, m))
            buf[:, :w] = z[origins[:, None] - w + steps]
            for k in range(horizon):
                xwin = None if xs is None else exog_leads(xs, origins[:, None] - w + k + steps, 1)
                rows, offsets = self._inputs(model, buf[:, k : k + w], xwin, 1)
                step = unstack_outputs(est.predict(rows), n_orig, 1, m, self.multi_series)[:, 0]
                buf[:, w + k] = step if offsets is None else step + offsets[:, 0]
            zf = buf[:, w:]
        return model.transform.inverse(zf, values, origins)

    # -- BaseForecaster hooks ----------------------------------------------------------------

    def _fit(self, values: np.ndarray, X: np.ndarray | None) -> None:
        self.log_, self.diff_ = self._transform_choice(values)
        model = self._fit_model(values, X, (self.log_, self.diff_))
        self._model = model
        self.estimator_ = model.estimator
        self.transform_ = model.transform
        n_exog = 0 if X is None else X.shape[1]
        self.n_step_features_ = n_step_features(
            values.shape[1], n_exog, model.horizon, self.multi_series, self.series_id
        )
        self.horizon_ = model.horizon if self.strategy == "direct" else None
        self.history_ = values.copy()
        self.exog_history_ = None if X is None else X.copy()
        self.n_fit_ = len(values)
        for stale in ("calibration_model_", "calibration_residuals_", "_cqr_scores_cache"):
            if hasattr(self, stale):
                delattr(self, stale)

    def _check_direct_horizon(self, horizon: int) -> None:
        if self.horizon_ is not None and horizon > self.horizon_:
            raise ValueError(
                f"this Forecaster uses strategy='direct' fitted for horizon={self.horizon_}, so it "
                f"cannot forecast {horizon} steps; refit with horizon={horizon} or use "
                f"strategy='recursive'."
            )

    def _check_exog_future(self, X, horizon: int):
        # the direct model's last window step carries the exogenous values of its whole fitted
        # horizon, so they are needed even when fewer steps are asked for
        if getattr(self, "horizon_", None) is not None and getattr(self, "exog_columns_", None) is not None:
            self._check_direct_horizon(horizon)
            return super()._check_exog_future(X, max(horizon, self.horizon_))
        return super()._check_exog_future(X, horizon)

    def _exog_through(self, X_future: np.ndarray | None) -> np.ndarray | None:
        if self.exog_history_ is None:
            return None
        return np.concatenate([self.exog_history_, X_future], axis=0)

    def _predict(self, horizon: int, X: np.ndarray | None) -> np.ndarray:
        self._check_direct_horizon(horizon)
        origin = np.array([len(self.history_)])
        return self._forecast(self._model, self.history_, self._exog_through(X), origin, horizon)[0]

    def _calibration_residuals(self, horizon: int) -> np.ndarray:
        """Absolute per-step errors ``(n_origins, horizon, m)`` of the calibration backtest."""
        cached = getattr(self, "calibration_residuals_", None)
        if cached is not None and cached.shape[1] >= horizon:
            return cached[:, :horizon]
        horizon = max(horizon, self._model.horizon)
        n = self.n_fit_
        c = self.calibration_size
        size = self._calibration_steps()
        if size < horizon:
            raise ValueError(
                f"calibration_size={c!r} holds out {size} of the {n} training steps, fewer than the "
                f"horizon {horizon}: no calibration origin has {horizon} observed steps after it. "
                f"Increase calibration_size (e.g. to {horizon + 20}) or forecast fewer steps."
            )
        values = self.history_[:n]
        X = None if self.exog_history_ is None else self.exog_history_[:n]
        if getattr(self, "calibration_model_", None) is None:
            # the whole pipeline on the data before the stretch, diff="auto"'s test included, so
            # that no statistic of the stretch shapes the model that forecasts it; the log keeps
            # the whole series' choice, since the copy takes the log of every window it forecasts
            # from (a stretch that is not positive has none)
            self.calibration_model_ = self._fit_model(
                values[: n - size],
                None if X is None else X[: n - size],
                self._transform_choice(values[: n - size], log=self.log_),
                what="the data before the calibration stretch",
            )
        origins = np.arange(n - size, n - horizon + 1)
        fc = self._forecast(self.calibration_model_, values, X, origins, horizon)
        actual = values[origins[:, None] + np.arange(horizon)]
        self.calibration_residuals_ = np.abs(actual - fc)
        return self.calibration_residuals_

    def _calibration_steps(self) -> int:
        """Training steps held out for calibration (``calibration_size`` resolved)."""
        c = self.calibration_size
        return round(float(c) * self.n_fit_) if isinstance(c, (float, np.floating)) else int(c)

    def _predict_interval(self, horizon: int, coverage: float, X: np.ndarray | None):
        point = self._predict(horizon, X)
        # stacklevel 4: the warning points at the user's predict_interval call
        radius = conformal_quantile(self._calibration_residuals(horizon)[:, :horizon], coverage, stacklevel=4)
        return point - radius, point + radius

    def _update(self, values: np.ndarray, X: np.ndarray | None) -> None:
        self.transform_.check_positive(values, None, "y_new")
        self.history_ = np.concatenate([self.history_, values], axis=0)
        if self.exog_history_ is not None:
            self.exog_history_ = np.concatenate([self.exog_history_, X], axis=0)

    # -- persisted state (see tsrnn._state) ----------------------------------------------------

    _FITTED_STATE = (
        "target_info_",
        "n_series_",
        "exog_columns_",
        "diff_",
        "_model",
        "estimator_",
        "transform_",
        "n_step_features_",
        "horizon_",
        "history_",
        "exog_history_",
        "n_fit_",
    )

    #: what a panel fit sets (see tsrnn.forecasting._panel; estimator_ for scope="global" only)
    _PANEL_STATE = ("panel_", "n_series_", "horizon_", "diff_", "log_")

    def _get_state(self) -> dict:
        if getattr(self, "panel_", None) is not None:
            return estimator_state(self, self._PANEL_STATE, ("estimator_",))
        return estimator_state(self, self._FITTED_STATE, ("calibration_model_", "calibration_residuals_"))

    def _set_state(self, state: dict) -> None:
        from ..estimators import BaseRecurrent

        if "panel_" in state:
            restore_estimator_state(self, state, self._PANEL_STATE, ("estimator_",))
            if self.estimator is not None and not isinstance(self.estimator, BaseRecurrent):
                fail("Forecaster.estimator", "is not a tsrnn recurrent estimator")
            check_panel_state(self)
            return
        optional = ("calibration_model_", "calibration_residuals_")
        if not restore_estimator_state(self, state, self._FITTED_STATE, optional):
            if self.estimator is not None and not isinstance(self.estimator, BaseRecurrent):
                fail("Forecaster.estimator", "is not a tsrnn recurrent estimator")
            return
        if self.estimator is not None and not isinstance(self.estimator, BaseRecurrent):
            fail("Forecaster.estimator", "is not a tsrnn recurrent estimator")
        h = check_array(self.history_, "Forecaster.history_", ndim=2)
        n, m = h.shape
        if h.dtype != np.float64 or check_int(self.n_series_, "Forecaster.n_series_", 1) != m:
            fail("Forecaster.history_", "does not match n_series_")
        info = self.target_info_
        if not isinstance(info, TargetInfo) or len(info.index) != n or len(info.columns) != m:
            fail("Forecaster.target_info_", "does not match the history")
        check_int(self.n_fit_, "Forecaster.n_fit_", 1, n)
        check_int(self.diff_, "Forecaster.diff_", 0)
        columns = self.exog_columns_
        if columns is not None and not isinstance(columns, list):
            fail("Forecaster.exog_columns_", "is not a list")
        p = 0 if columns is None else len(columns)
        if (self.exog_history_ is None) != (columns is None):
            fail("Forecaster.exog_history_", "does not match exog_columns_")
        if columns is not None:
            check_array(self.exog_history_, "Forecaster.exog_history_", (n, p))
        horizon = 1 if self.strategy == "recursive" else self.horizon
        if self.horizon_ != (None if self.strategy == "recursive" else horizon):
            fail("Forecaster.horizon_", "does not match strategy and horizon")
        for attr in ("_model", "calibration_model_"):
            model = getattr(self, attr, None)
            if model is None and attr == "calibration_model_":
                continue
            if not isinstance(model, _Model) or model.horizon != horizon:
                fail(f"Forecaster.{attr}", "is not a fitted pipeline of this Forecaster")
            t = model.transform
            if t.mean_.shape != (m,) or (t.seasonal_period, t.diff) != (self.seasonal_period, self.diff_):
                fail(f"Forecaster.{attr}.transform", "does not match the series and the differencing")
            check_vector(model.x_mean, f"Forecaster.{attr}.x_mean", p, allow_none=not p)
            check_vector(model.x_scale, f"Forecaster.{attr}.x_scale", p, positive=True, allow_none=not p)
            est = model.estimator
            if est.n_timesteps_ != self.window or est.input_size_ != self.n_step_features_:
                fail(f"Forecaster.{attr}.estimator", "does not read windows of this Forecaster")
            if (model.linear is not None) != (self.linear is not False):
                fail(f"Forecaster.{attr}.linear", "does not match the linear parameter")
            if model.linear is not None:
                coef = check_array(model.linear, f"Forecaster.{attr}.linear", (None, None))
                width = self.window * self.n_step_features_
                k = coef.shape[0] - 1
                if k % self.n_step_features_ or k > width or (self.linear is True and k != width):
                    fail(f"Forecaster.{attr}.linear", "does not read whole steps of this Forecaster's window")
        if self.estimator_ is not self._model.estimator or self.transform_ is not self._model.transform:
            fail("Forecaster", "estimator_/transform_ are not those of the fitted pipeline")
        # the log choice lives in the fitted transform; a later calibration fit reads log_
        self.log_ = bool(self.transform_.log)
        residuals = getattr(self, "calibration_residuals_", None)
        if residuals is not None:
            check_array(residuals, "Forecaster.calibration_residuals_", (None, None, m), finite=False)

    # -- predictive distributions ------------------------------------------------------------

    @staticmethod
    def _has_distribution(estimator) -> bool:
        """Whether the fitted regressor predicts a distribution (tsrnn's probabilistic losses)."""
        return bool(getattr(estimator, "probabilistic_", False)) and callable(
            getattr(estimator, "predict_quantiles", None)
        )

    def _require_distribution(self, what: str, estimator=None) -> None:
        estimator = self.estimator_ if estimator is None else estimator
        if not self._has_distribution(estimator):
            raise ValueError(
                f"{what} needs a regressor that predicts a distribution, e.g. "
                "Forecaster(RecurrentRegressor(loss='gaussian')) (or 'student_t', 'quantile'); "
                f"{type(estimator).__name__} here predicts points only. Use "
                "predict_interval(..., method='conformal') for its intervals."
            )

    def _sampling_rng(self, random_state) -> np.random.Generator:
        return np.random.default_rng(self.random_state if random_state is None else random_state)

    def _exact_marginals(self, model: _Model, horizon: int) -> bool:
        """Whether each step's quantiles follow from the head without simulation.

        True for one step of the recursive strategy and for the direct strategy without
        differencing: the target transform is then a monotone map of each step on its own.
        """
        if self.strategy == "direct":
            return model.transform.lost == 0
        return horizon == 1

    def _model_quantiles(self, model, values, X, origins, horizon, levels, n_paths, rng) -> np.ndarray:
        """Quantiles ``(len(origins), horizon, m, K)`` on the original scale from each origin."""
        est = model.estimator
        m, n_orig, w = values.shape[1], len(origins), self.window
        if not self._exact_marginals(model, horizon):
            if self.strategy == "direct":
                raise ValueError(
                    "with strategy='direct' and differencing, the quantiles of each step's change "
                    "do not add up to quantiles of the level; use strategy='recursive' (sample "
                    "paths), diff=0, or predict_interval(..., method='conformal')."
                )
            paths = self._paths(model, values, X, origins, horizon, n_paths, rng)
            return np.moveaxis(np.quantile(paths, levels, axis=1), 0, -1)
        z = model.transform.transform(values)
        xs = None if X is None else (X - model.x_mean) / model.x_scale
        times = origins[:, None] - w + np.arange(w)
        xwin = None if xs is None else exog_leads(xs, times, model.horizon)
        rows, offsets = self._inputs(model, z[times], xwin, model.horizon)
        qz = np.asarray(est.predict_quantiles(rows, levels))
        qz = qz.reshape(qz.shape[0], -1, len(levels))
        out = []
        for k in range(len(levels)):
            zq = unstack_outputs(qz[..., k], n_orig, model.horizon, m, self.multi_series)
            if offsets is not None:
                zq = zq + offsets
            out.append(model.transform.inverse(zq[:, :horizon], values, origins))
        # a decreasing transform could reorder them; every transform here is increasing
        return np.stack(out, axis=-1)

    def _paths(self, model, values, X, origins, horizon, n_paths, rng) -> np.ndarray:
        """Sample paths ``(len(origins), n_paths, horizon, m)``: each draw fed back as the next input."""
        if self.strategy != "recursive":
            raise ValueError(
                "sample paths feed each draw back into the window, which needs strategy='recursive'; "
                "the direct strategy has no recurrence to feed."
            )
        est = model.estimator
        z = model.transform.transform(values)
        xs = None if X is None else (X - model.x_mean) / model.x_scale
        m, w = values.shape[1], self.window
        steps = np.arange(w)
        rows = np.repeat(origins, n_paths)
        buf = np.empty((len(rows), w + horizon, m))
        buf[:, :w] = z[rows[:, None] - w + steps]
        for k in range(horizon):
            xwin = None if xs is None else exog_leads(xs, rows[:, None] - w + k + steps, 1)
            inputs, offsets = self._inputs(model, buf[:, k : k + w], xwin, 1)
            draw = np.asarray(est.sample(inputs, 1, rng))[..., 0]
            step = unstack_outputs(draw, len(rows), 1, m, self.multi_series)[:, 0]
            buf[:, w + k] = step if offsets is None else step + offsets[:, 0]
        paths = model.transform.inverse(buf[:, w:], values, rows)
        return paths.reshape(len(origins), n_paths, horizon, m)

    def _quantiles(self, horizon, levels, X, n_paths, random_state) -> np.ndarray:
        """``(horizon, m, K)`` quantiles from the current origin: the head's, else conformal."""
        if not self._has_distribution(self.estimator_):
            return super()._predict_quantiles(horizon, levels, X)
        self._check_direct_horizon(horizon)
        origin = np.array([len(self.history_)])
        rng = self._sampling_rng(random_state)
        return self._model_quantiles(
            self._model, self.history_, self._exog_through(X), origin, horizon, levels, n_paths, rng
        )[0]

    def _predict_quantiles(self, horizon: int, levels: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        return self._quantiles(horizon, levels, X, DEFAULT_PATHS, None)

    def predict_quantiles(
        self,
        horizon: int,
        quantiles=(0.1, 0.5, 0.9),
        X=None,
        *,
        n_paths: int = DEFAULT_PATHS,
        random_state=None,
        y=None,
        past_covariates=None,
        static_covariates=None,
    ) -> pd.DataFrame:
        """Quantiles of the forecast distribution of the next ``horizon`` steps.

        With a regressor that predicts a distribution (``RecurrentRegressor(loss="gaussian" |
        "student_t" | "quantile")``) they are the model's: exact for one step of the
        recursive strategy and for every step of the direct strategy without differencing;
        otherwise the empirical quantiles of :meth:`sample_paths`. With a point regressor
        they are the ends of the split-conformal intervals (see :meth:`predict_interval`),
        level ``tau`` the end of the central interval of coverage ``|2 tau - 1|``.

        Parameters
        ----------
        horizon : int
        quantiles : sequence of float, default=(0.1, 0.5, 0.9)
            Increasing levels in (0, 1).
        X : DataFrame, optional
            Future exogenous values.
        n_paths : int, default=1000
            Sample paths when the quantiles are simulated.
        random_state : int, Generator or None
            Seed of the simulation; None uses the Forecaster's ``random_state``.
        y, past_covariates, static_covariates : optional
            Panels only: forecast from these histories, as in :meth:`predict`.

        Returns
        -------
        DataFrame
            One column per level on the future index (a ``(target, level)`` MultiIndex for a
            DataFrame ``y``); never decreasing across levels. On a panel, a long DataFrame:
            ``id_col``, ``time_col`` and one column per level.
        """
        levels = check_quantile_levels(quantiles)
        n_paths = check_positive_int(n_paths, "n_paths")
        if self._on_panel():
            panel, series = panel_series(self, horizon, y, X, past_covariates, static_covariates)
            q = self._panel_quantiles(series, check_horizon(horizon), levels, n_paths, random_state)
            return long_frame(self, panel, check_horizon(horizon), q, [float(v) for v in levels])
        self._check_panel_only(y, past_covariates, static_covariates)
        check_is_fitted(self, "target_info_")
        horizon = check_horizon(horizon)
        x_future = self._check_exog_future(X, horizon)
        q = self._quantiles(horizon, levels, x_future, n_paths, random_state)
        return self._quantile_frame(q.reshape(horizon, self.n_series_, len(levels)), levels)

    def sample_paths(
        self,
        horizon: int,
        n_paths: int = DEFAULT_PATHS,
        random_state=None,
        X=None,
        *,
        y=None,
        past_covariates=None,
        static_covariates=None,
    ) -> pd.DataFrame:
        """Simulated futures: each step drawn from the head and fed back through the recurrence.

        Needs the recursive strategy and a regressor that predicts a distribution.

        Parameters
        ----------
        horizon : int
        n_paths : int, default=1000
        random_state : int, Generator or None
            Seed of the draws; None uses the Forecaster's ``random_state``.
        X : DataFrame, optional
            Future exogenous values (the same for every path).
        y, past_covariates, static_covariates : optional
            Panels only: forecast from these histories, as in :meth:`predict`.

        Returns
        -------
        DataFrame
            Indexed by the future timestamps, one column per path (``0 .. n_paths - 1``, named
            ``path``); for a DataFrame ``y`` a ``(target, path)`` column MultiIndex. On a
            panel, a long DataFrame: ``id_col``, ``time_col`` and one column per path.
        """
        n_paths = check_positive_int(n_paths, "n_paths")
        if self._on_panel():
            horizon = check_horizon(horizon)
            panel, series = panel_series(self, horizon, y, X, past_covariates, static_covariates)
            self._require_panel_distribution("sample_paths")
            rng = self._sampling_rng(random_state)
            paths = by_model(self.panel_, series, lambda model, ss: model.paths(ss, horizon, n_paths, rng))
            # (n_series, n_paths, horizon) -> (n_series, horizon, n_paths)
            return long_frame(self, panel, horizon, np.stack(paths).transpose(0, 2, 1), list(range(n_paths)))
        self._check_panel_only(y, past_covariates, static_covariates)
        check_is_fitted(self, "target_info_")
        horizon = check_horizon(horizon)
        self._require_distribution("sample_paths")
        x_future = self._check_exog_future(X, horizon)
        origin = np.array([len(self.history_)])
        paths = self._paths(
            self._model,
            self.history_,
            self._exog_through(x_future),
            origin,
            horizon,
            n_paths,
            self._sampling_rng(random_state),
        )[0]  # (n_paths, horizon, m)
        index = self._future_index(horizon)
        if self.target_info_.is_series:
            return pd.DataFrame(paths[:, :, 0].T, index=index, columns=pd.RangeIndex(n_paths, name="path"))
        names = [None, "path"]
        columns = pd.MultiIndex.from_product([self.target_info_.columns, range(n_paths)], names=names)
        return pd.DataFrame(paths.transpose(1, 2, 0).reshape(horizon, -1), index=index, columns=columns)

    def predict_interval(
        self,
        horizon: int,
        coverage: float = 0.9,
        X=None,
        method: str = "conformal",
        *,
        n_paths: int = DEFAULT_PATHS,
        random_state=None,
        y=None,
        past_covariates=None,
        static_covariates=None,
    ) -> pd.DataFrame:
        """Prediction intervals with nominal ``coverage`` for the next ``horizon`` steps.

        Parameters
        ----------
        horizon : int
        coverage : float, default=0.9
        X : DataFrame, optional
            Future exogenous values.
        method : {"conformal", "model", "cqr"}, default="conformal"
            ``"conformal"``: the point forecast +- the split-conformal radius of the absolute
            calibration errors (see the class notes). ``"model"``: the central interval of the
            model's forecast distribution (:meth:`predict_quantiles` at ``(1 - coverage) / 2``
            and ``(1 + coverage) / 2``; sample paths for several recursive steps).
            ``"cqr"``: conformalised quantile regression (Romano, Patterson & Candès 2019),
            split version: the copy of the pipeline fitted on the data before the calibration
            stretch (the one ``"conformal"`` backtests) scores ``max(lower - y, y - upper)``
            for its model interval at every calibration origin, per step ahead, and its
            interval from the current origin is widened (or narrowed) by the
            ``ceil((n + 1) coverage)``-th smallest score. The forecast comes from that copy, not
            from the model refitted on all the data, because the finite-sample guarantee holds
            for the model that was scored (under the same exchangeability assumption).
            ``"model"`` and ``"cqr"`` need a regressor that predicts a distribution.
        n_paths : int, default=1000
            Sample paths where the model quantiles are simulated.
        random_state : int, Generator or None
            Seed of the simulation; None uses the Forecaster's ``random_state``.
        y, past_covariates, static_covariates : optional
            Panels only: forecast from these histories, as in :meth:`predict`.

        Returns
        -------
        DataFrame
            Columns ``lower`` and ``upper`` (a ``(target, "lower"|"upper")`` MultiIndex for a
            DataFrame ``y``). On a panel, a long DataFrame: ``id_col``, ``time_col``,
            ``lower``, ``upper`` (``"conformal"`` and ``"model"``; see docs/panels.md).
        """
        if method not in INTERVAL_METHODS:
            raise ValueError(f"method must be one of {INTERVAL_METHODS}, got {method!r}.")
        if self._on_panel():
            return self._panel_interval(
                horizon, coverage, method, n_paths, random_state, y, X, past_covariates, static_covariates
            )
        self._check_panel_only(y, past_covariates, static_covariates)
        if method == "conformal":
            return super().predict_interval(horizon, coverage, X)
        check_is_fitted(self, "target_info_")
        horizon = check_horizon(horizon)
        if not (isinstance(coverage, (float, int, np.floating)) and 0.0 < coverage < 1.0):
            raise ValueError(f"coverage must be a probability strictly between 0 and 1, got {coverage!r}.")
        n_paths = check_positive_int(n_paths, "n_paths")
        self._require_distribution(f"method={method!r}")
        x_future = self._check_exog_future(X, horizon)
        levels = np.array([(1.0 - coverage) / 2.0, (1.0 + coverage) / 2.0])
        if method == "model":
            q = self._quantiles(horizon, levels, x_future, n_paths, random_state)
            return self._interval_frame(horizon, q[..., 0], q[..., 1])
        rng = self._sampling_rng(random_state)
        scores = self._cqr_scores(horizon, levels, n_paths, rng)
        radius = conformal_quantile(scores, float(coverage), stacklevel=3)
        # the model scored on the calibration stretch makes the forecast: the guarantee is for
        # its scores, and a refit on all the data can be wider or narrower
        origin = np.array([len(self.history_)])
        q = self._model_quantiles(
            self.calibration_model_,
            self.history_,
            self._exog_through(x_future),
            origin,
            horizon,
            levels,
            n_paths,
            rng,
        )[0]
        return self._interval_frame(horizon, q[..., 0] - radius, q[..., 1] + radius)

    def _cqr_scores(self, horizon: int, levels: np.ndarray, n_paths: int, rng) -> np.ndarray:
        """Conformity scores ``max(lower - y, y - upper)`` ``(n_origins, horizon, m)`` of the
        calibration model's quantile interval at every calibration origin."""
        key = (horizon, tuple(levels), n_paths)
        cache = getattr(self, "_cqr_scores_cache", None)
        if cache is None or cache[0] is not getattr(self, "calibration_model_", None):
            cache = self._cqr_scores_cache = (getattr(self, "calibration_model_", None), {})
        if key in cache[1]:
            return cache[1][key]
        self._calibration_residuals(horizon)  # checks the stretch and fits the calibration copy
        if cache[0] is not self.calibration_model_:  # fitted just now
            cache = self._cqr_scores_cache = (self.calibration_model_, {})
        n = self.n_fit_
        origins = np.arange(n - self._calibration_steps(), n - horizon + 1)
        values = self.history_[:n]
        X = None if self.exog_history_ is None else self.exog_history_[:n]
        q = self._model_quantiles(self.calibration_model_, values, X, origins, horizon, levels, n_paths, rng)
        actual = values[origins[:, None] + np.arange(horizon)]
        # the calibration data never change after fit, so the scores are kept (for each
        # horizon, pair of levels and path count) until the next fit
        cache[1][key] = np.maximum(q[..., 0] - actual, actual - q[..., 1])
        return cache[1][key]


register(Forecaster)
