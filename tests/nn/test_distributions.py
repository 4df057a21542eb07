"""The regression losses: gradients against finite differences (float64) and PyTorch, and
the distributions they describe against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tsrnn.nn import make_regression_loss

N, O = 7, 2
LOSSES = [
    ("absolute_error", {}),
    ("huber", {"huber_delta": 0.7}),
    ("quantile", {"quantiles": (0.05, 0.3, 0.5, 0.9)}),
    ("gaussian", {}),
    ("student_t", {}),
    ("squared_error", {}),
]


def _data(loss, seed=0):
    rng = np.random.default_rng(seed)
    output = rng.normal(size=(N, loss.n_params * O))
    target = rng.normal(size=(N, O)) * 1.5
    return output, target


@pytest.mark.parametrize("name, kwargs", LOSSES, ids=[n for n, _ in LOSSES])
def test_gradient_matches_finite_differences(name, kwargs):
    loss = make_regression_loss(name, **kwargs)
    output, target = _data(loss)
    _, grad = loss(output, target)
    assert grad.shape == output.shape and grad.dtype == np.float64
    eps = 1e-6
    numeric = np.empty_like(output)
    for idx in np.ndindex(output.shape):
        plus, minus = output.copy(), output.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (loss(plus, target)[0] - loss(minus, target)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_float32_gradient_keeps_the_dtype():
    loss = make_regression_loss("student_t")
    output, target = _data(loss)
    _, g32 = loss(output.astype(np.float32), target.astype(np.float32))
    _, g64 = loss(output, target)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


def test_negative_log_likelihoods_match_scipy():
    rng = np.random.default_rng(1)
    for name, dist in (("gaussian", stats.norm), ("student_t", stats.t)):
        loss = make_regression_loss(name)
        output, target = _data(loss, 2)
        p = loss.params(output)
        if name == "gaussian":
            logpdf = dist.logpdf(target, p["mean"], p["scale"])
        else:
            logpdf = dist.logpdf(target, p["df"], p["loc"], p["scale"])
        assert loss(output, target)[0] == pytest.approx(-np.mean(logpdf), rel=1e-12)
        levels = np.array([0.05, 0.5, 0.975])
        q = loss.quantiles(p, levels)
        if name == "gaussian":
            expect = dist.ppf(levels, p["mean"][..., None], p["scale"][..., None])
        else:
            expect = dist.ppf(levels, p["df"][..., None], p["loc"][..., None], p["scale"][..., None])
        np.testing.assert_allclose(q, expect, rtol=1e-12)
        draws = np.stack([loss.sample(p, rng) for _ in range(4000)], axis=-1)
        # Monte-Carlo: the empirical 90th percentile within a few standard errors of the exact one
        emp = np.quantile(draws, 0.9, axis=-1)
        exact = loss.quantiles(p, [0.9])[..., 0]
        assert np.all(np.abs(emp - exact) < 0.15 * p["scale"] * (3 if name == "student_t" else 1))


def test_pinball_value_and_non_crossing():
    levels = (0.1, 0.5, 0.9)
    loss = make_regression_loss("quantile", quantiles=levels)
    rng = np.random.default_rng(3)
    output = rng.normal(scale=20.0, size=(500, 3))  # raw increments far negative too
    q = np.stack(list(loss.params(output).values()), axis=-1)
    assert np.all(np.diff(q, axis=-1) >= 0)
    target = rng.normal(size=(500, 1))
    e = target[..., None] - q
    tau = np.asarray(levels)
    hand = np.mean(np.sum(np.where(e >= 0, tau * e, (tau - 1) * e), axis=-1))
    assert loss(output, target)[0] == pytest.approx(hand, rel=1e-12)
    # the median interpolates to the 0.5 column
    np.testing.assert_allclose(loss.point(loss.params(output)), q[..., 1])


def test_quantile_levels_are_validated():
    for bad in [(0.5, 0.1), (0.0, 0.5), (0.2, 0.3), (0.5,), ()]:
        with pytest.raises(ValueError, match="quantile"):
            make_regression_loss("quantile", quantiles=bad)
    loss = make_regression_loss("quantile", quantiles=(0.1, 0.5, 0.9))
    with pytest.raises(ValueError, match="outside"):
        loss.quantiles(loss.params(np.zeros((2, 3))), [0.05])
    with pytest.raises(ValueError, match="point forecast"):
        make_regression_loss("huber").quantiles({"mean": np.zeros((1, 1))}, [0.5])


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.torch
class TestAgainstTorch:
    def _grad(self, torch, fn, output):
        t = torch.tensor(output, dtype=torch.float64, requires_grad=True)
        value = fn(t)
        value.backward()
        return value.item(), t.grad.numpy()

    def test_l1(self, torch):
        loss = make_regression_loss("absolute_error")
        output, target = _data(loss)
        value, grad = loss(output, target)
        ref, ref_grad = self._grad(torch, lambda t: torch.nn.L1Loss()(t, torch.tensor(target)), output)
        assert value == pytest.approx(ref, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12)

    def test_huber(self, torch):
        loss = make_regression_loss("huber", huber_delta=0.7)
        output, target = _data(loss)
        value, grad = loss(output, target)
        ref, ref_grad = self._grad(
            torch, lambda t: torch.nn.HuberLoss(delta=0.7)(t, torch.tensor(target)), output
        )
        assert value == pytest.approx(ref, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)

    def test_gaussian_nll(self, torch):
        from tsrnn.nn import SCALE_FLOOR

        loss = make_regression_loss("gaussian")
        output, target = _data(loss)
        value, grad = loss(output, target)

        def fn(t):
            mu, s = t[:, :O], t[:, O:]
            var = (torch.nn.functional.softplus(s) + SCALE_FLOOR) ** 2
            return torch.nn.GaussianNLLLoss(full=True, eps=1e-12)(mu, torch.tensor(target), var)

        ref, ref_grad = self._grad(torch, fn, output)
        assert value == pytest.approx(ref, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)
