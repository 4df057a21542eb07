"""The network and its training engine, on one flat parameter vector.

- :class:`RecurrentNetwork`: stacked (optionally bidirectional) recurrent layers with
  dropout between layers and a dense head; ``forward``/``backward`` on time-major batches,
  calling the kernels only through its :class:`Backend`.
- :class:`ParamLayout`: names (PyTorch's), shapes and positions of every parameter in the
  flat vector, with views.
- Losses :func:`mse_loss`, :func:`softmax_cross_entropy` and the regression losses with
  their predictive distributions (:func:`make_regression_loss`); optimizers :class:`Adam`,
  :class:`SGD` and the array functions behind them; clipping :func:`clip_by_global_norm`,
  :func:`clip_by_value`.
- :func:`train`: the mini-batch loop with early stopping, best-weight restoration and
  divergence handling, recording a :class:`History`.
- :func:`resolve_backend`: the one place that maps a ``device`` parameter to a
  :class:`Backend` (name, kernel module, operations, label, launch configuration).
"""

from ._device import DEVICES, Backend, device_description, resolve_backend, resolve_device
from ._distributions import (
    REGRESSION_LOSSES,
    SCALE_FLOOR,
    RegressionLoss,
    check_quantile_levels,
    make_regression_loss,
)
from ._losses import mse_loss, softmax, softmax_cross_entropy
from ._network import ForwardCache, ParamLayout, RecurrentNetwork, compile_kernels, to_time_major
from ._optim import (
    SGD,
    Adam,
    adam_update,
    add_weight_decay,
    clip_by_global_norm,
    clip_by_value,
    global_norm,
    make_optimizer,
    sgd_update,
)
from ._training import (
    History,
    TrainingDivergedWarning,
    TrainingInterruptedWarning,
    abort_on_interrupt,
    run_epoch,
    train,
)

__all__ = [
    "DEVICES",
    "REGRESSION_LOSSES",
    "SCALE_FLOOR",
    "SGD",
    "Adam",
    "Backend",
    "ForwardCache",
    "History",
    "ParamLayout",
    "RecurrentNetwork",
    "RegressionLoss",
    "TrainingDivergedWarning",
    "TrainingInterruptedWarning",
    "abort_on_interrupt",
    "adam_update",
    "add_weight_decay",
    "check_quantile_levels",
    "clip_by_global_norm",
    "clip_by_value",
    "compile_kernels",
    "device_description",
    "global_norm",
    "make_optimizer",
    "make_regression_loss",
    "mse_loss",
    "resolve_backend",
    "resolve_device",
    "run_epoch",
    "sgd_update",
    "softmax",
    "softmax_cross_entropy",
    "to_time_major",
    "train",
]
