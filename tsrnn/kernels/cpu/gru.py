"""Jitted GRU forward and BPTT (gate order r, z, n). Contract: tsrnn.kernels.reference."""

from __future__ import annotations

import math

import numba
import numpy as np

from ._common import JIT, input_projection, sigmoid, weight_gradients


@numba.njit(**JIT)
def gru_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates):
    L, N, _ = x.shape
    H = w_hh.shape[1]
    input_projection(x, w_ih, b_ih, gates)
    rec = np.empty((N, 3 * H), dtype=x.dtype)
    for t in range(L):
        h_prev = h0 if t == 0 else out[t - 1]
        np.dot(h_prev, w_hh.T, rec)
        g_t = gates[t]
        for n in range(N):
            for j in range(H):
                r = sigmoid(g_t[n, j] + rec[n, j] + b_hh[j])
                z = sigmoid(g_t[n, H + j] + rec[n, H + j] + b_hh[H + j])
                hn = rec[n, 2 * H + j] + b_hh[2 * H + j]
                nn = math.tanh(g_t[n, 2 * H + j] + r * hn)
                g_t[n, j] = r
                g_t[n, H + j] = z
                g_t[n, 2 * H + j] = nn
                aux[t, n, j] = hn
                out[t, n, j] = (1.0 - z) * nn + z * h_prev[n, j]


@numba.njit(**JIT)
def gru_backward(
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
    # Input- and recurrent-side pre-activation gradients differ only in the n block.
    d_gi = np.empty((L, N, 3 * H), dtype=x.dtype)
    d_gh = np.empty((L, N, 3 * H), dtype=x.dtype)
    dh = d_hn.copy()
    dh_carry = np.empty_like(dh)
    for t in range(L - 1, -1, -1):
        h_prev = h0 if t == 0 else out[t - 1]
        g_t = gates[t]
        gi = d_gi[t]
        gh = d_gh[t]
        for n in range(N):
            for j in range(H):
                r = g_t[n, j]
                z = g_t[n, H + j]
                nn = g_t[n, 2 * H + j]
                dh_nj = dh[n, j] + d_out[t, n, j]
                dn_pre = dh_nj * (1.0 - z) * (1.0 - nn * nn)
                dz_pre = dh_nj * (h_prev[n, j] - nn) * z * (1.0 - z)
                dr_pre = dn_pre * aux[t, n, j] * r * (1.0 - r)
                gi[n, j] = dr_pre
                gi[n, H + j] = dz_pre
                gi[n, 2 * H + j] = dn_pre
                gh[n, j] = dr_pre
                gh[n, H + j] = dz_pre
                gh[n, 2 * H + j] = dn_pre * r
                dh_carry[n, j] = dh_nj * z
        np.dot(gh, w_hh, dh)
        dh += dh_carry
    dh0[:, :] = dh
    weight_gradients(x, w_ih, h0, out, d_gi, d_gh, dx, dw_ih, dw_hh, db_ih, db_hh)
