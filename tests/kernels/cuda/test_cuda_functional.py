"""``tsrnn.functional`` with ``device="cuda"``: NumPy in, NumPy out, the reference's values."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import functional as F

from ..cases import final_state_grad, make_problem
from .helpers import TOLERANCE

pytestmark = pytest.mark.cuda


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_functional_cuda_matches_reference(cell, dtype):
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, (3, 4, 2, 5), dtype, seed=11)
    results = {}
    for device in ("reference", "cuda"):
        out, state, cache = F.forward(cell, x, weights, h0, c0, device=device)
        grads = F.backward(cache, g_out, final_state_grad(cell, g_h, g_c))
        results[device] = (out, state, grads)
    (ref_out, ref_state, ref_grads), (out, state, grads) = results["reference"], results["cuda"]
    tol = TOLERANCE[np.dtype(dtype)]
    assert isinstance(out, np.ndarray) and out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=tol)
    for a, b in zip(
        np.atleast_1d(state) if cell != "lstm" else state,
        np.atleast_1d(ref_state) if cell != "lstm" else ref_state,
    ):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol)
    assert set(grads) == set(ref_grads)
    for name, value in ref_grads.items():
        assert isinstance(grads[name], np.ndarray)
        scale = max(float(np.abs(value).max()), 1e-3)
        np.testing.assert_allclose(grads[name], value, rtol=0, atol=tol * scale, err_msg=name)
