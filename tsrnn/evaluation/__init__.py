"""Evaluation: rolling-origin backtests, forecast metrics and model comparison."""

from . import metrics
from ._backtest import backtest
from ._compare import compare
from ._panel_backtest import backtest_panel
from ._registry import MODELS, default_model_names, make_forecaster
from ._report import format_table, format_time, plot_forecasts, to_markdown
from ._season import infer_seasonal_period, regular_offset

__all__ = [
    "MODELS",
    "backtest",
    "backtest_panel",
    "compare",
    "default_model_names",
    "format_table",
    "format_time",
    "infer_seasonal_period",
    "make_forecaster",
    "metrics",
    "plot_forecasts",
    "regular_offset",
    "to_markdown",
]
