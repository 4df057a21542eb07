"""scikit-learn estimators over the recurrent network: regressors and classifiers.

``RecurrentRegressor``/``RecurrentClassifier`` take the cell as an ordinary parameter (so a
grid search can tune it); ``LSTM*``, ``GRU*`` and ``RNN*`` fix it and are full estimators too.
"""

from .._state import register as _register
from ._base import BaseRecurrent, Parameter
from ._classifier import GRUClassifier, LSTMClassifier, RecurrentClassifier, RNNClassifier
from ._regressor import GRURegressor, LSTMRegressor, RecurrentRegressor, RNNRegressor
from ._warm_up import find_recurrent, recurrent_estimators, warm_up, with_device

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
    "recurrent_estimators",
    "warm_up",
    "with_device",
]
