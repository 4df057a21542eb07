"""Synthetic long-dependency tasks: the standard benchmarks for memory in recurrent networks."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from .._validation import check_positive_int


def make_adding_problem(
    n_samples: int = 1000, seq_len: int = 100, random_state=None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997; Le et al., 2015).

    Each sequence has two channels: values drawn uniformly from [0, 1], and a marker that is
    1 at exactly two steps, one in the first half and one in the second half. The target is the
    sum of the two marked values. Solving it needs memory over up to ``seq_len`` steps.
    Predicting the mean (1.0) gives an MSE of Var(U + U') = 1/6 ≈ 0.167: the trivial baseline.

    Parameters
    ----------
    n_samples : int, default=1000
    seq_len : int, default=100
        Sequence length L (>= 2): the longest dependency the network must bridge.
    random_state : int, RandomState instance or None
    dtype : numpy float dtype, default=np.float32

    Returns
    -------
    X : ndarray of shape (n_samples, seq_len, 2)
        Channel 0 the values, channel 1 the markers.
    y : ndarray of shape (n_samples,)
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    seq_len = check_positive_int(seq_len, "seq_len")
    if seq_len < 2:
        raise ValueError(f"seq_len must be at least 2 (one marker in each half), got {seq_len}.")
    rng = check_random_state(random_state)
    values = rng.uniform(0.0, 1.0, size=(n_samples, seq_len))
    half = seq_len // 2
    first = rng.randint(0, half, size=n_samples)
    second = rng.randint(half, seq_len, size=n_samples)
    markers = np.zeros((n_samples, seq_len))
    rows = np.arange(n_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=2).astype(dtype)
    y = (values[rows, first] + values[rows, second]).astype(dtype)
    return X, y


def make_copy_memory(
    n_samples: int = 1000, lag: int = 50, n_symbols: int = 8, random_state=None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Recall a symbol seen ``lag`` steps earlier (a one-symbol copy-memory task).

    The first step shows one of ``n_symbols`` symbols (one-hot); the next ``lag - 1`` steps are
    blank; the last step carries a "recall" flag. The label is the symbol shown at the first
    step, so a classifier must carry it across ``lag`` steps. Guessing gives accuracy
    ``1 / n_symbols``.

    Returns
    -------
    X : ndarray of shape (n_samples, lag + 1, n_symbols + 1)
        Channels 0..n_symbols-1 the one-hot symbol, channel n_symbols the recall flag.
    y : ndarray of shape (n_samples,), int
        The symbol to recall.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    lag = check_positive_int(lag, "lag")
    n_symbols = check_positive_int(n_symbols, "n_symbols")
    if n_symbols < 2:
        raise ValueError(f"n_symbols must be at least 2, got {n_symbols}.")
    rng = check_random_state(random_state)
    y = rng.randint(0, n_symbols, size=n_samples)
    X = np.zeros((n_samples, lag + 1, n_symbols + 1), dtype=dtype)
    X[np.arange(n_samples), 0, y] = 1.0
    X[:, lag, n_symbols] = 1.0
    return X, y
