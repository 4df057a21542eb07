"""Rolling-origin evaluation (backtest) of any forecaster."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._parallel import run_tasks
from .._validation import check_positive_int, check_probability
from ..forecasting import (
    PerSeriesForecaster,
    check_covers,
    check_forecaster_interface,
    check_horizon,
    check_series,
    is_panel,
)
from ._season import infer_seasonal_period
from .metrics import quantile_column, seasonal_naive_mae

__all__ = [
    "RESULT_COLUMNS",
    "backtest",
    "check_backtest_args",
    "check_quantiles",
    "default_quantiles",
    "window_starts",
]

#: columns of the tidy frame returned by :func:`backtest` (``series`` only for a DataFrame ``y``;
#: one ``q<level>`` column per quantile level follows ``upper``)
RESULT_COLUMNS = [
    "model",
    "series",
    "window",
    "cutoff",
    "timestamp",
    "step_ahead",
    "y_true",
    "y_pred",
    "lower",
    "upper",
    "nominal_coverage",
    "mase_scale",
    "fit_time",
    "predict_time",
]


def window_starts(n: int, horizon: int, n_windows: int, step: int) -> list[int]:
    """Positions where the test part of each window starts; the last window ends with the data."""
    starts = [n - horizon - (n_windows - 1 - i) * step for i in range(n_windows)]
    if starts[0] < 2:
        need = horizon + (n_windows - 1) * step + 2
        raise ValueError(
            f"y has {n} observations, too few for n_windows={n_windows} windows of horizon={horizon} "
            f"every step={step} (need at least {need}, and more to train on); reduce n_windows, "
            "step or horizon."
        )
    return starts


def _check_refit(refit) -> int:
    """Windows per refit group: 1 for refit=True, all for refit=False, k for an int k."""
    if isinstance(refit, (bool, np.bool_)):
        return 1 if refit else 0
    if isinstance(refit, (int, np.integer)) and refit >= 1:
        return int(refit)
    raise ValueError(
        f"refit must be True (refit every window), False (fit once, then update) or a positive "
        f"integer k (refit every k windows), got {refit!r}."
    )


def panel_columns(forecaster) -> tuple[str, str, str]:
    """The long-format column names a forecaster reads (the defaults when it has none)."""
    get = getattr(forecaster, "get_params", None)
    params = get() if callable(get) else {}
    return (params.get("id_col", "unique_id"), params.get("time_col", "ds"), params.get("target_col", "y"))


def default_quantiles(coverage: float) -> tuple[float, float, float]:
    """The levels a backtest records unless told: the interval's ends and the median."""
    return ((1.0 - coverage) / 2.0, 0.5, (1.0 + coverage) / 2.0)


def _quantile_forecast(est, horizon, quantiles, x_future):
    if not quantiles or not hasattr(est, "predict_quantiles"):
        return None
    try:
        return est.predict_quantiles(horizon, quantiles=quantiles, X=x_future)
    except NotImplementedError:  # a forecaster without intervals has no quantiles either
        return None


def _run_group(forecaster, y, X, starts, horizon, coverage, quantiles=()):
    """Fit at the first window of a group, ``update`` to each later one; forecast at each."""
    est = clone(forecaster)
    out = []
    previous = None
    for start in starts:
        tic = time.perf_counter()
        if previous is None:
            est.fit(y.iloc[:start], X=None if X is None else X.iloc[:start])
        else:
            est.update(y.iloc[previous:start], X_new=None if X is None else X.iloc[previous:start])
        fit_time = time.perf_counter() - tic
        x_future = None if X is None else X.iloc[start : start + horizon]
        tic = time.perf_counter()
        pred = est.predict(horizon, X=x_future)
        try:
            interval = est.predict_interval(horizon, coverage=coverage, X=x_future)
        except NotImplementedError:
            interval = None
        predict_time = time.perf_counter() - tic
        q = _quantile_forecast(est, horizon, quantiles, x_future)
        out.append((start, fit_time, predict_time, pred, interval, q))
        previous = start
    return out


