"""Optimizers and gradient clipping on one flat parameter vector.

Every parameter of a network lives in one flat array (see :class:`tsrnn.nn.ParamLayout`), so
an optimizer step, a clip or a weight-decay term is one vectorised operation over the flat
gradient. The update rules are small functions that take arrays and scalars only (no
network, no estimator), so another device can supply its own versions with the same
signatures and the optimizer classes stay unchanged.

Conventions (PyTorch's, so results can be compared with ``torch.optim``):

- weight decay is *coupled* L2: ``g <- g + weight_decay * mask * w`` before the update, where
  ``mask`` is 1 for weight matrices and 0 for biases (biases are not decayed);
- SGD with momentum: ``v <- momentum * v + g``, ``w <- w - lr * v``;
- Adam: ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
  ``w <- w - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._state import check_array, check_int, check_keys, fail, register

__all__ = [
    "SGD",
    "Adam",
    "adam_update",
    "add_weight_decay",
    "clip_by_global_norm",
    "clip_by_value",
    "global_norm",
    "make_optimizer",
    "sgd_update",
]


# ----------------------------------------------------------------------------- array functions


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sum_of_squares(g):
    # Four float64 partial sums in a fixed order (no fast-math, so no reassociation): the
    # result depends on the values alone.
    n = g.size
    s0 = s1 = s2 = s3 = 0.0
    i = 0
    while i + 4 <= n:
        a, b, c, d = np.float64(g[i]), np.float64(g[i + 1]), np.float64(g[i + 2]), np.float64(g[i + 3])
        s0 += a * a
        s1 += b * b
        s2 += c * c
        s3 += d * d
        i += 4
    while i < n:
        a = np.float64(g[i])
        s0 += a * a
        i += 1
    return (s0 + s1) + (s2 + s3)


def global_norm(grad: np.ndarray) -> float:
    """Euclidean norm of the whole flat gradient, accumulated in float64.

    Returns ``inf`` or ``nan`` when the gradient holds non-finite values, which the
    training loop treats as a divergence.
    """
    # Not ``np.dot(g, g)``: OpenBLAS splits dot products of more than 10,000 elements over its
    # threads, so the norm (and with it every clipped update) changed in the last bits with the
    # BLAS thread count, and the BLAS threads' busy-waiting after each call slowed the kernels'
    # own threads 5-15x (networks of more than 10,000 parameters).
    g = np.ravel(grad)
    if g.dtype != np.float32 and g.dtype != np.float64:
        g = g.astype(np.float64)
    return math.sqrt(_sum_of_squares(g))


def clip_by_value(grad: np.ndarray, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place."""
    np.clip(grad, -clip_value, clip_value, out=grad)


def clip_by_global_norm(grad: np.ndarray, max_norm: float, norm: float | None = None) -> float:
    """Rescale ``grad`` in place so its global norm is at most ``max_norm``.

    ``grad <- grad * max_norm / norm`` when ``norm > max_norm``; unchanged otherwise.
    ``norm`` may be passed when already known. Returns the norm after clipping.
    """
    if norm is None:
        norm = global_norm(grad)
    if norm > max_norm:
        grad *= grad.dtype.type(max_norm / norm)
        return float(max_norm)
    return norm


def add_weight_decay(grad: np.ndarray, params: np.ndarray, weight_decay: float, mask: np.ndarray) -> None:
    """Coupled L2 penalty: ``grad += weight_decay * mask * params`` in place."""
    if weight_decay:
        grad += grad.dtype.type(weight_decay) * mask * params


def sgd_update(
    params: np.ndarray, grad: np.ndarray, velocity: np.ndarray, lr: float, momentum: float
) -> None:
    """One SGD step with (heavy-ball) momentum, in place on ``params`` and ``velocity``."""
    if momentum:
        velocity *= velocity.dtype.type(momentum)
        velocity += grad
        params -= params.dtype.type(lr) * velocity
    else:
        params -= params.dtype.type(lr) * grad


