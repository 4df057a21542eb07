"""scikit-learn estimators over the recurrent network: regressors and classifiers.

``RecurrentRegressor``/``RecurrentClassifier`` take the cell as an ordinary parameter (so a
grid search can tune it); ``LSTM*``, ``GRU*`` and ``RNN*`` fix it and are full estimators too.
"""

from .._state import register as _register
from ._base import BaseRecurrent, Parameter
from ._classifier import GRUClassifier, LSTMClassifier, RecurrentClassifier, RNNClassifier
from ._regressor import GRURegressor, LSTMRegressor, RecurrentRegressor, RNNRegressor
from ._rows import FEATURE_LAYOUTS, INPUT_ORDERS, rows_to_sequences
from ._warm_up import find_recurrent, kernels_needed, recurrent_estimators, warm_up, with_device

for _cls in (
    RecurrentRegressor,
    LSTMRegressor,
    GRURegressor,
    RNNRegressor,
    RecurrentClassifier,
    LSTMClassifier,
    GRUClassifier,
    RNNClassifier,
):
    _register(_cls)

__all__ = [
    "FEATURE_LAYOUTS",
    "INPUT_ORDERS",
    "BaseRecurrent",
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "Parameter",
    "RNNClassifier",
    "RNNRegressor",
    "RecurrentClassifier",
    "RecurrentRegressor",
    "find_recurrent",
    "kernels_needed",
    "recurrent_estimators",
    "rows_to_sequences",
    "warm_up",
    "with_device",
]
