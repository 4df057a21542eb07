"""tsrnn: recurrent neural networks for time-series forecasting.

Numba-jitted CPU (and optional CUDA) kernels for Elman RNN, LSTM and GRU cells behind a
scikit-learn estimator API, with pandas forecasting workflows and classical baselines.
"""

from . import datasets, functional
from ._layout import CELLS
from .baselines import ARIMAForecaster, HMMForecaster, NaiveForecaster
from .evaluation import backtest, compare, metrics

__version__ = "0.1.0"

__all__ = [
    "CELLS",
    "ARIMAForecaster",
    "HMMForecaster",
    "NaiveForecaster",
    "__version__",
    "backtest",
    "compare",
    "datasets",
    "functional",
    "metrics",
]
