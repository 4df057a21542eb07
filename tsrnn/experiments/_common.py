"""Shared machinery of the experiments: seeds, presets, thread limits, parallel runs, training.

Every experiment is a list of independent *runs* (one cell, one setting, one seed). A run
builds its data and network from its own seeds, trains with the :mod:`tsrnn.nn` engine and
returns plain rows, so runs can go to worker processes (joblib) and give the same numbers
whatever the number of workers. Each run limits BLAS and OpenMP to ``blas_threads`` threads
(threadpoolctl; 1 by default) for the NumPy code around the kernels. The CPU kernels do not call
BLAS: they run on Numba's thread pool, which this limit does not reach (joblib starts each worker
process with one Numba thread), and give the same bits whatever their thread count.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from .._layout import CELLS
from .._parallel import run_tasks
from .._validation import check_positive_int, describe
from ..nn import History, RecurrentNetwork, make_optimizer, train

__all__ = [
    "TrainResult",
    "check_cells",
    "derive_seed",
    "fit_until",
    "resolve",
    "run_parallel",
]


def check_cells(cells, name: str = "cells") -> tuple[str, ...]:
    """A non-empty tuple of known cell names, without duplicates."""
    if isinstance(cells, str):
        cells = (cells,)
    try:
        cells = tuple(cells)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of cell names from {list(CELLS)}, got {describe(cells)}."
        ) from None
    unknown = [c for c in cells if c not in CELLS]
    if not cells or unknown:
        raise ValueError(
            f"{name} must be a non-empty sequence of cell names from {list(CELLS)}; got {cells!r}"
            + (f" (unknown: {unknown})" if unknown else "")
            + "."
        )
    if len(set(cells)) != len(cells):
        raise ValueError(f"{name} lists a cell twice: {cells!r}.")
    return cells


def check_ints(values, name: str, minimum: int = 1) -> tuple[int, ...]:
    """A non-empty tuple of integers >= ``minimum`` (a single integer is accepted)."""
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of integers, got {describe(values)}.") from None
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum]
    if not values or bad:
        raise ValueError(
            f"{name} must be a non-empty sequence of integers >= {minimum}, got {values!r}"
            + (f" (invalid: {bad})" if bad else "")
            + "."
        )
    return tuple(int(v) for v in values)


def resolve(value, name: str, quick: bool, full: dict, quick_presets: dict):
    """``value`` when given, else the preset ``name`` of the chosen mode."""
    if value is not None:
        return value
    return quick_presets[name] if quick else full[name]


def resolve_sizes(quick: bool, full: dict, quick_presets: dict, **values) -> dict[str, int]:
    """Each of ``values`` (a positive integer, or None for its preset), checked and resolved."""
    return {
        name: check_positive_int(resolve(value, name, quick, full, quick_presets), name)
        for name, value in values.items()
    }


def derive_seed(*keys: int) -> int:
    """A 32-bit seed derived from integers (``numpy.random.SeedSequence``), stable across runs.

    Used so that e.g. the training, validation and test sets of one run, and the runs of
    different lags, get independent data from one user-facing seed.
    """
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


# ----------------------------------------------------------------------------- parallel runs


def job_grid(common: dict, **axes) -> list[dict]:
    """The keyword arguments of one run per combination of the ``axes`` values (the first
    axis outermost), each with the ``common`` settings."""
    names = list(axes)
    return [{**dict(zip(names, values)), **common} for values in itertools.product(*axes.values())]


def _call_limited(fn: Callable, blas_threads: int, kwargs: dict):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads):
        return fn(**kwargs)


def run_parallel(
    fn: Callable,
    jobs: Sequence[dict],
    *,
    n_jobs: int | None = 1,
    blas_threads: int = 1,
    progress: bool = True,
    description: str = "",
) -> list:
    """``[fn(**kw) for kw in jobs]`` through the library's one parallel runner
    (:func:`tsrnn._parallel.run_tasks`: ``n_jobs`` as in joblib, and as everywhere in tsrnn),
    with a tqdm bar.

    Results come back in the order of ``jobs``. Each call runs under
    ``threadpool_limits(blas_threads)``.
    """
    from tqdm.auto import tqdm

    if n_jobs is not None and (not isinstance(n_jobs, Integral) or isinstance(n_jobs, bool) or n_jobs == 0):
        raise ValueError(
            f"n_jobs must be None, a positive number of workers or -1 (all cores), got {n_jobs!r}."
        )
    blas_threads = check_positive_int(blas_threads, "blas_threads")
    results: list = []
    with tqdm(total=len(jobs), desc=description, unit="run", disable=not progress, leave=True) as bar:
        for result in run_tasks(_call_limited, [(fn, blas_threads, kw) for kw in jobs], n_jobs):
            results.append(result)
            bar.update(1)
    return results


# ----------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    """What :func:`fit_until` did: per-epoch curves and how it stopped."""

    params: np.ndarray
    history: History
    val_metric: list[float] = field(default_factory=list)  # after every epoch
    recorded: dict[str, list[float]] = field(default_factory=dict)  # extra metrics per epoch
    wall_seconds: list[float] = field(default_factory=list)  # cumulative, after every epoch
    cpu_seconds: list[float] = field(default_factory=list)  # cumulative process CPU time
    best_epoch: int = 0  # 1-based epoch whose weights were kept (0: the initial weights)
    first_hit: int | None = None  # first epoch with val_metric <= target
    stop_reason: str = "max_epochs"

    @property
    def epochs(self) -> int:
        return len(self.val_metric)


def fit_until(
    network: RecurrentNetwork,
    params: np.ndarray,
    loss,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    val_metric: Callable[[np.ndarray], float],
    target: float | None,
    stop_below: float | None,
    max_epochs: int,
    batch_size: int,
    learning_rate: float,
    clip_norm: float | None,
    rng: np.random.RandomState,
    solver: str = "adam",
    momentum: float = 0.9,
    patience: int | None = None,
    record_batches: bool = False,
    record: dict[str, Callable[[np.ndarray], float]] | None = None,
) -> TrainResult:
    """Train with :func:`tsrnn.nn.train`, watching a held-out metric after every epoch (its
    per-epoch ``callback``).

    After every epoch ``val_metric(params)`` (lower is better) is recorded with the
    cumulative wall and CPU time of training (the metric's own evaluation is excluded).
    ``first_hit`` is the first epoch whose metric is ``<= target``; training stops when the
    metric is ``<= stop_below``, after ``patience`` epochs without a new best (None: never),
    on divergence, or after ``max_epochs``. The weights of the best epoch are restored.
    ``record`` names further metrics of the parameters computed after every epoch (kept in
    ``TrainResult.recorded``).
    """
    optimizer = make_optimizer(solver, params, learning_rate=learning_rate, momentum=momentum)
    result = TrainResult(params=params, history=History())
    best = val_metric(params)
    best_params = params.copy()
    since_best = 0
    clock = {"wall": 0.0, "cpu": 0.0, "w0": 0.0, "c0": 0.0}

    def after_epoch(history: History, current: np.ndarray) -> bool:
        """The study's stopping rule, run by the training loop after every epoch."""
        nonlocal best, since_best
        clock["wall"] += time.perf_counter() - clock["w0"]
        clock["cpu"] += time.process_time() - clock["c0"]
        epoch = history.n_iter
        metric = float(val_metric(current))
        result.val_metric.append(metric)
        result.wall_seconds.append(clock["wall"])
        result.cpu_seconds.append(clock["cpu"])
        for name, fn in (record or {}).items():
            result.recorded.setdefault(name, []).append(float(fn(current)))
        stop = None
        if not math.isfinite(metric):
            stop = "diverged"
        else:
            if metric < best:
                best, best_params[...], result.best_epoch, since_best = metric, current, epoch, 0
            else:
                since_best += 1
            if result.first_hit is None and target is not None and metric <= target:
                result.first_hit = epoch
            if stop_below is not None and metric <= stop_below:
                stop = "target"
            elif patience is not None and since_best >= patience:
                stop = "patience"
        if stop is not None:
            result.stop_reason = stop
        # the metric's own evaluation is not training time
        clock["w0"], clock["c0"] = time.perf_counter(), time.process_time()
        return stop is not None

    with warnings.catch_warnings():
        # A divergence is reported through stop_reason; the engine's advice is not needed here.
        warnings.simplefilter("ignore")
        clock["w0"], clock["c0"] = time.perf_counter(), time.process_time()
        train(
            network,
            params,
            optimizer,
            loss,
            X,
            Y,
            max_epochs=max_epochs,
            batch_size=batch_size,
            rng=rng,
            history=result.history,
            clip_norm=clip_norm,
            check_convergence=False,
            record_batches=record_batches,
            callback=after_epoch,
        )
    if result.history.stop_reason == "diverged":
        result.stop_reason = "diverged"
    params[...] = best_params
    return result
