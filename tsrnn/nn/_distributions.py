"""Regression losses and the predictive distributions behind them.

Each loss is an object called as ``loss(output, target) -> (value, d_output)`` (the contract
of :func:`tsrnn.nn.train`) on the raw head output of shape ``(N, n_params * O)`` for ``O``
targets: column block ``j`` (columns ``j * O .. (j + 1) * O - 1``) holds raw parameter ``j``
of every target. Values are means over the ``N * O`` (sample, target) pairs, so gradients do
not grow with the batch size. Each also maps a raw output to its distribution:

- ``"squared_error"``: half the squared error (:func:`tsrnn.nn.mse_loss`); a point forecast.
- ``"absolute_error"``: ``|y - mu|`` (as ``torch.nn.L1Loss``); a point forecast (the median).
- ``"huber"``: ``0.5 d^2`` for ``|d| <= delta``, ``delta (|d| - delta / 2)`` beyond (as
  ``torch.nn.HuberLoss(delta=delta)``); a point forecast.
- ``"quantile"``: the pinball losses of the quantiles at ``levels`` (increasing), summed
  over levels. The head outputs ``r_0, ..., r_{K-1}`` and the quantiles are
  ``q_0 = r_0``, ``q_j = q_{j-1} + softplus(r_j)``: increasing in ``j`` by construction, so
  they never cross.
- ``"gaussian"``: the negative log-likelihood of ``N(mu, sigma^2)`` with ``sigma =
  softplus(s) + SCALE_FLOOR`` (as ``torch.nn.GaussianNLLLoss(full=True)`` on ``var =
  sigma^2``).
- ``"student_t"``: the negative log-likelihood of the location-scale Student-t with ``mu``,
  ``sigma = softplus(s) + SCALE_FLOOR`` and ``nu = 2 + softplus(d)`` degrees of freedom
  (more than 2, so the variance, and the mean that ``predict`` returns, exist).

Every ``d_output`` is checked against finite differences in float64 and, for the losses
PyTorch has, against PyTorch (tests/nn/test_distributions.py).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ._losses import mse_loss

__all__ = [
    "REGRESSION_LOSSES",
    "SCALE_FLOOR",
    "RegressionLoss",
    "check_quantile_levels",
    "make_regression_loss",
]

#: added to every predicted scale so the likelihoods stay finite in float32
SCALE_FLOOR = 1e-4
#: the Student-t degrees of freedom are ``NU_MIN + softplus(raw)``
NU_MIN = 2.0


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _blocks(output: np.ndarray, k: int) -> list[np.ndarray]:
    """The ``k`` raw parameter blocks ``(N, O)`` of a head output ``(N, k * O)``, in float64."""
    out = np.asarray(output, dtype=np.float64)
    o = out.shape[1] // k
    return [out[:, j * o : (j + 1) * o] for j in range(k)]


class RegressionLoss:
    """A regression loss and the predictive distribution its head describes.

    Attributes
    ----------
    name : str
        The ``loss`` parameter value.
    param_names : tuple of str
        Names of the distribution parameters per target (``predict_distribution`` keys).
    param_kinds : tuple of str
        ``"location"`` (moves and scales with the target), ``"scale"`` (scales with it) or
        ``"shape"`` (unit-free), one per parameter: how a parameter changes when the target is
        standardized.
    probabilistic : bool
        Whether the head describes a distribution (quantiles and samples are available).
    """

    name = ""
    param_names: tuple[str, ...] = ("mean",)
    param_kinds: tuple[str, ...] = ("location",)
    probabilistic = False

    @property
    def n_params(self) -> int:
        """Head outputs per target."""
        return len(self.param_names)

    def __call__(self, output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self._loss(_blocks(output, self.n_params), np.asarray(target, dtype=np.float64))
        d = np.concatenate(grad, axis=1) / grad[0].size
        return float(value), d.astype(output.dtype, copy=False)

    def _loss(self, raw, target):  # pragma: no cover - every loss overrides it
        raise NotImplementedError

    def params(self, output: np.ndarray) -> dict[str, np.ndarray]:
        """Distribution parameters ``{name: (N, O)}`` from a raw head output."""
        return dict(zip(self.param_names, _blocks(output, self.n_params)))

    def point(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """The point forecast ``(N, O)``: the mean (likelihoods) or the median (quantiles)."""
        return params[self.param_names[0]]

    def quantiles(self, params: dict[str, np.ndarray], levels: np.ndarray) -> np.ndarray:
        """Quantiles ``(N, O, len(levels))`` of the predictive distribution."""
        raise ValueError(
            f"loss={self.name!r} fits a point forecast, not a distribution; use loss='gaussian', "
            "'student_t' or 'quantile' for quantiles, samples and model intervals."
        )

    def sample(self, params: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """One draw ``(N, O)`` per row of the predictive distribution."""
        self.quantiles(params, np.array([0.5]))  # raises for point losses
        u = rng.uniform(size=params[self.param_names[0]].shape)
        return self._ppf(params, u)

    def _ppf(self, params, u):  # pragma: no cover - probabilistic losses override it
        raise NotImplementedError


class SquaredError(RegressionLoss):
    name = "squared_error"

    def __call__(self, output, target):
        return mse_loss(output, target)


class AbsoluteError(RegressionLoss):
    name = "absolute_error"
    param_names = ("median",)

    def _loss(self, raw, target):
        diff = raw[0] - target
        return np.mean(np.abs(diff)), [np.sign(diff)]


class Huber(RegressionLoss):
    name = "huber"

    def __init__(self, delta: float = 1.0):
        self.delta = float(delta)

    def _loss(self, raw, target):
        diff = raw[0] - target
        a = np.abs(diff)
        value = np.where(a <= self.delta, 0.5 * diff**2, self.delta * (a - 0.5 * self.delta))
        return np.mean(value), [np.clip(diff, -self.delta, self.delta)]


def _interp_levels(q: np.ndarray, levels: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Quantiles at ``want`` by linear interpolation between the fitted ``levels`` (last axis)."""
    lo, hi = levels[0], levels[-1]
    if np.any(want < lo - 1e-12) or np.any(want > hi + 1e-12):
        raise ValueError(
            f"loss='quantile' was fitted for the levels {levels.tolist()}, so it cannot give quantiles "
            f"outside [{lo}, {hi}] (asked for {np.asarray(want).tolist()}); fit with quantiles that "
            "span the levels you need."
        )
    idx = np.clip(np.searchsorted(levels, want, side="right") - 1, 0, len(levels) - 2)
    w = (want - levels[idx]) / (levels[idx + 1] - levels[idx])
    return q[..., idx] * (1.0 - w) + q[..., idx + 1] * w


