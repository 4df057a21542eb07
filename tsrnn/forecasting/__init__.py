"""pandas forecasting: the shared forecaster interface, windows and the Forecaster wrapper."""

from ._base import BaseForecaster, check_series, future_index
from ._forecaster import Forecaster, conformal_quantile
from ._per_series import PerSeriesForecaster, fit_many
from ._plotting import plot_forecast
from ._recipe import RecurrentForecaster, input_window
from ._transforms import TargetTransform
from ._windows import make_windows

__all__ = [
    "BaseForecaster",
    "Forecaster",
    "PerSeriesForecaster",
    "RecurrentForecaster",
    "TargetTransform",
    "check_series",
    "conformal_quantile",
    "fit_many",
    "future_index",
    "input_window",
    "make_windows",
    "plot_forecast",
]
