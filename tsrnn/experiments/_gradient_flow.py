"""Gradient flow: how the loss gradient with respect to the hidden state decays with distance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import functional as F
from .._layout import cell_spec
from .._validation import check_float_array, check_positive_int, check_shape
from ._common import check_cells, check_ints, job_grid, resolve, resolve_sizes, run_parallel
from ._memory import DEFAULT_CELLS, RECIPE, train_on_task
from ._tasks import TASKS, make_task

__all__ = ["gradient_flow", "state_gradients", "summarize_gradient_flow"]

FULL = {
    "seq_len": 100,
    "seeds": (0, 1, 2),
    "hidden_size": 32,
    "n_eval": 128,
    "n_train": 5000,
    "n_val": 500,
    "max_epochs": 20,
}
QUICK = {
    "seq_len": 12,
    "seeds": (0,),
    "hidden_size": 8,
    "n_eval": 16,
    "n_train": 128,
    "n_val": 32,
    "max_epochs": 1,
}


def state_gradients(
    cell: str,
    x: np.ndarray,
    weights: dict[str, np.ndarray],
    grad_final_state,
    *,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    device: str = "cpu",
) -> dict[str, np.ndarray]:
    """The loss gradient with respect to every hidden state of one layer, by exact BPTT.

    For a loss that reads only the final state (as a forecasting head on ``h_{L-1}`` does),
    given its gradient ``grad_final_state`` at the last step, returns for every step ``t``:

    - ``"h"``: ``dh[:, t] = dloss/dh_t``, the gradient with respect to ``h_t`` as the input
      of the remaining steps ``t+1, ..., L-1`` (for the LSTM with the cell state ``c_t``
      held fixed). This is the ``dh`` that backpropagation through time carries into step
      ``t``; ``dh[:, L-1]`` is ``grad_final_state`` itself.
    - ``"c"`` (LSTM only): ``dc[:, t] = dloss/dc_t``, the total derivative with respect to the
      cell state, through ``c_{t+1}`` and through ``h_t = o_t * tanh(c_t)`` (the ``dc`` that
      BPTT carries).

    Each ``dh[:, t]`` is the initial-state gradient ``dh0`` of the backward kernel run on the
    suffix ``t+1, ..., L-1`` from the stored states ``(h_t, c_t)``, so the kernels are used
    unchanged and the values are exact; the cost is ``L`` backward passes over suffixes,
    ``O(L^2)`` steps in all (fine for ``L`` in the hundreds).

    Parameters
    ----------
    cell : str
        A cell of the table :data:`tsrnn.CELLS` ("rnn_tanh", "rnn_relu", "lstm", "gru", ...).
    x : ndarray of shape (N, L, D)
        Batch-first input, like :func:`tsrnn.functional.forward`.
    weights : dict
        One layer's weights (:func:`tsrnn.functional.init_weights` layout).
    grad_final_state : ndarray of shape (N, H), or tuple ``(dh_n, dc_n)`` for LSTM
        Gradient of the loss with respect to the final state (``dc_n`` may be None).
    h0, c0 : ndarray of shape (N, H), optional
        Initial states (zeros when omitted).
    device : {"cpu", "reference", "cuda"}, default="cpu"

    Returns
    -------
    dict of ndarray of shape (N, L, H)
        ``"h"``, and ``"c"`` for the LSTM.
    """
    spec = cell_spec(cell)
    _, _, cache = F.forward(cell, x, weights, h0=h0, c0=c0, device=device)
    length, n, _ = cache.x.shape
    hidden = cache.out.shape[2]
    dtype = cache.out.dtype
    if spec.has_cell_state:
        if isinstance(grad_final_state, (tuple, list)):
            dh_n, dc_n = grad_final_state
        else:
            dh_n, dc_n = grad_final_state, None
    else:
        dh_n, dc_n = grad_final_state, None
    dh_n = check_float_array(dh_n, "grad_final_state (h)", ndim=2, dtype=dtype)
    check_shape(dh_n, "grad_final_state (h)", (n, hidden), "(batch size, hidden size)")
    if dc_n is None:
        dc_n = np.zeros((n, hidden), dtype)
    else:
        dc_n = check_float_array(dc_n, "grad_final_state (c)", ndim=2, dtype=dtype)
        check_shape(dc_n, "grad_final_state (c)", (n, hidden), "(batch size, hidden size)")

    dh = np.empty((length, n, hidden), dtype)
    dh[-1] = dh_n
    dc = np.empty((length, n, hidden), dtype) if spec.has_cell_state else None
    for t in range(length - 1):
        # The suffix t+1..L-1 as a cache of its own: slices along time of C-contiguous
        # time-major arrays are C-contiguous, as the kernels require.
        suffix = F.ForwardCache(
            cell=cell,
            device=device,
            x=cache.x[t + 1 :],
            weights=cache.weights,
            h0=cache.out[t],
            c0=cache.aux[t] if spec.has_cell_state else cache.c0,
            out=cache.out[t + 1 :],
            aux=cache.aux[t + 1 :] if cache.aux.size else cache.aux,
            gates=cache.gates[t + 1 :] if cache.gates.size else cache.gates,
        )
        grads = F.backward(suffix, grad_final_state=(dh_n, dc_n) if spec.has_cell_state else dh_n)
        dh[t] = grads["h0"]
        if dc is not None:
            dc[t] = grads["c0"]
    result = {"h": np.ascontiguousarray(dh.transpose(1, 0, 2))}
    if dc is not None:
        # Add the path through h_t = o_t * tanh(c_t): the suffix gradient above holds h_t fixed.
        o = cache.gates[:, :, 3 * hidden :]
        tanh_c = np.tanh(cache.aux)
        dc[:-1] += dh[:-1] * o[:-1] * (1.0 - tanh_c[:-1] ** 2)
        dc[-1] = dc_n + dh_n * o[-1] * (1.0 - tanh_c[-1] ** 2)
        result["c"] = np.ascontiguousarray(dc.transpose(1, 0, 2))
    return result


def _network_state_gradients(net, params, data, X, y, device):
    """Per-sample gradient norms of the loss with respect to every state of a one-layer network."""
    # The state gradients are computed in float64 whatever the network's dtype: over 100 steps
    # a trained tanh RNN's gradient can fall below float32's smallest subnormal (1.4e-45) and
    # become exactly 0, and one zero makes the geometric mean over seeds 0 (log10 -inf).
    # The float64 forward pass from the same weights differs from the float32 one by rounding.
    x = np.ascontiguousarray(X.transpose(1, 0, 2), dtype=np.float64)  # batch-first
    weights = {
        k: np.ascontiguousarray(v, dtype=np.float64) for k, v in net.layout.layer_views(params, 0).items()
    }
    output = net.predict(params, X)
    # Losses are means over the batch: times n gives each sample's own loss gradient.
    _, d_output = data.loss(output, data.targets(y))
    d_output = d_output.astype(np.float64) * len(y)
    head = net.layout.views(params)["head.weight"].astype(np.float64)
    d_hn = np.ascontiguousarray(d_output @ head)
    grads = state_gradients(net.cell, x, weights, d_hn, device=device)
    return {k: np.linalg.norm(v, axis=2) for k, v in grads.items()}, data.error(output, y)


def _flow_run(
    cell, task, seq_len, seed, hidden_size, n_eval, n_train, n_val, max_epochs, train, learning_rate, device
):
    if train:
        row, (net, initial, trained, data) = train_on_task(
            cell,
            task,
            seq_len,
            seed,
            hidden_size=hidden_size,
            n_train=n_train,
            n_val=n_val,
            n_test=n_eval,
            max_epochs=max_epochs,
            learning_rate=learning_rate,
            device=device,
            return_model=True,
        )
        stages = {"init": initial, "trained": trained}
        epochs = row["epochs"]
    else:
        from ..nn import RecurrentNetwork

        data = make_task(task, seq_len, seed, n_train=1, n_val=1, n_test=n_eval)
        net = RecurrentNetwork(cell, data.input_size, hidden_size, data.output_size, device=device)
        stages = {"init": net.init_params(np.random.RandomState(seed))}
        epochs = 0
    rows = []
    for stage, params in stages.items():
        norms, error = _network_state_gradients(net, params, data, data.X_test, data.y_test, device)
        for quantity, per_sample in norms.items():  # (n_eval, L)
            mean = per_sample.mean(axis=0)
            for t in range(seq_len):
                rows.append(
                    {
                        "task": task,
                        "cell": cell,
                        "stage": stage,
                        "seed": seed,
                        "quantity": quantity,
                        "distance": seq_len - 1 - t,
                        "step": t,
                        "grad_norm": mean[t],
                        "grad_norm_median": float(np.median(per_sample[:, t])),
                        "relative": mean[t] / mean[-1] if mean[-1] > 0 else np.nan,
                        "model_error": error,
                        "train_epochs": epochs if stage == "trained" else 0,
                    }
                )
    return rows


def gradient_flow(
    cells=DEFAULT_CELLS,
    seq_len: int | None = None,
    *,
    task: str = "adding",
    seeds=None,
    hidden_size: int | None = None,
    n_eval: int | None = None,
    train: bool = True,
    n_train: int | None = None,
    n_val: int | None = None,
    max_epochs: int | None = None,
    learning_rate: float = RECIPE["learning_rate"],
    quick: bool = False,
    n_jobs: int = 1,
    blas_threads: int = 1,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """The vanishing-gradient picture: ``||dloss/dh_t||`` against the distance to the loss.

    A one-layer network with a linear head on the last hidden state ``h_{L-1}`` reads
    sequences of the ``task`` (adding problem by default) of length ``seq_len``. For each of
    ``n_eval`` held-out sequences, ``loss = 0.5 (prediction - target)^2`` (adding; the
    cross-entropy for copy), and :func:`state_gradients` gives ``dloss/dh_t`` exactly for
    every step. The frame holds, per distance ``k = L-1-t`` (0: the state the head reads),
    the mean over sequences of its Euclidean norm, at initialisation and after training the
    network on the task as :func:`long_memory` does (same recipe, same seed).

    Parameters
    ----------
    cells : sequence of str, default=("rnn_tanh", "lstm", "gru")
    seq_len : int, optional
        Sequence length L; default 100 (quick mode 12).
    task : {"adding", "copy"}, default="adding"
    seeds : sequence of int, optional
        Initial weights, training and evaluation data per seed; default ``(0, 1, 2)``.
    hidden_size, n_eval, n_train, n_val, max_epochs : int, optional
        Defaults (quick mode): 32 (8) hidden units, 128 (16) evaluation sequences, 5000
        (128) training and 500 (32) validation sequences, at most 20 (1) training epochs:
        with the defaults the trained network is the one :func:`long_memory` trains at
        ``lag = seq_len`` with the same seed.
    train : bool, default=True
        Also train and measure after training; False gives the initialisation only.
    learning_rate : float, default=0.01
    quick, n_jobs, blas_threads, device, progress
        As in :func:`long_memory`.

    Returns
    -------
    pandas.DataFrame
        One row per ``(cell, stage, seed, quantity, distance)``: ``task, cell, stage``
        ("init"/"trained"), ``seed, quantity`` ("h"; also "c" for the LSTM cell state),
        ``distance, step, grad_norm`` (mean over sequences), ``grad_norm_median``,
        ``relative`` (``grad_norm`` divided by its value at distance 0), ``model_error``
        (the network's error on the evaluation sequences) and ``train_epochs``.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}.")
    cells = check_cells(cells)
    seq_len = check_positive_int(resolve(seq_len, "seq_len", quick, FULL, QUICK), "seq_len")
    if seq_len < 2:
        raise ValueError(f"seq_len must be at least 2, got {seq_len}.")
    seeds = check_ints(resolve(seeds, "seeds", quick, FULL, QUICK), "seeds", minimum=0)
    settings = resolve_sizes(
        quick,
        FULL,
        QUICK,
        hidden_size=hidden_size,
        n_eval=n_eval,
        n_train=n_train,
        n_val=n_val,
        max_epochs=max_epochs,
    )
    common = dict(
        task=task, seq_len=seq_len, train=bool(train), learning_rate=learning_rate, device=device, **settings
    )
    jobs = job_grid(common, cell=cells, seed=seeds)
    # The LSTM trains slowest: start it first so no worker idles at the end.
    order = sorted(range(len(jobs)), key=lambda i: jobs[i]["cell"] != "lstm")
    results = run_parallel(
        _flow_run,
        [jobs[i] for i in order],
        n_jobs=n_jobs,
        blas_threads=blas_threads,
        progress=progress,
        description="gradient flow",
    )
    by_job = {i: results[order.index(i)] for i in range(len(jobs))}
    frame = pd.DataFrame([row for i in range(len(jobs)) for row in by_job[i]])
    frame.attrs.update(
        experiment="gradient-flow",
        task=task,
        cells=list(cells),
        seq_len=seq_len,
        seeds=list(seeds),
        quick=quick,
        train=bool(train),
        learning_rate=learning_rate,
        blas_threads=blas_threads,
        **settings,
    )
    return frame


def summarize_gradient_flow(frame: pd.DataFrame, distances=(10, 50)) -> pd.DataFrame:
    """Decay of ``||dloss/dh_t||`` per cell and stage: ratios to distance 0, means over seeds.

    Columns: ``ratio k=...`` for each of ``distances`` (kept when within the sequence) and
    for the farthest distance ``L-1``: ``grad_norm(k) / grad_norm(0)``, averaged over seeds
    geometrically (the ratios span orders of magnitude); ``log10 ratio`` of the farthest;
    ``model_error`` (mean over seeds); ``seeds``.
    """
    longest = int(frame["distance"].max())
    keep = [d for d in distances if d < longest] + [longest]
    rows = []
    cells = list(dict.fromkeys(frame["cell"]))
    for (cell, stage, quantity), group in frame.groupby(["cell", "stage", "quantity"], sort=False):
        row = {"cell": cell, "quantity": quantity, "stage": stage}
        for d in keep:
            per_seed = group.loc[group["distance"] == d, "relative"].to_numpy(dtype=float)
            # A ratio of exactly 0 (an underflow even in float64) has no logarithm: the
            # geometric mean is then undefined (NaN), and `underflows` counts those seeds.
            with np.errstate(divide="ignore"):
                logs = np.log(per_seed)
            row[f"ratio k={d}"] = float(np.exp(np.mean(logs))) if np.all(per_seed > 0) else np.nan
        row["log10 ratio"] = float(np.log10(row[f"ratio k={longest}"]))
        far = group.loc[group["distance"] == longest, "relative"].to_numpy(dtype=float)
        row["underflows"] = int(np.sum(far == 0))
        errors = group.drop_duplicates("seed")["model_error"]
        row["model_error"] = float(errors.mean())
        row["seeds"] = int(group["seed"].nunique())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["_c"] = out["cell"].map(cells.index)
    out["_q"] = out["quantity"].map({"h": 0, "c": 1})
    out["_s"] = out["stage"].map({"init": 0, "trained": 1})
    return out.sort_values(["_s", "_c", "_q"]).drop(columns=["_c", "_q", "_s"]).reset_index(drop=True)
