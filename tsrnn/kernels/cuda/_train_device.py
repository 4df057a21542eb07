"""Device code of device-resident training: everything a training step needs besides the
recurrent layers and the matrix products of :mod:`tsrnn.kernels.cuda._device`.

Every kernel mirrors a NumPy expression of :mod:`tsrnn.nn` (named in its docstring) with
the same operations in the same order and the same dtype, so a float64 training run gives
the CPU's numbers to rounding (summation order, fused multiply-adds) and a float32 run
stays float32. Two exceptions accumulate in float64 on purpose, as the NumPy code does:
the losses (``np.square(diff, dtype=np.float64)``, ``logits.astype(np.float64)``) and the
gradient norm (:func:`tsrnn.nn.global_norm`). They touch every value once per batch, so
their float64 arithmetic is negligible even on GPUs with a low float64 rate, and
``tests/kernels/cuda/test_cuda_ptx.py`` allows float64 instructions in exactly these kernels.

Elementwise kernels loop over their elements with the grid's stride, so any launch shape
covers any size. Reductions add in a fixed order (no atomics): results are the same run to
run.

Kernels (host side: :mod:`tsrnn.kernels.cuda._train`):

``gather_batch``        mini-batch ``X[:, order[start:start+B], :]`` of the device-resident set
``assemble_input``      a layer's input: directions concatenated, reverse one time-reversed,
                        dropout drawn on the device (xoroshiro128+, below) and applied
``copy_columns``        column block of one matrix into another (head input, ``d h_n``)
``route_input_grad``    a layer's input gradient: directions added back, dropout mask applied,
                        split into the gradients of the layer below
``head_mse``            the dense head, the loss (half mean squared error or softmax
``head_cross_entropy``  cross-entropy) and the head's backward, fused in one block
``sum_squares``         first stage of the global gradient norm (plain and value-clipped)
``adam_step``           second stage of the norm, divergence flag and clipping factor (the device
                        function ``step_status``, in every thread), then value clip, norm clip,
                        weight decay and the Adam update, fused
``sgd_step``            the same with SGD (momentum)
"""

from __future__ import annotations

import math
from functools import cache
from types import SimpleNamespace

import numba
import numpy as np
from numba import cuda

from ._device import DEVICE_JIT, JIT, _constants

#: Kernels allowed to use float64 arithmetic in their float32 build (see module docstring).
FLOAT64_ACCUMULATORS = (
    "head_mse",
    "head_cross_entropy",
    "sum_squares",
    "adam_step",
    "sgd_step",
)

# xoroshiro128+ (Blackman & Vigna), the generator of numba.cuda.random, written here as a
# numba.cuda device function: numba.cuda.random's functions are CPU-jitted functions that
# numba-cuda compiles for the current GPU, so they cannot be compiled to PTX on a machine
# without one, and its float32 draw goes through float64. A state is a row ``(s0, s1)`` of
# a ``(n, 2)`` uint64 array, seeded on the host with splitmix64 (:func:`rng_states`).
_U1 = np.uint64(1)
_ROT_A, _ROT_A_BACK = np.uint64(55), np.uint64(9)
_SHIFT_B = np.uint64(14)
_ROT_C, _ROT_C_BACK = np.uint64(36), np.uint64(28)


@cuda.jit(**DEVICE_JIT)
def _xoroshiro_half_sum(states, k):
    """Advance generator ``k``; return its output ``s0 + s1`` halved, i.e. bits 1..64 of the
    65-bit sum, computed without overflow (NumPy warns on uint64 overflow in the simulator)."""
    s0 = states[k, 0]
    s1 = states[k, 1]
    half = (s0 >> _U1) + (s1 >> _U1) + (s0 & s1 & _U1)
    s1 = s1 ^ s0
    states[k, 0] = ((s0 << _ROT_A) | (s0 >> _ROT_A_BACK)) ^ s1 ^ (s1 << _SHIFT_B)
    states[k, 1] = (s1 << _ROT_C) | (s1 >> _ROT_C_BACK)
    return half


