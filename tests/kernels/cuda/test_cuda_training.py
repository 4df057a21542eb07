"""Device-resident networks and training (device="cuda") against the CPU path.

Without dropout, a device fit starts from the same initial weights and visits the batches
in the same order as a CPU fit (both come from the estimator's RandomState on the host), so
the whole trajectory (every epoch's loss, gradient norm and validation loss, the final
weights and the predictions) must agree to floating-point rounding:

- float64: predictions within 1e-9 relative (observed in the simulator: ~1e-16);
- float32: predictions within 1e-4 relative (observed: ~1e-7; the simulator computes the
  transcendental functions in double and rounds, the CPU kernels use their own float32
  versions, and three epochs of Adam amplify the differences slightly).

With dropout the device draws its own masks, so the network-level test below reads them
back and gives them to the CPU network.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsrnn import nn
from tsrnn.estimators import RecurrentClassifier, RecurrentRegressor, RNNRegressor

pytestmark = pytest.mark.cuda

PRED_RTOL = {"float64": 1e-9, "float32": 1e-4}


def _data(n=40, length=6, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, length, d))
    y = np.tanh(X[:, -1, 0] + 0.5 * X[:, 0, 1]) * 10 + 3  # original units away from 0 and 1
    return X, y


def _fit_both(cls, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu = cls(device="cpu", **params).fit(X, y)
        gpu = cls(device="cuda", **params).fit(X, y)
    return cpu, gpu


def _assert_same_trajectory(cpu, gpu, dtype):
    rtol = PRED_RTOL[dtype]
    assert gpu.device_ == "cuda" and cpu.device_ == "cpu"
    assert gpu.n_iter_ == cpu.n_iter_ and gpu.stop_reason_ == cpu.stop_reason_
    for name in ("loss_curve_", "grad_norm_curve_", "validation_loss_curve_", "validation_scores_"):
        np.testing.assert_allclose(getattr(gpu, name), getattr(cpu, name), rtol=rtol, atol=rtol, err_msg=name)
    np.testing.assert_allclose(gpu.params_, cpu.params_, rtol=rtol, atol=rtol)


# ----------------------------------------------------------------------------- estimators


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_regressor_on_cuda_predicts_like_the_cpu(tiny_training, dtype):
    X, y = _data()
    params = dict(hidden_size=5, max_iter=3, batch_size=12, random_state=1, dtype=dtype)
    cpu, gpu = _fit_both(RecurrentRegressor, X, y, cell="gru", **params)
    _assert_same_trajectory(cpu, gpu, dtype)
    p_cpu, p_gpu = cpu.predict(X), gpu.predict(X)
    scale = np.abs(p_cpu).max()
    np.testing.assert_allclose(p_gpu, p_cpu, rtol=0, atol=PRED_RTOL[dtype] * scale)
    assert np.std(p_cpu) > 0.1  # the predictions vary: the comparison is not of constants


def test_bidirectional_stacked_classifier_with_sgd_and_clipping(tiny_training):
    """Two bidirectional LSTM layers (direction plumbing both ways), SGD with momentum and
    weight decay, value and norm clipping, cross-entropy with string labels."""
    X, _ = _data(n=24, length=4)
    labels = np.array(["down", "flat", "up"])[(X[:, 0, 0] > -0.4).astype(int) + (X[:, 0, 0] > 0.4)]
    params = dict(
        cell="lstm", hidden_size=2, num_layers=2, bidirectional=True, solver="sgd", learning_rate=0.05,
        weight_decay=1e-3, clip_value=0.05, clip_norm=0.1, max_iter=2, batch_size=14, random_state=0,
        dtype="float64",
    )  # fmt: skip
    cpu, gpu = _fit_both(RecurrentClassifier, X, labels, **params)
    _assert_same_trajectory(cpu, gpu, "float64")
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), rtol=0, atol=1e-12)
    assert not np.allclose(cpu.predict_proba(X), 1 / 3, atol=1e-3)


def test_divergence_is_handled_like_the_cpu(tiny_training):
    """The device finds the first non-finite batch from the losses and norms it records, and
    skips every update from there on: same stop, same kept weights, same warning."""
    X, y = _data(n=30)
    params = dict(
        nonlinearity="relu", solver="sgd", learning_rate=5.0, clip_norm=None, standardize=False,
        hidden_size=4, max_iter=6, batch_size=10, early_stopping=False, random_state=0, dtype="float64",
    )  # fmt: skip
    results = {}
    for device in ("cpu", "cuda"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = RNNRegressor(device=device, **params).fit(X, y)
        # the message without the non-finite values, which may differ in their last digits
        messages = [re.sub(r"\(loss=[^)]*\)", "", str(w.message)) for w in caught]
        results[device] = (model, [m for m in messages if "diverged" in m])
    (cpu, cpu_warn), (gpu, gpu_warn) = results["cpu"], results["cuda"]
    assert cpu.stop_reason_ == "diverged" and gpu.stop_reason_ == "diverged"
    assert cpu_warn == gpu_warn and len(cpu_warn) == 1 and "in epoch 2" in cpu_warn[0]
    assert gpu.n_iter_ == cpu.n_iter_ >= 1
    np.testing.assert_allclose(gpu.params_, cpu.params_, rtol=1e-9, atol=1e-12)
    # the third batch of epoch 2 diverged: 3 + 2 updates were made, on both devices
    assert gpu._optimizer.n_steps == cpu._optimizer.n_steps == 5


def test_partial_fit_continues_the_optimizer_state_across_devices(tiny_training):
    """Moments and step count go to the device and come back: a CPU partial_fit followed
    by a CUDA one equals two CPU ones."""
    X, y = _data(n=24)
    params = dict(cell="rnn_tanh", hidden_size=4, batch_size=8, random_state=3, dtype="float64")
    ref = RecurrentRegressor(**params)
    ref.partial_fit(X, y).partial_fit(X, y)
    mixed = RecurrentRegressor(**params)
    mixed.partial_fit(X, y)
    mixed.set_params(device="cuda").partial_fit(X, y)
    assert mixed.device_ == "cuda"
    np.testing.assert_allclose(mixed.params_, ref.params_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(mixed._optimizer.v, ref._optimizer.v, rtol=1e-10, atol=1e-15)
    assert mixed._optimizer.n_steps == ref._optimizer.n_steps == 6
    np.testing.assert_allclose(mixed.predict(X), ref.predict(X), rtol=1e-10)


def test_dropout_on_the_device_is_reproducible(tiny_training):
    X, y = _data(n=16, length=3)
    params = dict(
        cell="gru", hidden_size=3, num_layers=2, dropout=0.5, max_iter=1, batch_size=8,
        early_stopping=False, random_state=5, device="cuda",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = RecurrentRegressor(**params).fit(X, y)
        b = RecurrentRegressor(**params).fit(X, y)
        c = RecurrentRegressor(**{**params, "random_state": 6}).fit(X, y)
    assert np.all(np.isfinite(a.params_))
    np.testing.assert_array_equal(a.params_, b.params_)
    assert not np.array_equal(a.params_, c.params_)


def test_auto_picks_the_simulator_when_it_was_enabled_explicitly():
    from numba import config

    assert config.ENABLE_CUDASIM  # this module runs under NUMBA_ENABLE_CUDASIM=1 (or on a GPU)
    assert nn.resolve_device("auto") == "cuda"


# ----------------------------------------------------------------------------- the network


class _MaskRNG:
    """Stands in for a RandomState in RecurrentNetwork.forward: ``uniform`` returns 1 where a
    given mask keeps a unit and 0 where it drops it, so the CPU network applies that mask."""

    def __init__(self, masks):
        self.masks = list(masks)

    def uniform(self, size):
        mask = self.masks.pop(0)
        assert mask.shape == size
        return (mask > 0).astype(np.float64)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_network_forward_backward_with_dropout_matches_the_cpu(tiny_training, cell):
    rng = np.random.default_rng(8)
    shape = dict(input_size=2, hidden_size=3, output_size=2, num_layers=3, bidirectional=True, dropout=0.4)
    cpu = nn.RecurrentNetwork(cell, dtype=np.float64, **shape)
    gpu = nn.RecurrentNetwork(cell, dtype=np.float64, device="cuda", **shape)
    params = cpu.init_params(0)
    x = rng.normal(size=(4, 5, 2))
    target = rng.normal(size=(5, 2))

    value_gpu, grad_gpu = gpu.loss_and_grad(params, x, target, nn.mse_loss, rng=np.random.RandomState(0))
    ws = gpu._local.workspaces[(4, 5, False)]  # (length, batch, inference)
    masks = [m.copy_to_host() for m in ws.masks[1:]]
    assert all(set(np.unique(m)) == {0.0, np.float64(1 / 0.6)} for m in masks)
    value_cpu, grad_cpu = cpu.loss_and_grad(params, x, target, nn.mse_loss, rng=_MaskRNG(masks))
    assert value_gpu == pytest.approx(value_cpu, rel=1e-13)
    np.testing.assert_allclose(grad_gpu.copy_to_host(), grad_cpu, rtol=1e-11, atol=1e-13)

    # inference (no dropout) and the gradient with respect to the input
    out_gpu, cache = gpu.forward(params, x)
    out_cpu, cache_cpu = cpu.forward(params, x)
    np.testing.assert_allclose(out_gpu.copy_to_host(), out_cpu, rtol=1e-12, atol=1e-14)
    d_out = rng.normal(size=(5, 2))
    g_gpu, dx_gpu = gpu.backward(params, cache, d_out, input_grad=True)
    g_cpu, dx_cpu = cpu.backward(params, cache_cpu, d_out, input_grad=True)
    np.testing.assert_allclose(g_gpu.copy_to_host(), g_cpu, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(dx_gpu.copy_to_host(), dx_cpu, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(gpu.predict(params, x, chunk_size=2), cpu.predict(params, x), rtol=1e-12)
