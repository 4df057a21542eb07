"""Human-readable outputs of a comparison: text and markdown tables, the forecasts figure."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["format_table", "format_time", "plot_forecasts", "to_markdown"]


def format_time(label) -> str:
    """A time label for people: dates without a midnight time, periods and integers as they are."""
    if isinstance(label, pd.Timestamp) and label == label.normalize():
        return str(label.date())
    return str(label)


# (summary column, header, format): a positive number of digits gives the whole column the
# same number of decimals, enough for that many significant digits of its largest value, so
# that the values line up and compare at a glance; a negative one gives each value that many
# significant digits, trailing zeros kept (the times span several orders of magnitude); a string
# is the format.
_DISPLAY = [
    ("mase", "MASE", "{:.3f}"),
    ("mae", "MAE", 4),
    ("rmse", "RMSE", 4),
    ("smape", "sMAPE %", 3),
    ("coverage", "coverage", "{:.0%}"),
    ("width", "width", 4),
    ("crps", "CRPS", 4),
    ("winkler", "Winkler", 4),
    ("fit_time", "fit s", -3),
    ("predict_time", "predict s", -3),
]


def _decimals(values: np.ndarray, significant: int) -> int:
    """Decimals that give the largest finite ``|value|`` ``significant`` significant digits."""
    finite = np.abs(values[np.isfinite(values)])
    largest = finite.max() if finite.size else 0.0
    if largest == 0.0:
        return significant - 1
    return max(0, significant - 1 - math.floor(math.log10(largest)))


def _significant(value: float, significant: int) -> str:
    """``value`` with ``significant`` significant digits, trailing zeros kept (0.110, not 0.11)."""
    return f"{value:.{_decimals(np.array([value]), significant)}f}"


def _column_format(values: np.ndarray, digits: int | str) -> Callable[[float], str]:
    if isinstance(digits, str):
        return digits.format
    if digits < 0:
        return functools.partial(_significant, significant=-digits)
    return f"{{:.{_decimals(values, digits)}f}}".format


def _cells(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["rank", "model"] + [h for _, h, _ in _DISPLAY]
    formats = {}
    for col, _, digits in _DISPLAY:
        values = pd.to_numeric(summary[col], errors="coerce") if col in summary else pd.Series(dtype=float)
        formats[col] = _column_format(values.to_numpy(dtype=np.float64), digits)
    rows = []
    for rank, (model, row) in enumerate(summary.iterrows(), start=1):
        cells = [str(rank), str(model)]
        for col, _, _ in _DISPLAY:
            value = row.get(col, np.nan)
            cells.append(
                "-"
                if value is None or (isinstance(value, float) and math.isnan(value))
                else formats[col](value)
            )
        rows.append(cells)
    return header, rows


def format_table(summary: pd.DataFrame) -> str:
    """The summary of :func:`tsrnn.compare` as an aligned plain-text table."""
    header, rows = _cells(summary)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 1 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def to_markdown(summary: pd.DataFrame) -> str:
    """The summary of :func:`tsrnn.compare` as a GitHub-flavoured markdown table."""
    header, rows = _cells(summary)
    align = ["---:", ":---"] + ["---:"] * (len(header) - 2)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _time_axis(index: pd.Index):
    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp()
    return index


def _central_pairs(frame: pd.DataFrame) -> list[tuple[tuple[str, float], tuple[str, float]]]:
    """Quantile columns paired into central bands ``(tau, 1 - tau)``, widest first."""
    from .metrics import quantile_levels

    levels = quantile_levels(frame.columns)
    pairs = []
    for col, tau in levels:
        if tau < 0.5:
            match = [(c, t) for c, t in levels if np.isclose(t, 1.0 - tau)]
            if match:
                pairs.append(((col, tau), match[0]))
    return sorted(pairs, key=lambda p: p[0][1])


def _fan_bands(g: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """The finite central quantile bands of one model's window (empty when none were recorded)."""
    out = []
    for (lo_col, _), (hi_col, _) in _central_pairs(g):
        lo, hi = g[lo_col].to_numpy(dtype=np.float64), g[hi_col].to_numpy(dtype=np.float64)
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            out.append((lo, hi))
    return out


