"""Recurrent regressors: RecurrentRegressor and the LSTM/GRU/RNN convenience classes."""

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._layout import CELLS
from .._validation import check_positive_int
from ..nn import REGRESSION_LOSSES, RegressionLoss, check_quantile_levels, make_regression_loss, mse_loss
from ._base import MIN_VALIDATION_SAMPLES, BaseRecurrent, ChosenCell, ElmanCell, Parameter, _with_docs


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """:func:`sklearn.metrics.r2_score` (uniform average over outputs) of two float arrays.

    The same arithmetic in the same order, so the same value to the last bit, without the
    argument checks that cost more than the score itself once per epoch; other inputs go to
    ``r2_score``.
    """
    if not (
        isinstance(y_true, np.ndarray)
        and isinstance(y_pred, np.ndarray)
        and y_true.dtype.kind == y_pred.dtype.kind == "f"
        and y_true.shape == y_pred.shape
        and 1 <= y_true.ndim <= 2
        and len(y_true) >= 2
        and np.isfinite(y_true).all()
        and np.isfinite(y_pred).all()
    ):
        return r2_score(y_true, y_pred)
    dtype = np.result_type(y_true, y_pred)
    yt = y_true.astype(dtype, copy=False).reshape(len(y_true), -1)
    yp = y_pred.astype(dtype, copy=False).reshape(len(y_pred), -1)
    numerator = np.sum((yt - yp) ** 2, axis=0)
    denominator = np.sum((yt - np.average(yt, axis=0)) ** 2, axis=0)
    nonzero_numerator, nonzero_denominator = numerator != 0, denominator != 0
    scores = np.ones(yt.shape[1], dtype=numerator.dtype)
    valid = nonzero_denominator & nonzero_numerator
    scores[valid] = 1 - (numerator[valid] / denominator[valid])
    scores[nonzero_numerator & ~nonzero_denominator] = 0.0
    return float(np.average(scores))


__all__ = ["GRURegressor", "LSTMRegressor", "RNNRegressor", "RecurrentRegressor"]

_REGRESSOR_DOC = """{SUMMARY}

    Fits a recurrent network (stacked layers, optional bidirectionality and dropout, a
    dense output head on the final hidden state) with mini-batch Adam or SGD and returns
    one prediction per output column: ``y`` of shape ``(n_samples,)`` or ``(n_samples,
    horizon)`` (multi-output, e.g. direct multi-step forecasts). The loss (``loss``) is
    computed on standardized targets; the probabilistic losses give a predictive
    distribution per sample (:meth:`predict_distribution`, :meth:`predict_quantiles`,
    :meth:`sample`; docs/probabilistic.md).

    Parameters
    ----------
{LEADING}{PARAMS}{LOSS}
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

_CELL_DOC = f"""\
    cell : {{{", ".join(f'"{name}"' for name in CELLS)}}}, default="lstm"
        Recurrent cell (a key of :data:`tsrnn.CELLS`): long short-term memory, gated recurrent
        unit, or Elman RNN with tanh or ReLU. An ordinary parameter, so ``GridSearchCV`` can
        search over it.
"""

_NONLINEARITY_DOC = """\
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of the Elman cell (``cell="rnn_tanh"`` or ``"rnn_relu"``).
"""


_LOSS_DOC = """\
    loss : {"squared_error", "absolute_error", "huber", "quantile", "gaussian", "student_t"}, \
default="squared_error"
        What the network is trained to minimise, per (standardized) target. Point losses:
        half the squared error (``predict`` gives the mean), the absolute error (the median),
        Huber's loss with threshold ``huber_delta``. ``"quantile"``: one head output per level
        of ``quantiles``, trained on the summed pinball losses; the quantiles are the lowest
        plus cumulative softplus increments, so they never cross; ``predict`` gives the
        median. ``"gaussian"``: mean and standard deviation, trained on the negative
        log-likelihood; ``"student_t"``: location, scale and degrees of freedom (above 2);
        ``predict`` gives the mean of either. The head has one output per target times the
        distribution's parameters. ``device="cuda"`` trains ``"squared_error"`` only.
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Levels of ``loss="quantile"``: increasing, in (0, 1), at least two, spanning 0.5.
    huber_delta : float, default=1.0
        Threshold of ``loss="huber"``, in standardized target units (with ``standardize``).
