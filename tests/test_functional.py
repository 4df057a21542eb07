"""Public functional API: initialisation, layout helpers and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import functional as F
from tsrnn._layout import CELLS, n_params, pack, param_shapes, torch_param_name, unpack


@pytest.mark.parametrize("cell", list(CELLS))
def test_init_weights_shapes_and_properties(cell):
    d, h = 3, 6
    w = F.init_weights(cell, d, h, random_state=0, dtype=np.float64)
    g = CELLS[cell].n_gates
    assert {k: v.shape for k, v in w.items()} == {
        "weight_ih": (g * h, d),
        "weight_hh": (g * h, h),
        "bias_ih": (g * h,),
        "bias_hh": (g * h,),
    }
    for k in range(g):  # every recurrent gate block is orthogonal
        block = w["weight_hh"][k * h : (k + 1) * h]
        np.testing.assert_allclose(block.T @ block, np.eye(h), atol=1e-12)
    limit = np.sqrt(6 / (d + h))
    assert np.abs(w["weight_ih"]).max() <= limit
    expected_bias = np.zeros(g * h)
    if cell == "lstm":
        expected_bias[h : 2 * h] = 1.0  # forget gate
    np.testing.assert_array_equal(w["bias_ih"], expected_bias)
    np.testing.assert_array_equal(w["bias_hh"], np.zeros(g * h))


def test_init_weights_reproducible_and_dtype():
    a = F.init_weights("gru", 2, 4, random_state=7)
    b = F.init_weights("gru", 2, 4, random_state=7)
    c = F.init_weights("gru", 2, 4, random_state=8)
    assert all(v.dtype == np.float32 for v in a.values())
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["weight_hh"], c["weight_hh"])


def test_pack_unpack_roundtrip():
    w = F.init_weights("lstm", 3, 5, random_state=0, dtype=np.float64)
    flat = pack(w)
    assert flat.shape == (n_params("lstm", 3, 5),) == (4 * 5 * (3 + 5 + 2),)
    back = unpack(flat, "lstm", 3, 5)
    for k in w:
        np.testing.assert_array_equal(back[k], w[k])
    with pytest.raises(ValueError, match="must have 200 elements"):
        unpack(flat[:-1], "lstm", 3, 5)


def test_layout_names():
    assert torch_param_name("weight_ih", 2, reverse=True) == "weight_ih_l2_reverse"
    assert param_shapes("gru", 2, 3)["weight_hh"] == (9, 3)


def _ok():
    w = F.init_weights("lstm", 2, 3, random_state=0)
    x = np.zeros((4, 5, 2), np.float32)
    return w, x


@pytest.mark.parametrize(
    ("mutate", "error", "pattern"),
    [
        (lambda w, x: ("elman", x, w, {}), ValueError, r"cell must be one of .*'elman'"),
        (lambda w, x: ("lstm", x[0], w, {}), ValueError, r"x must be 3-D, got array of shape \(5, 2\)"),
        (
            lambda w, x: ("lstm", x.astype(int), w, {}),
            TypeError,
            r"x must have dtype float32 or float64, got int",
        ),
        (
            lambda w, x: ("lstm", x.astype(np.float64), w, {}),
            TypeError,
            r"x has dtype float64 but the weights are float32",
        ),
        (lambda w, x: ("lstm", x[:, :, :1], w, {}), ValueError, r"x has 1 features .* expects input_size=2"),
        (lambda w, x: ("lstm", x[:, :0], w, {}), ValueError, r"at least one step"),
        (lambda w, x: ("gru", x, w, {}), ValueError, r"weight_hh'\] for gru must have shape \(3\*H, H\)"),
        (
            lambda w, x: ("lstm", x, {k: v for k, v in w.items() if k != "bias_hh"}, {}),
            ValueError,
            r"missing \['bias_hh'\]",
        ),
        (
            lambda w, x: ("lstm", x, dict(w, bias_ih=w["bias_ih"][:-1]), {}),
            ValueError,
            r"bias_ih'\] must have shape \(12,\)",
        ),
        (
            lambda w, x: ("lstm", x, w, {"h0": np.zeros((4, 2), np.float32)}),
            ValueError,
            r"h0 must have shape \(4, 3\)",
        ),
        (lambda w, x: ("lstm", x, w, {"device": "tpu"}), ValueError, r"device must be one of"),
        (
            lambda w, x: ("lstm", x.tolist(), w, {}),
            TypeError,
            r"has dtype float64 but the weights are float32",
        ),
        (lambda w, x: ("lstm", "abc", w, {}), TypeError, r"x must be a numpy array, got str"),
    ],
)
def test_forward_errors_name_the_problem(mutate, error, pattern):
    w, x = _ok()
    cell, xx, ww, kwargs = mutate(w, x)
    with pytest.raises(error, match=pattern):
        F.forward(cell, xx, ww, **kwargs)


def test_nan_in_x_reports_count_and_position():
    w, x = _ok()
    x[1, 2, 0] = np.nan
    x[3, 0, 1] = np.inf
    with pytest.raises(
        ValueError, match=r"x contains 2 NaN or infinite value\(s\), the first at index \(1, 2, 0\)"
    ):
        F.forward("lstm", x, w)


def test_c0_rejected_for_cells_without_cell_state():
    w = F.init_weights("gru", 2, 3)
    x = np.zeros((1, 2, 2), np.float32)
    with pytest.raises(ValueError, match="cell 'gru' has none"):
        F.forward("gru", x, w, c0=np.zeros((1, 3), np.float32))


def test_backward_errors():
    w, x = _ok()
    out, _, cache = F.forward("lstm", x, w)
    with pytest.raises(ValueError, match="nothing to backpropagate"):
        F.backward(cache)
    with pytest.raises(ValueError, match=r"grad_outputs must have shape \(4, 5, 3\)"):
        F.backward(cache, out[:, :-1])
    with pytest.raises(TypeError, match=r"tuple \(dh_n, dc_n\)"):
        F.backward(cache, grad_final_state=np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="third value returned by forward"):
        F.backward({"x": 1}, out)
    # dh only, dc None: the cell-state gradient then flows only through h
    g = F.backward(cache, grad_final_state=(np.ones((4, 3), np.float32), None))
    assert np.all(np.isfinite(g["c0"]))