def _tidy(
    y, model, window, start, horizon, fit_time, predict_time, pred, interval, q, season, coverage, levels
):
    """Rows of one window: one per step ahead (and per series)."""
    truth = y.iloc[start : start + horizon]
    if not pred.index.equals(truth.index):
        raise ValueError(
            f"the forecaster {model!r} returned forecasts indexed {pred.index[0]!r}..{pred.index[-1]!r}, "
            f"expected {truth.index[0]!r}..{truth.index[-1]!r}."
        )
    frames = []
    is_series = isinstance(y, pd.Series)
    columns = [None] if is_series else list(y.columns)
    for col in columns:
        y_col = y if is_series else y[col]
        p_col = pred if is_series else pred[col]
        if interval is None:
            lower = upper = np.full(horizon, np.nan)
        elif is_series:
            lower, upper = interval["lower"].to_numpy(), interval["upper"].to_numpy()
        else:
            lower, upper = interval[(col, "lower")].to_numpy(), interval[(col, "upper")].to_numpy()
        frame = pd.DataFrame(
            {
                "model": model,
                "series": col,
                "window": window,
                "cutoff": [y.index[start - 1]] * horizon,
                "timestamp": truth.index,
                "step_ahead": np.arange(1, horizon + 1),
                "y_true": y_col.iloc[start : start + horizon].to_numpy(dtype=np.float64),
                "y_pred": p_col.to_numpy(dtype=np.float64),
                "lower": lower,
                "upper": upper,
                "nominal_coverage": coverage,
                "mase_scale": seasonal_naive_mae(y_col.iloc[:start].to_numpy(), season),
                "fit_time": fit_time,
                "predict_time": predict_time,
            }
        )
        at = frame.columns.get_loc("upper") + 1
        for k, level in enumerate(levels):
            if q is None:
                values = np.full(horizon, np.nan)
            else:
                values = q[level if is_series else (col, level)].to_numpy(dtype=np.float64)
            frame.insert(at + k, quantile_column(level), values)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out.drop(columns="series") if is_series else out


def check_quantiles(quantiles, coverage: float) -> tuple[float, ...]:
    """``quantiles`` checked (increasing levels in (0, 1)); None means :func:`default_quantiles`."""
    from ..nn import check_quantile_levels

    if quantiles is None:
        return default_quantiles(coverage)
    if len(quantiles) == 0:
        return ()
    return tuple(float(v) for v in check_quantile_levels(quantiles))


def check_backtest_args(y, horizon, n_windows, step, refit, X, coverage, seasonal_period):
    """Validate the arguments shared by :func:`backtest` and :func:`tsrnn.compare`.

    Returns ``(horizon, n_windows, step, group_size, X aligned on y, coverage, season, starts)``.
    """
    check_series(y, "y")
    horizon = check_horizon(horizon)
    n_windows = check_positive_int(n_windows, "n_windows")
    step = horizon if step is None else check_positive_int(step, "step")
    coverage = check_probability(coverage, "coverage")
    group_size = _check_refit(refit)
    if X is not None:
        if not isinstance(X, (pd.DataFrame, pd.Series)):
            raise TypeError(f"X must be a pandas DataFrame indexed like y, got {type(X).__name__}.")
        check_covers(X, y.index, "X")
        X = X.loc[y.index]
    if seasonal_period is None:
        season = infer_seasonal_period(y.index) or 1
    else:
        season = check_positive_int(seasonal_period, "seasonal_period")
    starts = window_starts(len(y), horizon, n_windows, step)
    return horizon, n_windows, step, group_size, X, coverage, season, starts


def _run_task(forecaster, y, X, starts, horizon, coverage, name, windows, season, column, quantiles=()):
    """One task: :func:`_run_group`, then its tidy rows, as ``[(window, frame), ...]``.

    The rows are built where the forecasts are made (a worker), so the caller only
    concatenates.
    """
    from ..estimators import warm_up

    # The kernels are loaded (or, after another process compiled them, read from the cache)
    # before the timed fits; compile_kernels makes a worker wait for one compiling them.
    warm_up([forecaster])
    out = []
    for window, run in zip(windows, _run_group(forecaster, y, X, starts, horizon, coverage, quantiles)):
        frame = _tidy(y, name, window, *run[:1], horizon, *run[1:], season, coverage, quantiles)
        if column is not None:
            frame.insert(1, "series", column)
        out.append((window, frame))
    return out


