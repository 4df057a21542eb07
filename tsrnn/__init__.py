"""tsrnn: recurrent neural networks for time-series forecasting.

Numba-jitted CPU (and optional CUDA) kernels for Elman RNN, LSTM and GRU cells behind a
scikit-learn estimator API, with pandas forecasting workflows and classical baselines.
"""

from ._lazy import lazy_exports
from ._version import __version__

# Public names and the module that defines each. They are imported on first use (PEP 562), so
# `import tsrnn` and `tsrnn --help` do not pay for pandas, scikit-learn, statsmodels, numba and
# the kernels until something needs them.
_EXPORTS = {
    "CELLS": "._layout",
    "load": "._persistence",
    "save": "._persistence",
    "ARIMAForecaster": ".baselines",
    "ETSForecaster": ".baselines",
    "HMMForecaster": ".baselines",
    "NaiveForecaster": ".baselines",
    "ThetaForecaster": ".baselines",
    "GRUClassifier": ".estimators",
    "GRURegressor": ".estimators",
    "LSTMClassifier": ".estimators",
    "LSTMRegressor": ".estimators",
    "RecurrentClassifier": ".estimators",
    "RecurrentRegressor": ".estimators",
    "RNNClassifier": ".estimators",
    "RNNRegressor": ".estimators",
    "backtest": ".evaluation",
    "compare": ".evaluation",
    "metrics": ".evaluation",
    "Forecaster": ".forecasting",
    "PerSeriesForecaster": ".forecasting",
    "RecurrentForecaster": ".forecasting",
    "fit_many": ".forecasting",
    "make_windows": ".forecasting",
    "cuda_available": ".kernels",
}
_SUBMODULES = ("datasets", "functional")


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)


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
    "RecurrentForecaster",
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
