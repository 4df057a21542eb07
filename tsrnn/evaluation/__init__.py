"""Evaluation: rolling-origin backtests, forecast metrics and model comparison."""

import importlib

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


def __getattr__(name: str):
    if name == "metrics":
        value = importlib.import_module(".metrics", __name__)
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    else:
        raise AttributeError(f"module 'tsrnn.evaluation' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | {"metrics"})


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
