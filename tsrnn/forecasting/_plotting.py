"""Plot a forecast with its history and interval (matplotlib, imported only when called)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _x(index: pd.Index):
    # matplotlib has no converter for Periods: plot them at their start timestamps
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def plot_forecast(
    history: pd.Series,
    forecast: pd.Series,
    interval: pd.DataFrame | None = None,
    actual: pd.Series | None = None,
    *,
    others: dict[str, pd.Series] | None = None,
    coverage: float | None = None,
    ax=None,
    title: str | None = None,
):
    """Draw ``history``, ``forecast`` (with its ``interval`` band) and optionally the ``actual``
    values of the forecast period and ``others`` forecasts (e.g. a baseline) for comparison.

    Parameters
    ----------
    history, forecast : pandas.Series
        Observed values and point forecasts, indexed by time (Datetime, Period or integer).
    interval : pandas.DataFrame, optional
        Columns ``lower`` and ``upper`` on the forecast index (:meth:`predict_interval`).
    actual : pandas.Series, optional
        Held-out observations of the forecast period.
    others : dict of str to pandas.Series, optional
        More forecasts to draw as dashed lines, by label.
    coverage : float, optional
        Nominal coverage of ``interval``, for the legend.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'tsrnn[plot]'.") from exc
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    x_hist, y_hist = _x(history.index), history.to_numpy()
    ax.plot(x_hist, y_hist, color="0.25", lw=1.2, label="history")

    def joined(series: pd.Series):
        # start every forecast-period line at the last observation, so nothing floats in a gap
        x = _x(series.index)
        return [x_hist[-1], *x], np.r_[y_hist[-1], np.asarray(series, dtype=float)]

    if interval is not None:
        label = "interval" if coverage is None else f"{coverage:.0%} interval"
        x, lower = joined(interval["lower"])
        _, upper = joined(interval["upper"])
        ax.fill_between(x, lower, upper, color="tab:blue", alpha=0.22, lw=0, label=label)
    if actual is not None:
        ax.plot(*joined(actual), color="black", lw=1.0, marker="o", ms=2.5, label="actual (held out)")
    ax.plot(*joined(forecast), color="tab:blue", lw=1.8, label="forecast")
    for i, (name, series) in enumerate((others or {}).items()):
        ax.plot(*joined(series), ls="--", lw=1.2, color=f"C{i + 1}", label=name)
    ax.axvline(x_hist[-1], color="0.6", lw=0.8)
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax
