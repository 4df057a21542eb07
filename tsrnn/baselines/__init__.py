"""Baseline forecasters sharing the forecaster interface: naive, ARIMA, ETS, Theta and an HMM."""

from ._arima import ARIMAForecaster, select_differencing, select_seasonal_differencing
from ._ets import ETSForecaster
from ._hmm import HMMForecaster
from ._naive import NaiveForecaster
from ._theta import ThetaForecaster

__all__ = [
    "ARIMAForecaster",
    "ETSForecaster",
    "HMMForecaster",
    "NaiveForecaster",
    "ThetaForecaster",
    "select_differencing",
    "select_seasonal_differencing",
]
