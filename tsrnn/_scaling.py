"""Standardisation statistics shared by the estimators and the forecasting transforms.

One rule for every place that scales data to zero mean and unit variance, so a constant
column, values around 1e12 and values around 1e-12 are all handled the same way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["moments"]

# A spread below this many units in the last place of the largest magnitude is rounding noise
# of a constant column (np.std of a constant array is 0 or a few ulps of its value).
_ROUNDING_ULPS = 64


def moments(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Means and scales along ``axis`` such that ``(values - mean) / scale`` is standardised.

    The scale is the standard deviation, except for a column that is constant up to rounding:
    there it is ``|mean|`` (1 for a column of zeros), so the standardised column is 0 and an
    error of the model on the standardised scale stays relative to the data. The threshold is
    relative to the column's magnitude, never absolute, so a series around 1e-12 with a real
    spread of 1e-13 is standardised like the same series around 1 (and one around 1e12 with a
    spread of 1 too).

    Returns float64 arrays of the shape of ``values`` without ``axis``.
    """
    values = np.asarray(values, dtype=np.float64)
    mean = values.mean(axis=axis)
    scale = values.std(axis=axis)
    magnitude = np.max(np.abs(values), axis=axis) if values.shape[axis] else np.zeros_like(mean)
    constant = ~(scale > _ROUNDING_ULPS * np.finfo(np.float64).eps * magnitude)
    fallback = np.where(np.abs(mean) > 0, np.abs(mean), 1.0)
    return mean, np.where(constant, fallback, scale)
