"""Exploding gradients: a plain RNN with large recurrent weights, trained with and without clipping."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import check_positive_number
from ..nn import History, RecurrentNetwork, compile_kernels, make_optimizer, mse_loss, to_time_major, train
from ._common import check_ints, job_grid, resolve, resolve_sizes, run_parallel
from ._tasks import series_windows

__all__ = ["clipping", "summarize_clipping"]

FULL = {"seeds": (0, 1, 2), "window": 50, "hidden_size": 32, "max_epochs": 40}
QUICK = {"seeds": (0,), "window": 12, "hidden_size": 8, "max_epochs": 2}


def _clip_run(
    seed, clip_norm, dataset, window, hidden_size, spectral_radius, learning_rate, momentum, batch_size,
    max_epochs, cell, device,
):  # fmt: skip
    compile_kernels(cell, device=device)
    X, y, _ = series_windows(dataset, window)
    x = to_time_major(X, np.float32)
    Y = y[:, None]
    net = RecurrentNetwork(cell, 1, hidden_size, 1, device=device)
    rng = np.random.RandomState(seed)
    params = net.init_params(rng)
    # The recurrent matrix starts orthogonal: scaled, every eigenvalue has modulus spectral_radius.
    w_hh = net.layout.views(params)["weight_hh_l0"]
    w_hh *= np.float32(spectral_radius)
    optimizer = make_optimizer("sgd", params, learning_rate=learning_rate, momentum=momentum)
    history = History()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a divergence shows in the record (stop_reason)
        try:
            train(
                net,
                params,
                optimizer,
                mse_loss,
                x,
                Y,
                max_epochs=max_epochs,
                batch_size=batch_size,
                rng=rng,
                history=history,
                clip_norm=clip_norm,
                check_convergence=False,
                record_batches=True,
            )
        except ValueError:  # diverged in the first epoch: the record still tells the story
            history.stop_reason = "diverged"
    per_epoch = -(-x.shape[1] // batch_size)
    setting = "unclipped" if clip_norm is None else f"clip_norm={clip_norm:g}"
    return [
        {
            "setting": setting,
            "clip_norm": np.nan if clip_norm is None else clip_norm,
            "seed": seed,
            "batch": i,
            "epoch": i // per_epoch + 1,
            "loss": 2.0 * loss,  # the engine's loss is half the MSE
            "grad_norm": norm,
            "clipped_grad_norm": clipped,
            "stop_reason": history.stop_reason,
        }
        for i, (loss, norm, clipped) in enumerate(
            zip(history.batch_losses, history.batch_grad_norms, history.batch_clipped_grad_norms)
        )
    ]


def clipping(
    *,
    seeds=None,
    clip_norm: float = 1.0,
    spectral_radius: float = 2.0,
    dataset: str = "sunspots",
    window: int | None = None,
    hidden_size: int | None = None,
    learning_rate: float = 0.05,
    momentum: float = 0.9,
    batch_size: int = 32,
    max_epochs: int | None = None,
    cell: str = "rnn_tanh",
    quick: bool = False,
    n_jobs: int = 1,
    blas_threads: int = 1,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """Exploding gradients and what clipping does about them.

    A plain tanh RNN whose recurrent matrix starts as ``spectral_radius x`` a random
    orthogonal matrix (every eigenvalue of modulus ``spectral_radius``; at 1 this is the
    library's default initialisation) learns one-step-ahead forecasting of a standardized
    real series (windows of ``window`` values of the yearly sunspots by default) with SGD and
    momentum, once without clipping and once with the gradient's global norm clipped to
    ``clip_norm``, from the same initial weights and the same batch order. SGD rather than
    Adam because Adam divides each step by a running gradient scale, which hides (and after
    a spike, freezes) what the raw gradient does.

    Every batch is recorded: its loss (before its update), the gradient norm before clipping
    and the norm of the gradient the optimizer received.

    Parameters
    ----------
    seeds : sequence of int, optional
        Initial weights and batch order per seed; default ``(0, 1, 2)``.
    clip_norm : float, default=1.0
    spectral_radius : float, default=2.0
    dataset : str, default="sunspots"
        A one-column series of :func:`tsrnn.datasets.load`.
    window, hidden_size, max_epochs : int, optional
        Defaults (quick mode): 50 (12) steps per window, 32 (8) hidden units, 40 (2) epochs.
    learning_rate, momentum, batch_size : SGD settings (0.05, 0.9, 32).
    cell : str, default="rnn_tanh"
    quick, n_jobs, blas_threads, device, progress
        As in :func:`long_memory`.

    Returns
    -------
    pandas.DataFrame
        One row per batch: ``setting`` ("unclipped" / "clip_norm=1"), ``clip_norm``,
        ``seed, batch`` (0-based over the whole run), ``epoch`` (1-based), ``loss`` (the
        batch's mean squared error), ``grad_norm`` (global L2 norm before clipping),
        ``clipped_grad_norm`` (after clipping, NaN for a non-finite batch, which ends a run)
        and ``stop_reason`` ("max_iter" or "diverged").
    """
    clip_norm = check_positive_number(clip_norm, "clip_norm")
    spectral_radius = check_positive_number(spectral_radius, "spectral_radius")
    seeds = check_ints(resolve(seeds, "seeds", quick, FULL, QUICK), "seeds", minimum=0)
    settings = resolve_sizes(
        quick, FULL, QUICK, window=window, hidden_size=hidden_size, max_epochs=max_epochs
    )
    common = dict(
        dataset=dataset,
        spectral_radius=spectral_radius,
        learning_rate=learning_rate,
        momentum=momentum,
        batch_size=batch_size,
        cell=cell,
        device=device,
        **settings,
    )
    jobs = job_grid(common, seed=seeds, clip_norm=(None, clip_norm))
    results = run_parallel(
        _clip_run, jobs, n_jobs=n_jobs, blas_threads=blas_threads, progress=progress, description="clipping"
    )
    frame = pd.DataFrame([row for rows in results for row in rows])
    frame.attrs.update(
        experiment="clipping",
        dataset=dataset,
        cell=cell,
        seeds=list(seeds),
        clip_norm=clip_norm,
        spectral_radius=spectral_radius,
        learning_rate=learning_rate,
        momentum=momentum,
        batch_size=batch_size,
        quick=quick,
        blas_threads=blas_threads,
        **settings,
    )
    return frame


def summarize_clipping(frame: pd.DataFrame, spike: float = 10.0) -> pd.DataFrame:
    """Per setting and seed: the first and last epoch's loss, gradient-norm statistics, spikes.

    ``spike`` counts batches whose gradient norm before clipping exceeds ``spike x
    clip_norm`` (the clip threshold of the clipped runs, from ``frame.attrs`` or the frame).
    """
    threshold = frame.attrs.get("clip_norm", float(np.nanmax(frame["clip_norm"])))
    rows = []
    for (setting, seed), group in frame.groupby(["setting", "seed"], sort=False):
        last_epoch = group["epoch"].max()
        finite = group["grad_norm"].replace([np.inf, -np.inf], np.nan)
        rows.append(
            {
                "setting": setting,
                "seed": seed,
                "first_epoch_mse": group.loc[group["epoch"] == 1, "loss"].mean(),
                "last_epoch_mse": group.loc[group["epoch"] == last_epoch, "loss"].mean(),
                "epochs": int(last_epoch),
                "median_grad_norm": float(finite.median()),
                "max_grad_norm": float(group["grad_norm"].max()),
                f"batches_norm>{spike:g}x": int((group["grad_norm"] > spike * threshold).sum()),
                "max_applied_norm": float(group["clipped_grad_norm"].max()),
                "stop_reason": group["stop_reason"].iloc[0],
            }
        )
    return pd.DataFrame(rows)