class Quantile(RegressionLoss):
    name = "quantile"
    probabilistic = True

    def __init__(self, levels=(0.1, 0.5, 0.9)):
        self.levels = np.asarray(levels, dtype=np.float64)
        self.param_names = tuple(f"q{lv:g}" for lv in self.levels)
        self.param_kinds = ("location",) * len(self.levels)

    def _quantile_values(self, raw) -> np.ndarray:
        """``(N, O, K)``: ``r_0`` plus the cumulative softplus increments."""
        stacked = np.stack(raw, axis=-1)
        steps = np.concatenate([stacked[..., :1], _softplus(stacked[..., 1:])], axis=-1)
        return np.cumsum(steps, axis=-1)

    def _loss(self, raw, target):
        q = self._quantile_values(raw)
        err = target[..., None] - q
        tau = self.levels
        value = np.sum(np.maximum(tau * err, (tau - 1.0) * err), axis=-1)
        dq = (err < 0).astype(np.float64) - tau  # d pinball / d q
        # q_j depends on r_i (i <= j): dq_j/dr_0 = 1, dq_j/dr_i = sigmoid(r_i) for 0 < i <= j
        tail = np.cumsum(dq[..., ::-1], axis=-1)[..., ::-1]
        grads = [tail[..., 0]] + [tail[..., j] * special.expit(raw[j]) for j in range(1, len(raw))]
        return np.mean(value), grads

    def params(self, output):
        q = self._quantile_values(_blocks(output, self.n_params))
        return {name: q[..., j] for j, name in enumerate(self.param_names)}

    def _stack(self, params) -> np.ndarray:
        return np.stack([params[n] for n in self.param_names], axis=-1)

    def point(self, params):
        return _interp_levels(self._stack(params), self.levels, np.array([0.5]))[..., 0]

    def quantiles(self, params, levels):
        return _interp_levels(self._stack(params), self.levels, np.asarray(levels, dtype=np.float64))

    def _ppf(self, params, u):
        # inverse-CDF sampling of the piecewise-linear quantile function, within the fitted levels
        u = self.levels[0] + u * (self.levels[-1] - self.levels[0])
        q = self._stack(params)
        idx = np.clip(np.searchsorted(self.levels, u, side="right") - 1, 0, len(self.levels) - 2)
        w = (u - self.levels[idx]) / (self.levels[idx + 1] - self.levels[idx])
        lower = np.take_along_axis(q, idx[..., None], axis=-1)[..., 0]
        upper = np.take_along_axis(q, idx[..., None] + 1, axis=-1)[..., 0]
        return lower * (1.0 - w) + upper * w


