"""The estimator parameters are declared once: signatures, constraints and docs follow the table."""

from __future__ import annotations

import inspect
import re
from typing import ClassVar

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError, StrOptions

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
from tsrnn.estimators import BaseRecurrent, Parameter
from tsrnn.estimators._base import PARAMS_DOC
from tsrnn.estimators._regressor import _BaseRecurrentRegressor

LEADING = {
    RecurrentRegressor: ["cell"],
    RecurrentClassifier: ["cell"],
    RNNRegressor: ["nonlinearity"],
    RNNClassifier: ["nonlinearity"],
    LSTMRegressor: [],
    LSTMClassifier: [],
    GRURegressor: [],
    GRUClassifier: [],
}


@pytest.mark.parametrize("cls", list(LEADING), ids=lambda c: c.__name__)
def test_every_estimator_has_the_table_signature(cls):
    # Written out independently of the generator: positional leading parameters, then the
    # table's names as keyword-only parameters with the table's defaults.
    params = list(inspect.signature(cls).parameters.values())
    names = [p.name for p in params]
    family = _BaseRecurrentRegressor if issubclass(cls, _BaseRecurrentRegressor) else BaseRecurrent
    assert names == LEADING[cls] + list(family._parameters)
    # the shared table first, in its order; a family only appends its own parameters
    assert names[len(LEADING[cls]) :][: len(BaseRecurrent._parameters)] == list(BaseRecurrent._parameters)
    for p in params:
        expected = (
            inspect.Parameter.POSITIONAL_OR_KEYWORD
            if p.name in LEADING[cls]
            else inspect.Parameter.KEYWORD_ONLY
        )
        assert p.kind == expected
    assert cls().get_params()["hidden_size"] == 32
    assert cls().get_params()["dtype"] == "float32"
    assert set(cls._parameter_constraints) == set(names)


def test_every_parameter_is_documented_in_table_order():
    documented = re.findall(r"^    (\w+(?:, \w+)*) : ", PARAMS_DOC, flags=re.M)
    flat = [name for entry in documented for name in entry.split(", ")]
    assert flat == list(BaseRecurrent._parameters)


def test_a_new_parameter_is_one_row():
    class WithOption(_BaseRecurrentRegressor):
        _cell = "gru"
        _parameters: ClassVar[dict] = {
            **_BaseRecurrentRegressor._parameters,
            "option": Parameter("a", [StrOptions({"a"})]),
        }

    est = WithOption(hidden_size=4)
    assert est.get_params()["option"] == "a"
    assert clone(est.set_params(option="a")).get_params()["hidden_size"] == 4
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(InvalidParameterError, match="'option' parameter"):
        WithOption(option="b").fit(X, X[:, 0])
    # The original classes are not changed by the subclass.
    assert "option" not in RecurrentRegressor().get_params()


def test_init_only_stores_and_refuses_unknown_or_extra_positional_arguments():
    est = RecurrentRegressor("gru", hidden_size=-1)  # validated in fit, not here
    assert vars(est) == {**RecurrentRegressor().get_params(), "cell": "gru", "hidden_size": -1}
    with pytest.raises(TypeError, match="hiden_size"):
        RecurrentRegressor(hiden_size=3)
    with pytest.raises(TypeError):
        RecurrentRegressor("gru", 3)  # hidden_size is keyword-only, as in scikit-learn
