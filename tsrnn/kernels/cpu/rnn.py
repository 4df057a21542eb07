"""Jitted Elman RNN (tanh and ReLU), forward and BPTT. Contract: tsrnn.kernels.reference.

See :mod:`._common` for the strategy.
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
def _forward(x, weights, h0, out, relu):
    wxt, wht, bx, bh = pack_forward(weights, x)
    N = x.shape[1]
    chunks = n_chunks(N)
    for c in numba.prange(chunks):
        saved = flush_subnormals()  # see ._fpenv
        lo, hi = chunk_bounds(N, chunks, c)
        _forward_rows(x, wxt, wht, bx, bh, h0, out, lo, hi, relu)
        restore_fp_env(saved)


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
        backward_step(x[t], h_prev, lo, nr, dp, dp, wxt, wb, dx[t], dwh, dwx, db, dh, no_bias)
    for i in range(nr):
        for j in range(H):
            dh0[lo + i, j] = dh[i, j]


@numba.njit(**PJIT)
def _backward(x, weights, buffers, grads, d_weights, relu):
    h0, _c0, out, _aux, _gates = buffers
    d_out, d_hn, _d_cn, dx, dh0, _dc0 = grads
    wb, wxt = pack_backward(weights, x)
    N = x.shape[1]
    chunks = n_chunks(N)
    dwh, dwx, db = grad_parts(x, weights, chunks, 1)
    for c in numba.prange(chunks):
        saved = flush_subnormals()  # see ._fpenv
        lo, hi = chunk_bounds(N, chunks, c)
        _backward_rows(x, wb, wxt, h0, out, d_out, d_hn, dx, dh0, dwh[c], dwx[c], db[c], lo, hi, relu)
        restore_fp_env(saved)
    sum_grad_parts(dwh, dwx, db, d_weights)


@numba.njit(**JIT)
def rnn_tanh_forward(x, weights, buffers):
    _forward(x, weights, buffers[0], buffers[2], False)


@numba.njit(**JIT)
def rnn_relu_forward(x, weights, buffers):
    _forward(x, weights, buffers[0], buffers[2], True)


@numba.njit(**JIT)
def rnn_tanh_forward_inference(x, weights, buffers):
    _forward(x, weights, buffers[0], buffers[2], False)


@numba.njit(**JIT)
def rnn_relu_forward_inference(x, weights, buffers):
    _forward(x, weights, buffers[0], buffers[2], True)


@numba.njit(**JIT)
def rnn_tanh_backward(x, weights, buffers, grads, d_weights):
    _backward(x, weights, buffers, grads, d_weights, False)


@numba.njit(**JIT)
def rnn_relu_backward(x, weights, buffers, grads, d_weights):
    _backward(x, weights, buffers, grads, d_weights, True)
