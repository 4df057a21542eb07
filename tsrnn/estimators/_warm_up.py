"""Compile the kernels a model will use before timing or parallelising its fits."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..nn import compile_kernels, resolve_device
from ._base import BaseRecurrent

__all__ = ["recurrent_estimators", "warm_up"]


def recurrent_estimators(model) -> list[BaseRecurrent]:
    """The tsrnn recurrent estimators in ``model``: itself, or nested (``Forecaster.estimator``...)."""
    found = [model] if isinstance(model, BaseRecurrent) else []
    if hasattr(model, "get_params"):
        found += [v for v in model.get_params(deep=True).values() if isinstance(v, BaseRecurrent)]
    return found


def warm_up(models: Iterable) -> int:
    """Compile (or load from Numba's on-disk cache) the CPU kernels that ``models`` will use.

    Numba compiles a kernel on its first call: 5-15 s per cell and dtype in a fresh
    installation, then milliseconds from the cache. Doing it once, up front, keeps the compile
    out of the first fit's measured time and stops parallel workers from all compiling the
    same kernels at once. Each distinct (cell, dtype) is compiled once per process
    (:func:`tsrnn.nn.compile_kernels`); the models themselves are not touched.

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
    seen = set()
    for model in models:
        for est in recurrent_estimators(model):
            try:
                device = resolve_device(est.device)
            except (RuntimeError, ValueError):
                continue  # the fit itself reports an unusable device
            key = (est._cell_name(), np.dtype(est.dtype).name)
            if device != "cpu" or key in seen:
                continue
            seen.add(key)
            compile_kernels(*key, device=device)
    return len(seen)
