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

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._layout import CELLS
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


def _call_limited(fn: Callable, blas_threads: int, kwargs: dict):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads):
        return fn(**kwargs)


def run_parallel(
    fn: Callable,
    jobs: Sequence[dict],
    *,
    n_jobs: int = 1,
    blas_threads: int = 1,
    progress: bool = True,
    description: str = "",
) -> list:
    """``[fn(**kw) for kw in jobs]``, in worker processes when ``n_jobs > 1``, with a tqdm bar.

    Results come back in the order of ``jobs``. Each call runs under
    ``threadpool_limits(blas_threads)``.
    """
    from tqdm.auto import tqdm

    n_jobs = check_positive_int(n_jobs, "n_jobs")
    blas_threads = check_positive_int(blas_threads, "blas_threads")
    results: list = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc=description, unit="run", disable=not progress, leave=True)
    try:
        if n_jobs == 1 or len(jobs) == 1:
            for i, kw in enumerate(jobs):
                results[i] = _call_limited(fn, blas_threads, kw)
                bar.update(1)
        else:
            from joblib import Parallel, delayed

            def indexed(i, kw):
                return i, _call_limited(fn, blas_threads, kw)

            parallel = Parallel(n_jobs=min(n_jobs, len(jobs)), return_as="generator_unordered")
            for i, result in parallel(delayed(indexed)(i, kw) for i, kw in enumerate(jobs)):
                results[i] = result
                bar.update(1)
    finally:
        bar.close()
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
    """Train epoch by epoch with :func:`tsrnn.nn.train`, watching a held-out metric.

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
    wall = cpu = 0.0
    for epoch in range(1, max_epochs + 1):
        w0, c0 = time.perf_counter(), time.process_time()
        before = result.history.n_iter
        with warnings.catch_warnings():
            # A divergence is reported through stop_reason; the engine's advice is not needed here.
            warnings.simplefilter("ignore")
            train(
                network,
                params,
                optimizer,
                loss,
                X,
                Y,
                max_epochs=1,
                batch_size=batch_size,
                rng=rng,
                history=result.history,
                clip_norm=clip_norm,
                check_convergence=False,
                reset_stopping=False,
                record_batches=record_batches,
            )
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        if result.history.n_iter == before:  # the epoch diverged: the engine restored its start
            result.stop_reason = "diverged"
            break
        metric = float(val_metric(params))
        result.val_metric.append(metric)
        result.wall_seconds.append(wall)
        result.cpu_seconds.append(cpu)
        for name, fn in (record or {}).items():
            result.recorded.setdefault(name, []).append(float(fn(params)))
        if not math.isfinite(metric):
            result.stop_reason = "diverged"
            break
        if metric < best:
            best, best_params[...], result.best_epoch, since_best = metric, params, epoch, 0
        else:
            since_best += 1
        if result.first_hit is None and target is not None and metric <= target:
            result.first_hit = epoch
        if stop_below is not None and metric <= stop_below:
            result.stop_reason = "target"
            break
        if patience is not None and since_best >= patience:
            result.stop_reason = "patience"
            break
    params[...] = best_params
    return result