def plot_forecasts(
    results: pd.DataFrame,
    y,
    summary: pd.DataFrame | None = None,
    window: int | None = None,
    history: int | None = None,
    series=None,
    title: str | None = None,
    coverage: float | None = None,
    path=None,
):
    """Small multiples of one backtest window: each model's forecast and interval against the truth.

    Where the results hold quantile columns (``q0.05``, ...), the central bands they form
    (``q0.05``-``q0.95``, ``q0.25``-``q0.75``, ...) are shaded as a fan and the interval is
    drawn dashed.

    Parameters
    ----------
    results : DataFrame
        Tidy results of :func:`tsrnn.backtest` / ``compare(..., return_results=True)``.
    y : Series or DataFrame
        The series the results come from (for the history and the truth).
    summary : DataFrame, optional
        The summary of :func:`tsrnn.compare`: orders the panels (best first) and puts each
        model's MASE in its title.
    window : int, optional
        Window to show (default: the last).
    history : int, optional
        Observations before the cutoff to show (default: four horizons, at least 30).
    series : optional
        Column of a DataFrame ``y`` to show (default: the first).
    title : str, optional
    coverage : float, optional
        Nominal coverage of the intervals, for the title.
    path : str or path-like, optional
        Save the figure there (PNG, 130 dpi).

    Returns
    -------
    matplotlib.figure.Figure
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib, which is not installed; install it with "
            "pip install 'tsrnn[plot]' (or pip install matplotlib)."
        ) from exc

    data = results
    if "series" in data.columns:
        series = data["series"].iloc[0] if series is None else series
        data = data[data["series"] == series]
    y_s = y[series] if isinstance(y, pd.DataFrame) else y
    window = int(data["window"].max()) if window is None else window
    data = data[data["window"] == window]
    models = list(summary.index) if summary is not None else list(dict.fromkeys(data["model"]))
    models = [m for m in models if m in set(data["model"])]
    horizon = int(data["step_ahead"].max())
    history = max(4 * horizon, 30) if history is None else history

    first = data[data["model"] == models[0]]
    pos = y_s.index.get_loc(first["timestamp"].iloc[0])
    past = y_s.iloc[max(0, pos - history) : pos]
    truth = y_s.iloc[pos : pos + horizon]
    x_past, x_truth = _time_axis(past.index), _time_axis(truth.index)

    n = len(models)
    ncols = 1 if n == 1 else 2 if n <= 4 else 3
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5.4 * ncols, 3.1 * nrows + 0.6), sharex=True, sharey=True, squeeze=False
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, model in enumerate(models):
        ax = axes[i // ncols][i % ncols]
        g = data[data["model"] == model].sort_values("step_ahead")
        color = colors[i % len(colors)]
        ax.plot(x_past, past.to_numpy(), color="0.45", lw=1.2, label="history")
        # Join the last observation to the first true value, so the truth reads as a continuation.
        ax.plot(
            _time_axis(past.index[-1:].append(truth.index)),
            np.r_[past.to_numpy()[-1:], truth.to_numpy()],
            color="black",
            lw=1.6,
            marker="o",
            ms=3,
            label="actual",
        )
        lower, upper = g["lower"].to_numpy(), g["upper"].to_numpy()
        has_interval = np.isfinite(lower).all() and np.isfinite(upper).all()
        bands = _fan_bands(g)
        for k, (lo, hi) in enumerate(bands):
            # nested central bands: overlapping shades darken towards the median
            ax.fill_between(
                x_truth, lo, hi, color=color, alpha=0.18, lw=0, label="quantile fan" if k == 0 else None
            )
        if has_interval and bands:
            ax.plot(x_truth, lower, color=color, lw=0.8, ls="--", label="interval")
            ax.plot(x_truth, upper, color=color, lw=0.8, ls="--")
        elif has_interval:
            ax.fill_between(x_truth, lower, upper, color=color, alpha=0.22, lw=0, label="interval")
        ax.plot(x_truth, g["y_pred"].to_numpy(), color=color, lw=2.0, marker="s", ms=3, label="forecast")
        ax.axvline(x_past[-1], color="0.6", ls=":", lw=1)
        label = model
        if summary is not None and model in summary.index:
            err = np.abs(g["y_true"].to_numpy() - g["y_pred"].to_numpy()).mean() / g["mase_scale"].iloc[0]
            label += f"  -  MASE {summary.loc[model, 'mase']:.2f} (this window {err:.2f})"
        ax.set_title(label, fontsize=10, loc="left")
        ax.grid(alpha=0.25)
        if i == 0:
            ax.legend(fontsize=8, loc="upper left", frameon=False, ncol=2)
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
        # The panel above an empty slot is the last of its column: give it the date labels.
        axes[j // ncols - 1][j % ncols].xaxis.set_tick_params(labelbottom=True)
    for ax in axes[-1]:
        ax.tick_params(axis="x", labelrotation=0)
    cutoff = format_time(first["cutoff"].iloc[0])
    coverage_note = ""
    share = f"{coverage:.0%} " if coverage is not None else ""
    pairs = _central_pairs(data)
    if pairs and any(_fan_bands(data[data["model"] == m]) for m in models):
        levels = ", ".join(f"{hi - lo:.0%}" for (_, lo), (_, hi) in pairs)
        coverage_note = f", shaded: quantile fan ({levels} central)"
        if np.isfinite(data["lower"].to_numpy()).any():
            coverage_note += f", dashed: {share}prediction interval"
    elif np.isfinite(data["lower"].to_numpy()).any():
        coverage_note = f", shaded: {share}prediction interval"
    fig.suptitle(
        (title + ": " if title else "") + f"forecasts from {cutoff} ({horizon} steps ahead{coverage_note})",
        fontsize=11,
    )
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=130)
    return fig
