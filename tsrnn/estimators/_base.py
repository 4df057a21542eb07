"""The shared engine of the recurrent estimators: validation, scaling, training, persistence."""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._layout import CELLS
from .._scaling import moments
from .._state import estimator_state, restore_estimator_state
from .._validation import check_finite_like, describe
from ..nn import (
    DEVICES,
    Backend,
    History,
    RecurrentNetwork,
    make_optimizer,
    resolve_backend,
    to_time_major,
    train,
)
from ._persist import rebuild_network
from ._rows import FEATURE_LAYOUTS, INPUT_ORDERS, rows_to_sequences

#: early_stopping="auto" holds out a validation part for the point losses only when it has at least
#: this many samples (the distributional losses: whenever they can)
AUTO_EARLY_STOPPING_MIN = 100
#: the fewest held-out samples early stopping can work with
MIN_VALIDATION_SAMPLES = 2

#: validation_split="blocked" holds out this many contiguous blocks, one at the end of each of
#: as many equal consecutive stretches of the samples
VALIDATION_BLOCKS = 10

VALIDATION_SPLITS = ("auto", "tail", "blocked")

__all__ = ["BaseRecurrent", "Parameter"]

# Attributes that fix the shape of the network: a warm start or partial_fit must not change them.
_ARCHITECTURE = ("hidden_size", "num_layers", "bidirectional", "dtype", "standardize")

