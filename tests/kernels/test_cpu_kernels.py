"""The Numba CPU kernels equal the NumPy reference on the shared case list."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import functional as F

from .cases import CASES, CPU_TOLERANCE, case_id, final_state_grad, make_problem, relative_error


def run_both(cell, shape, dtype, grad_from):
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, shape, dtype, seed=2)
    if grad_from == "outputs":
        g_state = None
    else:
        g_state = final_state_grad(cell, g_h, g_c)
        if grad_from == "final_state":
            g_out = None
    results = {}
    for device in ("reference", "cpu"):
        out, state, cache = F.forward(cell, x, weights, h0, c0, device=device)
        grads = F.backward(cache, g_out, g_state)
        results[device] = (out, state, grads)
    return results


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("grad_from", ["outputs", "final_state", "both"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_cpu_matches_reference(case, grad_from, dtype):
    cell, shape = case
    res = run_both(cell, shape, dtype, grad_from)
    tol = CPU_TOLERANCE[dtype]
    (ref_out, ref_state, ref_grads), (out, state, grads) = res["reference"], res["cpu"]
    assert out.dtype == np.dtype(dtype)
    assert relative_error(out, ref_out) < tol
    for a, b in zip(
        np.atleast_1d(state) if cell != "lstm" else state,
        np.atleast_1d(ref_state) if cell != "lstm" else ref_state,
    ):
        assert relative_error(a, b) < tol
    assert set(grads) == set(ref_grads)
    for name in ref_grads:
        assert grads[name].dtype == np.dtype(dtype), name
        err = relative_error(grads[name], ref_grads[name])
        assert err < tol, f"d{name}: relative error {err:.2e}"
        # a zero reference gradient would make the comparison prove nothing (ReLU units
        # that are inactive legitimately pass no gradient)
        if cell != "rnn_relu":
            assert np.any(ref_grads[name] != 0), name


def test_cpu_does_not_modify_inputs():
    weights, x, h0, c0, g_out, g_h, g_c = make_problem("lstm", (3, 4, 2, 5), np.float64)
    copies = [a.copy() for a in (*weights.values(), x, h0, c0, g_out, g_h, g_c)]
    _, _, cache = F.forward("lstm", x, weights, h0, c0, device="cpu")
    F.backward(cache, g_out, (g_h, g_c))
    for before, after in zip(copies, (*weights.values(), x, h0, c0, g_out, g_h, g_c)):
        np.testing.assert_array_equal(before, after)


def test_final_state_is_last_output_and_cell_state_matches_recurrence():
    """Hand check of the LSTM recurrence at L=1 with zero initial state."""
    weights, x, *_ = make_problem("lstm", (2, 1, 3, 4), np.float64)
    out, (h_n, c_n), _ = F.forward("lstm", x, weights, device="cpu")
    pre = x[:, 0] @ weights["weight_ih"].T + weights["bias_ih"] + weights["bias_hh"]
    i, _f, g, o = np.split(pre, 4, axis=1)
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    c = sig(i) * np.tanh(g)  # c0 = 0 removes the forget term
    np.testing.assert_allclose(c_n, c, rtol=1e-12)
    np.testing.assert_allclose(h_n, sig(o) * np.tanh(c), rtol=1e-12)
    np.testing.assert_array_equal(out[:, -1], h_n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_that_decay_through_the_subnormal_range_match_the_reference(dtype):
    """An LSTM with forget gates at 0.5 and a loss on the last step only: the gradient halves
    at every step back, crossing the subnormal range on its way to zero over 400 steps (in both
    dtypes). The kernels flush subnormals to zero (tsrnn.kernels.cpu._fpenv); the NumPy
    reference computes with them. The gradients agree, and the caller's thread computes with
    subnormals again after the call."""
    rng = np.random.default_rng(0)
    N, T, D, H = 8, 400 if dtype == "float32" else 1200, 2, 8
    x = rng.normal(size=(N, T, D)).astype(dtype)
    w = {
        "weight_ih": (0.1 * rng.normal(size=(4 * H, D))).astype(dtype),
        "weight_hh": (0.01 * rng.normal(size=(4 * H, H))).astype(dtype),
        "bias_ih": np.zeros(4 * H, dtype),
        "bias_hh": np.zeros(4 * H, dtype),
    }
    d_out = np.zeros((N, T, H), dtype)
    d_out[:, -1] = 1.0
    grads = {}
    for device in ("cpu", "reference"):
        cache = F.forward("lstm", x, w, device=device)[2]
        grads[device] = F.backward(cache, d_out)
    tiny = np.finfo(dtype).tiny
    for name, ref in grads["reference"].items():
        got = grads["cpu"][name]
        scale = np.max(np.abs(ref))
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5 * scale, err_msg=name)
    # the reference's input gradient really reaches subnormal values at some step
    dx = np.abs(grads["reference"]["dx"] if "dx" in grads["reference"] else grads["reference"]["x"])
    assert np.any((dx > 0) & (dx < tiny))
    # the calling thread's floating-point environment is restored: subnormals survive NumPy
    sub = np.array([tiny / 4], dtype)
    assert (sub * np.array([1.0], dtype))[0] == tiny / 4
