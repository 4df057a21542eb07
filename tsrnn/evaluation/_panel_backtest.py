"""Rolling-origin evaluation of forecasters on a panel: cutoffs are dates shared by all series."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._parallel import run_tasks
from .._validation import check_positive_int
from ..forecasting import Panel, to_panel
from ._backtest import RESULT_COLUMNS, _check_refit, _run_group, panel_columns
from ._season import infer_seasonal_period
from .metrics import seasonal_naive_mae

__all__ = ["backtest_panel", "panel_cutoffs"]


def _grid(panel: Panel) -> pd.Index:
    """Every timestamp from the earliest start to the latest end of any series, at the panel's step."""
    first = min(ix[0] for ix in panel.index)
    last = max(ix[-1] for ix in panel.index)
    ix0 = panel.index[0]
    if isinstance(ix0, pd.PeriodIndex):
        return pd.period_range(first, last, freq=panel.step)
    if isinstance(ix0, pd.DatetimeIndex):
        return pd.date_range(first, last, freq=panel.step, tz=ix0.tz)
    return pd.Index(np.arange(int(first), int(last) + 1, int(panel.step)))


def panel_cutoffs(panel: Panel, horizon: int, n_windows: int, step: int) -> list:
    """The shared cutoff dates: the last window's forecasts end with the panel's last timestamp."""
    grid = _grid(panel)
    positions = [len(grid) - horizon - 1 - (n_windows - 1 - k) * step for k in range(n_windows)]
    if positions[0] < 1:
        raise ValueError(
            f"the panel spans {len(grid)} time steps, too few for n_windows={n_windows} windows of "
            f"horizon={horizon} every step={step}; reduce n_windows, step or horizon."
        )
    return [grid[p] for p in positions]


def default_min_history(forecaster) -> int:
    """The history a series needs to enter a window: the forecaster's ``min_history()``, else 1."""
    method = getattr(forecaster, "min_history", None)
    return int(method()) if callable(method) else 1


def _included(panel: Panel, cutoff, horizon: int, min_history: int) -> list[int]:
    """Series with ``min_history`` observations up to ``cutoff`` and all ``horizon`` after it."""
    out = []
    for j, ix in enumerate(panel.index):
        n = int(ix.searchsorted(cutoff, side="right"))
        if n >= min_history and len(ix) - n >= horizon:
            out.append(j)
    return out


def _rows(
    panel, j, n_train, horizon, pred, lower, upper, name, window, cutoff, season, fit_time, predict_time
) -> dict:
    """The rows of one series in one window, as columns (joined by :func:`_frame`)."""
    v, ix = panel.values[j], panel.index[j]
    return {
        "series": panel.ids[j],
        "window": window,
        "cutoff": cutoff,
        "timestamp": ix[n_train : n_train + horizon],
        "y_true": v[n_train : n_train + horizon],
        "y_pred": np.asarray(pred, dtype=np.float64),
        "lower": lower,
        "upper": upper,
        "mase_scale": seasonal_naive_mae(v[:n_train], season),
        "fit_time": fit_time,
        "predict_time": predict_time,
    }


def _frame(rows: list[dict], name: str, horizon: int, coverage: float) -> pd.DataFrame:
    """One tidy frame from the per-series rows of :func:`_rows` (one DataFrame per task: cheap)."""
    k = len(rows)
    per_row = ("series", "window", "cutoff", "mase_scale", "fit_time", "predict_time")
    cols = {c: [r[c] for r in rows] for c in per_row}
    stamps = (
        rows[0]["timestamp"].append([r["timestamp"] for r in rows[1:]]) if k > 1 else rows[0]["timestamp"]
    )
    cutoffs = pd.Index(cols["cutoff"])
    return pd.DataFrame(
        {
            "model": name,
            "series": np.repeat(np.array(cols["series"], dtype=object), horizon),
            "window": np.repeat(cols["window"], horizon),
            "cutoff": cutoffs.repeat(horizon),
            "timestamp": stamps,
            "step_ahead": np.tile(np.arange(1, horizon + 1), k),
            "y_true": np.concatenate([r["y_true"] for r in rows]),
            "y_pred": np.concatenate([r["y_pred"] for r in rows]),
            "lower": np.concatenate([r["lower"] for r in rows]),
            "upper": np.concatenate([r["upper"] for r in rows]),
            "nominal_coverage": coverage,
            "mase_scale": np.repeat(cols["mase_scale"], horizon),
            "fit_time": np.repeat(cols["fit_time"], horizon),
            "predict_time": np.repeat(cols["predict_time"], horizon),
        }
    )


