"""The long-dependency tasks as the experiments use them: data splits, loss, error, baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import check_positive_int
from ..datasets import load, make_adding_problem, make_copy_memory
from ..nn import mse_loss, softmax_cross_entropy, to_time_major
from ._common import derive_seed

TASKS = ("adding", "copy")
_TASK_ID = {"adding": 1, "copy": 2}

#: Success means an error below this fraction of the trivial baseline.
SUCCESS_FRACTION = 0.1


@dataclass
class TaskData:
    """Train/validation/test splits of one task at one lag, time-major float32.

    ``metric`` is the test error measure: for ``adding`` the mean squared error in the
    task's units (the network predicts the target minus its known mean 1, added back), for
    ``copy`` the error rate. ``baseline`` is the trivial predictor's expected error:
    ``Var(U + U') = 1/6`` for adding (predict the mean), ``1 - 1/n_symbols`` for copy (guess).
    ``baseline_empirical`` is that predictor's error on the test set (the training mean / the
    most frequent training class).
    """

    task: str
    lag: int
    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    input_size: int
    output_size: int
    metric: str
    baseline: float
    baseline_empirical: float

    @property
    def loss(self):
        return mse_loss if self.task == "adding" else softmax_cross_entropy

    @property
    def threshold(self) -> float:
        return SUCCESS_FRACTION * self.baseline

    def error(self, output: np.ndarray, y: np.ndarray) -> float:
        """Test error of network outputs ``(n, output_size)`` against targets ``y``."""
        if self.task == "adding":
            return float(np.mean((output[:, 0].astype(np.float64) + ADDING_MEAN - y) ** 2))
        return float(np.mean(np.argmax(output, axis=1) != y))

    def targets(self, y: np.ndarray) -> np.ndarray:
        """What the network is trained to output for targets ``y``."""
        if self.task == "adding":
            return (y.astype(np.float64) - ADDING_MEAN).astype(np.float32)[:, None]
        return np.asarray(y, dtype=np.intp)


#: E[U + U'] for two independent U(0, 1): the adding problem's known target mean.
ADDING_MEAN = 1.0


def _generate(task: str, n: int, lag: int, seed: int, n_symbols: int):
    if task == "adding":
        return make_adding_problem(n, lag, random_state=seed)
    return make_copy_memory(n, lag, n_symbols=n_symbols, random_state=seed)


def make_task(
    task: str, lag: int, seed: int, *, n_train: int, n_val: int, n_test: int, n_symbols: int = 8
) -> TaskData:
    """Independent training, validation and test sets for ``task`` at ``lag``.

    The data seeds derive from ``(seed, lag, task, split)`` with :func:`derive_seed`, so every
    cell sees the same sequences for one seed and lag.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}.")
    splits = []
    for split, n in enumerate((n_train, n_val, n_test)):
        X, y = _generate(task, n, lag, derive_seed(seed, lag, _TASK_ID[task], split), n_symbols)
        splits.append((to_time_major(X, np.float32), y))
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = splits
    if task == "adding":
        baseline = 1.0 / 6.0
        empirical = float(np.mean((y_te.astype(np.float64) - y_tr.mean(dtype=np.float64)) ** 2))
        metric, out = "mse", 1
    else:
        baseline = 1.0 - 1.0 / n_symbols
        empirical = float(np.mean(y_te != np.bincount(y_tr, minlength=n_symbols).argmax()))
        metric, out = "error_rate", n_symbols
    data = TaskData(
        task=task,
        lag=lag,
        X_train=X_tr,
        Y_train=np.empty(0),
        X_val=X_va,
        y_val=y_va,
        X_test=X_te,
        y_test=y_te,
        input_size=X_tr.shape[2],
        output_size=out,
        metric=metric,
        baseline=baseline,
        baseline_empirical=empirical,
    )
    data.Y_train = data.targets(y_tr)
    return data


def series_windows(dataset: str, window: int, train_fraction: float | None = None):
    """Standardized windows of a shipped series: ``X (n, window, 1)`` float32, ``y (n,)``.

    Row ``i`` holds ``window`` consecutive values and its target is the next value. The
    series is standardized with the mean and standard deviation of its first
    ``train_fraction`` (all of it when None). Also returns the number of windows whose target
    lies in that first part (the training windows when ``train_fraction`` is given).
    """
    series = load(dataset)
    if isinstance(series, pd.DataFrame):
        raise ValueError(
            f"dataset {dataset!r} has several columns; the experiments need one series, e.g. 'sunspots'."
        )
    values = series.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(
            f"dataset {dataset!r} has missing values; pick a complete series such as 'sunspots'."
        )
    window = check_positive_int(window, "window")
    if window >= len(values) - 1:
        raise ValueError(f"window={window} leaves no windows in {dataset!r} ({len(values)} values).")
    n_fit = len(values) if train_fraction is None else round(train_fraction * len(values))
    mean, std = values[:n_fit].mean(), values[:n_fit].std()
    z = (values - mean) / std
    X = np.lib.stride_tricks.sliding_window_view(z[:-1], window)[:, :, None].astype(np.float32)
    y = z[window:].astype(np.float32)
    n_train_windows = max(n_fit - window, 0)
    return np.ascontiguousarray(X), y, n_train_windows
