"""Forecaster: any scikit-learn regressor (default: tsrnn's LSTM) on sliding windows of a series."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from .._scaling import moments
from .._validation import check_positive_int
from ._base import BaseForecaster
from ._transforms import TargetTransform
from ._windows import (
    assemble,
    check_multi_series,
    design,
    exog_leads,
    n_step_features,
    stack_targets,
    unstack_outputs,
)

__all__ = ["Forecaster", "conformal_quantile"]

STRATEGIES = ("recursive", "direct")
NORMALIZE = ("none", "last", "mean")

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


@dataclass
class _Model:
    """One fitted pipeline: target transform, exogenous scaling and the fitted regressor."""

    transform: TargetTransform
    x_mean: np.ndarray | None
    x_scale: np.ndarray | None
    estimator: object
    horizon: int  # steps the regressor predicts at once: 1 (recursive) or the direct horizon


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
    normalize : {"none", "last", "mean"}, default="none"
        Local normalisation of every window (after the transforms above): subtract the
        window's level, its last value or its mean, from its inputs and its targets, and add it
        back to the forecast. The network then learns the shape of the next values relative to
        the current level, which lets one model serve every level a trending series reaches.
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
        If set, passed to the regressor's ``random_state`` (when it has one).

    Attributes
    ----------
    estimator_ : regressor
        The fitted clone of ``estimator``.
    transform_ : TargetTransform
        The fitted target transform.
    n_step_features_ : int
        Features per window step (the ``input_size`` given to recurrent regressors).
    diff_ : int
        The order of differencing used (``diff``, or the one ``diff="auto"`` chose).
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
    pipeline (transform + regressor) is fitted on the data before them; from every origin
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
        multi_series: str = "global",
        series_id: bool = False,
        calibration_size: float | int = 0.2,
        freq=None,
        random_state: int | None = None,
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
        self.multi_series = multi_series
        self.series_id = series_id
        self.calibration_size = calibration_size
        self.freq = freq
        self.random_state = random_state

    # -- parameters --------------------------------------------------------------------------

    def _check_params(self) -> None:
        check_positive_int(self.window, "window")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}.")
        if self.strategy == "direct":
            if self.horizon is None:
                raise ValueError(
                    "strategy='direct' fits one model for a fixed horizon: pass horizon=<steps>, "
                    "e.g. Forecaster(..., strategy='direct', horizon=12)."
                )
            check_positive_int(self.horizon, "horizon")
        elif self.horizon is not None:
            check_positive_int(self.horizon, "horizon")
        if self.diff != "auto" and (
            isinstance(self.diff, bool) or not isinstance(self.diff, (int, np.integer)) or self.diff < 0
        ):
            raise ValueError(
                f"diff must be a non-negative integer (order of differencing) or 'auto', got {self.diff!r}."
            )
        if self.seasonal_period is not None:
            check_positive_int(self.seasonal_period, "seasonal_period")
        if self.stl_period is not None:
            check_positive_int(self.stl_period, "stl_period")
        if self.normalize not in NORMALIZE:
            raise ValueError(f"normalize must be one of {NORMALIZE}, got {self.normalize!r}.")
        if not (self.log == "auto" or isinstance(self.log, (bool, np.bool_))):
            raise TypeError(f"log must be True, False or 'auto', got {self.log!r}.")
        for name in ("standardize", "series_id"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}.")
        check_multi_series(self.multi_series)
        c = self.calibration_size
        ok_float = isinstance(c, (float, np.floating)) and 0.0 < c < 1.0
        ok_int = isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c >= 1
        if not (ok_float or ok_int):
            raise ValueError(
                f"calibration_size must be a fraction in (0, 1) or a number of steps >= 1, got {c!r}."
            )

    def _make_estimator(self, n_features: int):
        if self.estimator is None:
            from tsrnn.estimators import RecurrentRegressor

            est = RecurrentRegressor(cell="lstm")
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

    def _select_diff(self, values: np.ndarray) -> int:
        """``diff``, or for ``"auto"`` the order chosen by KPSS tests on the training data."""
        if self.diff != "auto":
            return int(self.diff)
        from ..baselines import select_differencing

        z = np.log(values) if self.log_ and np.all(values > 0) else values
        if self.seasonal_period is not None and len(z) > self.seasonal_period:
            z = z[self.seasonal_period :] - z[: -self.seasonal_period]
        return max(
            select_differencing(z[:, j], max_d=2, test="kpss", alpha=AUTO_DIFF_ALPHA)
            for j in range(z.shape[1])
        )

    def _fit_model(self, values: np.ndarray, X: np.ndarray | None, what: str = "y") -> _Model:
        transform = TargetTransform(
            self.log_, self.seasonal_period, self.diff_, self.standardize, self.stl_period
        )
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
        features, targets = design(z, xs, origins, self.window, horizon, self.multi_series, self.series_id)
        level = self._window_level(features, len(origins), z.shape[1])
        if level is not None:
            features = self._shift_targets(features, level, -1.0)
            targets = targets - level[:, None, :]
        Xw = features.reshape(features.shape[0], -1)
        yw = stack_targets(targets, self.multi_series)
        if yw.shape[1] == 1:
            yw = yw[:, 0]
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
        return _Model(transform, x_mean, x_scale, est, horizon)

    def _window_level(self, feats: np.ndarray, n: int, m: int) -> np.ndarray | None:
        """The level ``(n, m)`` of each window (``normalize``), from its features, or None."""
        if self.normalize == "none":
            return None
        if self.multi_series == "joint":
            target = feats[:, :, :m]  # (n, window, m)
        else:
            target = feats[:, :, 0].reshape(n, m, -1).transpose(0, 2, 1)
        return target[:, -1, :] if self.normalize == "last" else target.mean(axis=1)

    def _shift_targets(self, feats: np.ndarray, level: np.ndarray, sign: float) -> np.ndarray:
        """``feats`` with ``sign * level`` added to the target channels of every step."""
        feats = feats.copy()
        n, m = level.shape
        if self.multi_series == "joint":
            feats[:, :, :m] += sign * level[:, None, :]
        else:
            feats[:, :, 0] += sign * level.reshape(n * m, 1)
        return feats

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
            feats = assemble(z[times], xwin, self.multi_series, self.series_id)
            level = self._window_level(feats, n_orig, m)
            if level is not None:
                feats = self._shift_targets(feats, level, -1.0)
            pred = est.predict(feats.reshape(feats.shape[0], -1))
            zf = unstack_outputs(pred, n_orig, model.horizon, m, self.multi_series)[:, :horizon]
            if level is not None:
                zf = zf + level[:, None, :]
        else:
            buf = np.empty((n_orig, w + horizon, m))
            buf[:, :w] = z[origins[:, None] - w + steps]
            for k in range(horizon):
                xwin = None if xs is None else exog_leads(xs, origins[:, None] - w + k + steps, 1)
                feats = assemble(buf[:, k : k + w], xwin, self.multi_series, self.series_id)
                level = self._window_level(feats, n_orig, m)
                if level is not None:
                    feats = self._shift_targets(feats, level, -1.0)
                pred = est.predict(feats.reshape(feats.shape[0], -1))
                step = unstack_outputs(pred, n_orig, 1, m, self.multi_series)[:, 0]
                buf[:, w + k] = step if level is None else step + level
            zf = buf[:, w:]
        return model.transform.inverse(zf, values, origins)

    # -- BaseForecaster hooks ----------------------------------------------------------------

    def _fit(self, values: np.ndarray, X: np.ndarray | None) -> None:
        self._check_params()
        self.log_ = bool(np.all(values > 0)) if self.log == "auto" else bool(self.log)
        self.diff_ = self._select_diff(values)
        model = self._fit_model(values, X)
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
        for stale in ("calibration_model_", "calibration_residuals_"):
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
        size = round(float(c) * n) if isinstance(c, (float, np.floating)) else int(c)
        if size < horizon:
            raise ValueError(
                f"calibration_size={c!r} holds out {size} of the {n} training steps, fewer than the "
                f"horizon {horizon}: no calibration origin has {horizon} observed steps after it. "
                f"Increase calibration_size (e.g. to {horizon + 20}) or forecast fewer steps."
            )
        values = self.history_[:n]
        X = None if self.exog_history_ is None else self.exog_history_[:n]
        if getattr(self, "calibration_model_", None) is None:
            self.calibration_model_ = self._fit_model(
                values[: n - size],
                None if X is None else X[: n - size],
                what="the data before the calibration stretch",
            )
        origins = np.arange(n - size, n - horizon + 1)
        fc = self._forecast(self.calibration_model_, values, X, origins, horizon)
        actual = values[origins[:, None] + np.arange(horizon)]
        self.calibration_residuals_ = np.abs(actual - fc)
        return self.calibration_residuals_

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