def plan_tasks(
    forecaster, y, X, horizon, starts, group_size, coverage, name, season, quantiles=()
) -> tuple[list, list]:
    """The independent tasks of one backtest: ``(arguments of _run_task, series)`` lists.

    One task per refit group of windows; for a :class:`~tsrnn.PerSeriesForecaster` on a
    DataFrame, one per group AND series (each series has its own model anyway), so that many
    series spread over many workers. The cut never depends on ``n_jobs``.
    """
    size = group_size or len(starts)
    groups = [starts[i : i + size] for i in range(0, len(starts), size)]
    if isinstance(forecaster, PerSeriesForecaster) and isinstance(y, pd.DataFrame):
        check_forecaster_interface(forecaster.forecaster)
        if not y.columns.is_unique:
            raise ValueError("y has duplicated column names; each series needs its own name.")
        units = [(forecaster.forecaster, y[column], column) for column in y.columns]
    else:
        units = [(forecaster, y, None)]
    args, series = [], []
    for group in groups:
        windows = [starts.index(start) for start in group]
        for f, y_part, column in units:
            args.append((f, y_part, X, group, horizon, coverage, name, windows, season, column, quantiles))
            series.append(column)
    return args, series


def collect(results, series, pbar=None) -> pd.DataFrame:
    """The tidy frame from the task results of :func:`plan_tasks` (in task order)."""
    position = {col: i for i, col in enumerate(dict.fromkeys(series))}
    per_window = len(position) if series and series[0] is not None else 1
    frames = {}
    for task, column in zip(results, series):
        for window, frame in task:
            frames[(window, position[column])] = frame
            if pbar is not None:
                pbar.update(1 / per_window)
    # rows by window, then series (in the column order of y), then step ahead
    return pd.concat([frames[key] for key in sorted(frames)], ignore_index=True)


def _backtest(
    forecaster, y, X, horizon, starts, group_size, coverage, season, name, n_jobs, pbar=None, quantiles=()
):
    """Run the windows of one (validated) backtest; return the tidy frame."""
    from ..estimators import warm_up

    check_forecaster_interface(forecaster)
    args, series = plan_tasks(
        forecaster, y, X, horizon, starts, group_size, coverage, name, season, quantiles
    )
    warm_up([forecaster])  # compile once here, not in the first (timed) fit of every worker
    return collect(run_tasks(_run_task, args, n_jobs), series, pbar)


