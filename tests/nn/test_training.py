"""The training loop: recorded curves, clipping, early stopping, divergence handling."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsrnn.nn import (
    SGD,
    Adam,
    RecurrentNetwork,
    TrainingDivergedWarning,
    global_norm,
    mse_loss,
    to_time_major,
    train,
)


def problem(n=24, length=5, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, length, 1))
    y = x[:, :2, 0].sum(axis=1, keepdims=True)  # needs memory of the first two steps
    return to_time_major(x, dtype), y.astype(dtype)


def make_net(dtype=np.float64):
    return RecurrentNetwork("gru", 1, 6, 1, dtype=dtype)


def test_first_epoch_records_the_full_batch_loss_and_gradient_norm():
    # One batch per epoch: the recorded loss and gradient norm are those of the initial weights.
    net = make_net()
    x, y = problem()
    params = net.init_params(0)
    loss0, grad0 = net.loss_and_grad(params, x, y, mse_loss)
    hist = train(
        net, params, SGD(params, 0.01), mse_loss, x, y, max_epochs=3, batch_size=100,
        rng=np.random.RandomState(0), check_convergence=False,
    )  # fmt: skip
    assert hist.loss_curve[0] == pytest.approx(loss0, rel=1e-12)
    assert hist.grad_norm_curve[0] == pytest.approx(np.linalg.norm(grad0), rel=1e-12)
    assert hist.n_iter == 3 and len(hist.loss_curve) == len(hist.grad_norm_curve) == 3
    assert hist.validation_scores == []


def test_grad_norm_is_the_mean_over_batches_before_clipping():
    # Two batches, no shuffling, plain SGD: replay the two steps by hand.
    net = make_net()
    x, y = problem(n=10)
    p0 = net.init_params(1)
    params = p0.copy()
    hist = train(
        net, params, SGD(params, 0.1, momentum=0.0), mse_loss, x, y, max_epochs=1, batch_size=6,
        rng=np.random.RandomState(0), shuffle=False, clip_norm=1e-3, check_convergence=False,
    )  # fmt: skip
    p = p0.copy()
    norms, losses = [], []
    for sl in (slice(0, 6), slice(6, 10)):
        value, g = net.loss_and_grad(p, np.ascontiguousarray(x[:, sl]), y[sl], mse_loss)
        norms.append(np.linalg.norm(g))
        losses.append(value * (sl.stop - sl.start))
        p -= 0.1 * g * min(1.0, 1e-3 / norms[-1])  # clip to norm 1e-3, then the SGD step
    assert hist.grad_norm_curve[0] == pytest.approx(np.mean(norms), rel=1e-12)
    assert hist.loss_curve[0] == pytest.approx(sum(losses) / 10, rel=1e-12)
    np.testing.assert_allclose(params, p, rtol=1e-12, atol=1e-15)
    assert all(n > 1e-3 for n in norms)  # so clipping really acted


def test_clip_norm_bounds_the_applied_step_and_clip_value_comes_first():
    net = make_net()
    x, y = problem()
    p0 = net.init_params(2)
    _, g = net.loss_and_grad(p0, x, y, mse_loss)
    params = p0.copy()
    train(
        net, params, SGD(params, 1.0, momentum=0.0), mse_loss, x, y, max_epochs=1, batch_size=100,
        rng=np.random.RandomState(0), clip_value=1e-3, clip_norm=2e-3, check_convergence=False,
    )  # fmt: skip
    clipped = np.clip(g, -1e-3, 1e-3)
    clipped *= min(1.0, 2e-3 / np.linalg.norm(clipped))
    np.testing.assert_allclose(p0 - params, clipped, rtol=1e-12, atol=1e-16)
    assert global_norm(p0 - params) <= 2e-3 * (1 + 1e-12)


def test_early_stopping_restores_the_best_validation_weights():
    net = make_net()
    x, y = problem(n=40)
    xv, yv = problem(n=12, seed=1)
    params = net.init_params(3)
    seen = []

    def score(output, target):
        seen.append(params.copy())
        return -float(np.mean((output - target) ** 2))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        hist = train(
            net, params, Adam(params, 0.05), mse_loss, x, y, max_epochs=40, batch_size=8,
            rng=np.random.RandomState(0), validation=(xv, yv, score), n_iter_no_change=5, tol=0.0,
        )  # fmt: skip
    best = int(np.argmax(hist.validation_scores))
    np.testing.assert_array_equal(params, seen[best])
    assert hist.best_validation_score == max(hist.validation_scores)
    assert score(net.predict(params, xv), yv) == hist.best_validation_score
    if hist.stop_reason == "early_stopping":
        assert len(hist.validation_scores) - 1 - best >= 5


def test_convergence_on_the_training_loss_and_warning_at_max_epochs():
    net = make_net()
    x, y = problem()
    params = net.init_params(4)
    hist = train(
        net, params, Adam(params, 0.01), mse_loss, x, y, max_epochs=200, batch_size=8,
        rng=np.random.RandomState(0), tol=1.0, n_iter_no_change=3,
    )  # fmt: skip
    # tol=1: after the first epoch (an improvement on "no loss yet") no epoch improves the
    # loss by a whole unit, so it stops after 1 + 3 epochs.
    assert hist.loss_curve[0] < 1.0
    assert hist.stop_reason == "converged" and hist.n_iter == 4
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        train(
            net,
            params,
            Adam(params, 0.01),
            mse_loss,
            x,
            y,
            max_epochs=2,
            batch_size=8,
            rng=np.random.RandomState(0),
        )


class NaNAfter:
    """MSE loss that turns NaN from its ``n``-th call on (a divergence on demand)."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, output, target):
        self.calls += 1
        value, d = mse_loss(output, target)
        return (math.nan, d * np.nan) if self.calls >= self.n else (value, d)


