"""Host side of the training kernels (:mod:`tsrnn.kernels.cuda._train_device`).

Each function launches one kernel through an *ops* object (:class:`~._layer.DeviceOps`, or
:class:`~._layer.RecordingOps` on NumPy stand-ins for the PTX tests) and passes every
scalar in the type the kernel is compiled for: floats of the array dtype as NumPy scalars of
that dtype, float64 where the kernel accumulates in float64, offsets as Python ints
(int64), switches as bools. A launch therefore always has the same signature per dtype.
"""

from __future__ import annotations

import math

import numpy as np

from ._device import dtype_name
from ._train_device import rng_states, train_kernels

__all__ = ["rng_states"]  # re-exported: the host seeding of the dropout generators


def _kernels(a):
    return train_kernels(dtype_name(a.dtype))


def elementwise_grid(ops, total: int) -> tuple[int, int]:
    """``(blocks, threads)`` of an elementwise kernel over ``total`` elements."""
    threads = ops.config.elementwise_threads
    blocks = max(1, min(math.ceil(total / threads), ops.config.max_elementwise_blocks))
    return blocks, threads


def dropout_threads(config) -> int:
    """Threads of the dropout launch: one per generator state, whole blocks."""
    threads = config.elementwise_threads
    return max(1, config.dropout_states // threads) * threads


def gather_batch(ops, src, idx, start: int, dst) -> None:
    """``dst = src[:, idx[start:start+B], :]``; a zero-size ``idx`` takes rows ``start...``."""
    blocks, threads = elementwise_grid(ops, dst.shape[0] * dst.shape[1] * dst.shape[2])
    ops.launch(_kernels(src).gather_batch, blocks, threads, 0, src, idx, int(start), dst)


def assemble_input(ops, a, b, dst, dst_rev, mask=None, states=None, p: float = 0.0) -> None:
    """A layer's input from the outputs below; see the kernel. ``mask`` and ``states`` (the
    uploaded :func:`rng_states` of :func:`dropout_threads` generators) are needed when
    ``p > 0`` (dropout); ``b``, ``dst`` or ``dst_rev`` may be None."""
    dt = np.dtype(a.dtype)
    t = dt.type
    empty3 = ops.empty(dt, 3)
    drop = p > 0.0
    if drop:
        threads = ops.config.elementwise_threads
        blocks = states.shape[0] // threads
        scale = t(1.0 / (1.0 - p))  # as RecurrentNetwork.forward: mask *= dtype(1 / (1 - p))
    else:
        states, mask = ops.empty(np.uint64, 2), empty3
        width = a.shape[2] + (0 if b is None else b.shape[2])
        blocks, threads = elementwise_grid(ops, a.shape[0] * a.shape[1] * width)
        scale = t(1.0)
    ops.launch(
        _kernels(a).assemble_input, blocks, threads, 0,
        a, empty3 if b is None else b, empty3 if dst is None else dst,
        empty3 if dst_rev is None else dst_rev, mask, states, t(p), scale, drop,
    )  # fmt: skip


def copy_columns(ops, src, src_col: int, dst, dst_col: int, ncols: int) -> None:
    """``dst[:, dst_col:dst_col+ncols] = src[:, src_col:src_col+ncols]`` (2-D arrays)."""
    blocks, threads = elementwise_grid(ops, src.shape[0] * ncols)
    ops.launch(
        _kernels(src).copy_columns, blocks, threads, 0, src, int(src_col), dst, int(dst_col), int(ncols)
    )


def route_input_grad(ops, dx0, dx1, mask, dst0, dst1, split: int) -> None:
    """The input gradient of a layer routed below; see the kernel (None for absent arrays)."""
    dt = np.dtype(dx0.dtype)
    empty3 = ops.empty(dt, 3)
    blocks, threads = elementwise_grid(ops, dx0.shape[0] * dx0.shape[1] * dx0.shape[2])
    ops.launch(
        _kernels(dx0).route_input_grad, blocks, threads, 0,
        dx0, empty3 if dx1 is None else dx1, empty3 if mask is None else mask,
        dst0, empty3 if dst1 is None else dst1, int(split),
    )  # fmt: skip


def head_loss(
    ops, kind: str, z0, z1, weight, bias, target, idx, start: int, output, d_output, losses, slot: int,
    d_weight, d_bias, d_z0, d_z1,
) -> None:  # fmt: skip
    """The dense head, loss ``kind`` ("mse" or "cross_entropy") and the head's backward of
    one batch in one launch; see the kernel. ``z1`` and ``d_z1`` are None for one direction."""
    k = _kernels(z0)
    kernel = k.head_mse if kind == "mse" else k.head_cross_entropy
    threads = ops.config.elementwise_threads
    empty2 = ops.empty(z0.dtype, 2)
    ops.launch(
        kernel, 1, threads, threads * 8,  # one float64 partial sum of the loss per thread
        z0, empty2 if z1 is None else z1, weight, bias, target, idx, int(start), output, d_output,
        losses, int(slot), d_weight, d_bias, d_z0, empty2 if d_z1 is None else d_z1,
    )  # fmt: skip


def norm_blocks(ops, n: int) -> int:
    """Blocks of :func:`gradient_status`'s first stage for ``n`` gradient values."""
    return max(1, min(math.ceil(n / ops.config.elementwise_threads), ops.config.norm_blocks))


def gradient_status(ops, grad, partial, clip_value) -> None:
    """The per-block partial sums of squares of ``grad`` (and of its value-clipped version)
    into ``partial``, a float64 ``(norm_blocks(ops, grad.size), 2)`` array; the update kernels
    (:func:`adam_step`, :func:`sgd_step`) finish the norm, the divergence test and the
    clipping factor from them, so a step is two launches."""
    t = grad.dtype.type
    k = _kernels(grad)
    threads = ops.config.elementwise_threads
    has_value = clip_value is not None
    ops.launch(
        k.sum_squares, partial.shape[0], threads, 2 * threads * 8,
        grad, partial, t(clip_value if has_value else 0.0), has_value,
    )  # fmt: skip


def _status(partial, losses, norms, slot: int, clip_norm):
    return partial, losses, norms, int(slot), np.float64(clip_norm if clip_norm is not None else 0.0)


def _common(grad, clip_value, clip_norm, weight_decay):
    t = np.dtype(grad.dtype).type
    has_value = clip_value is not None
    return (
        t(clip_value if has_value else 0.0),
        has_value,
        clip_norm is not None,
        t(weight_decay),
        bool(weight_decay),
    )


def adam_step(
    ops, params, grad, m, v, decay_mask, flag, partial, losses, norms, slot: int, *, step: int,
    learning_rate, beta_1, beta_2, epsilon, weight_decay, clip_value, clip_norm,
) -> None:  # fmt: skip
    """One fused step: the gradient norm of batch ``slot`` into ``norms[slot]`` from
    :func:`gradient_status`'s ``partial``, the divergence flag, the clipping and the Adam
    update (skipped on the device when ``flag`` is set); the scalars are formed on the host
    exactly as :func:`tsrnn.nn.adam_update` forms them."""
    t = np.dtype(params.dtype).type
    blocks, threads = elementwise_grid(ops, params.shape[0])
    step_size = learning_rate / (1.0 - beta_1**step)
    ops.launch(
        _kernels(params).adam_step, blocks, threads, 0,
        params, grad, m, v, decay_mask, flag, *_status(partial, losses, norms, slot, clip_norm),
        *_common(grad, clip_value, clip_norm, weight_decay),
        t(beta_1), t(1.0 - beta_1), t(beta_2), t(1.0 - beta_2), t(step_size), t(1.0 - beta_2**step),
        t(epsilon),
    )  # fmt: skip


def sgd_step(
    ops, params, grad, velocity, decay_mask, flag, partial, losses, norms, slot: int, *, learning_rate,
    momentum, weight_decay, clip_value, clip_norm,
) -> None:  # fmt: skip
    """One fused SGD step (see :func:`adam_step`)."""
    t = np.dtype(params.dtype).type
    blocks, threads = elementwise_grid(ops, params.shape[0])
    ops.launch(
        _kernels(params).sgd_step, blocks, threads, 0,
        params, grad, velocity, decay_mask, flag, *_status(partial, losses, norms, slot, clip_norm),
        *_common(grad, clip_value, clip_norm, weight_decay),
        t(learning_rate), t(momentum), bool(momentum),
    )  # fmt: skip
