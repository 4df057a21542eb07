"""Input checks shared by every public entry point.

Each message says which argument was wrong, what was expected and what was given, and
where there is an obvious fix, names it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def describe(value: Any) -> str:
    """Short description of a value for error messages: type, shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"{type(value).__name__}"


def check_float_array(
    value: Any,
    name: str,
    ndim: int | tuple[int, ...] | None = None,
    dtype: np.dtype | type | None = None,
    allow_nonfinite: bool = False,
) -> np.ndarray:
    """Return ``value`` as a C-contiguous float32/float64 array or raise a clear error.

    Parameters
    ----------
    value : array-like
        What the user passed.
    name : str
        The argument name used in messages.
    ndim : int or tuple of int, optional
        Allowed number of dimensions.
    dtype : dtype, optional
        Required float dtype (e.g. the dtype of the weights). Arrays of the other float
        dtype are rejected rather than silently converted, because mixing float32 and
        float64 usually means a bug in the caller.
    allow_nonfinite : bool, default=False
        Accept NaN and inf.
    """
    if not isinstance(value, np.ndarray):
        if hasattr(value, "__array__") or isinstance(value, (list, tuple)):
            try:
                value = np.asarray(value)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name} must be a numeric array, got {describe(value)}.") from exc
        else:
            raise TypeError(f"{name} must be a numpy array, got {describe(value)}.")
    if value.dtype.type not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must have dtype float32 or float64, got {value.dtype}; "
            f"convert it with {name}.astype(np.float32)."
        )
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise TypeError(
            f"{name} has dtype {value.dtype} but the weights are {np.dtype(dtype)}; "
            f"pass {name}.astype(np.{np.dtype(dtype)}) so every array has one dtype."
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if value.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {describe(value)}.")
    if not allow_nonfinite:
        check_finite(value, name)
    return np.ascontiguousarray(value)


def check_finite(value: np.ndarray, name: str) -> None:
    """Raise a ValueError naming the count and first position of NaN/inf entries."""
    finite = np.isfinite(value)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name} contains {len(bad)} NaN or infinite value(s), the first at index {first}; "
            f"remove or fill them first (e.g. pandas .interpolate() or .dropna())."
        )


def check_finite_like(value: Any, name: str) -> None:
    """:func:`check_finite` on an array-like of floats; other inputs are left alone.

    For entry points that convert their inputs later (e.g. scikit-learn's ``validate_data``):
    this gives the NaN/inf message with the count and position first.
    """
    if value is None:  # a missing argument is the caller's to report
        return
    if hasattr(value, "to_numpy"):  # pandas: without copying each column separately
        try:
            value = value.to_numpy()
        except (TypeError, ValueError):
            return
    try:
        arr = np.asarray(value)
        if arr.ndim == 0:
            return
        if arr.dtype.kind == "O":  # numbers held as objects: checked as numbers
            arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        return  # not numbers: the caller's conversion reports that
    if arr.dtype.kind in "fc":
        check_finite(arr, name)


def check_shape(value: np.ndarray, name: str, expected: tuple[int, ...], hint: str = "") -> None:
    """Raise a ValueError when ``value.shape`` differs from ``expected``."""
    if value.shape != tuple(expected):
        raise ValueError(
            f"{name} must have shape {tuple(expected)}, got {value.shape}." + (f" {hint}" if hint else "")
        )


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_non_negative_int(value: Any, name: str) -> int:
    """Return ``value`` as an int if it is an integer >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def check_choice(value: Any, name: str, choices) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}.")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a bool, else raise (so 0/1 or strings are not taken as flags)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_positive_number(value: Any, name: str) -> float:
    """Return ``value`` as a float if it is a finite number above 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number, got {value!r}.")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


def check_probability(value: Any, name: str) -> float:
    """Return ``value`` as a float strictly between 0 and 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number strictly between 0 and 1, got {value!r}.")
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}.")
    return float(value)
