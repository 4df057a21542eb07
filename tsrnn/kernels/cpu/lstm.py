"""Jitted LSTM forward and BPTT (gate order i, f, g, o). Contract: tsrnn.kernels.reference.

See :mod:`._common` for the strategy (batch split over threads, register-blocked products on
padded weights, weight gradients accumulated inside the backward loop).
"""

from __future__ import annotations

import numba
import numpy as np

from ._common import JIT, PJIT, mm_nn, padded
from ._fpenv import flush_subnormals, restore_fp_env
from ._layer import (
    backward_step,
    chunk_bounds,
    grad_parts,
    n_chunks,
    pack_backward,
    pack_forward,
    sum_grad_parts,
)
from ._simd import lanes_of, vfma, vload, vload_n, vsigmoid, vstore, vstore_n, vtanh


@numba.njit(**JIT)
def _forward_rows(x, wxt, wht, bx, bh, h0, c0, out, aux, gates, c_n, lo, hi, train):
    nr = hi - lo
    if nr <= 0:
        return
    L = x.shape[0]
    H = out.shape[2]
    m = bh.shape[0]
    hp = m // 4
    v = lanes_of(x)
    px = np.empty((nr, m), x.dtype)
    ph = np.empty((nr, m), x.dtype)
    cs = np.zeros((nr, hp), x.dtype)  # running cell state; padding lanes stay zero
    pxf = px.reshape(px.size)
    phf = ph.reshape(ph.size)
    csf = cs.reshape(cs.size)
    for i in range(nr):
        for j in range(H):
            cs[i, j] = c0[lo + i, j]
    for t in range(L):
        h_prev = h0 if t == 0 else out[t - 1]
        mm_nn(x[t], lo, nr, wxt, bx, px)
        mm_nn(h_prev, lo, nr, wht, bh, ph)
        o_t = out[t].reshape(out[t].size)
        if train:
            a_t = aux[t].reshape(aux[t].size)
            g_t = gates[t].reshape(gates[t].size)
        for i in range(nr):
            n = lo + i
            for j in range(0, H, v):
                k = i * m + j
                ig = vsigmoid(vload(pxf, k) + vload(phf, k))
                fg = vsigmoid(vload(pxf, k + hp) + vload(phf, k + hp))
                gg = vtanh(vload(pxf, k + 2 * hp) + vload(phf, k + 2 * hp))
                og = vsigmoid(vload(pxf, k + 3 * hp) + vload(phf, k + 3 * hp))
                c = vfma(fg, vload(csf, i * hp + j), ig * gg)
                vstore(csf, i * hp + j, c)
                cnt = H - j
                vstore_n(o_t, n * H + j, og * vtanh(c), cnt)
                if train:
                    vstore_n(a_t, n * H + j, c, cnt)
                    k = n * 4 * H + j
                    vstore_n(g_t, k, ig, cnt)
                    vstore_n(g_t, k + H, fg, cnt)
                    vstore_n(g_t, k + 2 * H, gg, cnt)
                    vstore_n(g_t, k + 3 * H, og, cnt)
    if c_n.shape[0] > 0:
        for i in range(nr):
            for j in range(H):
                c_n[lo + i, j] = cs[i, j]


@numba.njit(**PJIT)
def _forward(x, weights, h0, c0, out, aux, gates, c_n, train):
    wxt, wht, bx, bh = pack_forward(weights, x)
    N = x.shape[1]
    chunks = n_chunks(N)
    for c in numba.prange(chunks):
        saved = flush_subnormals()  # see ._fpenv
        lo, hi = chunk_bounds(N, chunks, c)
        _forward_rows(x, wxt, wht, bx, bh, h0, c0, out, aux, gates, c_n, lo, hi, train)
        restore_fp_env(saved)


@numba.njit(**JIT)
def lstm_forward(x, weights, buffers):
    h0, c0, out, aux, gates = buffers
    # ``train`` is computed, not a literal, so that training and inference share one compiled
    # _forward (see ZERO in ._common).
    _forward(x, weights, h0, c0, out, aux, gates, np.empty((0, 0), x.dtype), aux.size > 0)


