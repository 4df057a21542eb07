"""scikit-learn's own estimator checks on every public estimator.

The instances are cheap but really train (small networks, few epochs, a learning rate that
gets there fast): the checks include accuracy > 0.83 and R^2 > 0.5 on their own data sets.
Early stopping is off in them because ``check_regressors_train`` scores the training set,
while early stopping restores the weights that score best on 20 held-out noisy samples
(tests/estimators/test_estimators.py and tests/nn/test_training.py cover early stopping). The
default regressors, as they are, pass the same checks (marked slow: they train for up to 200
epochs).
"""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_methods_sample_order_invariance,
    check_methods_subset_invariance,
    parametrize_with_checks,
)

from tsrnn import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    RNNClassifier,
    RNNRegressor,
)

CHEAP = dict(hidden_size=16, max_iter=40, learning_rate=0.01, batch_size=16, early_stopping=False)

INSTANCES = [
    RecurrentRegressor(**CHEAP),
    LSTMRegressor(**CHEAP),
    GRURegressor(**CHEAP),
    RNNRegressor(**CHEAP),
    RNNRegressor("relu", **CHEAP),
    RecurrentClassifier(**CHEAP),
    LSTMClassifier(**CHEAP),
    GRUClassifier(**CHEAP),
    RNNClassifier(**CHEAP),
    # every loss other than the default squared error
    RecurrentRegressor(loss="absolute_error", **CHEAP),
    RecurrentRegressor(loss="huber", huber_delta=0.5, **CHEAP),
    RecurrentRegressor(loss="quantile", quantiles=(0.1, 0.5, 0.9), **CHEAP),
    RecurrentRegressor(loss="gaussian", **CHEAP),
    RecurrentRegressor(loss="student_t", **CHEAP),
]


@parametrize_with_checks(INSTANCES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# The default constructors as they are (early_stopping="auto": off on these small data sets,
# so check_regressors_train scores a network trained on all of its samples), one per cell:
# RecurrentRegressor() is LSTMRegressor() with every parameter equal (the API of each class is
# checked above).
@pytest.mark.slow
@parametrize_with_checks([LSTMRegressor(), GRURegressor(), RNNRegressor()])
def test_sklearn_compatible_defaults(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [check_methods_sample_order_invariance, check_methods_subset_invariance])
@pytest.mark.parametrize(
    "estimator", INSTANCES, ids=lambda e: type(e).__name__ + getattr(e, "nonlinearity", "")
)
def test_batch_invariance_in_float64(estimator, check):
    estimator = clone(estimator).set_params(dtype="float64")
    check(type(estimator).__name__, estimator)