"""


def _regressor_doc(name: str, summary: str, leading: str = "", example_args: str = "") -> str:
    return (
        _with_docs(_REGRESSOR_DOC)
        .replace("{LOSS}", _LOSS_DOC)
        .replace("{SUMMARY}", summary)
        .replace("{LEADING}", leading)
        .replace("{NAME}", name)
        .replace("{EXAMPLE_ARGS}", example_args)
    )


class _BaseRecurrentRegressor(RegressorMixin, BaseRecurrent):
    """Target handling shared by every recurrent regressor."""

    _FITTED_STATE = (*BaseRecurrent._FITTED_STATE, "n_outputs_", "target_mean_", "target_scale_", "_y_one_d")

    _parameters: ClassVar[dict[str, Parameter]] = {
        **BaseRecurrent._parameters,
        "loss": Parameter("squared_error", [StrOptions(set(REGRESSION_LOSSES))]),
        "quantiles": Parameter((0.1, 0.5, 0.9), ["array-like"]),
        "huber_delta": Parameter(1.0, [Interval(Real, 0, None, closed="neither")]),
    }

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
        return Y.shape[1] * self._loss_function().n_params

    def _init_target_scaling(self, Y_train: np.ndarray) -> None:
        if self.standardize:
            self.target_mean_, self.target_scale_ = self._moments(Y_train)
        else:
            self.target_mean_ = self.target_scale_ = None

    def _scale_targets(self, Y: np.ndarray) -> np.ndarray:
        if self.target_mean_ is not None:
            Y = (Y - self.target_mean_) / self.target_scale_
        return np.ascontiguousarray(Y, dtype=self.network_.dtype)

    # -- the loss and the distribution of its head ------------------------------------------

    def _loss_config(self) -> dict:
        """The loss settings as fit records them (a change needs a fresh fit)."""
        loss = self.loss
        config = {"loss": loss}
        if loss == "quantile":
            levels = check_quantile_levels(self.quantiles, need_median=True)
            config["quantiles"] = [float(q) for q in levels]
        elif loss == "huber":
            config["huber_delta"] = float(self.huber_delta)
        return config

    def _architecture(self, cell: str) -> dict:
        # the loss fixes the head's outputs per target, so warm starts must keep it
        return {**super()._architecture(cell), **self._loss_config()}

    def _loss_function(self) -> RegressionLoss:
        """The fitted loss and its distribution (from the settings recorded by fit)."""
        config = getattr(self, "_fitted_config", None) or self._loss_config()
        return make_regression_loss(
            config.get("loss", "squared_error"),
            quantiles=config.get("quantiles", (0.1, 0.5, 0.9)),
            huber_delta=config.get("huber_delta", 1.0),
        )

    @property
    def _loss(self):
        head = self._loss_function()
        # The function itself (not a wrapper) for squared error: device="cuda" training
        # recognises it and runs its device twin.
        return mse_loss if head.name == "squared_error" else head

    def _fits_distribution(self) -> bool:
        """Whether the loss being fitted now (not a previous fit's) describes a distribution;
        called before the network is built."""
        return make_regression_loss(self.loss).probabilistic

    def _auto_early_stopping_min(self) -> int:
        if self._fits_distribution():
            return MIN_VALIDATION_SAMPLES  # any hold-out: without one the spread shrinks as it overfits
        return super()._auto_early_stopping_min()

    def _resolved_validation_split(self) -> str:
        if self.validation_split == "auto":
            return "blocked" if self._fits_distribution() else "tail"
        return self.validation_split

    def _score_outputs(self, output, target) -> float:
        # R^2 per column is unchanged by the per-column standardization, so the score on
        # standardized values equals the score in the original units.
        head = self._loss_function()
        return r2(target, head.point(head.params(output)))

    @property
    def probabilistic_(self) -> bool:
        """Whether the fitted head describes a distribution (``loss`` quantile, gaussian, student_t)."""
        check_is_fitted(self)
        return self._loss_function().probabilistic

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
        head = self._loss_function()
        out = self._unscale(head.point(head.params(self._forward(X))), "location")
        return out.ravel() if self._y_one_d else out

    def _unscale(self, values: np.ndarray, kind: str) -> np.ndarray:
        """Standardized-target values of a parameter of this kind, in the original units.

        ``values`` has the targets on axis 1 (``(n, O)`` or ``(n, O, k)``).
        """
        values = np.asarray(values, dtype=np.float64)
        if self.target_mean_ is None or kind == "shape":
            return values
        extra = (1,) * (values.ndim - 2)
        scale = self.target_scale_.reshape(-1, *extra)
        if kind == "scale":
            return values * scale
        return values * scale + self.target_mean_.reshape(-1, *extra)

    def _distribution(self, X) -> tuple[RegressionLoss, dict]:
        head = self._loss_function()
        return head, head.params(self._forward(X))

    def predict_distribution(self, X) -> dict[str, np.ndarray]:
        """Parameters of the predictive distribution of every sample, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)

        Returns
        -------
        dict of str to ndarray of shape (n_samples,) or (n_samples, n_outputs_)
            ``loss="gaussian"``: ``mean``, ``scale`` (standard deviation);
            ``"student_t"``: ``loc``, ``scale``, ``df`` (degrees of freedom, above 2; the
            distribution is ``loc + scale * T_df``); ``"quantile"``: one entry per fitted level,
            named ``q<level>`` (``q0.1``, ``q0.5``, ...); the point losses: the point forecast
            (``mean`` for squared error and Huber, ``median`` for absolute error).
        """
        head, params = self._distribution(X)
        out = {}
        for (name, value), kind in zip(params.items(), head.param_kinds):
            value = self._unscale(value, kind)
            out[name] = value.ravel() if self._y_one_d else value
        return out

    def predict_quantiles(self, X, quantiles=(0.1, 0.5, 0.9)) -> np.ndarray:
        """Quantiles of the predictive distribution of every sample, in the original units.

        Needs ``loss="gaussian"``, ``"student_t"`` (exact quantiles) or ``"quantile"`` (linear
        interpolation between the fitted levels; levels outside them raise a ValueError).
        The quantiles of a sample never decrease with the level.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)
        quantiles : sequence of float, default=(0.1, 0.5, 0.9)
            Increasing probability levels in (0, 1).

        Returns
        -------
        ndarray of shape (n_samples, n_quantiles) or (n_samples, n_outputs_, n_quantiles)
        """
        levels = check_quantile_levels(quantiles)
        head, params = self._distribution(X)
        q = self._unscale(head.quantiles(params, levels), "location")
        return q[:, 0] if self._y_one_d else q

    def sample(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draws from the predictive distribution of every sample, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)
        n_samples : int, default=1
            Draws per sample.
        random_state : int, numpy Generator or None
            Seed or generator of the draws. ``loss="quantile"`` samples the piecewise-linear
            quantile function between the lowest and highest fitted levels (no tails beyond).

        Returns
        -------
        ndarray of shape (n_samples, n_draws) or (n_samples, n_outputs_, n_draws)
        """
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(random_state)
        head, params = self._distribution(X)
        draws = np.stack([head.sample(params, rng) for _ in range(n_samples)], axis=-1)
        draws = self._unscale(draws, "location")
        return draws[:, 0] if self._y_one_d else draws


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