@numba.njit(**JIT)
def lstm_forward_inference(x, weights, buffers):
    h0, c0, out, c_n = buffers
    empty = np.empty((0, 0, 0), x.dtype)
    _forward(x, weights, h0, c0, out, empty, empty, c_n, empty.size > 0)


@numba.njit(**JIT)
def _backward_rows(
    x, wb, wxt, h0, c0, out, aux, gates, d_out, d_hn, d_cn, dx, dh0, dc0, dwh, dwx, db, lo, hi
):
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
    dc = np.zeros((nr, hp), x.dtype)
    no_bias = np.zeros(hp, x.dtype)
    dpf = dp.reshape(dp.size)
    dhf = dh.reshape(dh.size)
    dcf = dc.reshape(dc.size)
    for i in range(nr):
        for j in range(H):
            dh[i, j] = d_hn[lo + i, j]
            dc[i, j] = d_cn[lo + i, j]
    for t in range(L - 1, -1, -1):
        h_prev = h0 if t == 0 else out[t - 1]
        c_prev = c0 if t == 0 else aux[t - 1]
        cp = c_prev.reshape(c_prev.size)
        g_t = gates[t].reshape(gates[t].size)
        c_t = aux[t].reshape(aux[t].size)
        do_t = d_out[t].reshape(d_out[t].size)
        for i in range(nr):
            n = lo + i
            for j in range(0, H, v):
                # lanes past H read as zero and give zero gradients, so the padding stays zero
                cnt = H - j
                k = n * 4 * H + j
                ig = vload_n(g_t, k, cnt)
                fg = vload_n(g_t, k + H, cnt)
                gg = vload_n(g_t, k + 2 * H, cnt)
                og = vload_n(g_t, k + 3 * H, cnt)
                tc = vtanh(vload_n(c_t, n * H + j, cnt))
                dhv = vload(dhf, i * hp + j) + vload_n(do_t, n * H + j, cnt)
                dcv = vload(dcf, i * hp + j) + dhv * og * (1.0 - tc * tc)
                k = i * m + j
                vstore(dpf, k, dcv * gg * ig * (1.0 - ig))
                vstore(dpf, k + hp, dcv * vload_n(cp, n * H + j, cnt) * fg * (1.0 - fg))
                vstore(dpf, k + 2 * hp, dcv * ig * (1.0 - gg * gg))
                vstore(dpf, k + 3 * hp, dhv * tc * og * (1.0 - og))
                vstore(dcf, i * hp + j, dcv * fg)
        backward_step(x[t], h_prev, lo, nr, dp, dp, wxt, wb, dx[t], dwh, dwx, db, dh, no_bias)
    for i in range(nr):
        for j in range(H):
            dh0[lo + i, j] = dh[i, j]
            dc0[lo + i, j] = dc[i, j]


@numba.njit(**PJIT)
def lstm_backward(x, weights, buffers, grads, d_weights):
    h0, c0, out, aux, gates = buffers
    d_out, d_hn, d_cn, dx, dh0, dc0 = grads
    wb, wxt = pack_backward(weights, x)
    N = x.shape[1]
    chunks = n_chunks(N)
    dwh, dwx, db = grad_parts(x, weights, chunks, 1)
    for c in numba.prange(chunks):
        saved = flush_subnormals()  # see ._fpenv
        lo, hi = chunk_bounds(N, chunks, c)
        _backward_rows(
            x,
            wb,
            wxt,
            h0,
            c0,
            out,
            aux,
            gates,
            d_out,
            d_hn,
            d_cn,
            dx,
            dh0,
            dc0,
            dwh[c],
            dwx[c],
            db[c],
            lo,
            hi,
        )
        restore_fp_env(saved)
    sum_grad_parts(dwh, dwx, db, d_weights)
