"""Functional API: one recurrent layer, forward and backward, on a chosen device.

Arrays are batch-first: ``x`` is ``(N, L, D)`` (batch, time steps, input features) and the
outputs ``(N, L, H)``. Weights are a dict with PyTorch's names, shapes and gate order, so the
parameters of a one-layer ``torch.nn.RNN/LSTM/GRU`` convert 1:1 (drop the ``_l0`` suffix)::

    weights = {"weight_ih": (G*H, D), "weight_hh": (G*H, H), "bias_ih": (G*H,), "bias_hh": (G*H,)}

with ``G = 1`` for ``rnn_tanh``/``rnn_relu``, ``G = 4`` for ``lstm`` (gates ``i, f, g, o``)
and ``G = 3`` for ``gru`` (gates ``r, z, n``; the ``n`` part of ``bias_hh`` sits inside
``r * (W_hn h + b_hn)``). The equations are in :mod:`tsrnn._layout`.

Examples
--------
>>> import numpy as np
>>> from tsrnn import functional as F
>>> w = F.init_weights("lstm", input_size=3, hidden_size=8, random_state=0)
>>> x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
>>> out, (h_n, c_n), cache = F.forward("lstm", x, w)
>>> grads = F.backward(cache, grad_outputs=np.ones_like(out))
>>> sorted(grads)
['bias_hh', 'bias_ih', 'c0', 'h0', 'weight_hh', 'weight_ih', 'x']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._layout import PARAM_NAMES, cell_spec, init_weights, kernel_weights, param_shapes
from ._validation import check_float_array, check_shape, describe
from .kernels import inference_kernel_for, kernels_for

__all__ = ["ForwardCache", "backward", "check_weights", "forward", "init_weights"]


@dataclass
class ForwardCache:
    """What :func:`backward` needs from a :func:`forward` call (time-major arrays)."""

    cell: str
    device: str
    x: np.ndarray  # (L, N, D)
    weights: dict[str, np.ndarray]
    h0: np.ndarray  # (N, H)
    c0: np.ndarray  # (N, H) for LSTM, zero-size otherwise
    out: np.ndarray  # (L, N, H)
    aux: np.ndarray  # (L, N, H) for LSTM/GRU, zero-size otherwise
    gates: np.ndarray  # (L, N, G*H) for LSTM/GRU, zero-size otherwise


def check_weights(weights: dict, cell: str) -> tuple[dict[str, np.ndarray], int, int]:
    """Validate a weights dict for ``cell``; return ``(weights, input_size, hidden_size)``.

    Arrays are returned C-contiguous; every array must share one float dtype.
    """
    spec = cell_spec(cell)
    if not isinstance(weights, dict):
        raise TypeError(f"weights must be a dict with keys {list(PARAM_NAMES)}, got {describe(weights)}.")
    missing = [k for k in PARAM_NAMES if k not in weights]
    extra = [k for k in weights if k not in PARAM_NAMES]
    if missing or extra:
        raise ValueError(
            f"weights must have exactly the keys {list(PARAM_NAMES)}; missing {missing}, "
            f"unexpected {extra}. (A torch state dict key like 'weight_ih_l0' maps to 'weight_ih'.)"
        )
    w_hh = check_float_array(weights["weight_hh"], "weights['weight_hh']", ndim=2)
    dtype = w_hh.dtype
    gh, hidden_size = w_hh.shape
    if hidden_size < 1 or gh != spec.n_gates * hidden_size:
        raise ValueError(
            f"weights['weight_hh'] for {cell} must have shape ({spec.n_gates}*H, H) "
            f"({spec.n_gates} gates {', '.join(spec.gate_names)}), got {w_hh.shape}."
        )
    w_ih = check_float_array(weights["weight_ih"], "weights['weight_ih']", ndim=2, dtype=dtype)
    input_size = w_ih.shape[1]
    if input_size < 1:
        raise ValueError(f"weights['weight_ih'] must have at least one column, got {w_ih.shape}.")
    out = {"weight_ih": w_ih, "weight_hh": w_hh}
    for name in ("bias_ih", "bias_hh"):
        out[name] = check_float_array(weights[name], f"weights[{name!r}]", ndim=1, dtype=dtype)
    for name, shape in param_shapes(cell, input_size, hidden_size).items():
        check_shape(out[name], f"weights[{name!r}]", shape)
    return out, input_size, hidden_size


def _empty(dtype, ndim: int) -> np.ndarray:
    return np.zeros((0,) * ndim, dtype=dtype)


def forward(
    cell: str,
    x: np.ndarray,
    weights: dict[str, np.ndarray],
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    device: str = "cpu",
    need_cache: bool = True,
):
    """Run one recurrent layer over a batch of sequences.

    Parameters
    ----------
    cell : str
        A cell of the table :data:`tsrnn.CELLS` ("rnn_tanh", "rnn_relu", "lstm", "gru", ...).
        Recurrent cell type.
    x : ndarray of shape (N, L, D)
        Batch-first input, float32 or float64 (the dtype of the weights).
    weights : dict
        ``weight_ih, weight_hh, bias_ih, bias_hh`` in PyTorch's layout (see module docstring).
    h0 : ndarray of shape (N, H), optional
        Initial hidden state; zeros when omitted.
    c0 : ndarray of shape (N, H), optional
        Initial cell state, LSTM only; zeros when omitted.
    device : {"cpu", "reference", "cuda"}, default="cpu"
        ``"cpu"`` runs the Numba kernels, ``"reference"`` the plain NumPy specification,
        ``"cuda"`` the numba.cuda kernels (``pip install "tsrnn[cuda]"``; a GPU, or
        ``NUMBA_ENABLE_CUDASIM=1`` for numba's simulator, see :func:`tsrnn.cuda_available`).
        With ``"cuda"`` the arrays are copied to the GPU and the results back, so inputs and
        results stay NumPy arrays; :func:`backward` copies the cache to the GPU again.
    need_cache : bool, default=True
        Store what :func:`backward` needs. ``False`` runs the inference-only kernel, which skips
        writing the gates of every step (less memory and memory traffic), and returns
        ``cache=None``.

    Returns
    -------
    outputs : ndarray of shape (N, L, H)
        Hidden state after every step.
    final_state : ndarray of shape (N, H), or tuple ``(h_n, c_n)`` for LSTM
        State after the last step.
    cache : ForwardCache or None
        Pass to :func:`backward`; None when ``need_cache=False``.
    """
    spec = cell_spec(cell)
    weights, input_size, hidden_size = check_weights(weights, cell)
    dtype = weights["weight_hh"].dtype
    x = check_float_array(x, "x", ndim=3, dtype=dtype)
    n, length, d = x.shape
    if n < 1 or length < 1:
        raise ValueError(f"x must hold at least one sequence of at least one step, got shape {x.shape}.")
    if d != input_size:
        raise ValueError(
            f"x has {d} features per step (x.shape[2]) but weights['weight_ih'] expects "
            f"input_size={input_size}."
        )
    state_shape = (n, hidden_size)
    h0 = np.zeros(state_shape, dtype) if h0 is None else check_float_array(h0, "h0", ndim=2, dtype=dtype)
    check_shape(h0, "h0", state_shape, "(batch size, hidden size)")
    if spec.has_cell_state:
        c0 = np.zeros(state_shape, dtype) if c0 is None else check_float_array(c0, "c0", ndim=2, dtype=dtype)
        check_shape(c0, "c0", state_shape, "(batch size, hidden size)")
    elif c0 is not None:
        raise ValueError(f"c0 is the LSTM cell state; cell {cell!r} has none, so pass c0=None.")
    else:
        c0 = _empty(dtype, 2)

    if not isinstance(need_cache, (bool, np.bool_)):
        raise TypeError(f"need_cache must be True or False, got {describe(need_cache)}.")
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))
    out = np.empty((length, n, hidden_size), dtype)
    if not need_cache:
        c_n = np.empty(state_shape, dtype) if spec.has_cell_state else _empty(dtype, 2)
        inference_kernel_for(device, cell)(xt, kernel_weights(weights), (h0, c0, out, c_n))
        outputs = np.ascontiguousarray(out.transpose(1, 0, 2))
        h_n = out[-1].copy()
        return outputs, ((h_n, c_n) if spec.has_cell_state else h_n), None

    fwd, _ = kernels_for(device, cell)
    gh = spec.n_gates * hidden_size
    aux = np.empty((length, n, hidden_size), dtype) if spec.stores_aux else _empty(dtype, 3)
    gates = np.empty((length, n, gh), dtype) if spec.stores_gates else _empty(dtype, 3)
    fwd(xt, kernel_weights(weights), (h0, c0, out, aux, gates))

    outputs = np.ascontiguousarray(out.transpose(1, 0, 2))
    h_n = out[-1].copy()
    final_state = (h_n, aux[-1].copy()) if spec.has_cell_state else h_n
    cache = ForwardCache(cell, device, xt, weights, h0, c0, out, aux, gates)
    return outputs, final_state, cache


def backward(
    cache: ForwardCache,
    grad_outputs: np.ndarray | None = None,
    grad_final_state=None,
) -> dict[str, np.ndarray]:
    """Backpropagate through time.

    Parameters
    ----------
    cache : ForwardCache
        From :func:`forward`.
    grad_outputs : ndarray of shape (N, L, H), optional
        Gradient of the loss with respect to every output step.
    grad_final_state : ndarray of shape (N, H), or tuple ``(dh_n, dc_n)`` for LSTM, optional
        Gradient with respect to the final state. Elements of the tuple may be None.

    Returns
    -------
    dict
        Gradients keyed like the weights plus ``"x"`` (N, L, D) and ``"h0"`` (N, H), and
        ``"c0"`` for LSTM.
    """
    if not isinstance(cache, ForwardCache):
        raise TypeError(f"cache must be the third value returned by forward(), got {describe(cache)}.")
    spec = cell_spec(cache.cell)
    length, n, _d = cache.x.shape
    hidden_size = cache.out.shape[2]
    dtype = cache.out.dtype
    state_shape = (n, hidden_size)
    if grad_outputs is None and grad_final_state is None:
        raise ValueError("pass grad_outputs, grad_final_state or both: there is nothing to backpropagate.")

    if grad_outputs is None:
        d_out = np.zeros((length, n, hidden_size), dtype)
    else:
        g = check_float_array(grad_outputs, "grad_outputs", ndim=3, dtype=dtype)
        check_shape(g, "grad_outputs", (n, length, hidden_size), "(the shape of the outputs)")
        d_out = np.ascontiguousarray(g.transpose(1, 0, 2))

    dh_n, dc_n = None, None
    if spec.has_cell_state:
        if grad_final_state is not None:
            if not isinstance(grad_final_state, (tuple, list)) or len(grad_final_state) != 2:
                raise TypeError(
                    "for lstm, grad_final_state must be a tuple (dh_n, dc_n); either may be None."
                )
            dh_n, dc_n = grad_final_state
    else:
        dh_n = grad_final_state
    dh_n = (
        np.zeros(state_shape, dtype)
        if dh_n is None
        else check_float_array(dh_n, "grad_final_state (h)", ndim=2, dtype=dtype)
    )
    check_shape(dh_n, "grad_final_state (h)", state_shape)
    if spec.has_cell_state:
        dc_n = (
            np.zeros(state_shape, dtype)
            if dc_n is None
            else check_float_array(dc_n, "grad_final_state (c)", ndim=2, dtype=dtype)
        )
        check_shape(dc_n, "grad_final_state (c)", state_shape)
        dc0 = np.empty(state_shape, dtype)
    else:
        dc_n, dc0 = _empty(dtype, 2), _empty(dtype, 2)

    w = cache.weights
    grads = {name: np.empty_like(w[name]) for name in PARAM_NAMES}
    dx = np.empty_like(cache.x)
    dh0 = np.empty(state_shape, dtype)
    _, bwd = kernels_for(cache.device, cache.cell)
    bwd(
        cache.x,
        kernel_weights(w),
        (cache.h0, cache.c0, cache.out, cache.aux, cache.gates),
        (d_out, dh_n, dc_n, dx, dh0, dc0),
        kernel_weights(grads),
    )
    grads["x"] = np.ascontiguousarray(dx.transpose(1, 0, 2))
    grads["h0"] = dh0
    if spec.has_cell_state:
        grads["c0"] = dc0
    return grads
