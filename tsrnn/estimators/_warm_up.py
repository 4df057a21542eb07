"""Compile the kernels a model will use before timing or parallelising its fits."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.base import clone

from ..nn import compile_kernels, resolve_backend
from ._base import BaseRecurrent

__all__ = ["find_recurrent", "kernels_needed", "recurrent_estimators", "warm_up", "with_device"]


def find_recurrent(model) -> dict[str, BaseRecurrent]:
    """Every tsrnn recurrent estimator in ``model``, keyed by its parameter path.

    The one finder of "the recurrent models": ``model`` itself (path ``""``), or nested at
    any depth through ``get_params`` (``"estimator"``, ``"forecaster__estimator"``, ...) and
    through lists and tuples of estimators (``"estimator[1]"`` for the second network of an
    ensemble, ``"estimator__steps[1][1]"`` for a pipeline's second step). A parameter left at
    None whose owner builds a default estimator in ``fit`` counts too: the owner names those
    defaults in a ``_default_estimators()`` method (``Forecaster`` does), and the default (a
    fresh, unfitted instance) is reported at that path.
    """
    found: dict[str, BaseRecurrent] = {}

    def walk(obj, path: str) -> None:
        if isinstance(obj, BaseRecurrent):
            found[path] = obj
            return
        if isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                walk(item, f"{path}[{i}]")
            return
        for name, value in _parameters(obj).items():
            walk(value, f"{path}__{name}" if path else name)

    walk(model, "")
    return found


def recurrent_estimators(model) -> list[BaseRecurrent]:
    """The tsrnn recurrent estimators in ``model`` (see :func:`find_recurrent`)."""
    return list(find_recurrent(model).values())


def with_device(model, device: str):
    """``model`` with every recurrent estimator in it set to ``device`` (see :func:`find_recurrent`).

    Returns ``model`` itself when nothing changes, else a clone: the caller's object is left
    alone. An estimator that ``model`` would build by default is made explicit, with the
    device set.
    """
    return _moved(model, device)


def _moved(obj, device: str):
    """``obj``, or a copy whose recurrent estimators (as :func:`find_recurrent` walks them)
    train on ``device``: only what changes is cloned."""
    if isinstance(obj, BaseRecurrent):
        return obj if obj.device == device else clone(obj).set_params(device=device)
    if isinstance(obj, (list, tuple)):
        items = [_moved(item, device) for item in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        # the items that did not move are copied too: the copy shares nothing with the caller's
        return type(obj)(a if a is not b else clone(b, safe=False) for a, b in zip(items, obj))
    changes = {}
    for name, value in _parameters(obj).items():  # a default built in fit is made explicit if it moves
        moved = _moved(value, device)
        if moved is not value:
            changes[name] = moved
    return obj if not changes else clone(obj).set_params(**changes)


def _parameters(obj) -> dict:
    """``obj``'s own parameters (``get_params(deep=False)``; none when it is not an estimator),
    with each one left at None replaced by the estimator ``obj`` would build for it in ``fit``
    (named by its ``_default_estimators()``), where there is one."""
    if isinstance(obj, type) or not hasattr(obj, "get_params"):
        return {}
    defaults = obj._default_estimators() if hasattr(obj, "_default_estimators") else {}
    return {
        name: defaults.get(name) if value is None else value
        for name, value in obj.get_params(deep=False).items()
    }


def kernels_needed(models: Iterable) -> list[tuple[str, str]]:
    """The distinct ``(cell, dtype name)`` CPU kernel sets that ``models`` will train with.

    In the order the models name them; estimators that train on a GPU, or on a device that
    cannot run here (their fit reports it), need none.
    """
    seen: dict[tuple[str, str], None] = {}
    for model in models:
        for est in recurrent_estimators(model):
            try:
                backend = resolve_backend(est.device)
            except (RuntimeError, ValueError):
                continue  # the fit itself reports an unusable device
            if backend.name == "cpu":
                seen[(est._cell_name(), np.dtype(est.dtype).name)] = None
    return list(seen)


def warm_up(models: Iterable) -> int:
    """Compile (or load from Numba's on-disk cache) the CPU kernels that ``models`` will use.

    Numba compiles a kernel on its first call: 5-15 s per cell and dtype in a fresh
    installation, then milliseconds from the cache. Doing it once, up front, keeps the compile
    out of the first fit's measured time and stops parallel workers from all compiling the
    same kernels at once. Each distinct (cell, dtype) of :func:`kernels_needed` is compiled
    once per process (:func:`tsrnn.nn.compile_kernels`); the models themselves are not touched.

    Parameters
    ----------
    models : iterable
        Estimators or forecasters; those without a tsrnn recurrent estimator are ignored, as
        are estimators that train on a GPU.

    Returns
    -------
    int
        How many (cell, dtype) combinations were warmed up.
    """
    keys = kernels_needed(models)
    for cell, dtype in keys:
        compile_kernels(cell, dtype, device="cpu")
    return len(keys)
