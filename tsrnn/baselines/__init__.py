"""Baseline forecasters sharing the forecaster interface: naive, ARIMA and a hidden Markov model."""

from ._arima import ARIMAForecaster, select_differencing, select_seasonal_differencing
from ._hmm import HMMForecaster
from ._naive import NaiveForecaster

__all__ = [
    "ARIMAForecaster",
    "HMMForecaster",
    "NaiveForecaster",
    "select_differencing",
    "select_seasonal_differencing",
]