def adam_update(
    params: np.ndarray,
    grad: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    step: int,
    lr: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    """One Adam step (Kingma & Ba, 2015) with bias correction; ``step`` counts from 1."""
    dt = params.dtype.type
    m *= dt(beta_1)
    m += dt(1.0 - beta_1) * grad
    v *= dt(beta_2)
    v += dt(1.0 - beta_2) * grad * grad
    # Bias corrections as float64 scalars: beta_2**step is close to 1 for many steps.
    step_size = lr / (1.0 - beta_1**step)
    denom = np.sqrt(v / dt(1.0 - beta_2**step))
    denom += dt(epsilon)
    params -= dt(step_size) * m / denom


# ----------------------------------------------------------------------------- optimizer state


class SGD:
    """Stochastic gradient descent with momentum and coupled weight decay.

    Parameters
    ----------
    params : ndarray
        The flat parameter vector (used for its size and dtype).
    learning_rate : float
    momentum : float, default=0.9
    weight_decay : float, default=0.0
    decay_mask : ndarray, optional
        1 where weight decay applies, 0 elsewhere; all ones when omitted.
    """

    def __init__(self, params, learning_rate, momentum=0.9, weight_decay=0.0, decay_mask=None):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.decay_mask = np.ones_like(params) if decay_mask is None else decay_mask
        self.velocity = np.zeros_like(params)
        self.n_steps = 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """Update ``params`` in place from ``grad`` (which may be modified)."""
        add_weight_decay(grad, params, self.weight_decay, self.decay_mask)
        sgd_update(params, grad, self.velocity, self.learning_rate, self.momentum)
        self.n_steps += 1


class Adam:
    """Adam with bias correction and coupled weight decay (``torch.optim.Adam``'s rule).

    Parameters
    ----------
    params : ndarray
        The flat parameter vector (used for its size and dtype).
    learning_rate : float
    beta_1, beta_2, epsilon : float
    weight_decay : float, default=0.0
    decay_mask : ndarray, optional
        1 where weight decay applies, 0 elsewhere; all ones when omitted.
    """

    def __init__(
        self,
        params,
        learning_rate,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.0,
        decay_mask=None,
    ):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.decay_mask = np.ones_like(params) if decay_mask is None else decay_mask
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.n_steps = 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """Update ``params`` in place from ``grad`` (which may be modified)."""
        add_weight_decay(grad, params, self.weight_decay, self.decay_mask)
        self.n_steps += 1
        adam_update(
            params,
            grad,
            self.m,
            self.v,
            self.n_steps,
            self.learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )


def _optimizer_state(opt) -> dict:
    return {name: getattr(opt, name) for name in opt._STATE}


def _set_optimizer_state(opt, state: dict) -> None:
    """Hyper-parameters are finite numbers, the arrays one float vector shape, ``n_steps`` >= 0."""
    name = type(opt).__name__
    check_keys(name, state, opt._STATE)
    arrays = [k for k in opt._STATE if k not in opt._SCALARS and k != "n_steps"]
    first = check_array(state[arrays[0]], f"{name}.{arrays[0]}", ndim=1)
    for key in arrays:
        check_array(state[key], f"{name}.{key}", first.shape)
        if state[key].dtype != first.dtype:
            fail(f"{name}.{key}", "has another dtype than the other optimizer arrays")
    for key in opt._SCALARS:
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            fail(f"{name}.{key}", f"is not a finite number: {value!r}")
    check_int(state["n_steps"], f"{name}.n_steps", 0)
    opt.__dict__.update(state)


SGD._SCALARS = ("learning_rate", "momentum", "weight_decay")
SGD._STATE = (*SGD._SCALARS, "decay_mask", "velocity", "n_steps")
Adam._SCALARS = ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay")
Adam._STATE = (*Adam._SCALARS, "decay_mask", "m", "v", "n_steps")
for _cls in (SGD, Adam):
    register(_cls, _optimizer_state, _set_optimizer_state)


def make_optimizer(
    solver: str,
    params: np.ndarray,
    *,
    learning_rate: float,
    momentum: float = 0.9,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
    decay_mask: np.ndarray | None = None,
):
    """Build the optimizer named ``solver`` ("adam" or "sgd") for ``params``."""
    if solver == "adam":
        return Adam(params, learning_rate, beta_1, beta_2, epsilon, weight_decay, decay_mask)
    if solver == "sgd":
        return SGD(params, learning_rate, momentum, weight_decay, decay_mask)
    raise ValueError(f"solver must be 'adam' or 'sgd', got {solver!r}.")
