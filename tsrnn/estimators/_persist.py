"""Persisted state of the recurrent estimators (see :mod:`tsrnn._state`).

A fitted estimator stores its parameters, its weights, its scaling, the random stream and the
optimizer state (so ``partial_fit`` continues exactly). The network is not stored: it is
rebuilt from the fitted architecture, and only after the weight vector has the size that
architecture implies, computed without building the layout.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._layout import network_n_params
from .._state import check_array, check_choice, check_int, check_vector, fail, reserve
from ..kernels import BACKENDS
from ..nn import SGD, Adam, History, RecurrentNetwork

_OPTIMIZERS = {"adam": Adam, "sgd": SGD}
#: Python objects a network layout holds per layer and direction (measured well above need).
_LAYOUT_BYTES_PER_LAYER = 4096


def rebuild_network(est) -> None:
    """Check a restored fitted state against the fitted architecture; then rebuild the network."""
    where = type(est).__name__
    config = est._fitted_config
    cell = est._cell_name()
    if not isinstance(config, dict) or set(config) != set(est._architecture(cell)):
        fail(f"{where}._fitted_config", "does not describe an architecture")
    if config["cell"] != cell:
        fail(where, f"the network is a {config['cell']!r} but the estimator a {cell!r}")
    hidden = check_int(config["hidden_size"], f"{where}.hidden_size", 1)
    layers = check_int(config["num_layers"], f"{where}.num_layers", 1)
    bidirectional = config["bidirectional"]
    if not isinstance(bidirectional, bool) or not isinstance(config["standardize"], bool):
        fail(f"{where}._fitted_config", "bidirectional and standardize must be bools")
    dtype = np.dtype(check_choice(config["dtype"], f"{where}.dtype", ("float32", "float64")))
    d = check_int(est.input_size_, f"{where}.input_size_", 1)
    steps = check_int(est.n_timesteps_, f"{where}.n_timesteps_", 1)
    x_ndim = check_choice(est._x_ndim, f"{where}._x_ndim", (2, 3))
    if est.n_features_in_ != (steps * d if x_ndim == 2 else steps):
        fail(where, "n_features_in_ does not match n_timesteps_ and input_size_")
    if hasattr(est, "classes_"):
        classes = check_array(est.classes_, f"{where}.classes_", ndim=1, kinds="biufcUO")
        outputs = len(classes)
        if outputs < 2:
            fail(f"{where}.classes_", "holds fewer than two classes")
        head = outputs
    else:
        outputs = check_int(est.n_outputs_, f"{where}.n_outputs_", 1)
        if (est.target_mean_ is None) != (est.target_scale_ is None):
            fail(where, "target_mean_ and target_scale_ must both be set or both be None")
        check_vector(est.target_mean_, f"{where}.target_mean_", outputs, allow_none=True)
        check_vector(est.target_scale_, f"{where}.target_scale_", outputs, positive=True, allow_none=True)
        if not isinstance(est._y_one_d, bool) or (est._y_one_d and outputs != 1):
            fail(f"{where}._y_one_d", "does not match n_outputs_")
        try:  # the head has one output per target and parameter of the loss's distribution
            head = outputs * est._loss_function().n_params
        except (ValueError, TypeError) as exc:
            fail(f"{where}._fitted_config", f"does not describe a loss ({exc})")
    # The weights are the one size the file cannot lie about: check the architecture against
    # them before building a layout whose cost grows with num_layers.
    p = check_array(est.params_, f"{where}.params_", ndim=1)
    n_params = network_n_params(cell, d, hidden, layers, bidirectional, head)
    if p.dtype != dtype or p.shape != (n_params,):
        fail(f"{where}.params_", f"must be a {dtype} vector of {n_params} weights, got {p.dtype} {p.shape}")
    if (est.input_mean_ is None) != (est.input_scale_ is None):
        fail(where, "input_mean_ and input_scale_ must both be set or both be None")
    check_vector(est.input_mean_, f"{where}.input_mean_", d, allow_none=True)
    check_vector(est.input_scale_, f"{where}.input_scale_", d, positive=True, allow_none=True)
    if not isinstance(est._rng, np.random.RandomState):
        fail(f"{where}._rng", "is not a RandomState")
    history = est._history
    if not isinstance(history, History):
        fail(f"{where}._history", "is not a training History")
    if history.best_params is not None and history.best_params.shape != p.shape:
        fail(f"{where}._history.best_params", "does not match params_")
    solver = check_choice(est._optimizer_solver, f"{where}._optimizer_solver", tuple(_OPTIMIZERS))
    opt = est._optimizer
    if opt is not None:
        if type(opt) is not _OPTIMIZERS[solver]:
            fail(f"{where}._optimizer", f"is not the {solver} optimizer")
        for name in opt._STATE:
            value = getattr(opt, name)
            if isinstance(value, np.ndarray) and (value.shape != p.shape or value.dtype != p.dtype):
                fail(f"{where}._optimizer.{name}", "does not match params_")
    device = check_choice(est.device_, f"{where}.device_", tuple(BACKENDS))
    reserve(_LAYOUT_BYTES_PER_LAYER * layers * (2 if bidirectional else 1), f"{where} network")
    args = (cell, d, hidden, head)
    kwargs = {
        "num_layers": layers,
        "bidirectional": bidirectional,
        "dropout": float(est.dropout),
        "dtype": dtype,
    }
    try:
        network = RecurrentNetwork(*args, **kwargs, device=device)
    except (ValueError, TypeError, RuntimeError, ImportError) as exc:
        if device == "cpu":
            raise
        warnings.warn(
            f"the model was saved with device={device!r}, which is not available here ({exc}); it "
            "runs on the CPU.",
            UserWarning,
            stacklevel=2,
        )
        network = RecurrentNetwork(*args, **kwargs, device="cpu")
    est.network_ = network
    est.device_ = network.device
    est._publish_history()
