"""Declared persisted state: which classes a model file may hold, and what each one holds.

:func:`tsrnn.save` stores a class only if it is registered here with :func:`register`. Each
registered class declares its own state and invariants through two methods (or two functions
given to :func:`register`):

``_get_state(self) -> dict``
    The state as a mapping of names to values that the model file can store: ``None``, bool,
    int, float, str, lists, tuples, dicts, NumPy arrays, dtypes, ``RandomState``, pandas
    indexes and offsets, and other registered objects.
``_set_state(self, state: dict) -> None``
    Called on an instance made by ``cls.__new__`` (no ``__init__`` runs) with the decoded
    state. It checks every name, type, shape and size the class relies on *before* it
    builds anything from them, and raises :class:`StateError` otherwise. Registered objects
    inside the state have already been rebuilt and passed their own checks.

The container (``tsrnn._persistence``) knows nothing of any class's attributes. It sets a
memory budget proportional to the file size for the duration of a load: a class that rebuilds
something whose size the file only claims (a network layout, a statsmodels state space) calls
:func:`reserve` with the bytes it is about to use, so a small crafted file cannot make a load
allocate much more than it holds.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "StateError",
    "check_array",
    "check_choice",
    "check_int",
    "check_keys",
    "check_vector",
    "estimator_state",
    "fail",
    "load_budget",
    "register",
    "registered",
    "reserve",
    "restore_estimator_state",
]


class StateError(ValueError):
    """The state read from a model file is inconsistent with what its class requires."""


_REGISTRY: dict[str, tuple[type, Callable, Callable]] = {}


def register(cls: type, get_state: Callable | None = None, set_state: Callable | None = None) -> type:
    """Allow ``cls`` in model files; its state is read and restored by the two methods.

    ``get_state``/``set_state`` default to the class's ``_get_state``/``_set_state``. Usable as a
    class decorator. The name is the key in the file, so two registered classes may not share it.
    """
    get = get_state or cls._get_state
    put = set_state or cls._set_state
    name = cls.__name__
    known = _REGISTRY.get(name)
    if known is not None and known[0] is not cls:
        raise RuntimeError(f"two persisted classes are named {name!r}: {known[0]!r} and {cls!r}")
    _REGISTRY[name] = (cls, get, put)
    return cls


def registered() -> dict[str, tuple[type, Callable, Callable]]:
    """Name -> ``(class, get_state, set_state)`` of every class a model file may hold."""
    return dict(_REGISTRY)


# --------------------------------------------------------------------------------- budget

_BUDGET: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("tsrnn_load_budget", default=None)


@contextlib.contextmanager
def load_budget(nbytes: int) -> Iterator[None]:
    """Within this block, :func:`reserve` refuses more than ``nbytes`` in all."""
    token = _BUDGET.set([int(nbytes)])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def reserve(nbytes: float, what: str) -> None:
    """Account for ``nbytes`` about to be built from a file; :class:`StateError` past the budget."""
    left = _BUDGET.get()
    if left is None:
        return
    if not nbytes <= left[0]:
        fail(
            what,
            f"rebuilding it needs about {nbytes:.3g} bytes, more than a file of this size may ask for "
            f"({left[0]} bytes left)",
        )
    left[0] -= int(nbytes)


# --------------------------------------------------------------------------------- checks


def fail(where: str, message: str):
    raise StateError(f"{where}: {message}")


def check_keys(where: str, state: dict, required: Iterable[str], optional: Iterable[str] = ()) -> None:
    """The state holds every ``required`` name, and nothing outside ``required`` and ``optional``."""
    required = set(required)
    missing = sorted(required - set(state))
    unknown = sorted(set(state) - required - set(optional), key=str)
    if missing or unknown:
        fail(where, f"its state lacks {missing} or holds unknown entries {unknown}")


def check_int(value: Any, where: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        fail(where, f"expected an integer, got {type(value).__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        fail(where, f"{value} is out of range [{low}, {high}]")
    return int(value)


def check_choice(value: Any, where: str, choices) -> Any:
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        fail(where, f"expected one of {list(choices)!r}, got {value!r}")
    return value


def check_array(
    value: Any,
    where: str,
    shape: tuple | None = None,
    *,
    kinds: str = "f",
    ndim: int | None = None,
    finite: bool = True,
    positive: bool = False,
) -> np.ndarray:
    """An ndarray of one of the dtype ``kinds``, of ``shape`` (``None`` entries: any) or ``ndim``."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in kinds:
        fail(where, f"expected an array of kind {kinds!r}, got {_describe(value)}")
    if ndim is not None and value.ndim != ndim:
        fail(where, f"expected {ndim} dimension(s), got shape {value.shape}")
    if shape is not None and (
        len(shape) != value.ndim or any(s is not None and s != v for s, v in zip(shape, value.shape))
    ):
        fail(where, f"expected shape {shape}, got {value.shape}")
    if value.dtype.kind in "fc" and finite and not np.all(np.isfinite(value)):
        fail(where, "holds NaN or infinite values")
    if positive and not np.all(value > 0):
        fail(where, "holds values that are not positive")
    return value