def test_divergence_keeps_the_last_finite_weights_and_warns():
    net = make_net()
    x, y = problem(n=24)
    p0 = net.init_params(5)
    # 3 batches per epoch: the 8th batch (epoch 3) goes NaN; epochs 1-2 complete.
    diverged = p0.copy()
    with pytest.warns(TrainingDivergedWarning, match="learning_rate"):
        hist = train(
            net, diverged, Adam(diverged, 0.01), NaNAfter(8), x, y, max_epochs=10, batch_size=8,
            rng=np.random.RandomState(0), check_convergence=False,
        )  # fmt: skip
    reference = p0.copy()
    train(
        net, reference, Adam(reference, 0.01), mse_loss, x, y, max_epochs=2, batch_size=8,
        rng=np.random.RandomState(0), check_convergence=False,
    )  # fmt: skip
    assert hist.stop_reason == "diverged" and hist.n_iter == 2
    np.testing.assert_array_equal(diverged, reference)
    assert all(math.isfinite(v) for v in hist.loss_curve)


def test_divergence_before_any_finite_epoch_raises():
    net = make_net()
    x, y = problem()
    params = net.init_params(6)
    with pytest.raises(ValueError, match="no finite weights"):
        train(
            net,
            params,
            Adam(params, 0.01),
            NaNAfter(1),
            x,
            y,
            max_epochs=5,
            batch_size=8,
            rng=np.random.RandomState(0),
        )


def test_real_divergence_with_a_huge_learning_rate_is_caught():
    net = RecurrentNetwork("rnn_relu", 1, 8, 1, dtype=np.float32)
    x, y = problem(dtype=np.float32)
    y = y * 1e6
    params = net.init_params(7)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            hist = train(
                net, params, SGD(params, 1e6, momentum=0.9), mse_loss, x, y, max_epochs=50,
                batch_size=8, rng=np.random.RandomState(0),
            )  # fmt: skip
        except ValueError as exc:  # diverged within the first epoch: also a correct outcome
            assert "learning_rate" in str(exc)
            return
    assert hist.stop_reason == "diverged"
    assert any(issubclass(w.category, TrainingDivergedWarning) for w in caught)
    assert np.all(np.isfinite(params))


def test_record_batches_replays_by_hand_and_agrees_with_the_epoch_curves():
    # Three batches per epoch (8, 8, 4 samples), two epochs, shuffled: replay every batch.
    net = make_net()
    x, y = problem(n=20)
    p0 = net.init_params(3)
    params = p0.copy()
    hist = train(
        net, params, SGD(params, 0.1, momentum=0.0), mse_loss, x, y, max_epochs=2, batch_size=8,
        rng=np.random.RandomState(7), clip_value=0.05, clip_norm=0.08, check_convergence=False,
        record_batches=True,
    )  # fmt: skip
    rng = np.random.RandomState(7)
    p = p0.copy()
    losses, norms, applied, sizes = [], [], [], []
    for _ in range(2):
        order = rng.permutation(20)
        for start in (0, 8, 16):
            idx = order[start : start + 8]
            value, g = net.loss_and_grad(p, np.ascontiguousarray(x[:, idx]), y[idx], mse_loss)
            losses.append(value)
            norms.append(np.linalg.norm(g))
            g = np.clip(g, -0.05, 0.05)
            g *= min(1.0, 0.08 / np.linalg.norm(g))
            applied.append(np.linalg.norm(g))
            sizes.append(idx.size)
            p -= 0.1 * g
    np.testing.assert_allclose(hist.batch_losses, losses, rtol=1e-10)
    np.testing.assert_allclose(hist.batch_grad_norms, norms, rtol=1e-10)
    np.testing.assert_allclose(hist.batch_clipped_grad_norms, applied, rtol=1e-10)
    assert max(applied) == pytest.approx(0.08) and min(applied) < 0.08  # both clips acted
    # The per-epoch curves are the (sample-weighted for the loss) means of the batch records.
    for epoch in range(2):
        sl = slice(3 * epoch, 3 * epoch + 3)
        assert hist.grad_norm_curve[epoch] == pytest.approx(np.mean(norms[sl]), rel=1e-12)
        weighted = np.dot(losses[sl], sizes[sl]) / 20
        assert hist.loss_curve[epoch] == pytest.approx(weighted, rel=1e-12)


def test_record_batches_is_off_by_default_and_keeps_the_diverging_batch():
    net = make_net()
    x, y = problem(n=24)
    params = net.init_params(5)
    hist = train(
        net, params, Adam(params, 0.01), mse_loss, x, y, max_epochs=1, batch_size=8,
        rng=np.random.RandomState(0), check_convergence=False,
    )  # fmt: skip
    assert hist.batch_losses == hist.batch_grad_norms == hist.batch_clipped_grad_norms == []
    params = net.init_params(5)
    with pytest.warns(TrainingDivergedWarning):
        hist = train(
            net, params, Adam(params, 0.01), NaNAfter(5), x, y, max_epochs=10, batch_size=8,
            rng=np.random.RandomState(0), check_convergence=False, record_batches=True,
        )  # fmt: skip
    # 3 batches per epoch: epoch 1 complete, epoch 2 ends at its second batch (the 5th call).
    assert len(hist.batch_losses) == len(hist.batch_grad_norms) == 5
    assert all(math.isfinite(v) for v in hist.batch_losses[:4]) and math.isnan(hist.batch_losses[4])
    assert math.isnan(hist.batch_clipped_grad_norms[4])
    assert hist.batch_clipped_grad_norms[:4] == hist.batch_grad_norms[:4]  # no clipping asked
