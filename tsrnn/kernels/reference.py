"""Plain NumPy forward and backward (BPTT) of one recurrent layer: the specification.

This module is the readable definition of every cell and the oracle the compiled kernels
(:mod:`tsrnn.kernels.cpu`, :mod:`tsrnn.kernels.cuda`) are tested against. It favours clarity
over speed: one time step at a time, one gate at a time.

Kernel contract (shared by every backend)
-----------------------------------------
All arrays are time-major and C-contiguous, of one float dtype. A kernel takes the input
``x (L, N, D)`` and a few plain tuples of arrays::

    weights    (w_ih, w_hh, b_ih, b_hh)   the layer's parameters in the order of
                                          tsrnn._layout.PARAM_NAMES (kernel_weights)
        w_ih   (G*H, D)    input weights, gate blocks in the order of tsrnn._layout.CELLS
        w_hh   (G*H, H)    recurrent weights
        b_ih   (G*H,)      input bias
        b_hh   (G*H,)      recurrent bias
    buffers    (h0, c0, out, aux, gates)
        h0     (N, H)      initial hidden state
        c0     (N, H)      initial cell state (LSTM only; any array for the other cells)
        out    (L, N, H)   filled: hidden state after every step (the layer's output)
        aux    (L, N, H)   filled: LSTM cell state c_t; GRU W_hn h_{t-1} + b_hn; RNN unused
        gates  (L, N, G*H) filled: LSTM/GRU gate activations (after the nonlinearity); RNN unused

``<cell>_forward(x, weights, buffers)`` fills ``out``, ``aux`` and ``gates``: together what
backward needs. The final state is ``out[-1]`` (and ``aux[-1]`` for the LSTM cell state).

``<cell>_backward(x, weights, buffers, grads, d_weights)`` takes the buffers the forward filled
and ::

    grads      (d_out, d_hn, d_cn, dx, dh0, dc0)
        d_out  (L, N, H)   loss gradient of every output step
        d_hn, d_cn (N, H)  loss gradient of the final state (d_cn: LSTM only)
        dx, dh0, dc0       overwritten: gradients of x, h0, c0 (shapes of the matching inputs)
    d_weights  (dw_ih, dw_hh, db_ih, db_hh)  overwritten: gradients of ``weights``, same shapes

Unused arrays of a cell (``aux``/``gates`` for RNN, ``c0``/``d_cn``/``dc0`` outside LSTM) may
be any array of the right dtype and rank, e.g. zero-size.

Backward-compatible extra: inference-only forward
-------------------------------------------------
``<cell>_forward_inference(x, weights, (h0, c0, out, c_n))`` fills ``out (L, N, H)`` exactly as
``<cell>_forward`` does and, for the LSTM, the final cell state ``c_n (N, H)`` (any array of
the right dtype and rank for the other cells). It stores no gates or per-step cell states, so
it cannot be followed by a backward call; it exists because writing ``aux`` and ``gates``
costs memory traffic (and page faults on fresh buffers) that inference does not need.
:func:`tsrnn.kernels.inference_kernel_for` returns it (or, for a backend that has none, an
adapter that runs the contract forward with temporary buffers); ``tsrnn.functional.forward``
uses it when called with ``need_cache=False``. Implementing it is optional for a backend.

The tuples are plain tuples, not named ones: a compiled kernel's dispatcher recognises a plain
tuple of arrays as fast as the arrays themselves. Arrays passed to the kernels are only read,
except the outputs and gradients they fill. Backends may run several threads inside one call
(the CPU kernels split the batch). A backend module that follows this contract says so with
``ARGUMENTS = "tuples"``; :func:`tsrnn.kernels.kernel_set` adapts the kernels of a backend that
still takes the arrays one by one, in the order of the tuples above after ``x``.
"""

from __future__ import annotations

import numpy as np

from .._layout import cell_spec

#: This module follows the tuple contract above (see :func:`tsrnn.kernels.kernel_set`).
ARGUMENTS = "tuples"


def sigmoid(v: np.ndarray) -> np.ndarray:
    """Logistic function, written to avoid overflow warnings for large negative inputs."""
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def _zero(arrays) -> None:
    for a in arrays:
        a[...] = 0.0


def _accumulate(d_weights, d_in, d_rec, x_t, h_prev) -> None:
    """Add one step's pre-activation gradients (input side ``d_in``, recurrent side ``d_rec``)
    to the weight gradients."""
    dw_ih, dw_hh, db_ih, db_hh = d_weights
    dw_ih += d_in.T @ x_t
    dw_hh += d_rec.T @ h_prev
    db_ih += d_in.sum(axis=0)
    if d_rec is not d_in:
        db_hh += d_rec.sum(axis=0)


