"""Evaluation: rolling-origin backtests, forecast metrics and model comparison."""

from . import metrics
from ._backtest import backtest
from ._compare import compare
from ._registry import MODELS, default_model_names, make_forecaster
from ._season import infer_seasonal_period, infer_seasonal_periods

__all__ = [
    "MODELS",
    "backtest",
    "compare",
    "default_model_names",
    "infer_seasonal_period",
    "infer_seasonal_periods",
    "make_forecaster",
    "metrics",
]
