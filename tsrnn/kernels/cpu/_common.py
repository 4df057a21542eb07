"""Helpers shared by the jitted CPU kernels."""

from __future__ import annotations

import math

import numba
import numpy as np

# error_model="numpy": no zero-division checks, which would block vectorisation of the
# elementwise passes. No fastmath: training must be able to see NaN/inf.
JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
njit = numba.njit(**JIT)


@numba.njit(inline="always", **JIT)
def sigmoid(v):
    return 0.5 + 0.5 * math.tanh(0.5 * v)


@numba.njit(**JIT)
def input_projection(x, w_ih, b_ih, proj):
    """``proj[t] = x[t] @ w_ih.T + b_ih`` for all steps with one matrix product."""
    L, N, D = x.shape
    G = w_ih.shape[0]
    flat = proj.reshape(L * N, G)
    np.dot(x.reshape(L * N, D), w_ih.T, flat)
    for r in range(L * N):
        for j in range(G):
            flat[r, j] += b_ih[j]


@numba.njit(**JIT)
def weight_gradients(x, w_ih, h0, out, dpre_ih, dpre_hh, dx, dw_ih, dw_hh, db_ih, db_hh):
    """Weight, bias and input gradients from the pre-activation gradients of all steps.

    ``dpre_ih`` is the gradient of the input-side pre-activations ``W_ih x + b_ih`` and
    ``dpre_hh`` that of the recurrent side ``W_hh h_{t-1} + b_hh`` (the same array for
    RNN and LSTM; they differ in the GRU). Done once after the time loop as large matrix
    products instead of one small product per step.
    """
    L, N, D = x.shape
    H = h0.shape[1]
    G = dpre_ih.shape[2]
    gi = dpre_ih.reshape(L * N, G)
    gh = dpre_hh.reshape(L * N, G)
    np.dot(gi, w_ih, dx.reshape(L * N, D))
    np.dot(gi.T, x.reshape(L * N, D), dw_ih)
    # dW_hh = sum_t dpre_hh[t]^T h_{t-1}: step 0 pairs with h0, the rest with out[:-1].
    np.dot(dpre_hh[0].T, h0, dw_hh)
    if L > 1:
        tmp = np.empty_like(dw_hh)
        np.dot(gh[N:].T, out[: L - 1].reshape((L - 1) * N, H), tmp)
        dw_hh += tmp
    db_ih[:] = 0.0
    db_hh[:] = 0.0
    for r in range(L * N):
        for j in range(G):
            db_ih[j] += gi[r, j]
            db_hh[j] += gh[r, j]
