"""The NumPy reference's BPTT against central finite differences of its own forward pass."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import functional as F

from .cases import CASES, case_id, final_state_grad, make_problem


def _loss(cell, x, weights, h0, c0, g_out, g_h, g_c):
    """Scalar loss touching every output step and the final state(s)."""
    out, state, _ = F.forward(cell, x, weights, h0, c0, device="reference")
    if cell == "lstm":
        h_n, c_n = state
        return np.sum(out * g_out) + np.sum(h_n * g_h) + np.sum(c_n * g_c)
    return np.sum(out * g_out) + np.sum(state * g_h)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_match_finite_differences(case):
    cell, shape = case
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, shape, np.float64, seed=1)
    _, _, cache = F.forward(cell, x, weights, h0, c0, device="reference")
    grads = F.backward(cache, g_out, final_state_grad(cell, g_h, g_c))

    inputs = dict(weights, x=x, h0=h0)
    if cell == "lstm":
        inputs["c0"] = c0
    assert set(grads) == set(inputs)

    eps = 1e-6
    for name, array in inputs.items():
        numeric = np.zeros_like(array)
        for idx in np.ndindex(array.shape):
            orig = array[idx]
            array[idx] = orig + eps
            plus = _loss(cell, x, weights, h0, c0, g_out, g_h, g_c)
            array[idx] = orig - eps
            minus = _loss(cell, x, weights, h0, c0, g_out, g_h, g_c)
            array[idx] = orig
            numeric[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-7, err_msg=f"{cell} d{name}")