def _as_series(panel: Panel, j: int) -> pd.Series:
    ix = panel.index[j]
    if isinstance(ix, pd.DatetimeIndex):
        ix = pd.DatetimeIndex(ix, freq=panel.step)
    return pd.Series(panel.values[j], index=ix, name=panel.ids[j])


def _local_task(forecaster, panel, j, cutoffs, horizon, coverage, name, season):
    """A forecaster without panel support: fit on one series, update through the later cutoffs."""
    y = _as_series(panel, j)
    starts = [int(y.index.searchsorted(c, side="right")) for c, _ in cutoffs]
    rows = []
    for (cutoff, window), run in zip(cutoffs, _run_group(forecaster, y, None, starts, horizon, coverage)):
        start, fit_time, predict_time, pred, interval = run[:5]
        lower = upper = np.full(horizon, np.nan)
        if interval is not None:
            lower, upper = interval["lower"].to_numpy(), interval["upper"].to_numpy()
        rows.append(
            _rows(
                panel,
                j,
                start,
                horizon,
                pred.to_numpy(dtype=np.float64),
                lower,
                upper,
                name,
                window,
                cutoff,
                season,
                fit_time,
                predict_time,
            )
        )
    return _frame(rows, name, horizon, coverage)


def _panel_task(forecaster, panel, cutoffs, horizon, coverage, name, season, X, past, static, min_history):
    """A panel forecaster: fit at the first cutoff of the group (on the series with ``min_history``
    observations), forecast from every cutoff's history."""
    target_col = panel_columns(forecaster)[2]
    est = clone(forecaster)
    extra = {}
    if past is not None:
        extra["past_covariates"] = past
    if static is not None:
        extra["static_covariates"] = static
    rows = []
    for k, (cutoff, window) in enumerate(cutoffs):
        train = panel.up_to(cutoff)
        fit_time = 0.0
        if k == 0:
            # the series too short to be forecast are too short to train on too
            long_enough = [u for u, ix in zip(train.ids, train.index) if len(ix) >= min_history]
            tic = time.perf_counter()
            est.fit(train.subset(long_enough), X=X, **extra)
            fit_time = time.perf_counter() - tic
        keep = _included(panel, cutoff, horizon, min_history)
        history = train.subset([panel.ids[j] for j in keep])
        tic = time.perf_counter()
        # the covariate frames given to fit cover every timestamp; the forecaster keeps them
        pred = est.predict(horizon, y=history)
        predict_time = time.perf_counter() - tic
        # predict returns the series of ``history`` in order, ``horizon`` rows each
        values = pred[target_col].to_numpy(dtype=np.float64).reshape(len(keep), horizon)
        nan = np.full(horizon, np.nan)
        for i, (j, ix_train) in enumerate(zip(keep, history.index)):
            rows.append(
                _rows(
                    panel,
                    j,
                    len(ix_train),
                    horizon,
                    values[i],
                    nan,
                    nan,
                    name,
                    window,
                    cutoff,
                    season,
                    fit_time,
                    predict_time,
                )
            )
    return _frame(rows, name, horizon, coverage)