PARAMS_DOC = """\
    hidden_size : int, default=32
        Hidden units per recurrent layer (and per direction).
    num_layers : int, default=1
        Number of stacked recurrent layers.
    bidirectional : bool, default=False
        Also run every layer on the time-reversed sequence and concatenate both directions
        (as ``torch.nn.LSTM(bidirectional=True)``); the head then reads both final states.
    dropout : float, default=0.0
        Dropout probability on the input of every recurrent layer but the first (between
        layers, as in PyTorch), with inverted scaling; it needs ``num_layers > 1``.
    input_size : int, default=None
        Features per time step (the ``static_features`` included). With 2-D ``X`` of shape
        ``(n_samples, n_timesteps * input_size)`` each row is split into steps of
        ``input_size`` values (step-major: ``[x_0f0, x_0f1, ..., x_1f0, ...]``, unless
        ``feature_layout`` says otherwise); None means 1 (plus ``static_features``). With 3-D
        ``X`` of shape ``(n_samples, n_timesteps, input_size)`` it is read from ``X`` (None or
        the same value).
    input_order : {"oldest_first", "newest_first"}, default="oldest_first"
        Order of the lags in a row: "newest_first" reads skforecast's ``lag_1, lag_2, ...``
        (and 3-D ``X`` with the newest step first). The network always runs from the oldest
        step to the newest.
    feature_layout : {"interleaved", "blocked"}, default="interleaved"
        How 2-D rows hold several features per step, e.g. 3 lags of ``y`` and ``x``
        (``y3`` is ``y[t-3]``)::

            "interleaved"  [y3 x3 | y2 x2 | y1 x1]    tsrnn's make_windows / Forecaster
            "blocked"      [y3 y2 y1 | x3 x2 x1]      sktime, darts (skforecast: newest first)
            either + static_features=1:  [... | s]    s repeated at every step

        All become the sequence ``[y3 x3 (s)], [y2 x2 (s)], [y1 x1 (s)]``. See
        :func:`tsrnn.estimators.rows_to_sequences` and :mod:`tsrnn.interop` for each
        framework's settings.
    static_features : int, default=0
        Trailing columns of 2-D rows with one value per row (an exogenous value at the target
        time, a series code), repeated at every step after the lagged features: the row holds
        ``(input_size - static_features) * n_timesteps + static_features`` values.
    channels_first : bool, default=False
        3-D ``X`` is ``(n_samples, input_size, n_timesteps)``, as sktime's panels are.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer. "sgd" is stochastic gradient descent with (heavy-ball) momentum.
    learning_rate : float, default=0.005
        Step size of the optimizer.
    momentum : float, default=0.9
        Momentum of "sgd" (``v <- momentum * v + g``, ``w <- w - learning_rate * v``).
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decay rates and numerical floor.
    weight_decay : float, default=0.0
        Coupled L2 penalty added to the gradient of every weight matrix (not the biases):
        ``g <- g + weight_decay * w``, as ``torch.optim.Adam/SGD(weight_decay=...)``.
    batch_size : int, default=32
        Samples per mini-batch (the whole training set when it has fewer).
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data) per call to ``fit``.
    shuffle : bool, default=True
        Shuffle the training samples every epoch (never the validation samples).
    clip_norm : float or None, default=1.0
        Rescale each mini-batch gradient so its global L2 norm is at most ``clip_norm``.
        None disables it.
    clip_value : float or None, default=None
        Clamp each gradient entry to ``[-clip_value, clip_value]`` (applied before
        ``clip_norm``). None disables it.
    early_stopping : bool or "auto", default="auto"
        ``"auto"``: early stopping only when the held-out part would have at least
        ``AUTO_EARLY_STOPPING_MIN`` (100) samples (1 000 samples at the default
        ``validation_fraction``): on fewer, the validation loss is too noisy to pick an epoch,
        and training then runs on every sample until the training loss stalls (as
        scikit-learn's ``MLPRegressor`` does by default). The regressors' distributional
        losses (``"gaussian"``, ``"student_t"``, ``"quantile"``) hold out whenever there are
        at least 2 samples to hold out: trained to the end on every sample, a network learns
        its training noise and the predicted spread shrinks with it (90 % intervals covering
        33-45 % of new values on simulated series; docs/probabilistic.md). ``True``: hold out
        ``validation_fraction`` of the samples (the last ones, or blocks spread over them:
        ``validation_split``), in order and never shuffled (shuffling would leak the future
        of a time series), evaluate the loss on them after
        every epoch, stop after ``n_iter_no_change`` epochs without a decrease of more than
        ``tol`` and restore the weights of the lowest validation loss. The loss is monitored
        rather than R^2/accuracy because it keeps improving while accuracy sits on a plateau
        (R^2 and the loss rank epochs identically for one output). When the held-out part would
        have fewer than 2 samples, training uses every sample without early stopping and a
        warning says so.
    validation_fraction : float, default=0.1
        Fraction of the samples held out for early stopping (where: ``validation_split``).
    validation_split : {"auto", "tail", "blocked"}, default="auto"
        Which samples early stopping holds out, always in order and never shuffled.
        ``"tail"``: the last ``validation_fraction`` of them. ``"blocked"``: as many samples
        in ``VALIDATION_BLOCKS`` (10) contiguous blocks spread evenly over the data (the
        samples are cut into 10 equal consecutive stretches and the end of each is held out),
        so the epoch is chosen on a hold-out representative of the whole series rather than
        of its last stretch; for a purely autoregressive model such blocked hold-outs are a
        valid estimate of the forecast loss (Bergmeir, Hyndman & Koo 2018). ``"auto"``:
        ``"blocked"`` for the regressors' distributional losses (``loss="gaussian"``,
        ``"student_t"``, ``"quantile"``), whose spread is judged on a hold-out whose
        volatility may not be typical, ``"tail"`` otherwise (docs/probabilistic.md).
    n_iter_no_change : int, default=20
        Epochs without improvement (of the validation loss with early stopping, of the
        training loss without) after which training stops.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.
    standardize : bool, default=True
        Scale the inputs (per feature, over all samples and time steps) and, for regressors,
        the targets (per column) to zero mean and unit variance with statistics of the
        training part; predictions are returned in the original units. Raw series such as
        yearly sunspot counts then train without manual scaling.
    warm_start : bool, default=False
        Let ``fit`` continue from the current weights (and scaling) instead of starting
        afresh. The optimizer state starts afresh; ``partial_fit`` keeps it.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and dropout. An int gives bit-identical
        predictions across runs and processes on the same machine and library versions.
    verbose : int, default=0
        0 prints nothing; 1 shows a progress bar (tqdm) labelled with the device, with the
        epoch, training loss, validation loss and score.
    device : {"cpu", "reference", "cuda", "auto"}, default="cpu"
        Where training and prediction run. "cpu" runs the Numba kernels; "reference" the
        plain NumPy specification (slow; an oracle for tests). "cuda" trains on an NVIDIA GPU
        with the data, weights and optimizer state resident on the device for the whole
        fit (``pip install 'tsrnn[cuda]'``; without a usable GPU ``fit`` raises a
        RuntimeError naming the fix). "auto" is "cuda" when ``tsrnn.cuda_available()`` and
        "cpu" otherwise (with a RuntimeWarning when a GPU is present but unusable, naming why);
        numba's CUDA simulator counts as available only when it
        was enabled with ``NUMBA_ENABLE_CUDASIM=1``. ``device_`` records the choice. Without
        dropout, "cuda" follows the CPU's training trajectory (same initial weights and
        batch order) to floating-point rounding; dropout masks are drawn on the GPU, so with
        dropout the two devices train differently (see docs/cuda.md).
    dtype : {"float32", "float64"}, default="float32"
        Floating-point type of the weights and computations. float32 is the fast path;
        float64 is exact to double rounding (and predictions are then independent of how
        the samples are batched to the last bit).
"""

