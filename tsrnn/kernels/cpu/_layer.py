"""What every CPU cell kernel does around its own gate arithmetic: pack the layer's weights,
give each batch block its gradient accumulators, run a backward step's products, and sum the
blocks' weight gradients. The weights and gradients arrive as the contract's tuples
(:mod:`tsrnn.kernels.reference`); see :mod:`._common` for the strategy.
"""

from __future__ import annotations

import numba
import numpy as np

from ._common import (
    JIT,
    ZERO,
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

__all__ = [
    "backward_step",
    "chunk_bounds",
    "grad_parts",
    "n_chunks",
    "pack_backward",
    "pack_forward",
    "sum_grad_parts",
]


@numba.njit(**JIT)
def pack_forward(weights, x):
    """``(wxt, wht, bx, bh)``: the input and recurrent weights as transposed panels and the two
    biases, each gate block padded to ``padded(H, x)`` columns."""
    w_ih, w_hh, b_ih, b_hh = weights
    H = w_hh.shape[1]
    n_gates = w_hh.shape[0] // H
    hp = padded(H, x)
    wxt = pack_transposed_panels(w_ih, n_gates, H, hp)
    wht = pack_transposed_panels(w_hh, n_gates, H, hp)
    return wxt, wht, pack_bias(b_ih, n_gates, H, hp), pack_bias(b_hh, n_gates, H, hp)


@numba.njit(**JIT)
def pack_backward(weights, x):
    """``(wb, wxt)``: the recurrent weights as padded rows (for ``dh = dp W_hh``) and the input
    weights transposed (for ``dx = dp W_ih``)."""
    w_ih, w_hh = weights[0], weights[1]
    H = w_hh.shape[1]
    n_gates = w_hh.shape[0] // H
    hp = padded(H, x)
    return pack_rows(w_hh, n_gates, H, hp, hp), pack_transposed(w_ih, n_gates, H, hp)


@numba.njit(**JIT)
def grad_parts(x, weights, chunks, n_biases):
    """Zeroed accumulators ``(dwh, dwx, db)`` of the weight gradients for ``chunks`` batch
    blocks, in the padded layout: ``db[c, 0]`` is the input bias, ``db[c, 1]`` (when
    ``n_biases`` is 2) the recurrent bias of a cell whose two sides differ."""
    hidden = weights[1].shape[1]
    m = weights[1].shape[0] // hidden * padded(hidden, x)
    dwh = np.zeros((chunks, hidden, m), x.dtype)
    dwx = np.zeros((chunks, x.shape[2], m), x.dtype)
    return dwh, dwx, np.zeros((chunks, n_biases, m), x.dtype)


@numba.njit(**JIT)
def backward_step(x_t, h_prev, lo, nr, d_in, d_rec, wxt, wb, dx_t, dwh, dwx, db, dh, no_bias):
    """One step's products for rows ``lo:lo+nr``, from the pre-activation gradients of the input
    side ``d_in`` and of the recurrent side ``d_rec`` (the same array when they are equal):
    ``dx_t``, the block's weight and bias gradients, and ``dh = d_rec W_hh`` (overwritten;
    ``no_bias`` is a zero row of ``dh``'s width)."""
    for i in range(nr):
        row_dots(d_in, i, wxt, dx_t[lo + i])
    mm_tn_acc(h_prev, lo, nr, d_rec, dwh)
    mm_tn_acc(x_t, lo, nr, d_in, dwx)
    column_sums_acc(d_in, nr, db[0])
    if db.shape[0] > 1:
        column_sums_acc(d_rec, nr, db[1])
    mm_nn(d_rec, ZERO, nr, wb, no_bias, dh)


@numba.njit(**JIT)
def sum_grad_parts(dwh, dwx, db, d_weights):
    """Sum the blocks' accumulators into ``d_weights = (dw_ih, dw_hh, db_ih, db_hh)``; with one
    bias accumulator both bias gradients get it."""
    dw_ih, dw_hh, db_ih, db_hh = d_weights
    H = dw_hh.shape[1]
    n_gates = dw_hh.shape[0] // H
    hp = padded(H, dw_hh)
    unpack_transposed_sum(dwh, n_gates, H, hp, dw_hh)
    unpack_transposed_sum(dwx, n_gates, H, hp, dw_ih)
    unpack_bias_sum(db, ZERO, n_gates, H, hp, db_ih)
    if db.shape[1] > 1:
        unpack_bias_sum(db, db.shape[1] - 1, n_gates, H, hp, db_hh)
    else:
        # A loop, not ``db_hh[:] = db_ih``: the slice assignment's shape-mismatch error
        # message would be compiled into every kernel.
        for i in range(db_ih.shape[0]):
            db_hh[i] = db_ih[i]
