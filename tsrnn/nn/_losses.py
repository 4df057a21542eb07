"""Losses on the network output: each returns ``(loss, d_output)``.

``loss`` is a Python float (accumulated in float64); ``d_output`` is the gradient of that
loss with respect to the network output, in the output's dtype. Both losses are means over
the batch, so gradients do not grow with the batch size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mse_loss", "softmax", "softmax_cross_entropy"]


def mse_loss(output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Half mean squared error over every sample and output column.

    ``loss = 0.5 * mean((output - target)**2)``, ``d_output = (output - target) / output.size``.

    Parameters
    ----------
    output, target : ndarray of shape (N, O)
    """
    diff = output - target
    loss = 0.5 * float(np.mean(np.square(diff, dtype=np.float64)))
    return loss, diff / diff.dtype.type(diff.size)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so it cannot overflow."""
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def softmax_cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of integer class codes.

    ``loss = mean_n(logsumexp(logits_n) - logits_n[target_n])`` and
    ``d_logits = (softmax(logits) - onehot(target)) / N``. Binary problems use two logits
    (one per class), so binary and multiclass share this one loss.

    Parameters
    ----------
    logits : ndarray of shape (N, K)
    target : ndarray of shape (N,), int
        Class codes in ``0..K-1``.
    """
    n = logits.shape[0]
    rows = np.arange(n)
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    loss = float(np.mean(log_norm - z[rows, target]))
    d = softmax(logits.copy())
    d[rows, target] -= 1.0
    d /= d.dtype.type(n)
    return loss, d
