"""Recurrent classifiers: RecurrentClassifier and the LSTM/GRU/RNN convenience classes."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from ..nn import softmax, softmax_cross_entropy
from ._base import BaseRecurrent, ChosenCell, ElmanCell, _with_docs
from ._regressor import _CELL_DOC, _NONLINEARITY_DOC

__all__ = ["GRUClassifier", "LSTMClassifier", "RNNClassifier", "RecurrentClassifier"]

_CLASSIFIER_DOC = """{SUMMARY}

    Fits a recurrent network (stacked layers, optional bidirectionality and dropout, a
    dense head on the final hidden state producing one logit per class) by minimizing the
    softmax cross-entropy; binary problems use two logits, so binary and multiclass share
    one loss. Labels may be numbers or strings.

    Parameters
    ----------
{LEADING}{PARAMS}
    Attributes
    ----------
{ATTRIBUTES}    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted; the columns of :meth:`predict_proba`.

    See Also
    --------
    RecurrentRegressor : the regression twin.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import {NAME}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 10, 1))
    >>> y = np.where(X[:, 0, 0] > 0, "up", "down")   # the class is set by the first step
    >>> clf = {NAME}({EXAMPLE_ARGS}hidden_size=8, max_iter=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
"""


def _classifier_doc(name: str, summary: str, leading: str = "", example_args: str = "") -> str:
    return (
        _with_docs(_CLASSIFIER_DOC)
        .replace("{SUMMARY}", summary)
        .replace("{LEADING}", leading)
        .replace("{NAME}", name)
        .replace("{EXAMPLE_ARGS}", example_args)
    )


class _BaseRecurrentClassifier(ClassifierMixin, BaseRecurrent):
    """Label handling shared by every recurrent classifier."""

    _FITTED_STATE = (*BaseRecurrent._FITTED_STATE, "classes_")

    def _target_validation(self) -> dict:
        return {}

    def _prepare_targets(self, y, reset: bool, classes=None) -> np.ndarray:
        check_classification_targets(y)
        if reset:
            labels = unique_labels(y if classes is None else classes)
            if classes is not None and not np.isin(np.unique(y), labels).all():
                raise ValueError(
                    f"y has labels not in classes={list(labels)}: {sorted(set(np.unique(y)) - set(labels))}."
                )
            if labels.size < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes to learn from; got 1 class "
                    f"({labels[0]!r})."
                )
            self.classes_ = labels
        else:
            if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(
                    f"classes={list(classes)} differs from the classes_ {list(self.classes_)} seen first."
                )
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y has labels {list(unseen)} that were not seen when the model was first fitted "
                    f"(classes_ = {list(self.classes_)}); fit afresh with warm_start=False, or pass every "
                    "label as classes= to the first partial_fit."
                )
        return np.searchsorted(self.classes_, y).astype(np.intp)

    def _n_outputs(self, Y) -> int:
        return len(self.classes_)

    def _init_target_scaling(self, Y_train) -> None:
        pass

    def _scale_targets(self, Y: np.ndarray) -> np.ndarray:
        return Y

    # The function itself (not a wrapper): device="cuda" training recognises it and runs its
    # device twin.
    _loss = staticmethod(softmax_cross_entropy)

    @staticmethod
    def _score_outputs(output, target) -> float:
        return float(np.mean(np.argmax(output, axis=1) == target))

    def partial_fit(self, X, y, classes=None):
        """One epoch over ``X, y``, continuing from the current weights and optimizer state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every label that will ever appear; required on the first call (as in
            scikit-learn's other incremental classifiers), optional afterwards.

        Returns
        -------
        self
        """
        self._validate_params()
        if not hasattr(self, "params_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax of the head's logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
            Columns follow ``classes_``.
        """
        return softmax(self._forward(X).astype(np.float64))

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably from the logits."""
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict(self, X) -> np.ndarray:
        """Most probable class of every sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        codes = np.argmax(self._forward(X), axis=1)
        return self.classes_[codes]


class RecurrentClassifier(ChosenCell, _BaseRecurrentClassifier):
    __doc__ = _classifier_doc(
        "RecurrentClassifier",
        "Recurrent neural network classifier (RNN, LSTM or GRU) with a scikit-learn interface.",
        _CELL_DOC,
        'cell="gru", ',
    )


class LSTMClassifier(_BaseRecurrentClassifier):
    _cell = "lstm"

    __doc__ = _classifier_doc(
        "LSTMClassifier",
        'Long short-term memory classifier: :class:`RecurrentClassifier` with ``cell="lstm"``.',
    )


class GRUClassifier(_BaseRecurrentClassifier):
    _cell = "gru"

    __doc__ = _classifier_doc(
        "GRUClassifier",
        'Gated recurrent unit classifier: :class:`RecurrentClassifier` with ``cell="gru"``.',
    )


class RNNClassifier(ElmanCell, _BaseRecurrentClassifier):
    __doc__ = _classifier_doc(
        "RNNClassifier",
        'Elman recurrent network classifier: :class:`RecurrentClassifier` with ``cell="rnn_tanh"`` '
        'or ``"rnn_relu"``.',
        _NONLINEARITY_DOC,
        'nonlinearity="tanh", ',
    )
