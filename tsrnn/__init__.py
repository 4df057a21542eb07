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

__version__ = "0.1.0"

__all__ = [
    "CELLS",
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "RecurrentClassifier",
    "RecurrentRegressor",
    "__version__",
    "functional",
]
