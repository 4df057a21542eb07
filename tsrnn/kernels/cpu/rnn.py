"""Jitted Elman RNN (tanh and ReLU), forward and BPTT. Contract: tsrnn.kernels.reference.

See :mod:`._common` for the strategy.
"""

from __future__ import annotations

import numba
import numpy as np

from ._common import (
    JIT,
    PJIT,
    chunk_bounds,
    column_sums_acc,
    mm_nn,
    mm_tn_acc,
    n_chunks,
    pack_bias,
    pack_rows,
    pack_transposed,
    pack_transposed_panels,
    padded,
    row_dots,
    unpack_bias_sum,
    unpack_transposed_sum,
)
from ._simd import lanes_of, vload, vload_n, vrelu, vstore, vstore_n, vtanh, vwhere_positive


@numba.njit(**JIT)
def _forward_rows(x, wxt, wht, bx, bh, h0, out, lo, hi, relu):
    nr = hi - lo
    if nr <= 0:
        return
    L = x.shape[0]
    H = out.shape[2]
    m = bh.shape[0]
    v = lanes_of(x)
    px = np.empty((nr, m), x.dtype)
    ph = np.empty((nr, m), x.dtype)
    pxf = px.reshape(px.size)
    phf = ph.reshape(ph.size)
    for t in range(L):
        h_prev = h0 if t == 0 else out[t - 1]
        mm_nn(x[t], lo, nr, wxt, bx, px)
        mm_nn(h_prev, lo, nr, wht, bh, ph)
        o_t = out[t].reshape(out[t].size)
        for i in range(nr):
            n = lo + i
            for j in range(0, H, v):
                pre = vload(pxf, i * m + j) + vload(phf, i * m + j)
                h = vrelu(pre) if relu else vtanh(pre)
                vstore_n(o_t, n * H + j, h, H - j)


@numba.njit(**PJIT)
def _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, relu):
    N = x.shape[1]
    H = w_hh.shape[1]
    hp = padded(H, x)
    wxt = pack_transposed_panels(w_ih, 1, H, hp)
    wht = pack_transposed_panels(w_hh, 1, H, hp)
    bx = pack_bias(b_ih, 1, H, hp)
    bh = pack_bias(b_hh, 1, H, hp)
    chunks = n_chunks(N)
    for c in numba.prange(chunks):
        lo, hi = chunk_bounds(N, chunks, c)
        _forward_rows(x, wxt, wht, bx, bh, h0, out, lo, hi, relu)


@numba.njit(**JIT)
def _backward_rows(x, wb, wxt, h0, out, d_out, d_hn, dx, dh0, dwh, dwx, db, lo, hi, relu):
    nr = hi - lo
    if nr <= 0:
        return
    L = x.shape[0]
    H = out.shape[2]
    hp = padded(H, x)
    m = wb.size // hp
    v = lanes_of(x)
    dp = np.zeros((nr, m), x.dtype)
    dh = np.zeros((nr, hp), x.dtype)
    no_bias = np.zeros(hp, x.dtype)
    dpf = dp.reshape(dp.size)
    dhf = dh.reshape(dh.size)
    for i in range(nr):
        for j in range(H):
            dh[i, j] = d_hn[lo + i, j]
    for t in range(L - 1, -1, -1):
        h_prev = h0 if t == 0 else out[t - 1]
        o_t = out[t].reshape(out[t].size)
        do_t = d_out[t].reshape(d_out[t].size)
        for i in range(nr):
            n = lo + i
            for j in range(0, H, v):
                cnt = H - j  # lanes past H read as zero and give zero gradients
                h = vload_n(o_t, n * H + j, cnt)
                g = vload(dhf, i * hp + j) + vload_n(do_t, n * H + j, cnt)
                # relu: as the reference's dh * (h > 0), a NaN gradient stays NaN
                vstore(dpf, i * m + j, vwhere_positive(h, g) if relu else g * (1.0 - h * h))
        dx_t = dx[t]
        for i in range(nr):
            row_dots(dp, i, wxt, dx_t[lo + i])
        mm_tn_acc(h_prev, lo, nr, dp, dwh)
        mm_tn_acc(x[t], lo, nr, dp, dwx)
        column_sums_acc(dp, nr, db)
        mm_nn(dp, 0, nr, wb, no_bias, dh)
    for i in range(nr):
        for j in range(H):
            dh0[lo + i, j] = dh[i, j]


@numba.njit(**PJIT)
def _backward(x, w_ih, w_hh, h0, out, d_out, d_hn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0, relu):
    N, D = x.shape[1], x.shape[2]
    H = w_hh.shape[1]
    hp = padded(H, x)
    wb = pack_rows(w_hh, 1, H, hp, hp)
    wxt = pack_transposed(w_ih, 1, H, hp)
    chunks = n_chunks(N)
    dwh = np.zeros((chunks, H, hp), x.dtype)
    dwx = np.zeros((chunks, D, hp), x.dtype)
    db = np.zeros((chunks, hp), x.dtype)
    for c in numba.prange(chunks):
        lo, hi = chunk_bounds(N, chunks, c)
        _backward_rows(x, wb, wxt, h0, out, d_out, d_hn, dx, dh0, dwh[c], dwx[c], db[c], lo, hi, relu)
    unpack_transposed_sum(dwh, 1, H, hp, dw_hh)
    unpack_transposed_sum(dwx, 1, H, hp, dw_ih)
    unpack_bias_sum(db, 1, H, hp, db_ih)
    db_hh[:] = db_ih


@numba.njit(**JIT)
def rnn_tanh_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates):
    _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, False)


@numba.njit(**JIT)
def rnn_relu_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates):
    _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, True)


@numba.njit(**JIT)
def rnn_tanh_forward_inference(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, c_n):
    _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, False)


@numba.njit(**JIT)
def rnn_relu_forward_inference(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, c_n):
    _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, True)


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
    _backward(x, w_ih, w_hh, h0, out, d_out, d_hn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0, False)


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
    _backward(x, w_ih, w_hh, h0, out, d_out, d_hn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0, True)
