"""scikit-learn estimators over the recurrent network: regressors and classifiers.

``RecurrentRegressor``/``RecurrentClassifier`` take the cell as an ordinary parameter (so a
grid search can tune it); ``LSTM*``, ``GRU*`` and ``RNN*`` fix it and are full estimators too.
"""

from .._state import register as _register
from ._base import BaseRecurrent
from ._classifier import GRUClassifier, LSTMClassifier, RecurrentClassifier, RNNClassifier
from ._persist import get_state as _get_state
from ._persist import set_state as _set_state
from ._regressor import GRURegressor, LSTMRegressor, RecurrentRegressor, RNNRegressor
from ._warm_up import recurrent_estimators, warm_up

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
    _register(_cls, _get_state, _set_state)

__all__ = [
    "BaseRecurrent",
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "RecurrentClassifier",
    "RecurrentRegressor",
    "recurrent_estimators",
    "warm_up",
]
