"""Device-resident networks and training with numba.cuda (``device="cuda"``).

:class:`CudaOps` implements the array operations of :class:`~tsrnn.nn.RecurrentNetwork`
(:mod:`tsrnn.nn._ops`) on device arrays; :class:`DeviceTrainer` runs the epochs of
:func:`tsrnn.nn.train` without leaving the device: the training and validation inputs,
the targets, the flat parameter vector, its gradient and the optimizer state are uploaded
once per call of ``train`` and stay there. Per mini-batch the host only queues kernels
(gather, forward, loss, backward, norm and clipping, optimizer step): it reads nothing back.
Per epoch it uploads the shuffled order and reads back the batch losses and gradient norms
(and the validation outputs, a few values per sample, so the score functions stay the
host's). See docs/cuda.md.

Importing this module imports numba.cuda (it needs the ``numba-cuda`` package, not a GPU).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from numba import cuda

from ..kernels import loose_arguments
from ..kernels.cuda import LaunchConfig
from ..kernels.cuda import layer as _layer
from ..kernels.cuda import train as _train
from ._losses import mse_loss, softmax_cross_entropy
from ._optim import SGD, Adam

__all__ = ["DEFAULT_CONFIG", "CudaOps", "DeviceTrainer"]

#: Launch configuration of device-resident networks; tests replace it to run tiny blocks.
DEFAULT_CONFIG = LaunchConfig()

#: The host losses whose device twins exist, by the name of the device kernel.
DEVICE_LOSSES = {mse_loss: "mse", softmax_cross_entropy: "cross_entropy"}


class CudaOps:
    """The network's array operations on device arrays (see :mod:`tsrnn.nn._ops`).

    Parameters
    ----------
    cell : str
    dtype : numpy dtype
    launcher : DeviceOps or RecordingOps, optional
        Launches the kernels and moves data; by default a ``DeviceOps``
        (:mod:`tsrnn.kernels.cuda._layer`) on the default stream with
        :data:`DEFAULT_CONFIG`. A ``RecordingOps`` runs the same code on NumPy stand-ins to
        list the launched kernel signatures.
    """

    on_device = True

    def __init__(self, cell: str, dtype, launcher=None):
        from ..kernels import get_backend

        if launcher is None:
            get_backend("cuda")  # a clear error when numba-cuda or a GPU is missing
            launcher = _layer.DeviceOps(DEFAULT_CONFIG, cuda.default_stream())
        self.cell = cell
        self.dtype = np.dtype(dtype)
        self.launcher = launcher
        self._views = OrderedDict()
        self._rng_states = None

    def release(self) -> None:
        """Forget the cached views (they hold references to device vectors)."""
        self._views.clear()

    # -- arrays
    def is_array(self, a) -> bool:
        return self.launcher.is_device_array(a)

    def is_c_contiguous(self, a) -> bool:
        return a.size == 0 or (a.is_c_contiguous() if hasattr(a, "is_c_contiguous") else a.flags.c_contiguous)

    def empty(self, shape, dtype):
        return self.launcher.new(shape, dtype)

    def zeros(self, shape, dtype):
        return self.launcher.upload(np.zeros(shape, dtype))

    def as_device(self, a):
        """``a`` itself when on the device, else a device copy."""
        return a if self.launcher.is_device_array(a) else self.launcher.upload(np.asarray(a))

    def to_host(self, a) -> np.ndarray:
        return self.launcher.download(a) if self.launcher.is_device_array(a) else a

    def batch_slice(self, x, start: int, stop: int, ws=None):
        """Samples ``start:stop`` of a time-major device array, contiguous."""
        if start == 0 and stop == x.shape[1]:
            return x
        dst = self.launcher.new((x.shape[0], stop - start, x.shape[2]), x.dtype)
        _train.gather_batch(self.launcher, x, self.launcher.empty(np.int64, 1), start, dst)
        return dst

    def _cached_views(self, key, flat, make):
        # Slicing a device array builds a Python object per view; the parameter and gradient
        # vectors of a fit are the same objects batch after batch, so their views are kept
        # for the last few vectors (with a reference to each, so its id cannot be reused
        # while cached, and few enough that stale copies do not hold much device memory).
        entry = self._views.get(id(flat))
        if entry is None or entry[0] is not flat:
            entry = self._views[id(flat)] = (flat, {})
            while len(self._views) > 4:
                self._views.popitem(last=False)
        views = entry[1].get(key)
        if views is None:
            views = entry[1][key] = make()
        return views

    def views(self, layout, flat) -> dict:
        def make():
            return {name: flat[layout.slice(name)].reshape(layout.shape(name)) for name in layout.names}

        return self._cached_views("all", flat, make)

    def layer_views(self, layout, flat, layer: int, reverse: bool) -> dict:
        return self._cached_views((layer, reverse), flat, lambda: layout.layer_views(flat, layer, reverse))

    # -- recurrent layers
    def _kernel_ops(self, ws):
        kws = ws.scratch.get("kernel_workspace")
        if kws is None:
            kws = ws.scratch["kernel_workspace"] = _layer.Workspace()
        return self.launcher.with_workspace(kws)

    def recurrent_forward(self, ws, x, weights, buffers) -> None:
        _layer.forward(self.cell, *loose_arguments(x, weights, buffers), self._kernel_ops(ws))

    def recurrent_backward(self, ws, x, weights, buffers, grads, d_weights, need_dx: bool = True) -> None:
        args = loose_arguments(x, weights, buffers, grads, d_weights)
        _layer.backward(self.cell, *args, self._kernel_ops(ws), need_dx=need_dx)

    # -- stacking
    def _buffer(self, ws, name, shape, dtype=None):
        buf = ws.scratch.get(name)
        if buf is None:
            buf = ws.scratch[name] = self.launcher.new(shape, dtype or self.dtype)
        return buf

    def rng_states(self, rng):
        """The dropout generators, seeded once from ``rng`` (one draw) on first use."""
        if self._rng_states is None:
            seed = (
                int(rng.randint(0, 2**63 - 1, dtype=np.int64))
                if hasattr(rng, "randint")
                else int(rng.integers(0, 2**63 - 1))
            )
            n = _train.dropout_threads(self.launcher.config)
            self._rng_states = self.launcher.upload(_train.rng_states(n, seed))
        return self._rng_states

    def assemble_input(self, fwd_out, rev_out, dst, p: float, rng, ws, layer: int):
        mask = None
        states = None
        if p > 0.0:
            mask = self._buffer(ws, ("mask", layer), dst.shape)
            states = self.rng_states(rng)
        _train.assemble_input(self.launcher, fwd_out, rev_out, dst, None, mask, states, p)
        return mask

    def reverse_time(self, src, dst) -> None:
        _train.assemble_input(self.launcher, src, None, None, dst)

    def head_input(self, outs, z) -> None:
        for k, out in enumerate(outs):
            H = out.shape[2]
            _train.copy_columns(self.launcher, out[out.shape[0] - 1], 0, z, k * H, H)

    def linear(self, z, weight, bias, ws):
        """``z @ weight.T + bias`` into a workspace buffer (valid until the next forward)."""
        out = self._buffer(ws, "output", (z.shape[0], weight.shape[0]))
        _layer.gemm(self.launcher, z, weight, out, trans_b=True, bias=bias)
        return out

    def linear_backward(self, d_output, z, weight, d_weight, d_bias, ws):
        kops = self._kernel_ops(ws)
        _layer.gemm(kops, d_output, z, d_weight, trans_a=True, split="split_head_weight")
        _layer.column_sums(kops, d_output, d_bias, "split_head_bias")
        d_z = self._buffer(ws, "d_head_input", z.shape)
        _layer.gemm(kops, d_output, weight, d_z)
        return d_z

    def columns(self, d_z, k: int, H: int, ws):
        dst = self._buffer(ws, ("d_hn", k), (d_z.shape[0], H))
        _train.copy_columns(self.launcher, d_z, k * H, dst, 0, H)
        return dst

    def route_input_grad(self, dx0, dx1, mask, dst0, dst1, scratch) -> None:
        _train.route_input_grad(self.launcher, dx0, dx1, mask, dst0, dst1, dst0.shape[2])

    def input_grad(self, dx0, dx1, scratch):
        if dx1 is None:
            out = self.launcher.new(dx0.shape, dx0.dtype)
            self.launcher.copy(out, dx0)
            return out
        out = self.launcher.new(dx0.shape, dx0.dtype)
        _train.route_input_grad(self.launcher, dx0, dx1, None, out, None, dx0.shape[2])
        return out

    def as_output_grad(self, d_output, dtype):
        if self.launcher.is_device_array(d_output):
            if np.dtype(d_output.dtype) != dtype or not self.is_c_contiguous(d_output):
                raise ValueError(
                    f"d_output on the device must be a C-contiguous {dtype} array, got {d_output.dtype}."
                )
            return d_output
        return self.launcher.upload(np.ascontiguousarray(d_output, dtype=dtype))


class DeviceTrainer:
    """The device side of :func:`tsrnn.nn.train` (same interface as its host trainer).

    Uploads ``params``, the optimizer state and the data on construction; :meth:`finish`
    writes the trained parameters and the optimizer state back into the host arrays.
    """

    def __init__(self, network, params, optimizer, loss, X, Y, validation):
        if not isinstance(optimizer, (Adam, SGD)):
            raise TypeError(
                f"device='cuda' training runs tsrnn.nn.Adam or tsrnn.nn.SGD, got {type(optimizer).__name__}."
            )
        if loss not in DEVICE_LOSSES:
            raise TypeError(
                "device='cuda' training computes its loss on the device and supports "
                f"tsrnn.nn.mse_loss and tsrnn.nn.softmax_cross_entropy, got {loss!r}."
            )
        ops = network.ops
        up = ops.launcher.upload
        self.network, self.ops, self.launcher = network, ops, ops.launcher
        self.host_params = params
        self.optimizer = optimizer
        self.loss_kind = DEVICE_LOSSES[loss]
        self.params = up(params)
        self.grad = self.launcher.new(params.shape, params.dtype)
        self.X = up(X)
        if self.loss_kind == "cross_entropy":
            self.Y = up(np.asarray(Y, dtype=np.int64))
        else:
            self.Y = up(np.asarray(Y, dtype=params.dtype))
        self.X_val = up(validation[0]) if validation is not None else None
        if isinstance(optimizer, Adam):
            self.state = (up(optimizer.m), up(optimizer.v))
        else:
            self.state = (up(optimizer.velocity),)
        if optimizer.weight_decay:
            self.decay_mask = up(optimizer.decay_mask)
        else:
            self.decay_mask = self.launcher.empty(params.dtype, 1)
        self.flag = self.launcher.new((1,), np.int32)
        self.partial = self.launcher.new((_train.norm_blocks(self.launcher, params.shape[0]), 2), np.float64)
        self._batches: dict[int, tuple] = {}
        self._slots = None

    # -- the interface train() uses
    def snapshot(self):
        copy = self.launcher.new(self.params.shape, self.params.dtype)
        self.launcher.copy(copy, self.params)
        return copy

    def restore(self, snapshot) -> None:
        self.launcher.copy(self.params, snapshot)

    def validation_output(self) -> np.ndarray:
        return self.network.predict(self.params, self.X_val)

    def finish(self) -> None:
        """Copy the parameters and the optimizer state back to the host arrays."""
        self.host_params[...] = self.launcher.download(self.params)
        names = ("m", "v") if isinstance(self.optimizer, Adam) else ("velocity",)
        for name, dev in zip(names, self.state):
            getattr(self.optimizer, name)[...] = self.launcher.download(dev)

    def close(self) -> None:
        """Free the device memory of the call: the network's activation buffers too (a fitted
        model should not hold GPU memory; prediction allocates what it needs)."""
        self.network.release_buffers()
        self._batches.clear()
        self.params = self.grad = self.X = self.Y = self.X_val = self.state = None

    def _batch_buffers(self, size: int):
        """``(x, output, d_output, d_hidden)`` of a batch of ``size`` samples."""
        bufs = self._batches.get(size)
        if bufs is None:
            L, _, D = self.X.shape
            new, net, dt = self.launcher.new, self.network, self.params.dtype
            bufs = (
                new((L, size, D), self.X.dtype),
                new((size, net.output_size), dt),
                new((size, net.output_size), dt),
                [new((size, net.hidden_size), dt) for _ in range(net.n_directions)],
            )
            self._batches[size] = bufs
        return bufs

    def _head_views(self):
        from ._network import HEAD_BIAS, HEAD_WEIGHT

        p = self.ops.views(self.network.layout, self.params)
        g = self.ops.views(self.network.layout, self.grad)
        return p[HEAD_WEIGHT], p[HEAD_BIAS], g[HEAD_WEIGHT], g[HEAD_BIAS]

    def run_epoch(
        self, *, batch_size, rng, shuffle, clip_norm, clip_value, batch_log=None
    ) -> tuple[float, float, bool]:
        """One epoch, as :func:`tsrnn.nn.run_epoch`: same shuffling (the host ``rng``), same
        per-batch arithmetic, same return value, including the stop at the first non-finite
        batch: the device skips every update from that batch on (a flag set by the norm
        kernel), and the host finds the batch in the losses and norms it reads at the end.

        With ``batch_log`` the per-batch losses and norms are appended as on the host; the norm
        after clipping is derived from the norm before it (``min(norm, clip_norm)``), which is
        exact without ``clip_value`` and recorded as NaN with it (the device does not reduce the
        value-clipped gradient a second time)."""
        launcher, opt = self.launcher, self.optimizer
        n = self.X.shape[1]
        batch_size = min(batch_size, n)
        order = rng.permutation(n) if shuffle else np.arange(n)
        order_dev = launcher.upload(order.astype(np.int64))
        starts = range(0, n, batch_size)
        n_batches = len(starts)
        if self._slots is None or self._slots[0].shape[0] < n_batches:
            self._slots = (launcher.new((n_batches,), np.float64), launcher.new((n_batches,), np.float64))
        losses, norms = self._slots
        launcher.copy(self.flag, np.zeros(1, np.int32))
        step0 = opt.n_steps
        head = self._head_views()
        for b, start in enumerate(starts):
            size = min(batch_size, n - start)
            xb, output, d_output, d_hidden = self._batch_buffers(size)
            _train.gather_batch(launcher, self.X, order_dev, start, xb)
            _, cache = self.network._forward(
                self.params, xb, training=True, rng=rng, inference=False, head=False
            )
            # The head, the loss and the head's backward: one launch.
            finals = [buf.out[buf.out.shape[0] - 1] for buf in cache.layers[-1]]
            _train.head_loss(
                launcher, self.loss_kind, finals[0], finals[1] if len(finals) > 1 else None,
                *head[:2], self.Y, order_dev, start, output, d_output, losses, b, *head[2:],
                d_hidden[0], d_hidden[1] if len(d_hidden) > 1 else None,
            )  # fmt: skip
            self.network.backward(self.params, cache, None, grad=self.grad, d_hidden=d_hidden)
            _train.gradient_status(launcher, self.grad, self.partial, clip_value)
            common = dict(
                learning_rate=opt.learning_rate,
                weight_decay=opt.weight_decay,
                clip_value=clip_value,
                clip_norm=clip_norm,
            )
            status = (self.flag, self.partial, losses, norms, b)
            if isinstance(opt, Adam):
                _train.adam_step(
                    launcher, self.params, self.grad, *self.state, self.decay_mask, *status,
                    step=step0 + b + 1, beta_1=opt.beta_1, beta_2=opt.beta_2, epsilon=opt.epsilon, **common,
                )  # fmt: skip
            else:
                _train.sgd_step(
                    launcher, self.params, self.grad, *self.state, self.decay_mask, *status,
                    momentum=opt.momentum, **common,
                )  # fmt: skip
        values = launcher.download(losses)[:n_batches]
        grad_norms = launcher.download(norms)[:n_batches]
        total, seen = 0.0, []
        for b, start in enumerate(starts):
            value, norm = float(values[b]), float(grad_norms[b])
            finite = math.isfinite(value) and math.isfinite(norm)
            if batch_log is not None:
                batch_log.batch_losses.append(value)
                batch_log.batch_grad_norms.append(norm)
                if not finite or clip_value is not None:
                    clipped = math.nan
                else:
                    clipped = norm if clip_norm is None else min(norm, clip_norm)
                batch_log.batch_clipped_grad_norms.append(clipped)
            if not finite:
                opt.n_steps = step0 + b  # the updates from this batch on were skipped
                return value, norm, False
            total += value * min(batch_size, n - start)
            seen.append(norm)
        opt.n_steps = step0 + n_batches
        return total / n, float(np.mean(seen)), True
