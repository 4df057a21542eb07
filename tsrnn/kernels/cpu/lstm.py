"""Jitted LSTM forward and BPTT (gate order i, f, g, o). Contract: tsrnn.kernels.reference."""

from __future__ import annotations

import math

import numba
import numpy as np

from ._common import JIT, input_projection, sigmoid, weight_gradients


@numba.njit(**JIT)
def lstm_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates):
    L, N, _ = x.shape
    H = w_hh.shape[1]
    # gates first holds the input projection, then is overwritten by the activations.
    input_projection(x, w_ih, b_ih, gates)
    rec = np.empty((N, 4 * H), dtype=x.dtype)
    for t in range(L):
        h_prev = h0 if t == 0 else out[t - 1]
        c_prev = c0 if t == 0 else aux[t - 1]
        np.dot(h_prev, w_hh.T, rec)
        g_t = gates[t]
        for n in range(N):
            for j in range(H):
                i = sigmoid(g_t[n, j] + rec[n, j] + b_hh[j])
                f = sigmoid(g_t[n, H + j] + rec[n, H + j] + b_hh[H + j])
                g = math.tanh(g_t[n, 2 * H + j] + rec[n, 2 * H + j] + b_hh[2 * H + j])
                o = sigmoid(g_t[n, 3 * H + j] + rec[n, 3 * H + j] + b_hh[3 * H + j])
                c = f * c_prev[n, j] + i * g
                g_t[n, j] = i
                g_t[n, H + j] = f
                g_t[n, 2 * H + j] = g
                g_t[n, 3 * H + j] = o
                aux[t, n, j] = c
                out[t, n, j] = o * math.tanh(c)


@numba.njit(**JIT)
def lstm_backward(
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
    L, N, _ = x.shape
    H = w_hh.shape[1]
    dpre = np.empty((L, N, 4 * H), dtype=x.dtype)
    dh = d_hn.copy()
    dc = d_cn.copy()
    for t in range(L - 1, -1, -1):
        c_prev = c0 if t == 0 else aux[t - 1]
        g_t = gates[t]
        dp = dpre[t]
        for n in range(N):
            for j in range(H):
                i = g_t[n, j]
                f = g_t[n, H + j]
                g = g_t[n, 2 * H + j]
                o = g_t[n, 3 * H + j]
                tanh_c = math.tanh(aux[t, n, j])
                dh_nj = dh[n, j] + d_out[t, n, j]
                dc_nj = dc[n, j] + dh_nj * o * (1.0 - tanh_c * tanh_c)
                dp[n, j] = dc_nj * g * i * (1.0 - i)
                dp[n, H + j] = dc_nj * c_prev[n, j] * f * (1.0 - f)
                dp[n, 2 * H + j] = dc_nj * i * (1.0 - g * g)
                dp[n, 3 * H + j] = dh_nj * tanh_c * o * (1.0 - o)
                dc[n, j] = dc_nj * f
        np.dot(dp, w_hh, dh)
    dh0[:, :] = dh
    dc0[:, :] = dc
    weight_gradients(x, w_ih, h0, out, dpre, dpre, dx, dw_ih, dw_hh, db_ih, db_hh)