def backtest_panel(
    forecaster,
    y,
    horizon: int,
    n_windows: int = 5,
    step: int | None = None,
    refit: bool | int = True,
    X=None,
    past_covariates=None,
    static_covariates=None,
    n_jobs: int | None = None,
    coverage: float = 0.9,
    seasonal_period: int | None = None,
    model: str | None = None,
    min_history: int | None = None,
) -> pd.DataFrame:
    """:func:`tsrnn.backtest` on a panel (see there): cutoffs shared by every series.

    A forecaster that takes panels (:class:`~tsrnn.Forecaster`) is fitted on every series'
    history up to the cutoff; with ``refit=False`` it is fitted once, at the first cutoff,
    and forecasts from each later cutoff's history with ``predict(horizon, y=history)``. Any
    other forecaster is fitted per series (one clone each, refitted or updated as ``refit``
    says), in parallel over series. A window holds the series that have at least
    ``min_history`` observations up to its cutoff (default: the forecaster's
    ``min_history()``, else 1) and all ``horizon`` values after it.
    """
    id_col, time_col, target_col = panel_columns(forecaster)
    panel = to_panel(y, id_col, time_col, target_col, getattr(forecaster, "freq", None))
    horizon = check_positive_int(horizon, "horizon")
    n_windows = check_positive_int(n_windows, "n_windows")
    step = horizon if step is None else check_positive_int(step, "step")
    group_size = _check_refit(refit) or n_windows
    if seasonal_period is None:
        season = infer_seasonal_period(panel.index[0]) or 1
    else:
        season = check_positive_int(seasonal_period, "seasonal_period")
    if min_history is None:
        min_history = default_min_history(forecaster)
    else:
        min_history = check_positive_int(min_history, "min_history")
    cutoffs = panel_cutoffs(panel, horizon, n_windows, step)
    labelled = [(c, k) for k, c in enumerate(cutoffs)]
    groups = [labelled[i : i + group_size] for i in range(0, n_windows, group_size)]
    name = model if model is not None else type(forecaster).__name__
    if getattr(forecaster, "_supports_panels", False):
        tasks = [
            (
                forecaster,
                panel,
                g,
                horizon,
                coverage,
                name,
                season,
                X,
                past_covariates,
                static_covariates,
                min_history,
            )
            for g in groups
        ]
        results = run_tasks(_panel_task, tasks, n_jobs)
    else:
        if X is not None or past_covariates is not None or static_covariates is not None:
            raise ValueError(
                f"{type(forecaster).__name__} is fitted per series here and takes no panel "
                "covariates; pass X=None, past_covariates=None, static_covariates=None."
            )
        tasks = []
        included = {k: set(_included(panel, c, horizon, min_history)) for c, k in labelled}
        for g in groups:
            for j in range(len(panel.ids)):
                mine = [(c, k) for c, k in g if j in included[k]]
                if mine:
                    tasks.append((forecaster, panel, j, mine, horizon, coverage, name, season))
        results = run_tasks(_local_task, tasks, n_jobs)
    out = pd.concat(list(results), ignore_index=True)
    order = {u: i for i, u in enumerate(panel.ids)}
    out["_order"] = out["series"].map(order)
    out = out.sort_values(["window", "_order", "step_ahead"], kind="stable").drop(columns="_order")
    return out[RESULT_COLUMNS].reset_index(drop=True)


def compare_panel(y, models: dict, horizon, n_windows, step, X, seasonal_period, refit, n_jobs, errors):
    """:func:`tsrnn.compare` on a panel: every model backtested on the same cutoffs.

    Returns the tidy results of the models that ran and ``{name: error}`` of those that failed
    (with ``errors="warn"``).
    """
    import warnings

    frames, failed = [], {}
    # every model is scored on the same series in every window: those long enough for all
    min_history = max(default_min_history(f) for f in models.values())
    for name, forecaster in models.items():
        x_model = X if getattr(forecaster, "_supports_panels", False) else None
        try:
            frames.append(
                backtest_panel(
                    forecaster,
                    y,
                    horizon,
                    n_windows,
                    step,
                    refit,
                    X=x_model,
                    n_jobs=n_jobs,
                    seasonal_period=seasonal_period,
                    model=name,
                    min_history=min_history,
                )
            )
        except Exception as exc:
            if errors == "raise":
                raise
            failed[name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"model {name!r} failed and is left out: {failed[name]}", RuntimeWarning, stacklevel=3
            )
    if not frames:
        raise RuntimeError(f"every model failed: {failed}")
    return pd.concat(frames, ignore_index=True), failed
