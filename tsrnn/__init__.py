"""tsrnn: recurrent neural networks for time-series forecasting.

Numba-jitted CPU (and optional CUDA) kernels for Elman RNN, LSTM and GRU cells behind a
scikit-learn estimator API, with pandas forecasting workflows and classical baselines.
"""

from . import datasets, functional
from ._layout import CELLS
from ._persistence import load, save
from ._version import __version__
from .baselines import ARIMAForecaster, ETSForecaster, HMMForecaster, NaiveForecaster, ThetaForecaster
from .estimators import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    RNNClassifier,
    RNNRegressor,
)
from .evaluation import backtest, compare, metrics
from .forecasting import Forecaster, PerSeriesForecaster, fit_many, make_windows
from .kernels import cuda_available

__all__ = [
    "CELLS",
    "ARIMAForecaster",
    "ETSForecaster",
    "Forecaster",
    "GRUClassifier",
    "GRURegressor",
    "HMMForecaster",
    "LSTMClassifier",
    "LSTMRegressor",
    "NaiveForecaster",
    "PerSeriesForecaster",
    "RNNClassifier",
    "RNNRegressor",
    "RecurrentClassifier",
    "RecurrentRegressor",
    "ThetaForecaster",
    "__version__",
    "backtest",
    "compare",
    "cuda_available",
    "datasets",
    "fit_many",
    "functional",
    "load",
    "make_windows",
    "metrics",
    "save",
]
