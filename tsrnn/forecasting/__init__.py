"""pandas forecasting: the shared forecaster interface, windows and the Forecaster wrapper."""

from ._base import (
    BaseForecaster,
    TargetInfo,
    check_covers,
    check_horizon,
    check_series,
    check_time_index,
    future_index,
)
from ._forecaster import Forecaster, conformal_quantile
from ._panel import CALENDAR_FEATURES, Panel, calendar_features, is_panel, to_long, to_panel
from ._per_series import PerSeriesForecaster, check_forecaster_interface, fit_many
from ._plotting import plot_forecast
from ._recipe import RecurrentForecaster, input_window, recipe_estimator
from ._seasonal import DeseasonalizedForecaster, SeasonalComponents, check_periods, deseasonalize
from ._transforms import TargetTransform
from ._windows import make_windows

__all__ = [
    "CALENDAR_FEATURES",
    "BaseForecaster",
    "DeseasonalizedForecaster",
    "Forecaster",
    "Panel",
    "PerSeriesForecaster",
    "RecurrentForecaster",
    "SeasonalComponents",
    "TargetInfo",
    "TargetTransform",
    "calendar_features",
    "check_covers",
    "check_forecaster_interface",
    "check_horizon",
    "check_periods",
    "check_series",
    "check_time_index",
    "conformal_quantile",
    "deseasonalize",
    "fit_many",
    "future_index",
    "input_window",
    "is_panel",
    "make_windows",
    "plot_forecast",
    "recipe_estimator",
    "to_long",
    "to_panel",
]