# --------------------------------------------------------------------------- Elman RNN


def _rnn_forward(x, weights, buffers, relu):
    w_ih, w_hh, b_ih, b_hh = weights
    h, _c0, out, _aux, _gates = buffers
    for t in range(x.shape[0]):
        pre = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        h = np.maximum(pre, 0.0) if relu else np.tanh(pre)
        out[t] = h


def _rnn_backward(x, weights, buffers, grads, d_weights, relu):
    w_ih, w_hh, _b_ih, _b_hh = weights
    h0, _c0, out, _aux, _gates = buffers
    d_out, d_hn, _d_cn, dx, dh0, _dc0 = grads
    _zero(d_weights)
    dh = d_hn.copy()
    for t in range(x.shape[0] - 1, -1, -1):
        h = out[t]
        h_prev = out[t - 1] if t > 0 else h0
        dh = dh + d_out[t]
        # derivative of the nonlinearity, expressed through its output
        dpre = dh * (h > 0.0) if relu else dh * (1.0 - h * h)
        _accumulate(d_weights, dpre, dpre, x[t], h_prev)
        dx[t] = dpre @ w_ih
        dh = dpre @ w_hh
    d_weights[3][...] = d_weights[2]
    dh0[...] = dh


def rnn_tanh_forward(x, weights, buffers):
    """Elman RNN with tanh: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``."""
    _rnn_forward(x, weights, buffers, relu=False)


def rnn_relu_forward(x, weights, buffers):
    """Elman RNN with ReLU: ``h_t = max(0, W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``."""
    _rnn_forward(x, weights, buffers, relu=True)


def rnn_tanh_backward(x, weights, buffers, grads, d_weights):
    """BPTT of :func:`rnn_tanh_forward`."""
    _rnn_backward(x, weights, buffers, grads, d_weights, relu=False)


def rnn_relu_backward(x, weights, buffers, grads, d_weights):
    """BPTT of :func:`rnn_relu_forward`."""
    _rnn_backward(x, weights, buffers, grads, d_weights, relu=True)


# --------------------------------------------------------------------------- LSTM


def lstm_forward(x, weights, buffers):
    """LSTM, PyTorch gate order ``i, f, g, o``.

    ``i, f, o = sigmoid(.)``, ``g = tanh(.)``, ``c_t = f*c_{t-1} + i*g``,
    ``h_t = o*tanh(c_t)``; ``aux`` receives ``c_t``, ``gates`` the activated ``[i, f, g, o]``.
    """
    w_ih, w_hh, b_ih, b_hh = weights
    h, c, out, aux, gates = buffers
    H = w_hh.shape[1]
    for t in range(x.shape[0]):
        pre = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i = sigmoid(pre[:, 0 * H : 1 * H])
        f = sigmoid(pre[:, 1 * H : 2 * H])
        g = np.tanh(pre[:, 2 * H : 3 * H])
        o = sigmoid(pre[:, 3 * H : 4 * H])
        c = f * c + i * g
        h = o * np.tanh(c)
        gates[t] = np.concatenate([i, f, g, o], axis=1)
        aux[t] = c
        out[t] = h


def lstm_backward(x, weights, buffers, grads, d_weights):
    """BPTT of :func:`lstm_forward`."""
    w_ih, w_hh, _b_ih, _b_hh = weights
    h0, c0, out, aux, gates = buffers
    d_out, d_hn, d_cn, dx, dh0, dc0 = grads
    H = w_hh.shape[1]
    _zero(d_weights)
    dh = d_hn.copy()
    dc = d_cn.copy()
    for t in range(x.shape[0] - 1, -1, -1):
        i, f, g, o = (gates[t][:, k * H : (k + 1) * H] for k in range(4))
        c = aux[t]
        c_prev = aux[t - 1] if t > 0 else c0
        h_prev = out[t - 1] if t > 0 else h0
        dh = dh + d_out[t]
        tanh_c = np.tanh(c)
        dc = dc + dh * o * (1.0 - tanh_c**2)
        d_i = dc * g * i * (1.0 - i)
        d_f = dc * c_prev * f * (1.0 - f)
        d_g = dc * i * (1.0 - g**2)
        d_o = dh * tanh_c * o * (1.0 - o)
        dpre = np.concatenate([d_i, d_f, d_g, d_o], axis=1)
        _accumulate(d_weights, dpre, dpre, x[t], h_prev)
        dx[t] = dpre @ w_ih
        dh = dpre @ w_hh
        dc = dc * f
    d_weights[3][...] = d_weights[2]
    dh0[...] = dh
    dc0[...] = dc