ATTRIBUTES_DOC = """\
    loss_curve_ : list of float
        Training loss per epoch (mean over the epoch's samples, in standardized units):
        half the mean squared error for regressors, the mean cross-entropy for classifiers.
    validation_scores_ : list of float
        Score (R^2 or accuracy) on the held-out part after every epoch; empty without early
        stopping.
    validation_loss_curve_ : list of float
        Loss on the held-out part after every epoch (the monitored quantity); empty without
        early stopping.
    best_validation_score_ : float or None
        Validation score of the restored weights (the epoch of lowest validation loss) in the
        last ``fit``; None without early stopping.
    best_loss_ : float
        Lowest epoch training loss of the last ``fit`` (or since the first ``partial_fit``).
    grad_norm_curve_ : list of float
        Per epoch, the mean over its mini-batches of the global L2 norm of the loss gradient
        before clipping and weight decay.
    n_iter_ : int
        Epochs trained, summed over ``fit`` (with ``warm_start``) and ``partial_fit`` calls.
    device_ : str
        The device that ran the last ``fit``/``partial_fit``: "cpu", "reference" or "cuda"
        (``device="auto"`` resolved). Predictions run there too.
    stop_reason_ : str
        Why the last training call stopped: "max_iter", "converged" (training loss stalled),
        "early_stopping" (validation loss stalled), "diverged" (NaN/inf; see warnings) or
        "interrupted" (Ctrl-C: the best weights so far are kept; see warnings).
    n_features_in_ : int
        ``X.shape[1]`` seen in ``fit``: ``n_timesteps * (input_size - static_features) +
        static_features`` for 2-D X, ``n_timesteps`` for 3-D X (``input_size`` with
        ``channels_first``).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    n_timesteps_ : int
        Time steps per sample.
    input_size_ : int
        Features per time step.
    input_mean_, input_scale_ : ndarray of shape (input_size_,) or None
        Input standardization (None when ``standardize=False``).
    network_ : tsrnn.nn.RecurrentNetwork
        The network description (cell, sizes, flat parameter layout).
    params_ : ndarray of shape (network_.n_params,)
        Every trained parameter in one flat vector; named views via
        ``network_.layout.views(params_)``.
"""


def _training_part(n: int, held_out: np.ndarray | None):
    """The samples that are not held out: a slice when they are the first ones, else indices."""
    if held_out is None:
        return slice(None)
    if held_out[0] == n - len(held_out):  # the tail: a plain slice keeps the arrays views
        return slice(0, held_out[0])
    keep = np.ones(n, dtype=bool)
    keep[held_out] = False
    return np.flatnonzero(keep)


def _with_docs(template: str) -> str:
    return template.replace("{PARAMS}", PARAMS_DOC).replace("{ATTRIBUTES}", ATTRIBUTES_DOC)


@dataclass(frozen=True)
class Parameter:
    """One estimator parameter: its default and its constraints.

    ``constraints`` is a list in scikit-learn's ``_parameter_constraints`` notation; the
    value is checked against it at the start of ``fit``/``partial_fit`` and never in
    ``__init__``.
    """

    default: object
    constraints: list


def _positive_int() -> list:
    return [Interval(Integral, 1, None, closed="left")]


