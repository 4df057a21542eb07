"""pandas forecasting: the shared forecaster interface, windows and the Forecaster wrapper."""

from ._base import BaseForecaster, check_series, future_index

__all__ = ["BaseForecaster", "check_series", "future_index"]
