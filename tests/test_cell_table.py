"""The cell table's per-cell facts, each checked against what the reference kernels do."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn._layout import CELLS
from tsrnn.kernels import reference

from .kernels.cases import make_problem


def _buffers(cell, shape):
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, shape, np.float64, seed=4)
    n, _, _, h = shape
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))
    c0 = np.zeros((n, h)) if c0 is None else c0
    w = tuple(weights[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    return xt, w, h0, c0, np.ascontiguousarray(g_out.transpose(1, 0, 2)), g_h, g_c


@pytest.mark.parametrize("cell", list(CELLS))
def test_stored_buffers_are_the_ones_the_forward_writes(cell):
    spec = CELLS[cell]
    shape = (3, 4, 2, 5)
    xt, w, h0, c0, *_ = _buffers(cell, shape)
    length, n, h = xt.shape[0], xt.shape[1], shape[3]
    out = np.empty((length, n, h))
    aux = np.full((length, n, h), np.nan)
    gates = np.full((length, n, spec.n_gates * h), np.nan)
    getattr(reference, f"{cell}_forward")(xt, w, (h0, c0, out, aux, gates))
    assert np.isfinite(aux).all() == spec.stores_aux
    assert np.isfinite(gates).all() == spec.stores_gates
    if spec.has_cell_state:  # the final cell state is the last aux (the contract's c_n)
        c = np.empty((n, h))
        getattr(reference, f"{cell}_forward_inference")(xt, w, (h0, c0, np.empty_like(out), c))
        np.testing.assert_array_equal(c, aux[-1])


@pytest.mark.parametrize("cell", list(CELLS))
def test_the_recurrent_term_gate_is_where_the_bias_gradients_differ(cell):
    # b_ih and b_hh enter every gate's pre-activation as one sum, so their gradients agree,
    # except in a gate whose recurrent-side term is kept apart (and scaled by another gate).
    spec = CELLS[cell]
    shape = (3, 4, 2, 5)
    xt, w, h0, c0, d_out, g_h, g_c = _buffers(cell, shape)
    length, n, h = xt.shape[0], xt.shape[1], shape[3]
    out, aux = np.empty((length, n, h)), np.empty((length, n, h))
    gates = np.empty((length, n, spec.n_gates * h))
    getattr(reference, f"{cell}_forward")(xt, w, (h0, c0, out, aux, gates))
    d_weights = tuple(np.zeros_like(a) for a in w)
    d_cn = g_c if g_c is not None else np.zeros((n, h))
    grads = (d_out, g_h, d_cn, np.zeros_like(xt), np.zeros_like(h0), np.zeros_like(c0))
    getattr(reference, f"{cell}_backward")(xt, w, (h0, c0, out, aux, gates), grads, d_weights)
    db_ih, db_hh = d_weights[2], d_weights[3]
    for k in range(spec.n_gates):
        rows = slice(k * h, (k + 1) * h)
        same = np.allclose(db_ih[rows], db_hh[rows], rtol=1e-12, atol=1e-14)
        assert same == (k != spec.recurrent_term_gate), (cell, spec.gate_names[k])


@pytest.mark.parametrize("cell", list(CELLS))
def test_the_forget_gate_is_named_f_and_only_lstm_has_one(cell):
    spec = CELLS[cell]
    if cell == "lstm":  # Gers et al. (2000): i, f, g, o in PyTorch's row order
        assert spec.gate_names[spec.forget_gate] == "f"
    else:
        assert spec.forget_gate is None
