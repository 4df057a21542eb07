"""The cost side: parameters and training time per epoch of each cell."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .._layout import cell_spec
from .._validation import check_positive_int
from ..datasets import make_adding_problem
from ..nn import RecurrentNetwork, compile_kernels, make_optimizer, mse_loss, to_time_major, train
from ._common import check_cells, check_ints, resolve
from ._memory import DEFAULT_CELLS

__all__ = ["cost"]

FULL = {"hidden_sizes": (16, 32, 64), "seq_len": 100, "n_samples": 1024, "repeats": 3}
QUICK = {"hidden_sizes": (4, 8), "seq_len": 10, "n_samples": 64, "repeats": 1}


def _time_epoch(net, params, x, Y, batch_size, seed) -> tuple[float, float]:
    optimizer = make_optimizer("adam", params, learning_rate=1e-3)
    w0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(
            net,
            params,
            optimizer,
            mse_loss,
            x,
            Y,
            max_epochs=1,
            batch_size=batch_size,
            rng=np.random.RandomState(seed),
            clip_norm=1.0,
            check_convergence=False,
        )
    return time.perf_counter() - w0, time.process_time() - c0


def _time_predict(net, params, x, batch_size) -> float:
    start = time.perf_counter()
    for i in range(0, x.shape[1], batch_size):
        net.forward(params, np.ascontiguousarray(x[:, i : i + batch_size]))
    return time.perf_counter() - start


def cost(
    cells=DEFAULT_CELLS,
    *,
    hidden_sizes=None,
    seq_len: int | None = None,
    n_samples: int | None = None,
    batch_size: int = 32,
    repeats: int | None = None,
    blas_threads=1,
    seed: int = 0,
    quick: bool = False,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """Parameters, and seconds per training epoch and per prediction pass, of each cell.

    For every cell and hidden size ``H``: the parameters of one recurrent layer reading the
    adding problem's 2 features (``G*H*(D+H+2)`` with ``G`` gates: 1 for the plain RNN, 3
    for the GRU, 4 for the LSTM) and of the whole network with its linear head (``+ H + 1``);
    the time of one training epoch (Adam, clipping, batches of ``batch_size``) over
    ``n_samples`` sequences of ``seq_len`` steps, and of a forward pass over them, each the
    median of ``repeats`` measurements taken in turn over all cells (interleaved, so a busy
    machine disturbs every cell alike). Runs in this process, one configuration at a time.

    Parameters
    ----------
    cells : sequence of str, default=("rnn_tanh", "lstm", "gru")
    hidden_sizes : sequence of int, optional
        Default ``(16, 32, 64)``; quick mode ``(4, 8)``.
    seq_len, n_samples, repeats : int, optional
        Defaults (quick mode): 100 (10) steps, 1024 (64) sequences, 3 (1) repeats.
    batch_size : int, default=32
    blas_threads : int or sequence of int, default=1
        BLAS/OpenMP thread limits to measure (e.g. ``(1, 2)`` to compare), set with
        threadpoolctl around each measurement. They reach the NumPy code around the kernels
        only: the CPU kernels do not call BLAS and run on Numba's threads (its default count
        here, since this runs in the calling process).
    seed : int, default=0
        Data and initial weights.
    quick, device, progress
        As in :func:`long_memory`.

    Returns
    -------
    pandas.DataFrame
        One row per ``(cell, hidden_size, blas_threads)``: ``gates, input_size,
        n_params_layer, n_params`` (with the head), ``seconds_per_epoch``,
        ``cpu_seconds_per_epoch``, ``ms_per_batch`` (training), ``predict_seconds``,
        ``time_vs_rnn`` (epoch time relative to ``rnn_tanh`` of the same size and threads,
        when measured), ``seq_len, n_samples, batch_size, repeats``.
    """
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    cells = check_cells(cells)
    hidden_sizes = check_ints(
        resolve(hidden_sizes, "hidden_sizes", quick, FULL, QUICK),
        "hidden_sizes",
    )
    threads = check_ints(blas_threads, "blas_threads")
    seq_len = check_positive_int(resolve(seq_len, "seq_len", quick, FULL, QUICK), "seq_len")
    n_samples = check_positive_int(resolve(n_samples, "n_samples", quick, FULL, QUICK), "n_samples")
    repeats = check_positive_int(resolve(repeats, "repeats", quick, FULL, QUICK), "repeats")
    batch_size = check_positive_int(batch_size, "batch_size")
    X, y = make_adding_problem(n_samples, max(seq_len, 2), random_state=seed)
    x = to_time_major(X[:, :seq_len], np.float32)
    Y = (y - 1.0)[:, None].astype(np.float32)
    configs = [(cell, h, t) for t in threads for h in hidden_sizes for cell in cells]
    nets = {}
    for cell in cells:
        compile_kernels(cell, device=device)
    for cell, h, _ in configs:
        if (cell, h) not in nets:
            net = RecurrentNetwork(cell, x.shape[2], h, 1, device=device)
            nets[(cell, h)] = (net, net.init_params(seed))
    timings: dict = {c: [] for c in configs}
    bar = tqdm(total=repeats * len(configs), desc="cost", unit="run", disable=not progress, leave=True)
    try:
        for _ in range(repeats):
            for config in configs:
                cell, h, t = config
                net, initial = nets[(cell, h)]
                with threadpool_limits(limits=t):
                    wall, cpu = _time_epoch(net, initial.copy(), x, Y, batch_size, seed)
                    predict = _time_predict(net, initial, x, batch_size)
                timings[config].append((wall, cpu, predict))
                bar.update(1)
    finally:
        bar.close()
    rows = []
    n_batches = -(-n_samples // batch_size)
    for cell, h, t in configs:
        net, _ = nets[(cell, h)]
        wall, cpu, predict = np.median(np.array(timings[(cell, h, t)]), axis=0)
        rows.append(
            {
                "cell": cell,
                "hidden_size": h,
                "blas_threads": t,
                "gates": cell_spec(cell).n_gates,
                "input_size": x.shape[2],
                "n_params_layer": sum(
                    int(np.prod(net.layout.shape(name)))
                    for name in net.layout.names
                    if not name.startswith("head.")
                ),
                "n_params": net.n_params,
                "seconds_per_epoch": float(wall),
                "cpu_seconds_per_epoch": float(cpu),
                "ms_per_batch": float(wall) / n_batches * 1e3,
                "predict_seconds": float(predict),
                "seq_len": seq_len,
                "n_samples": n_samples,
                "batch_size": batch_size,
                "repeats": repeats,
            }
        )
    frame = pd.DataFrame(rows)
    base = frame[frame["cell"] == "rnn_tanh"].set_index(["hidden_size", "blas_threads"])["seconds_per_epoch"]
    frame["time_vs_rnn"] = [
        r.seconds_per_epoch / base[(r.hidden_size, r.blas_threads)]
        if (r.hidden_size, r.blas_threads) in base.index
        else np.nan
        for r in frame.itertuples()
    ]
    frame.attrs.update(
        experiment="cost",
        cells=list(cells),
        hidden_sizes=list(hidden_sizes),
        blas_threads=list(threads),
        seq_len=seq_len,
        n_samples=n_samples,
        batch_size=batch_size,
        repeats=repeats,
        seed=seed,
        quick=quick,
    )
    return frame
