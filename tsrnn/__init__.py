"""tsrnn: recurrent neural networks for time-series forecasting.

Numba-jitted CPU (and optional CUDA) kernels for Elman RNN, LSTM and GRU cells behind a
scikit-learn estimator API, with pandas forecasting workflows and classical baselines.
"""

from . import functional
from ._layout import CELLS
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
from .forecasting import Forecaster, make_windows
from .kernels import cuda_available

__version__ = "0.1.0"

__all__ = [
    "CELLS",
    "Forecaster",
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "RecurrentClassifier",
    "RecurrentRegressor",
    "__version__",
    "cuda_available",
    "functional",
    "make_windows",
]
