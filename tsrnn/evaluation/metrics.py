"""Forecast accuracy metrics and the per-model summary of a backtest.

Definitions (``e = y - yhat`` over the ``H`` steps of one forecast window):

- ``mae = mean(|e|)``; ``rmse = sqrt(mean(e^2))``;
- ``mase = mae / scale`` with ``scale = mean(|y_t - y_{t-m}|)`` over the window's *training*
  part: the in-sample MAE of the seasonal naive forecast (naive for ``m = 1``) (Hyndman &
  Koehler 2006). Below 1: better than the in-sample seasonal naive;
- ``smape = 100 * mean(2 |e| / (|y| + |yhat|))`` in percent, 0 to 200, a term counted as 0
  when ``y = yhat = 0`` (M3/M4 competition definition);
- ``coverage``: share of ``y`` inside ``[lower, upper]``; ``width = mean(upper - lower)``;
  in :func:`summarize`, ``crps`` is :func:`crps_from_quantiles` of the recorded quantile
  levels and ``winkler`` the interval score of ``[lower, upper]``;
- ``pinball`` (quantile) loss at level ``tau``: ``mean(max(tau (y - q), (tau - 1) (y - q)))``;
- ``crps``, the continuous ranked probability score ``int (F(x) - 1{y <= x})^2 dx`` of a
  predictive CDF ``F``: from samples by its energy form ``E|X - y| - E|X - X'| / 2``, or from
  quantiles by the quantile decomposition ``2 int_0^1 pinball_tau d tau`` on the given levels;
- ``winkler``, the interval score of a central ``(1 - alpha)`` interval:
  ``(upper - lower) + (2 / alpha) (lower - y) 1{y < lower} + (2 / alpha) (y - upper) 1{y > upper}``
  (Gneiting & Raftery 2007, eq. 43); lower is better.

:func:`summarize` computes them per window and averages over windows (and series).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "coverage",
    "crps_from_quantiles",
    "crps_from_samples",
    "gaussian_crps",
    "interval_width",
    "mae",
    "mase",
    "pinball_loss",
    "quantile_column",
    "quantile_levels",
    "rmse",
    "seasonal_naive_mae",
    "smape",
    "summarize",
    "summarize_series",
    "window_metrics",
    "winkler_score",
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


def _levels(quantiles, n: int) -> np.ndarray:
    levels = np.asarray(quantiles, dtype=np.float64).ravel()
    if levels.size != n or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(
            f"quantiles must be {n} probabilities in (0, 1), one per column of the last axis of the "
            f"quantile forecasts, got {quantiles!r}."
        )
    return levels


def _pinball_terms(y_true, y_quantiles, quantiles) -> np.ndarray:
    y = np.asarray(y_true, dtype=np.float64)
    q = np.asarray(y_quantiles, dtype=np.float64)
    if q.shape[:-1] != y.shape:
        raise ValueError(
            f"y_quantiles must have the shape of y_true plus a last axis of levels, got {q.shape} for "
            f"y_true of shape {y.shape}."
        )
    tau = _levels(quantiles, q.shape[-1])
    e = y[..., None] - q
    return np.maximum(tau * e, (tau - 1.0) * e)


def pinball_loss(y_true, y_quantiles, quantiles) -> float:
    """Mean pinball (quantile) loss, averaged over the values and the levels.

    Parameters
    ----------
    y_true : array-like of shape (...)
    y_quantiles : array-like of shape (..., K)
        Forecast quantiles, one per level along the last axis.
    quantiles : sequence of K float
        The levels.
    """
    return float(np.mean(_pinball_terms(y_true, y_quantiles, quantiles)))


def crps_from_quantiles(y_true, y_quantiles, quantiles) -> float:
    """CRPS approximated from quantiles: ``2 * mean over levels of the pinball loss``, averaged.

    Exact in the limit of a dense, evenly spaced grid of levels; with few levels it is the
    score of the forecast's quantiles only (e.g. 0.05, 0.5, 0.95), comparable between models
    that report the same levels.
    """
    return float(2.0 * np.mean(_pinball_terms(y_true, y_quantiles, quantiles)))


def crps_from_samples(y_true, samples) -> float:
    """CRPS of the empirical distribution of ``samples`` (last axis), averaged over ``y_true``.

    ``mean|X - y| - mean|X - X'| / 2`` over the ``S`` samples (the energy form; the second term
    computed from the sorted samples in ``O(S log S)``).
    """
    y = np.asarray(y_true, dtype=np.float64)
    x = np.sort(np.asarray(samples, dtype=np.float64), axis=-1)
    if x.shape[:-1] != y.shape:
        raise ValueError(
            f"samples must have the shape of y_true plus a last axis of draws, got {x.shape} for "
            f"y_true of shape {y.shape}."
        )
    s = x.shape[-1]
    first = np.mean(np.abs(x - y[..., None]), axis=-1)
    weights = 2.0 * np.arange(1, s + 1) - s - 1
    spread = 2.0 * np.sum(weights * x, axis=-1) / s**2  # mean |X - X'| over all pairs
    return float(np.mean(first - 0.5 * spread))


def gaussian_crps(y_true, mean, scale) -> float:
    """Closed-form CRPS of ``N(mean, scale^2)`` forecasts (Gneiting & Raftery 2007), averaged.

    ``scale * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with ``z = (y - mean) / scale``.
    """
    from scipy.stats import norm

    y, mu, sd = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (y_true, mean, scale)))
    z = (y - mu) / sd
    return float(np.mean(sd * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))))


def winkler_score(y_true, lower, upper, coverage: float) -> float:
    """Mean interval (Winkler) score of central intervals with nominal ``coverage`` (lower is better)."""
    y_true, lower, upper = _arrays(y_true, lower, upper)
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be a probability strictly between 0 and 1, got {coverage!r}.")
    alpha = 1.0 - coverage
    below = np.maximum(lower - y_true, 0.0)
    above = np.maximum(y_true - upper, 0.0)
    return float(np.mean(upper - lower + 2.0 / alpha * (below + above)))


def quantile_column(level: float) -> str:
    """Name of the backtest column of the quantile at ``level`` (``q0.05``)."""
    return f"q{float(level):g}"


def quantile_levels(columns) -> list[tuple[str, float]]:
    """``(column, level)`` of every quantile column of a backtest frame, in column order."""
    out = []
    for c in columns:
        if isinstance(c, str) and c.startswith("q"):
            try:
                out.append((c, float(c[1:])))
            except ValueError:
                continue
    return out


#: columns of :func:`summarize`, in order
SUMMARY_COLUMNS = [
    "mase",
    "mae",
    "rmse",
    "smape",
    "coverage",
    "width",
    "crps",
    "winkler",
    "fit_time",
    "predict_time",
    "n_windows",
]


def _window_metrics(g: pd.DataFrame) -> pd.Series:
    y, yhat = g["y_true"].to_numpy(), g["y_pred"].to_numpy()
    lower, upper = g["lower"].to_numpy(), g["upper"].to_numpy()
    has_interval = np.isfinite(lower).all() and np.isfinite(upper).all()
    nominal = g["nominal_coverage"].iloc[0] if "nominal_coverage" in g.columns else np.nan
    levels = quantile_levels(g.columns)
    q = g[[c for c, _ in levels]].to_numpy(dtype=np.float64)
    has_quantiles = bool(levels) and np.isfinite(q).all()
    return pd.Series(
        {
            "mase": mase(y, yhat, scale=g["mase_scale"].iloc[0]),
            "mae": mae(y, yhat),
            "rmse": rmse(y, yhat),
            "smape": smape(y, yhat),
            "coverage": coverage(y, lower, upper) if has_interval else np.nan,
            "width": interval_width(lower, upper) if has_interval else np.nan,
            "crps": crps_from_quantiles(y, q, [v for _, v in levels]) if has_quantiles else np.nan,
            "winkler": (
                winkler_score(y, lower, upper, nominal) if has_interval and np.isfinite(nominal) else np.nan
            ),
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