def _make_init(leading: dict[str, Parameter], keyword: dict[str, Parameter]):
    """An ``__init__`` that only stores the parameters, with a real signature.

    scikit-learn's ``get_params``/``clone``/``repr`` read ``inspect.signature(cls.__init__)``;
    the ``__signature__`` set here is that signature: the ``leading`` parameters may be
    passed by position, the rest by keyword only.
    """
    P = inspect.Parameter
    signature = inspect.Signature(
        [P("self", P.POSITIONAL_OR_KEYWORD)]
        + [P(name, P.POSITIONAL_OR_KEYWORD, default=p.default) for name, p in leading.items()]
        + [P(name, P.KEYWORD_ONLY, default=p.default) for name, p in keyword.items()]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name != "self":
                setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__doc__ = "Store the parameters; they are validated by ``fit``."
    return __init__


class BaseRecurrent(BaseEstimator):
    """Common engine of :class:`RecurrentRegressor` and :class:`RecurrentClassifier`.

    **Adding an estimator parameter** is one row in ``_parameters`` below (its default and
    its constraints) plus its entry in ``PARAMS_DOC``; every public estimator's ``__init__``
    signature, ``get_params`` and ``_parameter_constraints`` are generated from that table
    (``__init_subclass__``). A parameter that only regressors (or classifiers) take goes
    into ``_BaseRecurrentRegressor._parameters`` (``_BaseRecurrentClassifier``) as
    ``{**BaseRecurrent._parameters, "name": Parameter(...)}``.

    The cell classes differ only in ``_leading_parameters``, the parameters that may be
    passed by position before the keyword-only ones (``cell`` for ``Recurrent*``,
    ``nonlinearity`` for ``RNN*``, none for ``LSTM*``/``GRU*``), and in ``_cell_name()``.
    Subclasses define the target handling (``_prepare_targets``, ``_loss``,
    ``_score_outputs``, ``_n_outputs``, ``_init_target_scaling``, ``_scale_targets``) and the
    public prediction methods; ``fit`` and ``partial_fit`` live here.
    """

    # The one declaration of the estimator parameters, in signature order.
    _parameters: ClassVar[dict[str, Parameter]] = {
        "hidden_size": Parameter(32, _positive_int()),
        "num_layers": Parameter(1, _positive_int()),
        "bidirectional": Parameter(False, ["boolean"]),
        "dropout": Parameter(0.0, [Interval(Real, 0, 1, closed="left")]),
        "input_size": Parameter(None, [*_positive_int(), None]),
        "input_order": Parameter("oldest_first", [StrOptions(set(INPUT_ORDERS))]),
        "feature_layout": Parameter("interleaved", [StrOptions(set(FEATURE_LAYOUTS))]),
        "static_features": Parameter(0, [Interval(Integral, 0, None, closed="left")]),
        "channels_first": Parameter(False, ["boolean"]),
        "solver": Parameter("adam", [StrOptions({"adam", "sgd"})]),
        "learning_rate": Parameter(0.005, [Interval(Real, 0, None, closed="neither")]),
        "momentum": Parameter(0.9, [Interval(Real, 0, 1, closed="left")]),
        "beta_1": Parameter(0.9, [Interval(Real, 0, 1, closed="left")]),
        "beta_2": Parameter(0.999, [Interval(Real, 0, 1, closed="left")]),
        "epsilon": Parameter(1e-8, [Interval(Real, 0, None, closed="neither")]),
        "weight_decay": Parameter(0.0, [Interval(Real, 0, None, closed="left")]),
        "batch_size": Parameter(32, _positive_int()),
        "max_iter": Parameter(200, _positive_int()),
        "shuffle": Parameter(True, ["boolean"]),
        "clip_norm": Parameter(1.0, [Interval(Real, 0, None, closed="neither"), None]),
        "clip_value": Parameter(None, [Interval(Real, 0, None, closed="neither"), None]),
        "early_stopping": Parameter("auto", [StrOptions({"auto"}), "boolean"]),
        "validation_fraction": Parameter(0.1, [Interval(Real, 0, 1, closed="neither")]),
        "validation_split": Parameter("auto", [StrOptions(set(VALIDATION_SPLITS))]),
        "n_iter_no_change": Parameter(20, _positive_int()),
        "tol": Parameter(1e-4, [Interval(Real, 0, None, closed="left")]),
        "standardize": Parameter(True, ["boolean"]),
        "warm_start": Parameter(False, ["boolean"]),
        "random_state": Parameter(None, ["random_state"]),
        "verbose": Parameter(0, ["verbose"]),
        "device": Parameter("cpu", [StrOptions(set(DEVICES))]),
        "dtype": Parameter(
            "float32", [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64})]
        ),
    }
    # Parameters that may also be passed by position, before the keyword-only ones.
    _leading_parameters: ClassVar[dict[str, Parameter]] = {}
    _parameter_constraints: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._declare_parameters()

    @classmethod
    def _declare_parameters(cls) -> None:
        """Generate ``__init__`` and ``_parameter_constraints`` from the parameter tables."""
        every = {**cls._leading_parameters, **cls._parameters}
        cls._parameter_constraints = {name: p.constraints for name, p in every.items()}
        cls.__init__ = _make_init(cls._leading_parameters, cls._parameters)

    # ------------------------------------------------------------------ subclass hooks

    _cell: ClassVar[str | None] = None  # the cell of classes that fix it (LSTM*, GRU*)

    def _cell_name(self) -> str:
        """The ``tsrnn._layout.CELLS`` name this estimator trains."""
        return self._cell

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # ------------------------------------------------------------------ input handling

    def _float_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def _check_input_form(self, X) -> None:
        """Predict-time inputs must have the form (2-D or 3-D) that ``fit`` saw."""
        ndim = getattr(X, "ndim", None)
        if ndim in (2, 3) and ndim != self._x_ndim:
            raise ValueError(
                f"X is {ndim}-D but {type(self).__name__} was fitted on {self._x_ndim}-D X; pass X "
                f"as {self._expected_x()}."
            )

    def _expected_x(self) -> str:
        if self._x_ndim == 2:
            return f"a 2-D array of shape (n_samples, {self.n_features_in_})"
        if self.channels_first:
            return f"a 3-D array of shape (n_samples, {self.input_size_}, {self.n_timesteps_})"
        return f"a 3-D array of shape (n_samples, {self.n_timesteps_}, {self.input_size_})"

    def _to_sequences(self, X: np.ndarray, reset: bool) -> np.ndarray:
        """``X`` (validated, 2-D or 3-D) as batch-first ``(n, n_timesteps, input_size)``."""
        X3 = rows_to_sequences(
            X,
            self.input_size,
            input_order=self.input_order,
            feature_layout=self.feature_layout,
            static_features=self.static_features,
            channels_first=self.channels_first,
        )
        if reset:
            self._x_ndim = X.ndim
            self.n_timesteps_, self.input_size_ = X3.shape[1], X3.shape[2]
        elif X3.shape[1:] != (self.n_timesteps_, self.input_size_):
            raise ValueError(
                f"X has {X3.shape[1]} time steps of {X3.shape[2]} features, but {type(self).__name__} "
                f"was fitted on {self.n_timesteps_} steps of {self.input_size_}; pass X as "
                f"{self._expected_x()}."
            )
        return X3

    def _scale_inputs(self, X3: np.ndarray) -> np.ndarray:
        """Standardized, time-major ``(L, n, D)`` array in the network dtype."""
        if self.input_mean_ is not None:
            X3 = (X3 - self.input_mean_) / self.input_scale_
        return to_time_major(X3, dtype=self.network_.dtype)

    @staticmethod
    def _moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column means and scales in float64 (see :func:`tsrnn._scaling.moments`)."""
        return moments(values, axis=0)

    # ------------------------------------------------------------------ training

    def fit(self, X, y):
        """Fit the network to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)
            One window (sequence) per row.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (regressors) or class labels, numbers or strings, at least two distinct
            (classifiers; 1-D only).

        Returns
        -------
        self
        """
        self._validate_params()
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """One epoch over ``X, y``, continuing from the current weights and optimizer state.

        The first call initializes the network and the scaling; there is no early stopping.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * input_size) or (n_samples, n_timesteps, input_size)
            One window (sequence) per row, in the form of the first call.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self
        """
        self._validate_params()
        return self._fit(X, y, incremental=True)

    def _fit(self, X, y, *, incremental: bool, classes=None):
        """The engine of ``fit`` and ``partial_fit``, in named steps."""
        # First: device="cuda" without a usable GPU fails before anything is set on self.
        backend = self._resolve_backend()
        keep = hasattr(self, "params_") and (incremental or self.warm_start)
        X3, Y = self._validate_training_data(X, y, reset=not keep, classes=classes)
        held_out = self._validation_indices(X3.shape[0], self._n_validation(X3.shape[0], incremental))
        cell = self._cell_name()
        if keep:
            self._continue_network(cell, backend)
        else:
            self._build_network(cell, backend, X3, Y, held_out)
        self._build_optimizer(incremental)
        Xt, Yt, validation = self._training_arrays(X3, Y, held_out)
        self.device_ = backend.name
        try:
            self._train(self.params_, Xt, Yt, validation, incremental, cell)
        except BaseException:
            if not keep:  # a failed fresh fit leaves no half-fitted model behind
                self._forget_fit()
            raise
        self._publish_history()
        return self

    def _resolve_backend(self) -> Backend:
        """The backend that runs this fit (``device="auto"`` resolved; raises without a GPU)."""
        return resolve_backend(self.device)

    def _validate_training_data(self, X, y, *, reset: bool, classes=None) -> tuple[np.ndarray, np.ndarray]:
        """Checked batch-first sequences ``(n, n_timesteps, input_size)`` and prepared targets."""
        check_finite_like(X, "X")
        check_finite_like(y, "y")
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            allow_nd=True,
            dtype=[np.float64, np.float32],
            **self._target_validation(),
        )
        X3 = self._to_sequences(X, reset=reset)
        Y = self._prepare_targets(y, reset=reset, classes=classes)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                f"dropout={self.dropout} acts between recurrent layers, so with num_layers=1 it has no "
                "effect; use num_layers >= 2 or dropout=0.",
                UserWarning,
                stacklevel=4,
            )
        return X3, Y

    def _n_validation(self, n: int, incremental: bool) -> int:
        """How many samples early stopping holds out (0: none)."""
        if not self.early_stopping or incremental:
            return 0
        n_val = math.ceil(self.validation_fraction * n)
        if isinstance(self.early_stopping, str) and n_val < self._auto_early_stopping_min():
            return 0
        if n_val < MIN_VALIDATION_SAMPLES or n - n_val < 1:
            warnings.warn(
                f"early_stopping holds out validation_fraction={self.validation_fraction} "
                f"of the samples, which leaves {n_val} validation sample(s) of n_samples = {n} "
                f"(at least {MIN_VALIDATION_SAMPLES} are needed); training on every sample without "
                "early stopping. Pass more samples, a larger validation_fraction or early_stopping=False.",
                UserWarning,
                stacklevel=4,
            )
            return 0
        return n_val

    def _auto_early_stopping_min(self) -> int:
        """The fewest held-out samples with which ``early_stopping="auto"`` holds out any
        (:data:`AUTO_EARLY_STOPPING_MIN` here; the regressors' distributional losses lower it)."""
        return AUTO_EARLY_STOPPING_MIN

    def _resolved_validation_split(self) -> str:
        """``validation_split`` with ``"auto"`` resolved ("tail" here; regressors refine it)."""
        return "tail" if self.validation_split == "auto" else self.validation_split

    def _validation_indices(self, n: int, n_val: int) -> np.ndarray | None:
        """Sorted indices of the ``n_val`` held-out samples (None when there are none).

        ``"tail"`` is the last ``n_val``; ``"blocked"`` cuts ``range(n)`` into
        ``VALIDATION_BLOCKS`` equal consecutive stretches and holds out the end of each, the
        ``n_val`` shared as evenly as the counts allow (so the last block is the tail's end).
        """
        if n_val == 0:
            return None
        blocks = VALIDATION_BLOCKS if self._resolved_validation_split() == "blocked" else 1
        blocks = min(blocks, n_val)
        ends = np.round(np.arange(1, blocks + 1) * n / blocks).astype(np.intp)
        sizes = np.diff(np.round(np.arange(blocks + 1) * n_val / blocks).astype(np.intp))
        return np.concatenate([np.arange(end - size, end) for end, size in zip(ends, sizes)])

    def _continue_network(self, cell: str, backend: Backend) -> None:
        """Keep training the fitted network (warm start, partial_fit) on ``backend``."""
        self._check_same_architecture(cell)
        if self.network_.device != backend.name:
            self.network_.device = backend
        self.network_.dropout = float(self.dropout)

    def _build_network(self, cell: str, backend: Backend, X3: np.ndarray, Y, held_out) -> None:
        """A fresh network, scaling (from the training part only), weights and history."""
        train = _training_part(X3.shape[0], held_out)
        self._rng = check_random_state(self.random_state)
        self._fitted_config = self._architecture(cell)
        self.network_ = RecurrentNetwork(
            cell,
            X3.shape[2],
            self.hidden_size,
            self._n_outputs(Y),
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            dtype=self._float_dtype(),
            device=backend,
        )
        if self.standardize:
            self.input_mean_, self.input_scale_ = self._moments(X3[train].reshape(-1, X3.shape[2]))
        else:
            self.input_mean_ = self.input_scale_ = None
        self._init_target_scaling(Y[train])
        self.params_ = self.network_.init_params(self._rng)
        self._history = History()
        self._optimizer = None

    def _build_optimizer(self, incremental: bool) -> None:
        """A fresh optimizer, except that partial_fit keeps the moments of the same solver."""
        if self._optimizer is None or not incremental or self._optimizer_solver != self.solver:
            self._optimizer = make_optimizer(
                self.solver,
                self.params_,
                learning_rate=self.learning_rate,
                momentum=self.momentum,
                beta_1=self.beta_1,
                beta_2=self.beta_2,
                epsilon=self.epsilon,
                weight_decay=self.weight_decay,
                decay_mask=self.network_.layout.decay_mask(self.network_.dtype),
            )
            self._optimizer_solver = self.solver
        else:  # partial_fit keeps the moments but follows changed hyper-parameters
            for name in ("learning_rate", "momentum", "beta_1", "beta_2", "epsilon", "weight_decay"):
                if hasattr(self._optimizer, name):
                    setattr(self._optimizer, name, getattr(self, name))

    def _training_arrays(self, X3: np.ndarray, Y: np.ndarray, held_out):
        """Scaled time-major inputs and targets, split into training and validation parts."""
        Xt = self._scale_inputs(X3)
        Yt = self._scale_targets(Y)
        if held_out is None:
            return Xt, Yt, None
        train = _training_part(X3.shape[0], held_out)
        validation = (np.ascontiguousarray(Xt[:, held_out]), Yt[held_out], self._score_outputs)
        return np.ascontiguousarray(Xt[:, train]), Yt[train], validation

    def _forget_fit(self) -> None:
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, key)

    def _train(self, params, Xt, Yt, validation, incremental: bool, cell: str) -> None:
        train(
            self.network_,
            params,
            self._optimizer,
            self._loss,
            Xt,
            Yt,
            max_epochs=1 if incremental else self.max_iter,
            batch_size=self.batch_size,
            rng=self._rng,
            history=self._history,
            shuffle=self.shuffle,
            clip_norm=self.clip_norm,
            clip_value=self.clip_value,
            validation=validation,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            check_convergence=not incremental,
            reset_stopping=not incremental,
            verbose=self.verbose,
            description=f"{type(self).__name__}({cell}) on {self.network_.backend.label}",
        )

    def _architecture(self, cell: str) -> dict:
        arch = {"cell": cell, **{k: getattr(self, k) for k in _ARCHITECTURE}}
        arch["dtype"] = np.dtype(arch["dtype"]).name  # "float32" and np.float32 are one choice
        return arch

    def _check_same_architecture(self, cell: str) -> None:
        now = self._architecture(cell)
        changed = {k: (self._fitted_config[k], v) for k, v in now.items() if self._fitted_config[k] != v}
        if changed:
            what = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise ValueError(
                f"warm_start/partial_fit continue the fitted network, but {what} changed since it was "
                "fitted; restore the parameters or fit afresh with warm_start=False."
            )

    # ------------------------------------------------------------------ persisted state (tsrnn._state)

    #: What a model file stores of a fitted estimator besides its parameters; the network is
    #: rebuilt from ``_fitted_config`` once ``params_`` has the size it implies (``_persist.py``).
    _FITTED_STATE: ClassVar[tuple[str, ...]] = (
        "params_",
        "input_mean_",
        "input_scale_",
        "n_features_in_",
        "n_timesteps_",
        "input_size_",
        "_x_ndim",
        "_rng",
        "_history",
        "_optimizer",
        "_optimizer_solver",
        "_fitted_config",
        "device_",
    )

    def _get_state(self) -> dict:
        return estimator_state(self, self._FITTED_STATE, ("feature_names_in_",))

    # Parameters added after model files of the current format were first written, with the
    # value that reproduces how those files' models were trained (they held out the tail).
    _PARAMETERS_ADDED: ClassVar[dict] = {"validation_split": "tail"}

    def _set_state(self, state: dict) -> None:
        state = {**{k: v for k, v in self._PARAMETERS_ADDED.items() if k not in state}, **state}
        if restore_estimator_state(self, state, self._FITTED_STATE, ("feature_names_in_",)):
            rebuild_network(self)

    def _publish_history(self) -> None:
        h = self._history
        self.loss_curve_ = list(h.loss_curve)
        self.validation_scores_ = list(h.validation_scores)
        self.validation_loss_curve_ = list(h.validation_losses)
        self.grad_norm_curve_ = list(h.grad_norm_curve)
        self.best_loss_ = h.best_loss
        self.best_validation_score_ = h.best_validation_score
        self.n_iter_ = h.n_iter
        self.stop_reason_ = h.stop_reason

    # ------------------------------------------------------------------ prediction

    def _forward(self, X) -> np.ndarray:
        """Head outputs (standardized units / logits) for user input ``X``."""
        check_is_fitted(self)
        self._check_input_form(X)
        check_finite_like(X, "X")
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=[np.float64, np.float32])
        X3 = self._to_sequences(X, reset=False)
        return self.network_.predict(self.params_, self._scale_inputs(X3))

    # ------------------------------------------------------------------ weight interchange

    def to_torch_state_dict(self, include_head: bool = False) -> dict[str, np.ndarray]:
        """The trained weights as a dict of numpy arrays named as PyTorch names them.

        The recurrent part loads into ``torch.nn.LSTM/GRU/RNN(input_size_, hidden_size,
        num_layers, bidirectional=..., batch_first=True)`` with ``load_state_dict({k:
        torch.from_numpy(v) for k, v in sd.items()})``: keys ``weight_ih_l0``,
        ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse`` for the reverse
        direction, for every layer. No torch import is needed.

        Parameters
        ----------
        include_head : bool, default=False
            Also return the dense head as ``head.weight``/``head.bias`` and prefix the
            recurrent keys with ``rnn.``: the state dict of a module with attributes
            ``rnn`` (the recurrent module) and ``head`` (a ``torch.nn.Linear``) applied to
            ``torch.cat([h_n[-2], h_n[-1]], 1)`` (bidirectional) or ``h_n[-1]``.

        Returns
        -------
        dict of str to ndarray
            Copies; note that the network sees standardized inputs (``input_mean_``,
            ``input_scale_``) and regressors predict standardized targets.
        """
        check_is_fitted(self)
        views = self.network_.layout.views(self.params_)
        out = {}
        for name, value in views.items():
            if name.startswith("head."):
                if include_head:
                    out[name] = value.copy()
            else:
                out[f"rnn.{name}" if include_head else name] = value.copy()
        return out

    def from_torch_state_dict(self, state_dict: dict):
        """Load weights named as PyTorch names them into this fitted estimator.

        Parameters
        ----------
        state_dict : dict
            The keys of :meth:`to_torch_state_dict`: every recurrent parameter (bare, e.g.
            ``weight_ih_l0``, or prefixed ``rnn.``), and optionally ``head.weight`` and
            ``head.bias``. Values are arrays (or CPU tensors) of the right shapes; they are
            copied and cast to the estimator's dtype. Unknown or missing keys raise.

        Returns
        -------
        self
            The estimator must be fitted first (that fixes the architecture, the scaling and,
            for classifiers, the classes); the optimizer state is reset.
        """
        check_is_fitted(self)
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict of arrays, got {describe(state_dict)}.")
        layout = self.network_.layout
        named = {}
        for key, value in state_dict.items():
            name = key[4:] if isinstance(key, str) and key.startswith("rnn.") else key
            named[name] = value
        recurrent = [n for n in layout.names if not n.startswith("head.")]
        missing = [n for n in recurrent if n not in named]
        unknown = [k for k in named if k not in layout.names]
        if missing or unknown:
            raise ValueError(
                f"state_dict does not match this {self._cell_name()} network (num_layers="
                f"{self.num_layers}, bidirectional={self.bidirectional}): missing {missing}, unexpected "
                f"{unknown}. Expected keys {recurrent} (optionally 'head.weight', 'head.bias')."
            )
        current = layout.views(self.params_)
        merged = {n: named.get(n, current[n]) for n in layout.names}
        new = layout.pack({n: np.asarray(v) for n, v in merged.items()}, dtype=self.network_.dtype)
        if not np.all(np.isfinite(new)):
            raise ValueError("state_dict contains NaN or infinite values.")
        self.params_ = new
        self._optimizer = None
        return self

    # ------------------------------------------------------------------ persistence

    def __setstate__(self, state):
        super().__setstate__(state)
        # joblib may hand back read-only memory maps; training and the compiled kernels
        # (whose cached signatures are for writable arrays) want ordinary arrays.
        for holder in (self.__dict__, getattr(getattr(self, "_optimizer", None), "__dict__", {})):
            for key, value in list(holder.items()):
                if isinstance(value, np.ndarray) and not value.flags.writeable:
                    holder[key] = np.array(value)
        network = self.__dict__.get("network_")
        if network is not None and network.device == "cuda":
            from ..kernels import cuda_available

            if not cuda_available():
                # A model trained on a GPU stays usable where there is none.
                warnings.warn(
                    f"this {type(self).__name__} was trained with device='cuda', which is not "
                    "available here; it predicts on the CPU (same weights). Training it further needs "
                    "device='cpu' or 'auto' (set_params) or a CUDA GPU.",
                    UserWarning,
                    stacklevel=2,
                )
                network.device = "cpu"


BaseRecurrent._declare_parameters()


class ChosenCell:
    """Mixin of ``Recurrent*``: the cell is the leading parameter ``cell``."""

    _leading_parameters: ClassVar[dict[str, Parameter]] = {
        # A live view of the table: a cell added there is accepted here.
        "cell": Parameter("lstm", [StrOptions(CELLS.keys())]),
    }

    def _cell_name(self) -> str:
        return self.cell


class ElmanCell:
    """Mixin of ``RNN*``: the Elman cell, its activation the leading parameter ``nonlinearity``."""

    _leading_parameters: ClassVar[dict[str, Parameter]] = {
        "nonlinearity": Parameter("tanh", [StrOptions({"tanh", "relu"})]),
    }

    def _cell_name(self) -> str:
        return f"rnn_{self.nonlinearity}"