class Gaussian(RegressionLoss):
    name = "gaussian"
    param_names = ("mean", "scale")
    param_kinds = ("location", "scale")
    probabilistic = True

    def _loss(self, raw, target):
        mu, s = raw
        sigma = _softplus(s) + SCALE_FLOOR
        z = (target - mu) / sigma
        value = 0.5 * np.log(2 * np.pi) + np.log(sigma) + 0.5 * z**2
        d_mu = -z / sigma
        d_sigma = (1.0 - z**2) / sigma
        return np.mean(value), [d_mu, d_sigma * special.expit(s)]

    def params(self, output):
        mu, s = _blocks(output, 2)
        return {"mean": mu, "scale": _softplus(s) + SCALE_FLOOR}

    def quantiles(self, params, levels):
        z = stats.norm.ppf(np.asarray(levels, dtype=np.float64))
        return params["mean"][..., None] + params["scale"][..., None] * z

    def _ppf(self, params, u):
        return params["mean"] + params["scale"] * stats.norm.ppf(u)


class StudentT(RegressionLoss):
    name = "student_t"
    param_names = ("loc", "scale", "df")
    param_kinds = ("location", "scale", "shape")
    probabilistic = True

    def _loss(self, raw, target):
        mu, s, d = raw
        sigma = _softplus(s) + SCALE_FLOOR
        nu = NU_MIN + _softplus(d)
        z = (target - mu) / sigma
        r = 1.0 + z**2 / nu
        value = (
            special.gammaln(nu / 2)
            - special.gammaln((nu + 1) / 2)
            + 0.5 * np.log(nu * np.pi)
            + np.log(sigma)
            + 0.5 * (nu + 1) * np.log(r)
        )
        w = (nu + 1) / (nu + z**2)
        d_mu = -w * z / sigma
        d_sigma = (1.0 - w * z**2) / sigma
        d_nu = 0.5 * (
            special.digamma(nu / 2)
            - special.digamma((nu + 1) / 2)
            + 1.0 / nu
            + np.log(r)
            - (nu + 1) * z**2 / (nu * (nu + z**2))
        )
        return np.mean(value), [d_mu, d_sigma * special.expit(s), d_nu * special.expit(d)]

    def params(self, output):
        mu, s, d = _blocks(output, 3)
        return {"loc": mu, "scale": _softplus(s) + SCALE_FLOOR, "df": NU_MIN + _softplus(d)}

    def quantiles(self, params, levels):
        levels = np.asarray(levels, dtype=np.float64)
        return params["loc"][..., None] + params["scale"][..., None] * stats.t.ppf(
            levels, params["df"][..., None]
        )

    def _ppf(self, params, u):
        return params["loc"] + params["scale"] * stats.t.ppf(u, params["df"])


REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber", "quantile", "gaussian", "student_t")


def make_regression_loss(name: str, *, quantiles=(0.1, 0.5, 0.9), huber_delta: float = 1.0) -> RegressionLoss:
    """The loss object for a ``loss`` parameter value (validated by the caller's constraints).

    Parameters
    ----------
    name : {"squared_error", "absolute_error", "huber", "quantile", "gaussian", "student_t"}
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Levels of ``"quantile"``: strictly increasing, in (0, 1), at least two, spanning 0.5
        (the median is the point forecast).
    huber_delta : float, default=1.0
        Threshold of ``"huber"`` (in standardized target units when the estimator standardizes).
    """
    if name == "squared_error":
        return SquaredError()
    if name == "absolute_error":
        return AbsoluteError()
    if name == "huber":
        return Huber(huber_delta)
    if name == "quantile":
        return Quantile(check_quantile_levels(quantiles, need_median=True))
    if name == "gaussian":
        return Gaussian()
    if name == "student_t":
        return StudentT()
    raise ValueError(f"loss must be one of {REGRESSION_LOSSES}, got {name!r}.")


def check_quantile_levels(quantiles, *, name: str = "quantiles", need_median: bool = False) -> np.ndarray:
    """``quantiles`` as a float64 array, after checking they are increasing levels in (0, 1)."""
    try:
        levels = np.asarray(quantiles, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        msg = f"{name} must be a sequence of probabilities in (0, 1), got {quantiles!r}."
        raise ValueError(msg) from None
    if levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(f"{name} must be probabilities strictly between 0 and 1, got {quantiles!r}.")
    if levels.size > 1 and np.any(np.diff(levels) <= 0):
        raise ValueError(f"{name} must be strictly increasing without repeats, got {quantiles!r}; sort them.")
    if need_median and (levels.size < 2 or levels[0] > 0.5 or levels[-1] < 0.5):
        raise ValueError(
            f"loss='quantile' needs at least two levels spanning 0.5 (its median is the point "
            f"forecast), got {quantiles!r}; e.g. quantiles=(0.1, 0.5, 0.9)."
        )
    return levels
