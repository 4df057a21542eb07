"""Jitted GRU forward and BPTT (gate order r, z, n). Contract: tsrnn.kernels.reference.

See :mod:`._common` for the strategy. The input and recurrent products are kept apart
(``px = W_ih x + b_ih``, ``ph = W_hh h + b_hh``) because the reset gate multiplies only the
recurrent part of the ``n`` gate.
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
def _forward(x, weights, h0, out, aux, gates, train):
    wxt, wht, bx, bh = pack_forward(weights, x)
    N = x.shape[1]
    chunks = n_chunks(N)
    for c in numba.prange(chunks):
        saved = flush_subnormals()  # see ._fpenv
        lo, hi = chunk_bounds(N, chunks, c)
        _forward_rows(x, wxt, wht, bx, bh, h0, out, aux, gates, lo, hi, train)
        restore_fp_env(saved)


@numba.njit(**JIT)
def gru_forward(x, weights, buffers):
    h0, _c0, out, aux, gates = buffers
    # ``train`` is computed, not a literal, so that training and inference share one compiled
    # _forward (see ZERO in ._common).
    _forward(x, weights, h0, out, aux, gates, aux.size > 0)


@numba.njit(**JIT)
def gru_forward_inference(x, weights, buffers):
    empty = np.empty((0, 0, 0), x.dtype)
    _forward(x, weights, buffers[0], buffers[2], empty, empty, empty.size > 0)


@numba.njit(**JIT)
def _backward_rows(x, wb, wxt, h0, out, aux, gates, d_out, d_hn, dx, dh0, dwh, dwx, db, lo, hi):
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
        backward_step(x[t], h_prev, lo, nr, dgi, dgh, wxt, wb, dx[t], dwh, dwx, db, dh, no_bias)
        for k in range(0, nr * hp, v):
            vstore(dhf, k, vload(dhf, k) + vload(cf, k))
    for i in range(nr):
        for j in range(H):
            dh0[lo + i, j] = dh[i, j]


@numba.njit(**PJIT)
def gru_backward(x, weights, buffers, grads, d_weights):
    h0, _c0, out, aux, gates = buffers
    d_out, d_hn, _d_cn, dx, dh0, _dc0 = grads
    wb, wxt = pack_backward(weights, x)
    N = x.shape[1]
    chunks = n_chunks(N)
    dwh, dwx, db = grad_parts(x, weights, chunks, 2)
    for c in numba.prange(chunks):
        saved = flush_subnormals()  # see ._fpenv
        lo, hi = chunk_bounds(N, chunks, c)
        _backward_rows(x, wb, wxt, h0, out, aux, gates, d_out, d_hn, dx, dh0, dwh[c], dwx[c], db[c], lo, hi)
        restore_fp_env(saved)
    sum_grad_parts(dwh, dwx, db, d_weights)
