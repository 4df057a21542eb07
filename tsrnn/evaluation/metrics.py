"""Forecast accuracy metrics and the per-model summary of a backtest.

Definitions (``e = y - yhat`` over the ``H`` steps of one forecast window):

- ``mae = mean(|e|)``; ``rmse = sqrt(mean(e^2))``;
- ``mase = mae / scale`` with ``scale = mean(|y_t - y_{t-m}|)`` over the window's *training*
  part: the in-sample MAE of the seasonal naive forecast (naive for ``m = 1``) (Hyndman &
  Koehler 2006). Below 1: better than the in-sample seasonal naive;
- ``smape = 100 * mean(2 |e| / (|y| + |yhat|))`` in percent, 0 to 200, a term counted as 0
  when ``y = yhat = 0`` (M3/M4 competition definition);
- ``coverage``: share of ``y`` inside ``[lower, upper]``; ``width = mean(upper - lower)``.

:func:`summarize` computes them per window and averages over windows (and series).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "coverage",
    "interval_width",
    "mae",
    "mase",
    "rmse",
    "seasonal_naive_mae",
    "smape",
    "summarize",
    "summarize_series",
    "window_metrics",
]


def _arrays(*arrays):
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    shape = out[0].shape
    for a in out[1:]:
        if a.shape != shape:
            raise ValueError(f"the arrays must have the same shape, got {shape} and {a.shape}.")
    if out[0].size == 0:
        raise ValueError("the arrays are empty; a metric needs at least one value.")
    return out


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def smape(y_true, y_pred) -> float:
    """Symmetric mean absolute percentage error in percent (0 to 200); 0/0 terms count as 0."""
    y_true, y_pred = _arrays(y_true, y_pred)
    denom = np.abs(y_true) + np.abs(y_pred)
    num = 2.0 * np.abs(y_true - y_pred)
    terms = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
    return float(100.0 * np.mean(terms))


def seasonal_naive_mae(y_train, seasonal_period: int = 1) -> float:
    """In-sample MAE of the seasonal naive forecast, ``mean(|y_t - y_{t-m}|)``: the MASE scale.

    Falls back to ``m = 1`` when the training data is not longer than one season.
    """
    y_train = np.asarray(y_train, dtype=np.float64).ravel()
    m = int(seasonal_period or 1)
    if y_train.shape[0] <= m:
        m = 1
    if y_train.shape[0] < 2:
        raise ValueError("the MASE scale needs at least 2 training values.")
    return float(np.mean(np.abs(y_train[m:] - y_train[:-m])))


def mase(y_true, y_pred, y_train=None, seasonal_period: int = 1, scale: float | None = None) -> float:
    """Mean absolute scaled error: ``mae / seasonal_naive_mae(y_train, seasonal_period)``.

    Pass either the training series ``y_train`` or the precomputed ``scale``. A zero scale (a
    constant training series) gives ``inf`` (or ``nan`` for a perfect forecast).
    """
    if scale is None:
        if y_train is None:
            raise ValueError("mase needs y_train (the data the forecast was made from) or scale.")
        scale = seasonal_naive_mae(y_train, seasonal_period)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(mae(y_true, y_pred)) / np.float64(scale))


def coverage(y_true, lower, upper) -> float:
    """Share of ``y_true`` inside ``[lower, upper]`` (NaN if there are no intervals)."""
    y_true, lower, upper = _arrays(y_true, lower, upper)
    if np.isnan(lower).all() or np.isnan(upper).all():
        return float("nan")
    return float(np.mean((y_true >= lower) & (y_true <= upper)))


def interval_width(lower, upper) -> float:
    """Mean width ``upper - lower`` of the prediction intervals."""
    lower, upper = _arrays(lower, upper)
    return float(np.mean(upper - lower))


#: columns of :func:`summarize`, in order
SUMMARY_COLUMNS = [
    "mase",
    "mae",
    "rmse",
    "smape",
    "coverage",
    "width",
    "fit_time",
    "predict_time",
    "n_windows",
]


def _window_metrics(g: pd.DataFrame) -> pd.Series:
    y, yhat = g["y_true"].to_numpy(), g["y_pred"].to_numpy()
    lower, upper = g["lower"].to_numpy(), g["upper"].to_numpy()
    has_interval = np.isfinite(lower).all() and np.isfinite(upper).all()
    return pd.Series(
        {
            "mase": mase(y, yhat, scale=g["mase_scale"].iloc[0]),
            "mae": mae(y, yhat),
            "rmse": rmse(y, yhat),
            "smape": smape(y, yhat),
            "coverage": coverage(y, lower, upper) if has_interval else np.nan,
            "width": interval_width(lower, upper) if has_interval else np.nan,
            "fit_time": g["fit_time"].iloc[0],
            "predict_time": g["predict_time"].iloc[0],
        }
    )


def window_metrics(results: pd.DataFrame) -> pd.DataFrame:
    """Metrics of every forecast window of a :func:`tsrnn.backtest` result (one row per window)."""
    keys = ["model", "series", "window"] if "series" in results.columns else ["model", "window"]
    rows = [
        pd.concat([pd.Series(dict(zip(keys, key if isinstance(key, tuple) else (key,)))), _window_metrics(g)])
        for key, g in results.groupby(keys, sort=False)
    ]
    return pd.DataFrame(rows).reset_index(drop=True)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per model: metrics per window averaged over windows (and series), ranked by MASE.

    ``results`` is the tidy frame of :func:`tsrnn.backtest` (or several concatenated).
    ``fit_time`` and ``predict_time`` are mean seconds per window (``fit_time`` of a window
    that only called ``update`` is the update's time; ``predict_time`` includes the interval).
    """
    per_window = window_metrics(results)
    grouped = per_window.groupby("model", sort=False)
    summary = grouped[SUMMARY_COLUMNS[:-1]].mean()
    summary["n_windows"] = grouped["window"].nunique()
    summary = summary.sort_values("mase", kind="stable", na_position="last")
    summary.index.name = "model"
    return summary[SUMMARY_COLUMNS]


def summarize_series(results: pd.DataFrame) -> pd.DataFrame:
    """One row per model and series: metrics per window averaged over that series' windows.

    ``results`` is the tidy frame of a backtest on several series (with a ``series`` column);
    :func:`summarize` gives the overall figures (averaged over windows and series).
    """
    if "series" not in results.columns:
        raise ValueError(
            "results has no 'series' column: summarize_series needs a backtest on several series."
        )
    per_window = window_metrics(results)
    grouped = per_window.groupby(["model", "series"], sort=False)
    out = grouped[SUMMARY_COLUMNS[:-1]].mean()
    out["n_windows"] = grouped["window"].nunique()
    return out[SUMMARY_COLUMNS]