def check_vector(value: Any, where: str, size: int, *, positive: bool = False, allow_none: bool = False):
    """A finite float vector of ``size`` values (or ``None`` when allowed)."""
    if value is None and allow_none:
        return None
    return check_array(value, where, (size,), positive=positive)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"a {type(value).__name__}"


# ------------------------------------------------------------- scikit-learn style classes


def estimator_state(obj, fitted: Iterable[str], optional: Iterable[str] = ()) -> dict:
    """The constructor parameters, plus the ``fitted`` (and present ``optional``) attributes.

    The fitted attributes are stored only when all of them are present (a fitted object).
    """
    own = vars(obj)
    state = {name: own[name] for name in type(obj)._get_param_names()}
    fitted = tuple(fitted)
    if fitted and all(name in own for name in fitted):
        state.update({name: own[name] for name in fitted})
        state.update({name: own[name] for name in optional if name in own})
    return state


def restore_estimator_state(
    obj, state: dict, fitted: Iterable[str], optional: Iterable[str] = (), where: str | None = None
) -> bool:
    """Check the names in ``state``, validate the parameters, set everything on ``obj``.

    Returns whether the state is that of a fitted object. The parameters are checked against
    the class's ``_parameter_constraints`` (scikit-learn's ``_validate_params``) and its
    cross-parameter rules (``_check_params``, when it has them); the caller checks the fitted
    attributes, which are set but not yet trusted.
    """
    where = where or type(obj).__name__
    fitted = tuple(fitted)
    is_fitted = any(name in state for name in (*fitted, *optional))
    params = type(obj)._get_param_names()
    check_keys(where, state, [*params, *(fitted if is_fitted else ())], optional if is_fitted else ())
    obj.__dict__.update(state)
    try:
        obj._validate_params()
        check = getattr(obj, "_check_params", None)
        if check is not None:
            check()
    except (ValueError, TypeError) as exc:
        fail(where, f"invalid parameters ({exc})")
    return is_fitted


def per_series_state(obj, fitted: Iterable[str], describe) -> dict:
    """:func:`estimator_state` of a forecaster holding one fitted result per series.

    A fitted object's results (``obj._results``) are stored as the data each is rebuilt from,
    ``describe(result)``, in a list under ``"_models"``.
    """
    fitted = tuple(fitted)
    state = estimator_state(obj, fitted)
    if hasattr(obj, "_results") and all(name in state for name in fitted):
        state["_models"] = [describe(result) for result in obj._results]
    return state


def restore_per_series_state(obj, state: dict, fitted: Iterable[str], where: str) -> list | None:
    """Restore a :func:`per_series_state`.

    Returns the stored model descriptions, one per series (their contents not yet checked), or
    ``None`` for an unfitted object.
    """
    if not restore_estimator_state(obj, state, (*fitted, "_models")):
        return None
    models = obj.__dict__.pop("_models")
    m = check_int(obj.n_series_, f"{where}.n_series_", 1)
    if not (isinstance(models, list) and len(models) == m):
        fail(where, "does not hold one model per series")
    return models