def rng_states(n: int, seed: int) -> np.ndarray:
    """``n`` xoroshiro128+ states ``(n, 2)`` uint64 from splitmix64 of ``seed`` (host side)."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    counter = np.uint64(seed % 2**64) + golden * np.arange(1, 2 * n + 1, dtype=np.uint64)
    z = counter
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    states = np.ascontiguousarray(z.reshape(n, 2))
    states[(states == 0).all(axis=1), 0] = 1  # the all-zero state is a fixed point
    return states


@cache
def train_kernels(dtype_name: str) -> SimpleNamespace:
    """The training kernels for one float dtype."""
    T, ZERO, _HALF, ONE = _constants(dtype_name)
    F64 = numba.float64
    F64_ZERO = np.float64(0.0)
    F64_HALF = np.float64(0.5)
    # Uniform on [0, 1): the top 24 (float32) or 53 (float64) bits of a 64-bit output, times
    # 2^-24 or 2^-53, exact in the dtype. From the halved sum: shift one less, mask off bit 64.
    if np.dtype(dtype_name) == np.float32:
        BITS = 24
    else:
        BITS = 53
    UNIFORM_SHIFT = np.uint64(64 - BITS - 1)
    UNIFORM_MASK = np.uint64(2**BITS - 1)
    UNIFORM_SCALE = np.dtype(dtype_name).type(2.0**-BITS)

    @cuda.jit(**DEVICE_JIT)
    def uniform(states, k):
        return T((_xoroshiro_half_sum(states, k) >> UNIFORM_SHIFT) & UNIFORM_MASK) * UNIFORM_SCALE

    @cuda.jit(**JIT)
    def gather_batch(src, idx, start, dst):
        """``dst[t, i, :] = src[t, idx[start + i], :]`` (``np.take(X, idx, axis=1)``).

        With a zero-size ``idx`` the rows are ``start + i`` (a contiguous chunk).
        """
        L = dst.shape[0]
        B = dst.shape[1]
        C = dst.shape[2]
        use_idx = idx.shape[0] > 0
        for e in range(cuda.grid(1), L * B * C, cuda.gridsize(1)):
            c = e % C
            rest = e // C
            i = rest % B
            t = rest // B
            row = idx[start + i] if use_idx else start + i
            dst[t, i, c] = src[t, row, c]

    @cuda.jit(**JIT)
    def assemble_input(a, b, dst, dst_rev, mask, states, p, scale, drop):
        """The input of a layer (``RecurrentNetwork.forward``), ``(L, N, Ca + Cb)``:

        ``v = [a[t], b[L-1-t]]`` (the forward outputs and the time-reversed reverse outputs of
        the layer below; ``b`` zero-size for one direction); with ``drop``,
        ``mask = scale * (u >= p)`` for a uniform draw ``u`` and ``v *= mask``. Writes ``v``
        to ``dst`` (unless zero-size) and ``v[L-1-t]`` to ``dst_rev`` (the reverse
        direction's input, unless zero-size). Thread ``k`` draws from generator ``states[k]``
        (xoroshiro128+): launch exactly as many threads as there are states when ``drop``.
        """
        L = a.shape[0]
        N = a.shape[1]
        Ca = a.shape[2]
        Cb = b.shape[2] if b.shape[0] > 0 else 0
        C = Ca + Cb
        tid = cuda.grid(1)
        write = dst.shape[0] > 0
        write_rev = dst_rev.shape[0] > 0
        for e in range(tid, L * N * C, cuda.gridsize(1)):
            c = e % C
            rest = e // C
            n = rest % N
            t = rest // N
            v = a[t, n, c] if c < Ca else b[L - 1 - t, n, c - Ca]
            if drop:
                u = uniform(states, tid)
                m = scale if u >= p else ZERO
                mask[t, n, c] = m
                v = v * m
            if write:
                dst[t, n, c] = v
            if write_rev:
                dst_rev[L - 1 - t, n, c] = v

    @cuda.jit(**JIT)
    def copy_columns(src, src_col, dst, dst_col, ncols):
        """``dst[:, dst_col:dst_col+ncols] = src[:, src_col:src_col+ncols]`` (2-D)."""
        N = src.shape[0]
        for e in range(cuda.grid(1), N * ncols, cuda.gridsize(1)):
            n = e // ncols
            c = e % ncols
            dst[n, dst_col + c] = src[n, src_col + c]

    @cuda.jit(**JIT)
    def route_input_grad(dx0, dx1, mask, dst0, dst1, split):
        """The gradient of a layer's input, routed to the layer below (``backward``):

        ``v = dx0[t] + dx1[L-1-t]`` (``dx1`` zero-size for one direction), ``v *= mask``
        (unless zero-size), then columns ``< split`` go to ``dst0[t]`` and the others to
        ``dst1[L-1-t]`` (the reverse direction below runs on reversed time).
        """
        L = dx0.shape[0]
        N = dx0.shape[1]
        C = dx0.shape[2]
        two = dx1.shape[0] > 0
        masked = mask.shape[0] > 0
        for e in range(cuda.grid(1), L * N * C, cuda.gridsize(1)):
            c = e % C
            rest = e // C
            n = rest % N
            t = rest // N
            v = dx0[t, n, c]
            if two:
                v = v + dx1[L - 1 - t, n, c]
            if masked:
                v = v * mask[t, n, c]
            if c < split:
                dst0[t, n, c] = v
            else:
                dst1[L - 1 - t, n, c - split] = v

    @cuda.jit(**DEVICE_JIT)
    def mse_part(output, target, idx, start, d_output, tid, nt):
        """This thread's share of :func:`tsrnn.nn.mse_loss` (elements ``tid, tid+nt, ...``):
        ``diff = output - target[rows]``, ``d_output = diff / size`` (in the dtype); returns
        its part of ``sum(diff**2)`` in float64. Target rows are ``idx[start + n]``
        (``start + n`` for a zero-size ``idx``)."""
        N = output.shape[0]
        O = output.shape[1]
        size = N * O
        inv = T(size)
        use_idx = idx.shape[0] > 0
        acc = F64_ZERO
        for e in range(tid, size, nt):
            n = e // O
            o = e % O
            row = idx[start + n] if use_idx else start + n
            diff = output[n, o] - target[row, o]
            d_output[n, o] = diff / inv
            wide = F64(diff)
            acc += wide * wide
        return acc

    @cuda.jit(**DEVICE_JIT)
    def mse_total(total, output):
        return F64_HALF * (total / (output.shape[0] * output.shape[1]))

    @cuda.jit(**DEVICE_JIT)
    def cross_entropy_part(logits, target, idx, start, d_output, tid, nt):
        """This thread's share of :func:`tsrnn.nn.softmax_cross_entropy` (rows ``tid,
        tid+nt, ...``): ``logsumexp(z) - z[target]`` with ``z = logits - max`` in float64
        (returned, summed over the rows); ``d_output = (softmax(logits) - onehot) / N`` in
        the dtype, computed as the NumPy code does (shift, exp, divide by the sum, subtract
        1, divide by ``N``)."""
        N = logits.shape[0]
        K = logits.shape[1]
        use_idx = idx.shape[0] > 0
        inv = T(N)
        acc = F64_ZERO
        for n in range(tid, N, nt):
            row = idx[start + n] if use_idx else start + n
            k_true = target[row]
            top = logits[n, 0]
            for k in range(1, K):
                top = max(top, logits[n, k])
            wide_top = F64(top)
            s = F64_ZERO
            for k in range(K):
                s += math.exp(F64(logits[n, k]) - wide_top)
            acc += math.log(s) - (F64(logits[n, k_true]) - wide_top)
            st = ZERO
            for k in range(K):
                ek = math.exp(logits[n, k] - top)
                d_output[n, k] = ek
                st += ek
            for k in range(K):
                d_output[n, k] = d_output[n, k] / st
            d_output[n, k_true] = d_output[n, k_true] - ONE
            for k in range(K):
                d_output[n, k] = d_output[n, k] / inv
        return acc

    @cuda.jit(**DEVICE_JIT)
    def cross_entropy_total(total, logits):
        return total / logits.shape[0]

    @cuda.jit(**DEVICE_JIT)
    def block_sum(acc, tid, nt):
        """The float64 ``acc`` of every thread of the block, added in thread order; the result
        is valid in thread 0 (dynamic shared memory: ``nt`` float64)."""
        smem = cuda.shared.array(0, numba.float64)
        smem[tid] = acc
        cuda.syncthreads()
        total = F64_ZERO
        if tid == 0:
            for k in range(nt):
                total += smem[k]
        return total

    def head_loss_kernel(part, total_of, name):
        def kernel(z0, z1, weight, bias, target, idx, start, output, d_output, losses, slot, d_weight, d_bias,
                   d_z0, d_z1):  # fmt: skip
            """The dense head, the loss and the head's backward of one batch, in one block:

            ``z = [z0, z1]`` (the final hidden states of the two directions; ``z1`` zero-size
            for one), ``output = z @ weight.T + bias`` (:meth:`NumpyOps.linear`), the loss
            into ``losses[slot]`` and ``d_output`` (the part function), then
            ``d_weight = d_output.T @ z``, ``d_bias = d_output.sum(0)`` and
            ``[d_z0, d_z1] = d_output @ weight`` (:meth:`NumpyOps.linear_backward`).
            """
            N = z0.shape[0]
            H = z0.shape[1]
            C = weight.shape[1]
            O = weight.shape[0]
            tid = cuda.threadIdx.x
            nt = cuda.blockDim.x
            for e in range(tid, N * O, nt):
                n = e // O
                o = e % O
                v = ZERO
                for c in range(H):
                    v += z0[n, c] * weight[o, c]
                for c in range(H, C):
                    v += z1[n, c - H] * weight[o, c]
                output[n, o] = v + bias[o]
            cuda.syncthreads()
            total = block_sum(part(output, target, idx, start, d_output, tid, nt), tid, nt)
            if tid == 0:
                losses[slot] = total_of(total, output)
            cuda.syncthreads()
            for e in range(tid, O * C, nt):
                o = e // C
                c = e % C
                v = ZERO
                if c < H:
                    for n in range(N):
                        v += d_output[n, o] * z0[n, c]
                else:
                    for n in range(N):
                        v += d_output[n, o] * z1[n, c - H]
                d_weight[o, c] = v
            for o in range(tid, O, nt):
                v = ZERO
                for n in range(N):
                    v += d_output[n, o]
                d_bias[o] = v
            for e in range(tid, N * C, nt):
                n = e // C
                c = e % C
                v = ZERO
                for o in range(O):
                    v += d_output[n, o] * weight[o, c]
                if c < H:
                    d_z0[n, c] = v
                else:
                    d_z1[n, c - H] = v

        kernel.__name__ = kernel.__qualname__ = name
        return cuda.jit(**JIT)(kernel)

    head_mse = head_loss_kernel(mse_part, mse_total, "head_mse")
    head_cross_entropy = head_loss_kernel(cross_entropy_part, cross_entropy_total, "head_cross_entropy")

    @cuda.jit(**JIT)
    def sum_squares(grad, partial, clip_value, has_clip_value):
        """Block ``b`` writes ``partial[b] = (sum g^2, sum clip(g)^2)`` over its grid-stride
        share of ``grad``, in float64 (:func:`tsrnn.nn.global_norm`, before and after
        :func:`tsrnn.nn.clip_by_value`)."""
        n = grad.shape[0]
        tid = cuda.threadIdx.x
        nt = cuda.blockDim.x
        a0 = F64_ZERO
        a1 = F64_ZERO
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            g = grad[i]
            wide = F64(g)
            a0 += wide * wide
            if has_clip_value:
                c = min(max(g, -clip_value), clip_value)
                wide = F64(c)
                a1 += wide * wide
        smem = cuda.shared.array(0, numba.float64)
        smem[tid] = a0
        smem[nt + tid] = a1
        cuda.syncthreads()
        if tid == 0:
            s0 = F64_ZERO
            s1 = F64_ZERO
            for k in range(nt):
                s0 += smem[k]
                s1 += smem[nt + k]
            partial[cuda.blockIdx.x, 0] = s0
            partial[cuda.blockIdx.x, 1] = s1

    @cuda.jit(**DEVICE_JIT)
    def step_status(partial, losses, norms, slot, flag, clip_norm, has_clip_norm, has_clip_value):
        """The gradient norm and what follows from it, computed by every thread of the update
        kernels from the ``sum_squares`` partial sums (added in order, so every thread gets the
        same values): returns ``(skip, factor)``. ``skip``: ``flag[0]`` was set by an earlier
        batch, or the batch loss or the norm is not finite (the training loop's divergence
        test; the first thread then sets ``flag[0] = 1``, which stays set for the epoch).
        ``factor``: the scale of :func:`tsrnn.nn.clip_by_global_norm` (``clip_norm / norm`` of
        the value-clipped gradient when that exceeds ``clip_norm``, else 1). The first thread
        also writes ``norms[slot]``."""
        s0 = F64_ZERO
        s1 = F64_ZERO
        for k in range(partial.shape[0]):
            s0 += partial[k, 0]
            s1 += partial[k, 1]
        norm = math.sqrt(s0)
        loss = losses[slot]
        bad = math.isnan(loss) or math.isinf(loss) or math.isnan(norm) or math.isinf(norm)
        first = cuda.grid(1) == 0
        if first:
            norms[slot] = norm
        # Read before the first thread may set it: only this batch's own test sets it here,
        # and that test is part of ``skip`` anyway, so every thread decides alike.
        skip = bad or flag[0] != 0
        if first and bad:
            flag[0] = 1
        factor = ONE
        if has_clip_norm:
            clipped = math.sqrt(s1) if has_clip_value else norm
            if clipped > clip_norm:
                factor = T(clip_norm / clipped)
        return skip, factor

    @cuda.jit(**JIT)
    def adam_step(
        params,
        grad,
        m,
        v,
        decay_mask,
        flag,
        partial,
        losses,
        norms,
        slot,
        clip_norm,
        clip_value,
        has_clip_value,
        has_clip_norm,
        weight_decay,
        has_decay,
        beta_1,
        one_minus_beta_1,
        beta_2,
        one_minus_beta_2,
        step_size,
        bias_2,
        epsilon,
    ):
        """The norm, the divergence test and the clipping factor (:func:`step_status`), then,
        unless skipped, per element in the order of the NumPy code:
        :func:`~tsrnn.nn.clip_by_value`, the :func:`~tsrnn.nn.clip_by_global_norm` scale,
        :func:`~tsrnn.nn.add_weight_decay`, :func:`~tsrnn.nn.adam_update` (``step_size``
        and ``bias_2`` are the host's bias corrections of this step)."""
        skip, factor = step_status(
            partial, losses, norms, slot, flag, clip_norm, has_clip_norm, has_clip_value
        )
        if skip:
            return
        for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
            g = grad[i]
            if has_clip_value:
                g = min(max(g, -clip_value), clip_value)
            if has_clip_norm:
                g = g * factor
            p = params[i]
            if has_decay:
                g = g + weight_decay * decay_mask[i] * p
            mi = m[i] * beta_1
            mi = mi + one_minus_beta_1 * g
            m[i] = mi
            vi = v[i] * beta_2
            vi = vi + one_minus_beta_2 * g * g
            v[i] = vi
            denom = math.sqrt(vi / bias_2) + epsilon
            params[i] = p - step_size * mi / denom

    @cuda.jit(**JIT)
    def sgd_step(
        params,
        grad,
        velocity,
        decay_mask,
        flag,
        partial,
        losses,
        norms,
        slot,
        clip_norm,
        clip_value,
        has_clip_value,
        has_clip_norm,
        weight_decay,
        has_decay,
        learning_rate,
        momentum,
        has_momentum,
    ):
        """Like :func:`adam_step` with :func:`~tsrnn.nn.sgd_update` (heavy-ball momentum)."""
        skip, factor = step_status(
            partial, losses, norms, slot, flag, clip_norm, has_clip_norm, has_clip_value
        )
        if skip:
            return
        for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
            g = grad[i]
            if has_clip_value:
                g = min(max(g, -clip_value), clip_value)
            if has_clip_norm:
                g = g * factor
            p = params[i]
            if has_decay:
                g = g + weight_decay * decay_mask[i] * p
            if has_momentum:
                vel = velocity[i] * momentum
                vel = vel + g
                velocity[i] = vel
                params[i] = p - learning_rate * vel
            else:
                params[i] = p - learning_rate * g

    return SimpleNamespace(
        gather_batch=gather_batch,
        assemble_input=assemble_input,
        copy_columns=copy_columns,
        route_input_grad=route_input_grad,
        head_mse=head_mse,
        head_cross_entropy=head_cross_entropy,
        sum_squares=sum_squares,
        adam_step=adam_step,
        sgd_step=sgd_step,
    )
