"""The array operations of :class:`~tsrnn.nn.RecurrentNetwork` that depend on where the
arrays live.

The network's stacking logic (layers, directions, dropout, the dense head) is written once
against the small interface below; :class:`NumpyOps` implements it with NumPy for the
``"cpu"`` and ``"reference"`` kernels and :class:`tsrnn.nn._cuda.CudaOps` with CUDA kernels
on device-resident arrays. A network gets its operations object from its
:class:`~tsrnn.nn.Backend`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..kernels import kernel_set

__all__ = ["NumpyOps"]


class NumpyOps:
    """Host arrays; recurrent layers run by the ``"cpu"`` or ``"reference"`` kernels."""

    on_device = False

    def __init__(self, backend, cell: str):
        self.device = backend.name
        self.forward_kernel, self.backward_kernel, self.inference_kernel = kernel_set(backend.kernels, cell)

    # -- arrays
    @staticmethod
    def is_array(a) -> bool:
        return isinstance(a, np.ndarray)

    @staticmethod
    def is_c_contiguous(a) -> bool:
        return a.flags.c_contiguous

    @staticmethod
    def empty(shape, dtype) -> np.ndarray:
        return np.empty(shape, dtype)

    @staticmethod
    def zeros(shape, dtype) -> np.ndarray:
        return np.zeros(shape, dtype)

    @staticmethod
    def as_device(a):
        return a

    @staticmethod
    def to_host(a) -> np.ndarray:
        return a

    @staticmethod
    def batch_slice(x, start: int, stop: int, ws=None) -> np.ndarray:
        return np.ascontiguousarray(x[:, start:stop])

    @staticmethod
    def views(layout, flat) -> dict:
        return layout.views(flat)

    @staticmethod
    def layer_views(layout, flat, layer: int, reverse: bool) -> dict:
        return layout.layer_views(flat, layer, reverse)

    # -- recurrent layers (kernel contract of tsrnn.kernels.reference: x and tuples of arrays)
    def recurrent_forward(self, ws, x, weights, buffers) -> None:
        self.forward_kernel(x, weights, buffers)

    def recurrent_backward(self, ws, x, weights, buffers, grads, d_weights, need_dx: bool = True) -> None:
        """The layer backward (kernel contract); ``need_dx=False`` allows leaving ``dx``
        uncomputed (the CPU kernels compute it anyway)."""
        self.backward_kernel(x, weights, buffers, grads, d_weights)

    def recurrent_inference(self, ws, x, weights, buffers) -> None:
        """The inference-only forward, ``buffers = (h0, c0, out, c_n)``."""
        self.inference_kernel(x, weights, buffers)

    # -- stacking
    @staticmethod
    def assemble_input(fwd_out, rev_out, dst, p: float, rng, ws, layer: int):
        """``dst = [fwd_out, rev_out reversed in time]`` with dropout ``p``; returns the mask."""
        H = fwd_out.shape[2]
        dst[:, :, :H] = fwd_out
        if rev_out is not None:
            dst[:, :, H:] = rev_out[::-1]
        if p > 0.0:
            keep = rng.uniform(size=dst.shape) >= p
            mask = keep.astype(dst.dtype)
            mask *= dst.dtype.type(1.0 / (1.0 - p))
            dst *= mask
            return mask
        return None

    @staticmethod
    def reverse_time(src, dst) -> None:
        dst[...] = src[::-1]

    @staticmethod
    def head_input(outs, z) -> None:
        """``z = [out[-1] for each direction]`` (the final hidden states, concatenated)."""
        for k, out in enumerate(outs):
            H = out.shape[2]
            z[:, k * H : (k + 1) * H] = out[-1]

    @staticmethod
    def linear(z, weight, bias, ws) -> np.ndarray:
        """``z @ weight.T + bias`` as a new array.

        Summed row by row in a fixed order rather than by a BLAS product, whose blocking (and
        so its float32 rounding) depends on the number of rows: a sample's prediction must not
        depend on the other samples of its batch (scikit-learn's invariance checks). The head
        is a tiny product (outputs x hidden per sample), so this costs nothing measurable.
        """
        output = np.einsum("nh,oh->no", z, weight)
        output += bias
        return output

    @staticmethod
    def linear_backward(d_output, z, weight, d_weight, d_bias, ws) -> np.ndarray:
        """Fill the head's gradients; return the gradient of ``z``."""
        np.matmul(d_output.T, z, out=d_weight)
        d_bias[...] = d_output.sum(axis=0)
        return d_output @ weight

    @staticmethod
    def columns(d_z, k: int, H: int, ws) -> np.ndarray:
        """``d_z[:, k*H:(k+1)*H]``, C-contiguous (the final-state gradient of direction k)."""
        return np.ascontiguousarray(d_z[:, k * H : (k + 1) * H])

    @staticmethod
    def route_input_grad(dx0, dx1, mask, dst0, dst1, scratch: Callable[[], np.ndarray]) -> None:
        """``d = dx0 + dx1[::-1]`` (two directions), ``d *= mask``, then ``dst0 = d[..., :H]``
        and ``dst1 = d[::-1, :, H:]``; ``scratch()`` gives a buffer of ``d``'s shape."""
        d_in = dx0
        if dx1 is not None:
            d_in = np.add(d_in, dx1[::-1], out=scratch())
        if mask is not None:
            d_in = np.multiply(d_in, mask, out=scratch())
        H = dst0.shape[2]
        dst0[...] = d_in[:, :, :H]
        if dst1 is not None:
            dst1[...] = d_in[::-1, :, H:]

    @staticmethod
    def input_grad(dx0, dx1, scratch: Callable[[], np.ndarray]) -> np.ndarray:
        """The gradient of the network input: ``dx0 + dx1[::-1]`` (a new array)."""
        d_in = dx0
        if dx1 is not None:
            d_in = np.add(d_in, dx1[::-1], out=scratch())
        return d_in.copy()

    @staticmethod
    def as_output_grad(d_output, dtype):
        return np.ascontiguousarray(d_output, dtype=dtype)
