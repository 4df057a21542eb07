"""Optimizer steps, weight decay and clipping against hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tsrnn.nn import (
    SGD,
    Adam,
    clip_by_global_norm,
    clip_by_value,
    global_norm,
    make_optimizer,
    mse_loss,
    softmax,
    softmax_cross_entropy,
)


def test_adam_two_steps_by_hand():
    w = np.array([1.0, -2.0])
    opt = Adam(w, learning_rate=0.1, beta_1=0.9, beta_2=0.99, epsilon=1e-8)
    g1, g2 = np.array([0.5, -1.0]), np.array([0.1, 0.2])
    opt.step(w, g1.copy())
    # step 1: m = 0.1 g, v = 0.01 g^2, m_hat = g, v_hat = g^2 -> w -= lr * g / (|g| + eps)
    expected = np.array([1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 1.0 / (1.0 + 1e-8)])
    np.testing.assert_allclose(w, expected, rtol=1e-14)
    opt.step(w, g2.copy())
    for i in range(2):
        m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i]
        v = 0.99 * (0.01 * g1[i] ** 2) + 0.01 * g2[i] ** 2
        m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.99**2)
        expected[i] -= 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(w, expected, rtol=1e-13)
    assert opt.n_steps == 2


def test_sgd_momentum_three_steps_by_hand():
    w = np.array([1.0])
    opt = SGD(w, learning_rate=0.5, momentum=0.9)
    v, expected = 0.0, 1.0
    for g in (2.0, -1.0, 0.5):
        opt.step(w, np.array([g]))
        v = 0.9 * v + g
        expected -= 0.5 * v
        np.testing.assert_allclose(w, [expected], rtol=1e-15)


def test_plain_sgd_without_momentum():
    w = np.array([1.0, 2.0])
    SGD(w, learning_rate=0.1, momentum=0.0).step(w, np.array([1.0, -1.0]))
    np.testing.assert_allclose(w, [0.9, 2.1])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_weight_decay_applies_to_masked_entries_only(solver):
    # Zero loss gradient: the only force is the decay, on the first entry (a "weight") only.
    w = np.array([2.0, 3.0])
    mask = np.array([1.0, 0.0])
    opt = make_optimizer(solver, w, learning_rate=0.1, momentum=0.0, weight_decay=0.5, decay_mask=mask)
    opt.step(w, np.zeros(2))
    if solver == "sgd":
        np.testing.assert_allclose(w, [2.0 - 0.1 * 0.5 * 2.0, 3.0])  # g = wd * w
    else:
        np.testing.assert_allclose(w, [2.0 - 0.1 * 1.0 / (1.0 + 1e-8), 3.0])  # first Adam step: lr * sign
    assert w[1] == 3.0


def test_make_optimizer_rejects_unknown_solver():
    with pytest.raises(ValueError, match="'adam' or 'sgd'"):
        make_optimizer("lbfgs", np.zeros(2), learning_rate=0.1)


def test_clip_by_global_norm_by_hand():
    g = np.array([3.0, 4.0])  # norm 5
    assert global_norm(g) == 5.0
    assert clip_by_global_norm(g, 1.0) == 1.0
    np.testing.assert_allclose(g, [0.6, 0.8])
    h = np.array([0.3, 0.4], dtype=np.float32)
    assert clip_by_global_norm(h, 1.0) == pytest.approx(0.5)  # below the threshold: untouched
    np.testing.assert_array_equal(h, np.array([0.3, 0.4], dtype=np.float32))


def test_clip_by_value_by_hand():
    g = np.array([-3.0, 0.2, 5.0])
    clip_by_value(g, 1.0)
    np.testing.assert_array_equal(g, [-1.0, 0.2, 1.0])


def test_global_norm_sees_non_finite_values():
    assert not math.isfinite(global_norm(np.array([1.0, np.nan])))
    assert global_norm(np.array([np.inf, 1.0])) == math.inf
    # float32 gradients are accumulated in float64: no overflow for a norm of 1e20
    assert global_norm(np.array([1e20, 0.0], dtype=np.float32)) == pytest.approx(1e20, rel=1e-6)


def test_global_norm_of_a_long_gradient_matches_fsum_whatever_the_blas_threads():
    # Above 10,000 elements OpenBLAS splits a dot product over threads, which changes its
    # rounding: a BLAS-based norm (hence every clipped update) then depended on the BLAS thread
    # count. The norm must equal the same bits with one or two BLAS threads, and math.fsum.
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    for n in (20_001, 17_473, 7):
        for dtype in (np.float32, np.float64):
            g = rng.standard_normal(n).astype(dtype)
            with threadpool_limits(limits=1):
                one = global_norm(g)
            with threadpool_limits(limits=2):
                two = global_norm(g)
            assert one == two, (n, dtype)
            exact = math.sqrt(math.fsum(float(v) * float(v) for v in g.astype(np.float64)))
            assert one == pytest.approx(exact, rel=1e-14)


def test_losses_by_hand():
    out = np.array([[1.0, 2.0], [0.0, -1.0]])
    target = np.array([[0.0, 2.0], [1.0, 1.0]])
    value, d = mse_loss(out, target)
    assert value == pytest.approx(0.5 * (1 + 0 + 1 + 4) / 4)
    np.testing.assert_allclose(d, (out - target) / 4)

    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    labels = np.array([0, 2])
    value, d = softmax_cross_entropy(logits, labels)
    e = np.exp([2.0, 0.0, -1.0])
    expected = (-np.log(e[0] / e.sum()) + np.log(3.0)) / 2
    assert value == pytest.approx(expected, rel=1e-14)
    onehot = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    np.testing.assert_allclose(d, (softmax(logits) - onehot) / 2, rtol=1e-14)
    # no overflow for huge logits
    assert math.isfinite(softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))[0])
