"""Jitted Elman RNN (tanh and ReLU), forward and BPTT. Contract: tsrnn.kernels.reference."""

from __future__ import annotations

import math

import numba
import numpy as np

from ._common import JIT, input_projection, weight_gradients


@numba.njit(**JIT)
def _rnn_forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, relu):
    L, N, _ = x.shape
    H = w_hh.shape[1]
    # The input projection for every step is written straight into ``out`` and the
    # recurrent product of each step added to it, so no (L, N, H) temporary is needed.
    input_projection(x, w_ih, b_ih, out)
    rec = np.empty((N, H), dtype=x.dtype)
    for t in range(L):
        h_prev = h0 if t == 0 else out[t - 1]
        np.dot(h_prev, w_hh.T, rec)
        o = out[t]
        for n in range(N):
            for j in range(H):
                v = o[n, j] + rec[n, j] + b_hh[j]
                if relu:
                    o[n, j] = v if v > 0.0 else 0.0
                else:
                    o[n, j] = math.tanh(v)


@numba.njit(**JIT)
def _rnn_backward(x, w_ih, w_hh, h0, out, d_out, d_hn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0, relu):
    L, N, _ = x.shape
    H = w_hh.shape[1]
    dpre = np.empty((L, N, H), dtype=x.dtype)
    dh = d_hn.copy()
    for t in range(L - 1, -1, -1):
        h = out[t]
        dp = dpre[t]
        for n in range(N):
            for j in range(H):
                g = dh[n, j] + d_out[t, n, j]
                if relu:
                    dp[n, j] = g if h[n, j] > 0.0 else 0.0
                else:
                    dp[n, j] = g * (1.0 - h[n, j] * h[n, j])
        np.dot(dp, w_hh, dh)
    dh0[:, :] = dh
    weight_gradients(x, w_ih, h0, out, dpre, dpre, dx, dw_ih, dw_hh, db_ih, db_hh)


@numba.njit(**JIT)
def rnn_tanh_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates):
    _rnn_forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, False)


@numba.njit(**JIT)
def rnn_relu_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates):
    _rnn_forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, True)


@numba.njit(**JIT)
def rnn_tanh_backward(
    x,
    w_ih,
    w_hh,
    b_ih,
    b_hh,
    h0,
    c0,
    out,
    aux,
    gates,
    d_out,
    d_hn,
    d_cn,
    dx,
    dw_ih,
    dw_hh,
    db_ih,
    db_hh,
    dh0,
    dc0,
):
    _rnn_backward(x, w_ih, w_hh, h0, out, d_out, d_hn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0, False)


@numba.njit(**JIT)
def rnn_relu_backward(
    x,
    w_ih,
    w_hh,
    b_ih,
    b_hh,
    h0,
    c0,
    out,
    aux,
    gates,
    d_out,
    d_hn,
    d_cn,
    dx,
    dw_ih,
    dw_hh,
    db_ih,
    db_hh,
    dh0,
    dc0,
):
    _rnn_backward(x, w_ih, w_hh, h0, out, d_out, d_hn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0, True)