# --------------------------------------------------------------------------- GRU


def gru_forward(x, weights, buffers):
    """GRU, PyTorch gate order ``r, z, n``.

    ``r, z = sigmoid(.)``, ``n = tanh(W_in x + b_in + r*(W_hn h + b_hn))``,
    ``h_t = (1-z)*n + z*h_{t-1}``; ``aux`` receives ``W_hn h_{t-1} + b_hn``.
    """
    w_ih, w_hh, b_ih, b_hh = weights
    h, _c0, out, aux, gates = buffers
    H = w_hh.shape[1]
    for t in range(x.shape[0]):
        gi = x[t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        r = sigmoid(gi[:, 0:H] + gh[:, 0:H])
        z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        hn = gh[:, 2 * H : 3 * H]
        n = np.tanh(gi[:, 2 * H : 3 * H] + r * hn)
        h = (1.0 - z) * n + z * h
        gates[t] = np.concatenate([r, z, n], axis=1)
        aux[t] = hn
        out[t] = h


def gru_backward(x, weights, buffers, grads, d_weights):
    """BPTT of :func:`gru_forward`.

    The input and recurrent pre-activation gradients differ only in the ``n`` block:
    the input side sees ``dn_pre``, the recurrent side ``dn_pre * r`` (the reset gate
    multiplies ``W_hn h + b_hn``).
    """
    w_ih, w_hh, _b_ih, _b_hh = weights
    h0, _c0, out, aux, gates = buffers
    d_out, d_hn, _d_cn, dx, dh0, _dc0 = grads
    H = w_hh.shape[1]
    _zero(d_weights)
    dh = d_hn.copy()
    for t in range(x.shape[0] - 1, -1, -1):
        r, z, n = (gates[t][:, k * H : (k + 1) * H] for k in range(3))
        hn = aux[t]
        h_prev = out[t - 1] if t > 0 else h0
        dh = dh + d_out[t]
        dn_pre = dh * (1.0 - z) * (1.0 - n**2)
        dz_pre = dh * (h_prev - n) * z * (1.0 - z)
        dr_pre = dn_pre * hn * r * (1.0 - r)
        d_gi = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)
        d_gh = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)
        _accumulate(d_weights, d_gi, d_gh, x[t], h_prev)
        dx[t] = d_gi @ w_ih
        dh = dh * z + d_gh @ w_hh
    dh0[...] = dh


# --------------------------------------------------------------------------- inference-only forward


def inference_via_forward(cell, forward, x, weights, buffers):
    """The inference-only forward of ``cell`` built from its contract ``forward``.

    Runs ``forward`` with temporary ``aux``/``gates`` and, for a cell with a cell state,
    copies the final one into ``c_n``: the specification of ``<cell>_forward_inference``, and
    the adapter for a backend that has none.
    """
    h0, c0, out, c_n = buffers
    length, n, _ = x.shape
    w_hh = weights[1]
    aux = np.empty((length, n, w_hh.shape[1]), x.dtype)
    gates = np.empty((length, n, w_hh.shape[0]), x.dtype)
    forward(x, weights, (h0, c0, out, aux, gates))
    if cell_spec(cell).has_cell_state:
        c_n[...] = aux[-1]


def rnn_tanh_forward_inference(x, weights, buffers):
    """:func:`rnn_tanh_forward` without the backward cache (``c_n`` unused)."""
    inference_via_forward("rnn_tanh", rnn_tanh_forward, x, weights, buffers)


def rnn_relu_forward_inference(x, weights, buffers):
    """:func:`rnn_relu_forward` without the backward cache (``c_n`` unused)."""
    inference_via_forward("rnn_relu", rnn_relu_forward, x, weights, buffers)


def lstm_forward_inference(x, weights, buffers):
    """:func:`lstm_forward` without the backward cache; ``c_n`` receives the final cell state."""
    inference_via_forward("lstm", lstm_forward, x, weights, buffers)


def gru_forward_inference(x, weights, buffers):
    """:func:`gru_forward` without the backward cache (``c_n`` unused)."""
    inference_via_forward("gru", gru_forward, x, weights, buffers)
