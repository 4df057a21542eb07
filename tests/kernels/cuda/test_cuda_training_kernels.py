"""The training kernels of device="cuda" against their NumPy counterparts in tsrnn.nn.

Each kernel is launched through its host function (tsrnn/kernels/cuda/_train.py) with
blocks of a few threads, so the small arrays here span several blocks and the grid-stride
loops wrap. Oracles: the NumPy expressions the network and the training loop use
(np.take, concatenation and reversal, the network's dense head with tsrnn.nn.mse_loss /
softmax_cross_entropy, global_norm / clip_by_value / clip_by_global_norm / Adam / SGD), and
for the dropout generator a plain-Python xoroshiro128+ and splitmix64 (and splitmix64's
published first output).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tsrnn import nn

from .conftest import tiny_training_config

pytestmark = pytest.mark.cuda

DTYPES = [np.float64, np.float32]
DTYPE_IDS = ["float64", "float32"]
MASK64 = (1 << 64) - 1


@pytest.fixture
def ops():
    from numba import cuda

    from tsrnn.kernels.cuda._layer import DeviceOps

    return DeviceOps(tiny_training_config(), cuda.default_stream())


@pytest.fixture(scope="module")
def train():
    from tsrnn.kernels.cuda import _train

    return _train


def host(a):
    return a.copy_to_host()


# ----------------------------------------------------------------------------- plumbing


@pytest.mark.parametrize("with_index", [True, False], ids=["order", "range"])
def test_gather_batch_is_np_take(ops, train, with_index):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 11, 2)).astype(np.float32)
    order = rng.permutation(11).astype(np.int64)
    start, size = 4, 5
    dst = ops.new((3, size, 2), np.float32)
    idx = ops.upload(order) if with_index else ops.empty(np.int64, 1)
    train.gather_batch(ops, ops.upload(X), idx, start, dst)
    rows = order[start : start + size] if with_index else np.arange(start, start + size)
    np.testing.assert_array_equal(host(dst), np.take(X, rows, axis=1))


def test_assemble_input_concatenates_reverses_and_copies_reversed(ops, train):
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 3, 5))
    b = rng.normal(size=(4, 3, 5))
    expected = np.concatenate([a, b[::-1]], axis=2)
    dst, dst_rev = ops.new((4, 3, 10), np.float64), ops.new((4, 3, 10), np.float64)
    train.assemble_input(ops, ops.upload(a), ops.upload(b), dst, dst_rev)
    np.testing.assert_array_equal(host(dst), expected)
    np.testing.assert_array_equal(host(dst_rev), expected[::-1])
    # one source, reversal only (the reverse direction of the first layer)
    only_rev = ops.new((4, 3, 5), np.float64)
    train.assemble_input(ops, ops.upload(a), None, None, only_rev)
    np.testing.assert_array_equal(host(only_rev), a[::-1])


def test_copy_columns(ops, train):
    src = np.arange(24.0).reshape(4, 6)
    dst = np.full((4, 7), -1.0)
    d = ops.upload(dst)
    train.copy_columns(ops, ops.upload(src), 2, d, 3, 4)
    dst[:, 3:7] = src[:, 2:6]
    np.testing.assert_array_equal(host(d), dst)


@pytest.mark.parametrize("two", [True, False], ids=["bidirectional", "one-direction"])
@pytest.mark.parametrize("masked", [True, False], ids=["dropout", "no-dropout"])
def test_route_input_grad_matches_the_numpy_routing(ops, train, two, masked):
    rng = np.random.default_rng(2)
    H, C = 3, 6 if two else 3
    dx0, dx1 = rng.normal(size=(5, 2, C)), rng.normal(size=(5, 2, C))
    mask = (rng.uniform(size=(5, 2, C)) > 0.5) * 2.0
    d = dx0 + dx1[::-1] if two else dx0.copy()
    if masked:
        d = d * mask
    below0, below1 = ops.new((5, 2, H), np.float64), ops.new((5, 2, H), np.float64)
    train.route_input_grad(
        ops,
        ops.upload(dx0),
        ops.upload(dx1) if two else None,
        ops.upload(mask) if masked else None,
        below0,
        below1 if two else None,
        H,
    )
    np.testing.assert_array_equal(host(below0), d[:, :, :H])
    if two:
        np.testing.assert_array_equal(host(below1), d[::-1, :, H:])


# ----------------------------------------------------------------------------- dropout generator


def splitmix64(seed: int, n: int) -> list[int]:
    out, state = [], seed
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def xoroshiro128plus(s0: int, s1: int, n: int) -> list[int]:
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    out = []
    for _ in range(n):
        out.append((s0 + s1) & MASK64)
        s1 ^= s0
        s0 = rotl(s0, 55) ^ s1 ^ ((s1 << 14) & MASK64)
        s1 = rotl(s1, 36)
    return out


def test_generator_seeding_is_splitmix64(train):
    assert splitmix64(0, 1) == [0xE220A8397B1DCDAF]  # the published first output for seed 0
    states = train.rng_states(3, 12345)
    assert states.dtype == np.uint64 and states.shape == (3, 2)
    assert states.ravel().tolist() == splitmix64(12345, 6)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_dropout_draws_are_xoroshiro128plus_and_the_mask_is_applied(ops, train, dtype):
    """Thread k draws for elements k, k + T, k + 2T, ... (T = threads = generators) from
    generator k in order; u = top bits / 2^bits; keep when u >= p, kept values scaled by
    1/(1-p) in the dtype (as RecurrentNetwork.forward does on the CPU)."""
    p = 0.3
    shape = (3, 5, 9)  # 135 elements over 64 generators: up to 3 draws each
    rng = np.random.default_rng(3)
    a = rng.normal(size=shape).astype(dtype)
    n_gen = train.dropout_threads(ops.config)
    states = train.rng_states(n_gen, 7)
    dst, mask = ops.new(shape, dtype), ops.new(shape, dtype)
    d_states = ops.upload(states)
    train.assemble_input(ops, ops.upload(a), None, dst, None, mask, d_states, p)

    bits = 24 if dtype == np.float32 else 53
    draws = [xoroshiro128plus(int(s0), int(s1), 3) for s0, s1 in states]
    flat = np.empty(a.size)
    for e in range(a.size):
        flat[e] = (draws[e % n_gen][e // n_gen] >> (64 - bits)) / 2.0**bits
    scale = np.dtype(dtype).type(1.0 / (1.0 - p))
    expected_mask = np.where(flat.reshape(shape) >= np.dtype(dtype).type(p), scale, 0).astype(dtype)
    np.testing.assert_array_equal(host(mask), expected_mask)
    np.testing.assert_array_equal(host(dst), a * expected_mask)
    # the generators advanced by the number of draws each made
    advanced = host(d_states)
    used = [len(range(k, a.size, n_gen)) for k in range(n_gen)]
    k = 5
    rest = xoroshiro128plus(int(states[k, 0]), int(states[k, 1]), used[k] + 1)[-1]
    assert int(advanced[k, 0] + advanced[k, 1]) & MASK64 == rest


def test_dropout_keep_rate_monte_carlo(ops, train):
    """Over 6000 draws the kept fraction is 1 - p within 4.5 standard errors."""
    p = 0.4
    shape = (10, 20, 30)
    states = ops.upload(train.rng_states(train.dropout_threads(ops.config), 99))
    mask = ops.new(shape, np.float32)
    train.assemble_input(
        ops, ops.upload(np.ones(shape, np.float32)), None, ops.new(shape, np.float32), None, mask, states, p
    )
    kept = host(mask) > 0
    se = math.sqrt(p * (1 - p) / kept.size)
    assert abs(kept.mean() - (1 - p)) < 4.5 * se


# ----------------------------------------------------------------------------- losses


@pytest.mark.parametrize("two", [False, True], ids=["one_direction", "two_directions"])
@pytest.mark.parametrize("kind", ["mse", "cross_entropy"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_head_loss_is_linear_loss_and_linear_backward(ops, train, dtype, kind, two):
    """The fused head kernel = NumpyOps.linear, then tsrnn.nn.mse_loss /
    softmax_cross_entropy on the target rows ``order[start:start+N]``, then
    NumpyOps.linear_backward, as the CPU network runs them (value, d_output, the head's
    weight and bias gradients, the final hidden states' gradients of each direction)."""
    from tsrnn.nn._ops import NumpyOps

    rng = np.random.default_rng(4)
    N, H, O, total, start = 5, 3, 4, 9, 2
    z0 = rng.normal(size=(N, H)).astype(dtype)
    z1 = rng.normal(size=(N, H)).astype(dtype) if two else None
    z = np.concatenate([z0, z1], axis=1) if two else z0
    W = rng.normal(size=(O, z.shape[1])).astype(dtype)
    b = rng.normal(size=O).astype(dtype)
    order = rng.permutation(total).astype(np.int64)
    if kind == "mse":
        Y, loss = rng.normal(size=(total, O)).astype(dtype), nn.mse_loss
    else:
        Y, loss = rng.integers(0, O, size=total).astype(np.int64), nn.softmax_cross_entropy
    output = NumpyOps.linear(z, W, b, None)
    value, d_out = loss(output, Y[order[start : start + N]])
    dW, db = np.empty_like(W), np.empty_like(b)
    dz = NumpyOps.linear_backward(d_out, z, W, dW, db, None)

    up = ops.upload
    out_d, d_d = ops.new((N, O), dtype), ops.new((N, O), dtype)
    losses, dW_d, db_d = ops.new((4,), np.float64), ops.new(W.shape, dtype), ops.new(b.shape, dtype)
    dz0_d = ops.new((N, H), dtype)
    dz1_d = ops.new((N, H), dtype) if two else None
    train.head_loss(
        ops, kind, up(z0), up(z1) if two else None, up(W), up(b), up(Y), up(order), start,
        out_d, d_d, losses, 2, dW_d, db_d, dz0_d, dz1_d,
    )  # fmt: skip
    rtol = 1e-13 if dtype == np.float64 else 2e-6
    assert host(losses)[2] == pytest.approx(value, rel=rtol)
    got_dz = np.concatenate([host(dz0_d), host(dz1_d)], axis=1) if two else host(dz0_d)
    for name, got, want in [
        ("output", host(out_d), output),
        ("d_output", host(d_d), d_out),
        ("d_weight", host(dW_d), dW),
        ("d_bias", host(db_d), db),
        ("d_z", got_dz, dz),
    ]:
        np.testing.assert_allclose(got, want, rtol=0, atol=4 * rtol * np.abs(want).max(), err_msg=name)


# ----------------------------------------------------------------------------- norm, clipping, steps


def _step_on_device(ops, train, solver, params, grad, opt_kwargs, clip_norm, clip_value, steps=1):
    """``steps`` fused device steps (norm, clipping, update) on the same gradient."""
    optimizer = nn.make_optimizer(solver, params, **opt_kwargs)
    d_params, d_grad = ops.upload(params), ops.upload(grad)
    state = (
        (ops.upload(optimizer.m), ops.upload(optimizer.v))
        if solver == "adam"
        else (ops.upload(optimizer.velocity),)
    )
    decay = ops.upload(optimizer.decay_mask)
    flag = ops.upload(np.zeros(1, np.int32))
    partial = ops.new((train.norm_blocks(ops, params.size), 2), np.float64)
    losses, norms = ops.upload(np.zeros(steps)), ops.new((steps,), np.float64)
    for s in range(steps):
        train.gradient_status(ops, d_grad, partial, clip_value)
        common = dict(
            learning_rate=optimizer.learning_rate,
            weight_decay=optimizer.weight_decay,
            clip_value=clip_value,
            clip_norm=clip_norm,
        )
        if solver == "adam":
            train.adam_step(
                ops, d_params, d_grad, *state, decay, flag, partial, losses, norms, s, step=s + 1,
                beta_1=optimizer.beta_1, beta_2=optimizer.beta_2, epsilon=optimizer.epsilon, **common,
            )  # fmt: skip
        else:
            train.sgd_step(
                ops,
                d_params,
                d_grad,
                *state,
                decay,
                flag,
                partial,
                losses,
                norms,
                s,
                momentum=optimizer.momentum,
                **common,
            )
    return host(d_params), [host(s) for s in state], host(norms), int(host(flag)[0])


def _step_on_host(solver, params, grad, opt_kwargs, clip_norm, clip_value, steps=1):
    """The training loop's per-batch sequence (tsrnn/nn/_training.py: run_epoch)."""
    params = params.copy()
    optimizer = nn.make_optimizer(solver, params, **opt_kwargs)
    norms = []
    for _ in range(steps):
        g = grad.copy()
        norms.append(nn.global_norm(g))
        if clip_value is not None:
            nn.clip_by_value(g, clip_value)
        if clip_norm is not None:
            nn.clip_by_global_norm(g, clip_norm)
        optimizer.step(params, g)
    state = [optimizer.m, optimizer.v] if solver == "adam" else [optimizer.velocity]
    return params, state, np.array(norms)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(
    "solver, clip_norm, clip_value, weight_decay, momentum",
    [
        ("adam", 1.0, None, 0.0, 0.9),  # the defaults: the norm clip bites (norm ~ 6)
        ("adam", None, 0.3, 0.01, 0.9),
        ("adam", 0.5, 0.2, 0.01, 0.9),  # value clip, then the norm of the clipped gradient
        ("sgd", 100.0, None, 0.0, 0.9),  # the norm clip does not bite
        ("sgd", 1.0, 0.3, 0.05, 0.0),  # plain SGD
    ],
)
def test_fused_steps_match_the_numpy_training_step(
    ops, train, dtype, solver, clip_norm, clip_value, weight_decay, momentum
):
    rng = np.random.default_rng(6)
    n = 100  # over 3 blocks of 16 threads: the grid-stride loops wrap
    params = rng.normal(size=n).astype(dtype)
    grad = rng.normal(size=n).astype(dtype) * 0.6
    mask = (rng.uniform(size=n) > 0.3).astype(dtype)
    kw = dict(learning_rate=0.05, momentum=momentum, weight_decay=weight_decay, decay_mask=mask)
    clips = (clip_norm, clip_value)
    p_dev, s_dev, norms_dev, flag = _step_on_device(ops, train, solver, params, grad, kw, *clips, 3)
    p_host, s_host, norms_host = _step_on_host(solver, params, grad, kw, *clips, 3)
    assert flag == 0
    np.testing.assert_allclose(norms_dev, norms_host, rtol=1e-14)
    tol = 1e-13 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(p_dev, p_host, rtol=tol, atol=tol)
    for a, b in zip(s_dev, s_host):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert np.abs(p_dev - params).max() > 0.01  # the steps did move the parameters


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_non_finite_gradient_sets_the_flag_and_no_update_happens(ops, train, solver):
    rng = np.random.default_rng(7)
    params = rng.normal(size=40)
    grad = rng.normal(size=40)
    grad[17] = np.nan
    kw = dict(learning_rate=0.1, weight_decay=0.01, decay_mask=np.ones(40))
    p_dev, state, norms, flag = _step_on_device(ops, train, solver, params, grad, kw, 1.0, None, steps=2)
    assert flag == 1
    assert np.isnan(norms).all()
    np.testing.assert_array_equal(p_dev, params)
    for s in state:
        np.testing.assert_array_equal(s, 0.0)
