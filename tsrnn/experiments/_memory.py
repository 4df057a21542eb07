"""Long-range memory: test error per cell and lag on the adding or copy task."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..nn import RecurrentNetwork, compile_kernels
from ._common import check_cells, check_ints, fit_until, job_grid, resolve, resolve_sizes, run_parallel
from ._tasks import SUCCESS_FRACTION, TASKS, make_task

__all__ = ["long_memory", "set_forget_bias", "summarize_long_memory", "train_on_task"]

DEFAULT_CELLS = ("rnn_tanh", "lstm", "gru")

# Presets: the full study and the quick mode used by the tests and `--quick`.
FULL = {
    "lags": (10, 25, 50, 100, 200),
    "seeds": (0,),
    "hidden_size": 32,
    "n_train": 5000,
    "n_val": 500,
    "n_test": 2000,
    "max_epochs": 20,
}
QUICK = {
    "lags": (5, 10),
    "seeds": (0,),
    "hidden_size": 8,
    "n_train": 256,
    "n_val": 64,
    "n_test": 256,
    "max_epochs": 2,
}

# Training recipe (both modes): Adam, lr 0.01, batches of 32, gradient norm clipped at 1.
RECIPE = {"learning_rate": 0.01, "batch_size": 32, "clip_norm": 1.0}
#: Stop training once the validation error is below this fraction of the success threshold.
STOP_FRACTION = 0.25


def set_forget_bias(net: RecurrentNetwork, params: np.ndarray, value: float) -> None:
    """Set the forget-gate bias of every layer: ``bias_ih = value``, ``bias_hh = 0`` on its rows."""
    H, k = net.hidden_size, net.spec.forget_gate
    views = net.layout.views(params)
    for name, array in views.items():
        if name.startswith("bias_ih"):
            array[k * H : (k + 1) * H] = value
        elif name.startswith("bias_hh"):
            array[k * H : (k + 1) * H] = 0.0


def train_on_task(
    cell: str,
    task: str,
    lag: int,
    seed: int,
    *,
    hidden_size: int,
    n_train: int,
    n_val: int,
    n_test: int,
    max_epochs: int,
    learning_rate: float = RECIPE["learning_rate"],
    batch_size: int = RECIPE["batch_size"],
    clip_norm: float | None = RECIPE["clip_norm"],
    n_symbols: int = 8,
    forget_bias: float | None = None,
    device: str = "cpu",
    return_model: bool = False,
):
    """Train one ``cell`` on ``task`` at ``lag`` and measure its test error.

    The network (one recurrent layer of ``hidden_size`` units and a linear head on the last
    hidden state) starts from ``init_params(RandomState(seed))``; shuffling continues that
    random stream. Adam trains it on ``n_train`` sequences for at most ``max_epochs`` epochs,
    stopping early once the validation error is below ``STOP_FRACTION`` of the success
    threshold; the weights of the lowest validation error are kept and scored on ``n_test``
    fresh sequences. ``forget_bias`` (LSTM only; None keeps the library's initial value 1)
    sets the initial forget-gate bias.

    Returns
    -------
    row : dict
        One row of :func:`long_memory`'s frame.
    model : tuple ``(network, initial params, trained params, TaskData)``
        Only with ``return_model``.
    """
    compile_kernels(cell, device=device)
    data = make_task(task, lag, seed, n_train=n_train, n_val=n_val, n_test=n_test, n_symbols=n_symbols)
    net = RecurrentNetwork(cell, data.input_size, hidden_size, data.output_size, device=device)
    rng = np.random.RandomState(seed)
    params = net.init_params(rng)
    if forget_bias is not None and net.spec.forget_gate is not None:
        set_forget_bias(net, params, forget_bias)
    initial = params.copy()
    threshold = data.threshold
    result = fit_until(
        net,
        params,
        data.loss,
        data.X_train,
        data.Y_train,
        val_metric=lambda p: data.error(net.predict(p, data.X_val), data.y_val),
        target=threshold,
        stop_below=STOP_FRACTION * threshold,
        max_epochs=max_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        clip_norm=clip_norm,
        rng=rng,
    )
    test_error = data.error(net.predict(params, data.X_test), data.y_test)
    if net.spec.forget_gate is None:
        forget_bias = np.nan
    elif forget_bias is None:
        forget_bias = 1.0  # the library's initial value
    hit = result.first_hit
    row = {
        "task": task,
        "cell": cell,
        "lag": lag,
        "seed": seed,
        "metric": data.metric,
        "test_error": test_error,
        "baseline": data.baseline,
        "baseline_empirical": data.baseline_empirical,
        "threshold": threshold,
        "success": bool(test_error < threshold),
        "error_to_baseline": test_error / data.baseline,
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "epochs_to_success": float(hit) if hit is not None else np.nan,
        "seconds_to_success": result.wall_seconds[hit - 1] if hit is not None else np.nan,
        "seconds": result.wall_seconds[-1] if result.wall_seconds else 0.0,
        "cpu_seconds": result.cpu_seconds[-1] if result.cpu_seconds else 0.0,
        "stop_reason": result.stop_reason,
        "hidden_size": hidden_size,
        "n_params": net.n_params,
        "forget_bias": forget_bias,
        "n_train": n_train,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
    }
    if return_model:
        return row, (net, initial, params, data)
    return row


def long_memory(
    cells=DEFAULT_CELLS,
    lags=None,
    task: str = "adding",
    *,
    seeds=None,
    hidden_size: int | None = None,
    n_train: int | None = None,
    n_val: int | None = None,
    n_test: int | None = None,
    max_epochs: int | None = None,
    learning_rate: float = RECIPE["learning_rate"],
    batch_size: int = RECIPE["batch_size"],
    clip_norm: float | None = RECIPE["clip_norm"],
    n_symbols: int = 8,
    forget_bias: float | None = None,
    quick: bool = False,
    n_jobs: int = 1,
    blas_threads: int = 1,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """How far back can each cell remember? Test error per cell and lag against the baseline.

    For every cell, lag and seed a fresh network is trained on the ``task`` (see
    :func:`train_on_task`) and scored on held-out sequences:

    - ``"adding"`` (:func:`tsrnn.datasets.make_adding_problem`, ``seq_len = lag``): the
      target is the sum of two marked values, one in each half of the sequence; the error is
      the mean squared error; predicting the mean scores ``1/6 ≈ 0.167``.
    - ``"copy"`` (:func:`tsrnn.datasets.make_copy_memory`): recall a symbol seen ``lag``
      steps earlier; the error is the error rate; guessing scores ``1 - 1/n_symbols``.

    A run succeeds when its test error is below ``0.1 x`` that baseline (``0.0167`` for
    adding).

    Parameters
    ----------
    cells : sequence of str, default=("rnn_tanh", "lstm", "gru")
    lags : sequence of int, optional
        Default ``(10, 25, 50, 100, 200)``; quick mode ``(5, 10)``.
    task : {"adding", "copy"}, default="adding"
    seeds : sequence of int, optional
        One run per seed: the seed fixes the initial weights and shuffling; the data seeds
        derive from it and the lag. Default ``(0,)``.
    hidden_size, n_train, n_val, n_test, max_epochs : int, optional
        Defaults (quick mode): 32 (8) hidden units, 5000 (256) training, 500 (64) validation
        and 2000 (256) test sequences, at most 20 (2) epochs.
    learning_rate, batch_size, clip_norm : Adam's step size, batch size and global-norm clip.
    n_symbols : int, default=8
        Alphabet of the copy task.
    forget_bias : float, optional
        Initial LSTM forget-gate bias (other cells are unaffected); None keeps the library's
        initialisation (1). Larger values keep the cell state longer at the start of training.
    quick : bool, default=False
        Tiny settings for tests and a smoke run (seconds instead of minutes).
    n_jobs : int, default=1
        Runs in parallel worker processes (joblib); results do not depend on it.
    blas_threads : int, default=1
        BLAS threads per run.
    device : {"cpu", "reference"}, default="cpu"
    progress : bool, default=True
        A tqdm progress bar over the runs (on stderr).

    Returns
    -------
    pandas.DataFrame
        One row per ``(cell, lag, seed)``: ``task, cell, lag, seed, metric, test_error,
        baseline, baseline_empirical, threshold, success, error_to_baseline, epochs,
        best_epoch, epochs_to_success`` (first epoch whose validation error was below the
        threshold, NaN if never), ``seconds_to_success``, ``seconds`` and ``cpu_seconds``
        (training, wall and CPU), ``stop_reason`` ("target", "max_epochs", "diverged") and
        the settings (``forget_bias``: the LSTM's initial forget-gate bias, NaN for other
        cells). ``frame.attrs`` holds the configuration.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}.")
    cells = check_cells(cells)
    lags = check_ints(resolve(lags, "lags", quick, FULL, QUICK), "lags", minimum=2)
    seeds = check_ints(resolve(seeds, "seeds", quick, FULL, QUICK), "seeds", minimum=0)
    settings = resolve_sizes(
        quick,
        FULL,
        QUICK,
        hidden_size=hidden_size,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        max_epochs=max_epochs,
    )
    common = dict(
        task=task,
        learning_rate=learning_rate,
        batch_size=batch_size,
        clip_norm=clip_norm,
        n_symbols=n_symbols,
        forget_bias=forget_bias,
        device=device,
        **settings,
    )
    jobs = job_grid(common, lag=lags, cell=cells, seed=seeds)
    # Longest sequences first: a slow run started last would leave a worker idle at the end.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i]["lag"])
    rows = run_parallel(
        train_on_task,
        [jobs[i] for i in order],
        n_jobs=n_jobs,
        blas_threads=blas_threads,
        progress=progress,
        description=f"memory ({task})",
    )
    frame = pd.DataFrame([rows[order.index(i)] for i in range(len(jobs))])
    frame.attrs.update(
        experiment="memory",
        task=task,
        cells=list(cells),
        lags=list(lags),
        seeds=list(seeds),
        success_fraction=SUCCESS_FRACTION,
        stop_fraction=STOP_FRACTION,
        quick=quick,
        blas_threads=blas_threads,
        **settings,
        learning_rate=learning_rate,
        batch_size=batch_size,
        clip_norm=clip_norm,
        forget_bias=1.0 if forget_bias is None else forget_bias,
    )
    return frame


def summarize_long_memory(frame: pd.DataFrame) -> pd.DataFrame:
    """Test error per cell (rows) and lag (columns), the mean over seeds; success marked.

    Returns a frame indexed by cell with one column per lag holding the mean test error, and
    ``successes`` columns ``"k/n"`` per lag, in the order of the cells in ``frame``.
    """
    cells = list(dict.fromkeys(frame["cell"]))
    error = frame.pivot_table(index="cell", columns="lag", values="test_error", aggfunc="mean")
    wins = frame.pivot_table(index="cell", columns="lag", values="success", aggfunc="sum")
    runs = frame.pivot_table(index="cell", columns="lag", values="success", aggfunc="count")
    out = error.reindex(cells)
    out.columns = [f"L={lag}" for lag in out.columns]
    for lag in error.columns:
        out[f"ok L={lag}"] = [f"{int(wins.loc[c, lag])}/{int(runs.loc[c, lag])}" for c in cells]
    out.index.name = "cell"
    return out
