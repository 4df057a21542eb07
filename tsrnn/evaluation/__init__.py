"""Evaluation: rolling-origin backtests, forecast metrics and model comparison."""

from .._lazy import lazy_exports

# Imported on first use (PEP 562): the model registry (for `tsrnn --help`) without pandas,
# scikit-learn and statsmodels.
_EXPORTS = {
    "backtest": "._backtest",
    "compare": "._compare",
    "backtest_panel": "._panel_backtest",
    "MODELS": "._registry",
    "default_model_names": "._registry",
    "make_forecaster": "._registry",
    "prepare_workers": "._registry",
    "infer_seasonal_period": "._season",
    "infer_seasonal_periods": "._season",
    "regular_offset": "._season",
    "format_table": "._report",
    "format_time": "._report",
    "plot_forecasts": "._report",
    "to_markdown": "._report",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, ("metrics",))


__all__ = [
    "MODELS",
    "backtest",
    "backtest_panel",
    "compare",
    "default_model_names",
    "format_table",
    "format_time",
    "infer_seasonal_period",
    "infer_seasonal_periods",
    "make_forecaster",
    "metrics",
    "plot_forecasts",
    "prepare_workers",
    "regular_offset",
    "to_markdown",
]
