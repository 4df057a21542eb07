"""Running many independent fits through joblib: locally, or on a Dask cluster.

Every parallel loop of tsrnn (:func:`tsrnn.backtest`, :func:`tsrnn.compare`,
:func:`tsrnn.fit_many`) goes through :func:`run_tasks`, so one switch moves them all:
``n_jobs`` picks the local process pool, and ``with joblib.parallel_backend("dask"):`` sends the
same tasks to a ``dask.distributed`` cluster.

Two rules make the results independent of where the tasks run:

- the work is cut into the same tasks whatever ``n_jobs`` is (one task per series and refit
  group, never "one chunk per worker"), and each task seeds its own randomness (the
  forecasters' ``random_state``), so ``n_jobs=1``, ``n_jobs=2`` and a cluster give
  bit-identical numbers;
- a task that runs next to others is limited to one BLAS (and Numba) thread: the parallelism
  is across tasks. Without the limit each of ``k`` workers would start a thread per core and
  ``k * cores`` threads would fight over the cores (joblib's own process pool sets such limits
  through environment variables, but Dask workers and the thread backend do not).
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from joblib import Parallel, delayed, effective_n_jobs
from threadpoolctl import ThreadpoolController

__all__ = [
    "TaskFailed",
    "abort_on_interrupt",
    "blas_controller",
    "interrupt_aborts",
    "prestart",
    "run_tasks",
    "single_threaded",
]


@functools.cache
def blas_controller() -> ThreadpoolController:
    """The thread pools (BLAS, OpenMP) loaded in this process, found once.

    ``threadpoolctl.threadpool_limits`` scans the loaded libraries at every call (about 3 ms
    here, more than a naive forecast takes); the controller's ``limit`` reuses the scan (0.1 ms).
    numpy, scipy and scikit-learn load their pools on import, before the first use.
    """
    return ThreadpoolController()


# Thread limits are process-wide: with joblib's thread backend several tasks share them, so the
# first task to enter applies them and the last to leave restores them (a task that restored
# them on its own exit would lift them under the feet of the tasks still running).
_limit_lock = threading.Lock()
_limit_users = 0
_limit_stack: ExitStack | None = None


def _apply_single_thread_limits(stack: ExitStack) -> None:
    stack.enter_context(blas_controller().limit(limits=1))
    try:
        from numba.np.ufunc import parallel as numba_parallel
    except ImportError:  # pragma: no cover - numba is a core dependency
        numba_parallel = None
    # Only when a parallel kernel has started Numba's pool: starting it here just to limit it
    # would cost threads in every task.
    if numba_parallel is not None and getattr(numba_parallel, "_is_initialized", False):
        import numba

        before = numba.get_num_threads()
        numba.set_num_threads(1)
        stack.callback(numba.set_num_threads, before)


@contextmanager
def single_threaded() -> Iterator[None]:
    """One BLAS/OpenMP thread (threadpoolctl) and, if Numba's thread pool runs, one Numba thread.

    Re-entrant across threads: the limits hold while any task of this process is inside.
    """
    global _limit_users, _limit_stack
    with _limit_lock:
        if _limit_users == 0:
            _limit_stack = ExitStack()
            _apply_single_thread_limits(_limit_stack)
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0 and _limit_stack is not None:
                _limit_stack.close()
                _limit_stack = None


# Whether a KeyboardInterrupt inside tsrnn.nn.train ends the training (False: keep the model, the
# default) or propagates after the weights are restored (True: inside abort_on_interrupt).
_ABORT_ON_INTERRUPT = contextvars.ContextVar("tsrnn_abort_on_interrupt", default=False)


@contextmanager
def abort_on_interrupt() -> Iterator[None]:
    """Within this block, Ctrl-C during :func:`tsrnn.nn.train` propagates instead of ending one fit.

    A single ``fit`` interrupted by Ctrl-C keeps its best weights and returns; in a loop over
    many fits (a backtest, ``fit_many``) that would only skip to the next fit, so such loops
    run their fits inside this context, where the interrupt stops the whole loop.
    """
    token = _ABORT_ON_INTERRUPT.set(True)
    try:
        yield
    finally:
        _ABORT_ON_INTERRUPT.reset(token)


def interrupt_aborts() -> bool:
    """Whether the caller runs inside :func:`abort_on_interrupt`."""
    return _ABORT_ON_INTERRUPT.get()


class TaskFailed:
    """The exception a task raised, carried back to the caller (see ``run_tasks(capture=True)``)."""

    def __init__(self, error: BaseException):
        self.error = error


def _run(fn: Callable, args: tuple, limit_threads: bool, capture: bool):
    with ExitStack() as stack:
        # Ctrl-C must stop the whole loop, not just the fit it lands in.
        stack.enter_context(abort_on_interrupt())
        if limit_threads:
            stack.enter_context(single_threaded())
        if not capture:
            return fn(*args)
        try:
            return fn(*args)
        except Exception as exc:
            return TaskFailed(exc)


def run_tasks(
    fn: Callable,
    arg_tuples: Iterable[tuple],
    n_jobs: int | None = None,
    *,
    capture: bool = False,
) -> Iterator[Any]:
    """``fn(*args)`` for every tuple of ``arg_tuples``, in order, through joblib.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the workers).
    arg_tuples : iterable of tuple
    n_jobs : int or None
        joblib's ``n_jobs``: ``None`` means 1 unless a ``joblib.parallel_backend`` context says
        otherwise (e.g. ``parallel_backend("dask")`` uses every worker of the cluster); ``-1``
        all cores.
    capture : bool, default=False
        Return a :class:`TaskFailed` for a task that raised (an ``Exception``) instead of
        stopping everything at the first error.

    Returns
    -------
    iterator
        The results in the order of ``arg_tuples``, as they complete.
    """
    parallel = effective_n_jobs(n_jobs) != 1
    return Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_run)(fn, args, parallel, capture) for args in arg_tuples
    )


def _import(modules: tuple[str, ...]) -> None:
    import importlib

    for module in modules:
        importlib.import_module(module)


def prestart(n_jobs: int | None, modules: tuple[str, ...]) -> threading.Thread | None:
    """Start joblib's local worker processes now, in a background thread, importing ``modules``.

    A later :func:`run_tasks` with the same ``n_jobs`` reuses these workers (joblib keeps its
    process pool), so their start-up and imports overlap whatever the caller does meanwhile
    instead of delaying the first task. Returns the thread (``join`` it before
    :func:`run_tasks`), or None when nothing was started: one job, or a backend other than
    joblib's process pool (e.g. inside ``parallel_backend("dask")``).
    """
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if type(backend).__name__ != "LokyBackend" or effective_n_jobs(n_jobs) == 1:
        return None
    n = effective_n_jobs(n_jobs)

    def start() -> None:
        try:
            Parallel(n_jobs=n_jobs)(delayed(_import)(modules) for _ in range(n))
        except Exception:  # only a head start: the real tasks report any problem themselves
            pass

    thread = threading.Thread(target=start, name="tsrnn-prestart", daemon=True)
    thread.start()
    return thread
