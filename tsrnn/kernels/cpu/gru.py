"""Jitted GRU forward and BPTT (gate order r, z, n). Contract: tsrnn.kernels.reference.

See :mod:`._common` for the strategy. The input and recurrent products are kept apart
(``px = W_ih x + b_ih``, ``ph = W_hh h + b_hh``) because the reset gate multiplies only the
recurrent part of the ``n`` gate.
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
from ._simd import lanes_of, vfma, vload, vload_n, vsigmoid, vstore, vstore_n, vtanh


@numba.njit(**JIT)
def _forward_rows(x, wxt, wht, bx, bh, h0, out, aux, gates, lo, hi, train):
    nr = hi - lo
    if nr <= 0:
        return
    L = x.shape[0]
    H = out.shape[2]
    m = bh.shape[0]
    hp = m // 3
    v = lanes_of(x)
    px = np.empty((nr, m), x.dtype)
    ph = np.empty((nr, m), x.dtype)
    pxf = px.reshape(px.size)
    phf = ph.reshape(ph.size)
    for t in range(L):
        h_prev = h0 if t == 0 else out[t - 1]
        hpf = h_prev.reshape(h_prev.size)
        mm_nn(x[t], lo, nr, wxt, bx, px)
        mm_nn(h_prev, lo, nr, wht, bh, ph)
        o_t = out[t].reshape(out[t].size)
        if train:
            a_t = aux[t].reshape(aux[t].size)
            g_t = gates[t].reshape(gates[t].size)
        for i in range(nr):
            n = lo + i
            for j in range(0, H, v):
                cnt = H - j
                k = i * m + j
                r = vsigmoid(vload(pxf, k) + vload(phf, k))
                z = vsigmoid(vload(pxf, k + hp) + vload(phf, k + hp))
                hn = vload(phf, k + 2 * hp)
                nn = vtanh(vfma(r, hn, vload(pxf, k + 2 * hp)))
                h = vfma(z, vload_n(hpf, n * H + j, cnt) - nn, nn)  # (1 - z) n + z h
                vstore_n(o_t, n * H + j, h, cnt)
                if train:
                    vstore_n(a_t, n * H + j, hn, cnt)
                    k = n * 3 * H + j
                    vstore_n(g_t, k, r, cnt)
                    vstore_n(g_t, k + H, z, cnt)
                    vstore_n(g_t, k + 2 * H, nn, cnt)


@numba.njit(**PJIT)
def _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, aux, gates, train):
    N = x.shape[1]
    H = w_hh.shape[1]
    hp = padded(H, x)
    wxt = pack_transposed_panels(w_ih, 3, H, hp)
    wht = pack_transposed_panels(w_hh, 3, H, hp)
    bx = pack_bias(b_ih, 3, H, hp)
    bh = pack_bias(b_hh, 3, H, hp)
    chunks = n_chunks(N)
    for c in numba.prange(chunks):
        lo, hi = chunk_bounds(N, chunks, c)
        _forward_rows(x, wxt, wht, bx, bh, h0, out, aux, gates, lo, hi, train)


@numba.njit(**JIT)
def gru_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates):
    _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, aux, gates, True)


@numba.njit(**JIT)
def gru_forward_inference(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, c_n):
    empty = np.empty((0, 0, 0), x.dtype)
    _forward(x, w_ih, w_hh, b_ih, b_hh, h0, out, empty, empty, False)


@numba.njit(**JIT)
def _backward_rows(x, wb, wxt, h0, out, aux, gates, d_out, d_hn, dx, dh0, dwh, dwx, dbi, dbh, lo, hi):
    nr = hi - lo
    if nr <= 0:
        return
    L = x.shape[0]
    H = out.shape[2]
    hp = padded(H, x)
    m = wb.size // hp
    v = lanes_of(x)
    # Input- and recurrent-side pre-activation gradients differ only in the n block.
    dgi = np.zeros((nr, m), x.dtype)
    dgh = np.zeros((nr, m), x.dtype)
    dh = np.zeros((nr, hp), x.dtype)
    carry = np.zeros((nr, hp), x.dtype)
    no_bias = np.zeros(hp, x.dtype)
    dgif = dgi.reshape(dgi.size)
    dghf = dgh.reshape(dgh.size)
    dhf = dh.reshape(dh.size)
    cf = carry.reshape(carry.size)
    for i in range(nr):
        for j in range(H):
            dh[i, j] = d_hn[lo + i, j]
    for t in range(L - 1, -1, -1):
        h_prev = h0 if t == 0 else out[t - 1]
        hpf = h_prev.reshape(h_prev.size)
        g_t = gates[t].reshape(gates[t].size)
        a_t = aux[t].reshape(aux[t].size)
        do_t = d_out[t].reshape(d_out[t].size)
        for i in range(nr):
            n = lo + i
            for j in range(0, H, v):
                cnt = H - j  # lanes past H read as zero and give zero gradients
                k = n * 3 * H + j
                r = vload_n(g_t, k, cnt)
                z = vload_n(g_t, k + H, cnt)
                nn = vload_n(g_t, k + 2 * H, cnt)
                dhv = vload(dhf, i * hp + j) + vload_n(do_t, n * H + j, cnt)
                dn = dhv * (1.0 - z) * (1.0 - nn * nn)
                dz = dhv * (vload_n(hpf, n * H + j, cnt) - nn) * z * (1.0 - z)
                dr = dn * vload_n(a_t, n * H + j, cnt) * r * (1.0 - r)
                k = i * m + j
                vstore(dgif, k, dr)
                vstore(dgif, k + hp, dz)
                vstore(dgif, k + 2 * hp, dn)
                vstore(dghf, k, dr)
                vstore(dghf, k + hp, dz)
                vstore(dghf, k + 2 * hp, dn * r)
                vstore(cf, i * hp + j, dhv * z)
        dx_t = dx[t]
        for i in range(nr):
            row_dots(dgi, i, wxt, dx_t[lo + i])
        mm_tn_acc(h_prev, lo, nr, dgh, dwh)
        mm_tn_acc(x[t], lo, nr, dgi, dwx)
        column_sums_acc(dgi, nr, dbi)
        column_sums_acc(dgh, nr, dbh)
        mm_nn(dgh, 0, nr, wb, no_bias, dh)
        for k in range(0, nr * hp, v):
            vstore(dhf, k, vload(dhf, k) + vload(cf, k))
    for i in range(nr):
        for j in range(H):
            dh0[lo + i, j] = dh[i, j]


@numba.njit(**PJIT)
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
    N, D = x.shape[1], x.shape[2]
    H = w_hh.shape[1]
    hp = padded(H, x)
    m = 3 * hp
    wb = pack_rows(w_hh, 3, H, hp, hp)
    wxt = pack_transposed(w_ih, 3, H, hp)
    chunks = n_chunks(N)
    dwh = np.zeros((chunks, H, m), x.dtype)
    dwx = np.zeros((chunks, D, m), x.dtype)
    dbi = np.zeros((chunks, m), x.dtype)
    dbh = np.zeros((chunks, m), x.dtype)
    for c in numba.prange(chunks):
        lo, hi = chunk_bounds(N, chunks, c)
        _backward_rows(
            x, wb, wxt, h0, out, aux, gates, d_out, d_hn, dx, dh0, dwh[c], dwx[c], dbi[c], dbh[c], lo, hi
        )
    unpack_transposed_sum(dwh, 3, H, hp, dw_hh)
    unpack_transposed_sum(dwx, 3, H, hp, dw_ih)
    unpack_bias_sum(dbi, 3, H, hp, db_ih)
    unpack_bias_sum(dbh, 3, H, hp, db_hh)
