"""Convergence speed: epochs and seconds to reach a target loss on a real series."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_positive_number, check_probability
from ..nn import RecurrentNetwork, compile_kernels, mse_loss
from ._common import check_cells, check_ints, fit_until, job_grid, resolve, resolve_sizes, run_parallel
from ._memory import DEFAULT_CELLS
from ._tasks import series_windows

__all__ = ["convergence", "summarize_convergence"]

FULL = {"seeds": (0, 1, 2), "window": 24, "hidden_size": 32, "max_epochs": 100}
QUICK = {"seeds": (0,), "window": 8, "hidden_size": 8, "max_epochs": 3}


def _mse(net, params, x, Y) -> float:
    return float(np.mean((net.predict(params, x).astype(np.float64) - Y) ** 2))


def _convergence_run(
    cell, seed, dataset, window, train_fraction, hidden_size, learning_rate, batch_size, clip_norm,
    max_epochs, target_mse, device,
):  # fmt: skip
    compile_kernels(cell, device=device)
    X, y, n_train = series_windows(dataset, window, train_fraction)
    x = np.ascontiguousarray(X.transpose(1, 0, 2))
    x_train, Y_train = np.ascontiguousarray(x[:, :n_train]), y[:n_train, None]
    x_val, Y_val = np.ascontiguousarray(x[:, n_train:]), y[n_train:, None]
    net = RecurrentNetwork(cell, 1, hidden_size, 1, device=device)
    rng = np.random.RandomState(seed)
    params = net.init_params(rng)
    initial = (_mse(net, params, x_train, Y_train), _mse(net, params, x_val, Y_val))
    result = fit_until(
        net,
        params,
        mse_loss,
        x_train,
        Y_train,
        val_metric=lambda p: _mse(net, p, x_train, Y_train),
        record={"val_mse": lambda p: _mse(net, p, x_val, Y_val)},
        target=target_mse,
        stop_below=None,  # the whole budget: the curves show what happens after the target too
        max_epochs=max_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        clip_norm=clip_norm,
        rng=rng,
    )
    rows = [
        {
            "cell": cell,
            "seed": seed,
            "epoch": 0,
            "seconds": 0.0,
            "cpu_seconds": 0.0,
            "train_mse": initial[0],
            "val_mse": initial[1],
        }
    ]
    for i, (train_mse, val_mse) in enumerate(zip(result.val_metric, result.recorded["val_mse"])):
        rows.append(
            {
                "cell": cell,
                "seed": seed,
                "epoch": i + 1,
                "seconds": result.wall_seconds[i],
                "cpu_seconds": result.cpu_seconds[i],
                "train_mse": train_mse,
                "val_mse": val_mse,
            }
        )
    return rows


def convergence(
    cells=DEFAULT_CELLS,
    *,
    target_mse: float = 0.1,
    dataset: str = "sunspots",
    window: int | None = None,
    train_fraction: float = 0.8,
    seeds=None,
    hidden_size: int | None = None,
    learning_rate: float = 0.005,
    batch_size: int = 32,
    clip_norm: float | None = 1.0,
    max_epochs: int | None = None,
    quick: bool = False,
    n_jobs: int = 1,
    blas_threads: int = 1,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """Epochs and seconds each cell needs to reach a target loss on a real series.

    Each cell learns one-step-ahead forecasting of a shipped series (yearly sunspots by
    default) from windows of ``window`` past values, standardized with the statistics of the
    first ``train_fraction`` of the series; windows whose target lies in that part train,
    the rest validate. Adam (``learning_rate``, batches of ``batch_size``, gradient norm
    clipped at ``clip_norm``) runs for ``max_epochs`` epochs; after every epoch the mean
    squared error (standardized units) on the training and validation windows and the
    cumulative training time (wall and CPU, evaluation excluded) are recorded.

    Parameters
    ----------
    cells : sequence of str, default=("rnn_tanh", "lstm", "gru")
    target_mse : float, default=0.1
        The training MSE to reach (0.1 in standardized units: 90% of the variance fitted).
    dataset : str, default="sunspots"
    window, hidden_size, max_epochs : int, optional
        Defaults (quick mode): 24 (8) steps, 32 (8) hidden units, 100 (3) epochs.
    train_fraction : float, default=0.8
    seeds : sequence of int, optional
        Default ``(0, 1, 2)``.
    learning_rate, batch_size, clip_norm : Adam settings (0.005, 32, 1.0).
    quick, n_jobs, blas_threads, device, progress
        As in :func:`long_memory`.

    Returns
    -------
    pandas.DataFrame
        One row per ``(cell, seed, epoch)`` (epoch 0: the initial weights): ``seconds``,
        ``cpu_seconds`` (cumulative training time), ``train_mse``, ``val_mse``.
        ``frame.attrs["target_mse"]`` is the target.
    """
    cells = check_cells(cells)
    train_fraction = check_probability(train_fraction, "train_fraction")
    target_mse = check_positive_number(target_mse, "target_mse")
    seeds = check_ints(resolve(seeds, "seeds", quick, FULL, QUICK), "seeds", minimum=0)
    settings = resolve_sizes(
        quick, FULL, QUICK, window=window, hidden_size=hidden_size, max_epochs=max_epochs
    )
    common = dict(
        dataset=dataset,
        train_fraction=train_fraction,
        learning_rate=learning_rate,
        batch_size=batch_size,
        clip_norm=clip_norm,
        target_mse=target_mse,
        device=device,
        **settings,
    )
    jobs = job_grid(common, cell=cells, seed=seeds)
    results = run_parallel(
        _convergence_run,
        jobs,
        n_jobs=n_jobs,
        blas_threads=blas_threads,
        progress=progress,
        description="convergence",
    )
    frame = pd.DataFrame([row for rows in results for row in rows])
    frame.attrs.update(
        experiment="convergence",
        dataset=dataset,
        cells=list(cells),
        seeds=list(seeds),
        target_mse=target_mse,
        train_fraction=train_fraction,
        learning_rate=learning_rate,
        batch_size=batch_size,
        clip_norm=clip_norm,
        quick=quick,
        blas_threads=blas_threads,
        **settings,
    )
    return frame


def summarize_convergence(frame: pd.DataFrame, target_mse: float | None = None) -> pd.DataFrame:
    """Per cell: epochs and seconds to the target training MSE, medians over seeds.

    Columns: ``reached`` ("k/n" seeds), ``epochs_to_target`` and ``seconds_to_target``
    (medians over the seeds that reached it; NaN if none did), ``epochs_range`` (min-max),
    ``cpu_seconds_to_target``, ``seconds_per_epoch``, ``final_train_mse``,
    ``best_val_mse`` and ``best_val_epoch`` (medians over seeds).
    """
    target = frame.attrs.get("target_mse") if target_mse is None else target_mse
    if target is None:
        raise ValueError("pass target_mse: the frame does not record it in frame.attrs['target_mse'].")
    per_seed = []
    for (cell, seed), group in frame.groupby(["cell", "seed"], sort=False):
        trained = group[group["epoch"] > 0]
        hit = trained[trained["train_mse"] <= target]
        first = hit.iloc[0] if len(hit) else None
        best = trained.loc[trained["val_mse"].idxmin()]
        per_seed.append(
            {
                "cell": cell,
                "seed": seed,
                "reached": first is not None,
                "epochs_to_target": float(first["epoch"]) if first is not None else np.nan,
                "seconds_to_target": float(first["seconds"]) if first is not None else np.nan,
                "cpu_seconds_to_target": float(first["cpu_seconds"]) if first is not None else np.nan,
                "seconds_per_epoch": float(trained["seconds"].iloc[-1] / trained["epoch"].iloc[-1]),
                "final_train_mse": float(trained["train_mse"].iloc[-1]),
                "best_val_mse": float(best["val_mse"]),
                "best_val_epoch": int(best["epoch"]),
            }
        )
    per_seed = pd.DataFrame(per_seed)
    rows = []
    for cell, group in per_seed.groupby("cell", sort=False):
        epochs = group["epochs_to_target"].dropna()
        rows.append(
            {
                "cell": cell,
                "reached": f"{int(group['reached'].sum())}/{len(group)}",
                "epochs_to_target": float(epochs.median()) if len(epochs) else np.nan,
                "epochs_range": f"{int(epochs.min())}-{int(epochs.max())}" if len(epochs) else "-",
                "seconds_to_target": float(group["seconds_to_target"].median()),
                "cpu_seconds_to_target": float(group["cpu_seconds_to_target"].median()),
                "seconds_per_epoch": float(group["seconds_per_epoch"].median()),
                "final_train_mse": float(group["final_train_mse"].median()),
                "best_val_mse": float(group["best_val_mse"].median()),
                "best_val_epoch": float(group["best_val_epoch"].median()),
            }
        )
    return pd.DataFrame(rows).set_index("cell")
