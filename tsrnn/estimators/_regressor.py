"""Recurrent regressors: RecurrentRegressor and the LSTM/GRU/RNN convenience classes."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from ..nn import mse_loss
from ._base import BaseRecurrent, ChosenCell, ElmanCell, _with_docs

__all__ = ["GRURegressor", "LSTMRegressor", "RNNRegressor", "RecurrentRegressor"]

_REGRESSOR_DOC = """{SUMMARY}

    Fits a recurrent network (stacked layers, optional bidirectionality and dropout, a
    dense output head on the final hidden state) with mini-batch Adam or SGD and returns
    one prediction per output column: ``y`` of shape ``(n_samples,)`` or ``(n_samples,
    horizon)`` (multi-output, e.g. direct multi-step forecasts). The loss is half the mean
    squared error on standardized targets.

    Parameters
    ----------
{LEADING}{PARAMS}
    Attributes
    ----------
{ATTRIBUTES}    target_mean_, target_scale_ : ndarray of shape (n_outputs_,) or None
        Target standardization (None when ``standardize=False``).
    n_outputs_ : int
        Number of target columns.

    See Also
    --------
    RecurrentClassifier : the classification twin.
    tsrnn.nn.RecurrentNetwork : the network and training engine underneath.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import {NAME}
    >>> t = np.arange(300)
    >>> series = np.sin(2 * np.pi * t / 25)
    >>> X = np.lib.stride_tricks.sliding_window_view(series[:-1], 20)  # 20 past values per row
    >>> y = series[20:]                                                 # the next value
    >>> model = {NAME}({EXAMPLE_ARGS}hidden_size=16, max_iter=30, random_state=0).fit(X, y)
    >>> model.predict(X[-2:]).shape
    (2,)
"""

_CELL_DOC = """\
    cell : {"lstm", "gru", "rnn_tanh", "rnn_relu"}, default="lstm"
        Recurrent cell: long short-term memory, gated recurrent unit, or Elman RNN with tanh
        or ReLU. An ordinary parameter, so ``GridSearchCV`` can search over it.
"""

_NONLINEARITY_DOC = """\
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of the Elman cell (``cell="rnn_tanh"`` or ``"rnn_relu"``).
"""


def _regressor_doc(name: str, summary: str, leading: str = "", example_args: str = "") -> str:
    return (
        _with_docs(_REGRESSOR_DOC)
        .replace("{SUMMARY}", summary)
        .replace("{LEADING}", leading)
        .replace("{NAME}", name)
        .replace("{EXAMPLE_ARGS}", example_args)
    )


class _BaseRecurrentRegressor(RegressorMixin, BaseRecurrent):
    """Target handling shared by every recurrent regressor."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _target_validation(self) -> dict:
        return {"multi_output": True, "y_numeric": True}

    def _prepare_targets(self, y, reset: bool, classes=None) -> np.ndarray:
        Y = np.asarray(y, dtype=np.float64)
        one_d = Y.ndim == 1
        Y = Y.reshape(-1, 1) if one_d else Y
        if reset:
            self._y_one_d = one_d
            self.n_outputs_ = Y.shape[1]
        elif Y.shape[1] != self.n_outputs_ or one_d != self._y_one_d:
            was = "(n_samples,)" if self._y_one_d else f"(n_samples, {self.n_outputs_})"
            raise ValueError(
                f"y has shape {np.shape(y)} but {type(self).__name__} was fitted on y of shape {was}."
            )
        return Y

    def _n_outputs(self, Y) -> int:
        return Y.shape[1]

    def _init_target_scaling(self, Y_train: np.ndarray) -> None:
        if self.standardize:
            self.target_mean_, self.target_scale_ = self._moments(Y_train)
        else:
            self.target_mean_ = self.target_scale_ = None

    def _scale_targets(self, Y: np.ndarray) -> np.ndarray:
        if self.target_mean_ is not None:
            Y = (Y - self.target_mean_) / self.target_scale_
        return np.ascontiguousarray(Y, dtype=self.network_.dtype)

    # The function itself (not a wrapper): device="cuda" training recognises it and runs its
    # device twin.
    _loss = staticmethod(mse_loss)

    @staticmethod
    def _score_outputs(output, target) -> float:
        # R^2 per column is unchanged by the per-column standardization, so the score on
        # standardized values equals the score in the original units.
        return r2_score(target, output)

    def predict(self, X) -> np.ndarray:
        """Predict the targets of ``X`` (in the original units).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)
            The same form as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs_), float64
        """
        out = self._forward(X).astype(np.float64)
        if self.target_mean_ is not None:
            out = out * self.target_scale_ + self.target_mean_
        return out.ravel() if self._y_one_d else out


class RecurrentRegressor(ChosenCell, _BaseRecurrentRegressor):
    __doc__ = _regressor_doc(
        "RecurrentRegressor",
        "Recurrent neural network regressor (RNN, LSTM or GRU) with a scikit-learn interface.",
        _CELL_DOC,
        'cell="gru", ',
    )


class LSTMRegressor(_BaseRecurrentRegressor):
    _cell = "lstm"

    __doc__ = _regressor_doc(
        "LSTMRegressor",
        'Long short-term memory regressor: :class:`RecurrentRegressor` with ``cell="lstm"``.',
    )


class GRURegressor(_BaseRecurrentRegressor):
    _cell = "gru"

    __doc__ = _regressor_doc(
        "GRURegressor",
        'Gated recurrent unit regressor: :class:`RecurrentRegressor` with ``cell="gru"``.',
    )


class RNNRegressor(ElmanCell, _BaseRecurrentRegressor):
    __doc__ = _regressor_doc(
        "RNNRegressor",
        'Elman recurrent network regressor: :class:`RecurrentRegressor` with ``cell="rnn_tanh"`` '
        'or ``"rnn_relu"``.',
        _NONLINEARITY_DOC,
        'nonlinearity="tanh", ',
    )
