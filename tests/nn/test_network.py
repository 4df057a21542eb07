"""The whole network (stacked, bidirectional, dropout, head, loss) against independent oracles:
central finite differences in float64, and a re-composition from the reference layer kernels."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import functional as F
from tsrnn._layout import CELLS, PARAM_NAMES
from tsrnn.nn import ParamLayout, RecurrentNetwork, mse_loss, softmax_cross_entropy, to_time_major

CELL_NAMES = list(CELLS)


def perturbed_params(net, seed=0, scale=0.2):
    """Initial weights plus noise, so that no gate sits at a symmetric point."""
    rng = np.random.default_rng(seed)
    return net.init_params(seed) + rng.normal(scale=scale, size=net.n_params)


def finite_difference(f, p, eps=1e-6):
    out = np.empty_like(p)
    for i in range(p.size):
        q = p.copy()
        q[i] += eps
        up = f(q)
        q[i] -= 2 * eps
        out[i] = (up - f(q)) / (2 * eps)
    return out


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-8))


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_whole_network_gradient_matches_finite_differences(cell, loss):
    # Stacked (2 layers), bidirectional, dense head, loss: every parameter and the input.
    net = RecurrentNetwork(cell, 2, 3, 3, num_layers=2, bidirectional=True, dtype=np.float64)
    rng = np.random.default_rng(1)
    params = perturbed_params(net, seed=1)
    x = to_time_major(rng.normal(size=(4, 5, 2)))
    if loss == "mse":
        loss_fn, target = mse_loss, rng.normal(size=(4, 3))
    else:
        loss_fn, target = softmax_cross_entropy, np.array([0, 2, 1, 2])

    output, cache = net.forward(params, x)
    _, d_output = loss_fn(output, target)
    grad, d_x = net.backward(params, cache, d_output, input_grad=True)

    def loss_at(p, xx=x):
        return loss_fn(net.forward(p, xx)[0], target)[0]

    assert rel_err(grad, finite_difference(loss_at, params)) < 1e-6
    fd_x = finite_difference(lambda v: loss_at(params, v.reshape(x.shape)), x.ravel()).reshape(x.shape)
    assert rel_err(d_x, fd_x) < 1e-6


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradient_with_dropout_matches_finite_differences(cell):
    # Dropout masks come from the rng; re-seeding it gives the same masks on every call.
    net = RecurrentNetwork(cell, 2, 3, 1, num_layers=3, bidirectional=True, dropout=0.4, dtype=np.float64)
    rng = np.random.default_rng(2)
    params = perturbed_params(net, seed=2)
    x = to_time_major(rng.normal(size=(3, 4, 2)))
    target = rng.normal(size=(3, 1))

    def loss_at(p):
        return mse_loss(net.forward(p, x, training=True, rng=np.random.RandomState(5))[0], target)[0]

    value, grad = net.loss_and_grad(params, x, target, mse_loss, rng=np.random.RandomState(5))
    assert value == loss_at(params)
    assert rel_err(grad, finite_difference(loss_at, params)) < 1e-6
    # ...and dropout really acted: the inference output differs.
    assert mse_loss(net.forward(params, x)[0], target)[0] != value


def reference_forward(net, params, x_batch_first, masks=None):
    """The network recomposed from the per-layer functional API (NumPy reference kernels)."""
    views = net.layout.views(params)
    H = net.hidden_size
    layer_in = x_batch_first
    finals = None
    for layer in range(net.num_layers):
        if masks is not None and layer > 0:
            layer_in = layer_in * masks[layer]
        outs, finals = [], []
        for reverse in (False, True)[: net.n_directions]:
            suffix = f"_l{layer}" + ("_reverse" if reverse else "")
            w = {name: views[name + suffix] for name in PARAM_NAMES}
            seq = layer_in[:, ::-1] if reverse else layer_in
            out, state, _ = F.forward(net.cell, np.ascontiguousarray(seq), w, device="reference")
            outs.append(out[:, ::-1] if reverse else out)
            finals.append(state[0] if net.cell == "lstm" else state)
        layer_in = np.concatenate(outs, axis=2)
    z = np.concatenate(finals, axis=1)
    assert z.shape[1] == net.n_directions * H
    return z @ views["head.weight"].T + views["head.bias"]


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, False), (2, True), (3, True)])
def test_forward_matches_composition_of_reference_layers(cell, num_layers, bidirectional):
    net = RecurrentNetwork(
        cell, 3, 4, 2, num_layers=num_layers, bidirectional=bidirectional, dtype=np.float64
    )
    params = perturbed_params(net, seed=3)
    x = np.random.default_rng(3).normal(size=(5, 6, 3))
    out, _ = net.forward(params, to_time_major(x))
    np.testing.assert_allclose(out, reference_forward(net, params, x), rtol=1e-12, atol=1e-12)


def test_dropout_masks_are_inverted_and_between_layers_only():
    p = 0.3
    net = RecurrentNetwork("gru", 2, 16, 1, num_layers=2, bidirectional=True, dropout=p, dtype=np.float64)
    params = perturbed_params(net, seed=4)
    x = np.random.default_rng(4).normal(size=(64, 7, 2))
    out, cache = net.forward(params, to_time_major(x), training=True, rng=np.random.RandomState(0))
    assert cache.masks[0] is None  # never on the network input
    mask = cache.masks[1]
    values = np.unique(mask)
    np.testing.assert_allclose(values, [0.0, 1.0 / (1.0 - p)])
    dropped = float(np.mean(mask == 0.0))
    n = mask.size  # 7 * 64 * 32 Bernoulli(p) draws: 5 standard errors
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)
    # The masked input of layer 1, applied by hand, reproduces the output.
    masks = [None, mask.transpose(1, 0, 2)]  # batch-first
    np.testing.assert_allclose(out, reference_forward(net, params, x, masks), rtol=1e-12, atol=1e-12)
    # Inference applies no dropout.
    np.testing.assert_allclose(net.forward(params, to_time_major(x))[0], reference_forward(net, params, x))


def test_cache_survives_a_forward_of_another_batch_shape():
    net = RecurrentNetwork("lstm", 2, 4, 1, num_layers=2, dtype=np.float64)
    params = perturbed_params(net, seed=5)
    rng = np.random.default_rng(5)
    xa, xb = to_time_major(rng.normal(size=(3, 4, 2))), to_time_major(rng.normal(size=(5, 4, 2)))
    ya = rng.normal(size=(3, 1))
    _, expected = net.loss_and_grad(params, xa, ya, mse_loss)
    out_a, cache_a = net.forward(params, xa)
    net.forward(params, xb)  # another shape: another workspace
    grad = net.backward(params, cache_a, mse_loss(out_a, ya)[1])
    np.testing.assert_array_equal(grad, expected)


def test_predict_in_chunks_matches_one_batch():
    net = RecurrentNetwork("rnn_tanh", 1, 5, 2, dtype=np.float64)
    params = perturbed_params(net, seed=6)
    x = to_time_major(np.random.default_rng(6).normal(size=(11, 4, 1)))
    np.testing.assert_allclose(net.predict(params, x, chunk_size=3), net.forward(params, x)[0], rtol=1e-13)


def test_layout_names_shapes_and_views():
    layout = ParamLayout("lstm", 3, 4, 2, True, 2)
    assert layout.names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert layout.names[4] == "weight_ih_l0_reverse"
    assert layout.shape("weight_ih_l1") == (16, 8)  # layer 1 reads both directions
    assert layout.shape("head.weight") == (2, 8)
    expected = 2 * (16 * 3 + 16 * 4 + 32) + 2 * (16 * 8 + 16 * 4 + 32) + 2 * 8 + 2
    assert layout.size == expected
    flat = np.arange(layout.size, dtype=np.float64)
    views = layout.views(flat)
    views["bias_hh_l1_reverse"][0] = -1.0  # views write through
    assert flat[layout.slice("bias_hh_l1_reverse").start] == -1.0
    np.testing.assert_array_equal(layout.pack(views, dtype=np.float64), flat)
    mask = layout.decay_mask(np.float64)
    assert mask[layout.slice("bias_ih_l0")].sum() == 0
    assert mask[layout.slice("head.weight")].all() and not mask[layout.slice("head.bias")].any()
    with pytest.raises(ValueError, match="missing"):
        layout.pack({"weight_ih_l0": views["weight_ih_l0"]})


def test_layer_views_are_the_unpacked_layer():
    # oracle: tsrnn._layout.unpack of the layer's own flat vector, built with _layout.pack
    from tsrnn._layout import pack, unpack

    layout = ParamLayout("gru", 3, 4, 2, True, 2)
    flat = np.arange(layout.size, dtype=np.float64)
    start = 0
    for layer in range(2):
        for reverse in (False, True):
            d_in = 3 if layer == 0 else 8
            size = pack(unpack(np.zeros(3 * 4 * (d_in + 4 + 2)), "gru", d_in, 4)).size
            expected = unpack(flat[start : start + size], "gru", d_in, 4)
            start += size
            got = layout.layer_views(flat, layer, reverse)
            assert list(got) == list(expected)
            for name in expected:
                np.testing.assert_array_equal(got[name], expected[name])
                assert np.shares_memory(got[name], flat)
    with pytest.raises(ValueError, match="flat array"):
        layout.layer_views(flat[:-1], 0)


def test_bad_input_is_rejected_with_a_fix():
    net = RecurrentNetwork("gru", 2, 3, 1)
    params = net.init_params(0)
    with pytest.raises(ValueError, match="to_time_major"):
        net.forward(params, np.zeros((4, 5, 2), np.float64))  # wrong dtype
    with pytest.raises(ValueError, match="cpu"):
        RecurrentNetwork("gru", 2, 3, 1, device="tpu")
    with pytest.raises(ValueError, match="dropout"):
        RecurrentNetwork("gru", 2, 3, 1, dropout=1.0)
    with pytest.raises(ValueError, match="rng"):
        RecurrentNetwork("gru", 2, 3, 1, num_layers=2, dropout=0.5).forward(
            RecurrentNetwork("gru", 2, 3, 1, num_layers=2).init_params(0),
            np.zeros((4, 5, 2), np.float32),
            training=True,
        )