def backtest(
    forecaster,
    y,
    horizon: int,
    n_windows: int = 5,
    step: int | None = None,
    refit: bool | int = True,
    X=None,
    n_jobs: int | None = None,
    coverage: float = 0.9,
    seasonal_period: int | None = None,
    model: str | None = None,
    progress: bool = False,
    quantiles=None,
    *,
    past_covariates=None,
    static_covariates=None,
    min_history: int | None = None,
) -> pd.DataFrame:
    """Rolling-origin evaluation: forecast ``horizon`` steps from ``n_windows`` successive origins.

    The last window's forecasts end with the last observation of ``y``; earlier windows start
    ``step`` observations apart. At each origin (``cutoff``, the last observation used) the
    forecaster has seen only the data up to it.

    Parameters
    ----------
    forecaster : BaseForecaster
        Any forecaster with ``fit``/``predict``/``predict_interval``/``update`` (it is cloned,
        never modified).
    y : pandas Series or DataFrame, or a panel
        The series, indexed by time (several columns: the forecaster gets them all). A panel
        (a long DataFrame with the forecaster's ``id_col``/``time_col``/``target_col``,
        default ``unique_id``/``ds``/``y``, or a dict of Series) is backtested on cutoff
        dates shared by all series; see :func:`tsrnn.evaluation.backtest_panel` and
        docs/panels.md.
    horizon : int
        Steps forecast from each origin.
    n_windows : int, default=5
    step : int or None, default=None
        Observations between successive origins; ``None`` means ``horizon`` (windows that tile
        the end of the series without overlap).
    refit : bool or int, default=True
        ``True``: clone and fit at every origin. ``False``: fit at the first origin, then move
        with ``update`` (no refit). ``k``: refit every ``k`` windows, ``update`` in between.
    X : DataFrame, optional
        Exogenous regressors with a row for every timestamp of ``y`` (the future rows are given
        to ``predict``, as known future values).
    n_jobs : int or None, default=None
        Parallel jobs (joblib) over groups of windows that are refit independently (with
        ``refit=False`` there is one group) and, for a :class:`~tsrnn.PerSeriesForecaster` on a
        DataFrame, over series too. ``None``: one job, unless a ``joblib.parallel_backend``
        context says otherwise: inside ``with joblib.parallel_backend("dask"):`` the tasks run
        on a Dask cluster. Results do not depend on ``n_jobs`` or the backend.
    coverage : float, default=0.9
        Nominal coverage of the prediction intervals (NaN when a forecaster has none).
    seasonal_period : int or None, default=None
        Season ``m`` of the MASE scale; ``None`` infers it from the index frequency
        (:func:`tsrnn.evaluation.infer_seasonal_period`), 1 when there is none.
    model : str, optional
        Name in the ``model`` column (default: the class name).
    progress : bool, default=False
        Show a progress bar (tqdm) over windows.
    quantiles : sequence of float or None, default=None
        Levels of the quantile forecasts recorded (``predict_quantiles``), one column
        ``q<level>`` each; None means the interval's ends and the median,
        ``((1 - coverage) / 2, 0.5, (1 + coverage) / 2)``; ``()`` records none. NaN for a
        forecaster without them.
    past_covariates, static_covariates : DataFrame, optional
        Panels only: given to the forecaster's ``fit`` (see :class:`tsrnn.Forecaster`).
    min_history : int, optional
        Panels only: a series enters a window when it has at least this many observations up
        to the cutoff (and all ``horizon`` values after it). Default: what the forecaster
        needs to forecast (:meth:`tsrnn.Forecaster.min_history`; 1 for the others).
        :func:`tsrnn.compare` gives every model the largest of its models' needs, so that all
        are scored on the same series.

    Returns
    -------
    DataFrame
        Tidy, one row per window and step ahead (and series for a DataFrame ``y``): ``model,
        [series,] window, cutoff, timestamp, step_ahead, y_true, y_pred, lower, upper,
        q<level>...``, ``nominal_coverage`` (of the interval), ``mase_scale`` (in-sample
        seasonal naive MAE of that window's training part), ``fit_time`` (seconds to fit, or
        to update, at that origin) and ``predict_time`` (seconds for the point forecast and
        the interval; the quantiles are not timed). Summarise it with
        :func:`tsrnn.evaluation.metrics.summarize`.
    """
    from tqdm.auto import tqdm

    check_forecaster_interface(forecaster)
    if is_panel(y, *panel_columns(forecaster)[:2]):
        from ._panel_backtest import backtest_panel

        if quantiles:
            raise ValueError("quantile forecasts are not recorded on panels yet; pass quantiles=None.")

        return backtest_panel(
            forecaster,
            y,
            horizon,
            n_windows,
            step,
            refit,
            X,
            past_covariates,
            static_covariates,
            n_jobs,
            coverage,
            seasonal_period,
            model,
            min_history,
        )
    if past_covariates is not None or static_covariates is not None or min_history is not None:
        raise ValueError(
            "past_covariates, static_covariates and min_history need a panel y (long DataFrame or "
            "dict of Series)."
        )
    horizon, n_windows, _, group_size, X, coverage, season, starts = check_backtest_args(
        y, horizon, n_windows, step, refit, X, coverage, seasonal_period
    )
    levels = check_quantiles(quantiles, coverage)
    name = model if model is not None else type(forecaster).__name__
    with tqdm(total=n_windows, disable=not progress, desc="backtest", unit="window") as pbar:
        return _backtest(
            forecaster, y, X, horizon, starts, group_size, coverage, season, name, n_jobs, pbar, levels
        )
