"""Recurrent classifiers: RecurrentClassifier and the LSTM/GRU/RNN convenience classes."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from .._layout import CELLS
from ..nn import softmax, softmax_cross_entropy
from ._base import BaseRecurrent, _with_docs
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

    def fit(self, X, y):
        """Fit the network to sequences ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)
            One sequence per row.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings), at least two distinct.

        Returns
        -------
        self
        """
        self._validate_params()
        return self._fit(X, y, incremental=False)

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


class RecurrentClassifier(_BaseRecurrentClassifier):
    _parameter_constraints: ClassVar[dict] = {
        **BaseRecurrent._parameter_constraints,
        "cell": [StrOptions(set(CELLS))],
    }

    def __init__(
        self,
        cell="lstm",
        *,
        hidden_size=32,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        input_size=None,
        input_order="oldest_first",
        feature_layout="interleaved",
        static_features=0,
        channels_first=False,
        solver="adam",
        learning_rate=0.005,
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.0,
        batch_size=32,
        max_iter=200,
        shuffle=True,
        clip_norm=1.0,
        clip_value=None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        standardize=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        device="cpu",
        dtype="float32",
    ):
        self.cell = cell
        super().__init__(
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            input_size=input_size,
            input_order=input_order,
            feature_layout=feature_layout,
            static_features=static_features,
            channels_first=channels_first,
            solver=solver,
            learning_rate=learning_rate,
            momentum=momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_iter=max_iter,
            shuffle=shuffle,
            clip_norm=clip_norm,
            clip_value=clip_value,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            standardize=standardize,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
            device=device,
            dtype=dtype,
        )

    def _cell_name(self) -> str:
        return self.cell

    __doc__ = _classifier_doc(
        "RecurrentClassifier",
        "Recurrent neural network classifier (RNN, LSTM or GRU) with a scikit-learn interface.",
        _CELL_DOC,
        'cell="gru", ',
    )


class LSTMClassifier(_BaseRecurrentClassifier):
    def _cell_name(self) -> str:
        return "lstm"

    __doc__ = _classifier_doc(
        "LSTMClassifier",
        'Long short-term memory classifier: :class:`RecurrentClassifier` with ``cell="lstm"``.',
    )


class GRUClassifier(_BaseRecurrentClassifier):
    def _cell_name(self) -> str:
        return "gru"

    __doc__ = _classifier_doc(
        "GRUClassifier",
        'Gated recurrent unit classifier: :class:`RecurrentClassifier` with ``cell="gru"``.',
    )


class RNNClassifier(_BaseRecurrentClassifier):
    _parameter_constraints: ClassVar[dict] = {
        **BaseRecurrent._parameter_constraints,
        "nonlinearity": [StrOptions({"tanh", "relu"})],
    }

    def __init__(
        self,
        nonlinearity="tanh",
        *,
        hidden_size=32,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        input_size=None,
        input_order="oldest_first",
        feature_layout="interleaved",
        static_features=0,
        channels_first=False,
        solver="adam",
        learning_rate=0.005,
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.0,
        batch_size=32,
        max_iter=200,
        shuffle=True,
        clip_norm=1.0,
        clip_value=None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        standardize=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        device="cpu",
        dtype="float32",
    ):
        self.nonlinearity = nonlinearity
        super().__init__(
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            input_size=input_size,
            input_order=input_order,
            feature_layout=feature_layout,
            static_features=static_features,
            channels_first=channels_first,
            solver=solver,
            learning_rate=learning_rate,
            momentum=momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_iter=max_iter,
            shuffle=shuffle,
            clip_norm=clip_norm,
            clip_value=clip_value,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            standardize=standardize,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
            device=device,
            dtype=dtype,
        )

    def _cell_name(self) -> str:
        return f"rnn_{self.nonlinearity}"

    __doc__ = _classifier_doc(
        "RNNClassifier",
        'Elman recurrent network classifier: :class:`RecurrentClassifier` with ``cell="rnn_tanh"`` '
        'or ``"rnn_relu"``.',
        _NONLINEARITY_DOC,
        'nonlinearity="tanh", ',
    )
