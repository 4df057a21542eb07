"""Host side of the CUDA kernels: which kernels run, in which order, with which launch shapes.

A forward is

1. ``gates (or out) = x @ W_ih^T + b_ih`` for all steps: one tiled product (``gemm``);
2. the recurrence: one ``forward_persistent`` launch for all steps (after one ``transpose``
   of ``W_hh`` unless the kernel keeps ``W_hh`` in shared memory, which it transposes itself),
   or one cooperative ``forward_split`` launch (large ``H``: blocks own slices of the hidden
   units), or, on the stepwise fallback path, per step a tiled product
   ``rec = h_{t-1} @ W_hh^T`` and a ``forward_step`` launch.

A backward is

1. the reverse recurrence: one ``backward_persistent`` or ``backward_split`` launch, or per
   step a ``backward_step`` launch and a tiled product ``dh += dpre_hh[t] @ W_hh``;
2. the input and weight gradients from the pre-activation gradients of all steps after the
   loop: ``dx = dpre_ih @ W_ih`` (a tiled product, unless not needed), and
   ``dW_ih = dpre_ih^T X``, ``dW_hh = dpre_hh^T [h0; out[:-1]]`` and the bias gradients (the
   column sums) in one ``weight_grads`` launch (split-K, the partials added in a fixed order
   by the last block of each tile).

Everything here only sees array objects with ``shape``, ``dtype``, slicing and ``reshape``,
and talks to the GPU through an *ops* object (:class:`DeviceOps`), so the same code can be
run with NumPy stand-ins by :class:`RecordingOps` to list the exact kernel signatures the
library launches (the PTX compilation tests compile those).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings

import numba
import numpy as np
from numba import config as numba_config
from numba import cuda
from numba.core.errors import NumbaPerformanceWarning

from ..._layout import cell_spec
from ._config import (
    DEFAULT_SHARED_BYTES,
    MAX_GRID_Y,
    MAX_THREADS_PER_BLOCK,
    LaunchConfig,
    RecurrencePlan,
    gemm_block,
    plan_recurrence,
    shared_limit,
    split_count,
)
from ._device import GATES, MICRO, cell_kernels, dtype_name, linalg_kernels, persistent_kernels, split_kernels

# Elementwise launches (split-K reduction) use this many threads per block.
REDUCE_THREADS = 256


class Workspace:
    """Device scratch buffers reused across calls.

    Each forward/backward needs temporary device arrays (the transposed recurrent weights,
    the pre-activation gradients of all steps, split-K partial products). By default they
    are allocated per call; a training loop can pass one ``Workspace`` to every call so they
    are allocated once. A buffer is kept per name, shape and dtype, so layers of different
    input sizes sharing one workspace do not reallocate each other's buffers. Buffers are
    reused in stream order, so use one workspace per CUDA stream.
    """

    def __init__(self):
        self._buffers: dict[tuple, object] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype, stream=0, zeroed: bool = False):
        """A device array of ``shape`` and ``dtype``, reused if possible: contents undefined,
        or zero when first allocated with ``zeroed`` (for buffers that kernels leave as they
        found them, such as the split-reduction counters)."""
        key = (name, tuple(int(s) for s in shape), np.dtype(dtype))
        buf = self._buffers.get(key)
        if buf is None:
            if zeroed:
                buf = cuda.to_device(np.zeros(key[1], key[2]), stream=stream)
            else:
                buf = cuda.device_array(key[1], key[2], stream=stream)
            self._buffers[key] = buf
        return buf

    def clear(self) -> None:
        """Release every buffer."""
        self._buffers.clear()


def check_launch(grid, block, shared: int, config: LaunchConfig) -> None:
    """Refuse a launch the hardware would reject, with the reason (before the driver does)."""
    grid = grid if isinstance(grid, tuple) else (grid,)
    block = block if isinstance(block, tuple) else (block,)
    threads = math.prod(block)
    if threads > MAX_THREADS_PER_BLOCK or threads < 1:
        raise ValueError(f"a CUDA block has 1 to {MAX_THREADS_PER_BLOCK} threads, got block={block}.")
    if len(grid) > 1 and max(grid[1:]) > MAX_GRID_Y:
        raise ValueError(f"grid dimensions y and z are limited to {MAX_GRID_Y}, got grid={grid}.")
    if min(grid) < 1:
        raise ValueError(f"empty grid {grid}")
    if shared > shared_limit(config):
        raise ValueError(
            f"a launch needs {shared} bytes of shared memory, more than "
            f"max_shared_bytes={shared_limit(config)}."
        )


def with_device_limits(config: LaunchConfig) -> LaunchConfig:
    """``config`` with ``max_shared_bytes`` filled in from the current GPU when left to it
    (its opt-in limit per block); unchanged under the simulator or when set."""
    if config.max_shared_bytes is not None or numba_config.ENABLE_CUDASIM:
        return config
    limit = int(cuda.get_current_device().MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
    return dataclasses.replace(config, max_shared_bytes=max(limit, DEFAULT_SHARED_BYTES))


def opt_in_shared_memory(compiled, nbytes: int) -> None:
    """Allow the compiled kernel ``nbytes`` of dynamic shared memory (needed above 48 KiB):
    the driver attribute numba-cuda itself sets for ``shared_memory_carveout``."""
    from cuda.bindings import driver as binding
    from numba.cuda.cudadrv.driver import driver

    cufunc = compiled._codelibrary.get_cufunc()
    attr = binding.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    driver.cuKernelSetAttribute(attr, int(nbytes), cufunc.handle, cufunc.device.id)


# numba-cuda warns about every launch of fewer than 128 blocks. The persistent kernels launch
# one block per group of batch rows by design, and the small training kernels are sized to
# their data, so the warning is expected for tsrnn's own launches, and only those are exempt.
_LOW_OCCUPANCY = r"Grid size \d+ will likely result in GPU under-utilization"


def check_registers(kernel, args, block, shared: int = 0) -> None:
    """Refuse a block larger than the register file allows for the compiled ``kernel``.

    The CUDA driver reports, per compiled kernel, the most threads a block may have given the
    kernel's registers per thread (``get_max_threads_per_block``); a larger block fails at
    launch with ``CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES``. This compiles the kernel for ``args``
    (numba's dispatcher would do so at the launch anyway) and compares. A launch with more
    than 48 KiB of dynamic shared memory opts the compiled kernel in to it here.
    """
    block = block if isinstance(block, tuple) else (block,)
    threads = math.prod(block)
    compiled = kernel.compile(tuple(numba.typeof(a) for a in args))
    if shared > DEFAULT_SHARED_BYTES:
        opt_in_shared_memory(compiled, shared)
    limit = int(compiled.max_threads_per_block)
    if threads > limit:
        name = getattr(getattr(kernel, "py_func", None), "__name__", str(kernel))
        raise ValueError(
            f"kernel {name} uses {compiled.regs_per_thread} registers per thread, so a block may "
            f"have at most {limit} threads on this GPU, but the launch asks for block={block} "
            f"({threads} threads). Fix: choose a smaller block in LaunchConfig (block, gemm_block, "
            "aux_block or elementwise_threads)."
        )


class DeviceOps:
    """Launch kernels on ``stream``; allocate scratch from ``workspace`` (or fresh).

    Besides launching, it is the one place that allocates device memory and moves arrays
    between host and device, so the same host code runs on NumPy stand-ins with
    :class:`RecordingOps`.
    """

    def __init__(self, config: LaunchConfig, stream, workspace: Workspace | None = None):
        self.config = with_device_limits(config)
        self.stream = stream
        self.workspace = workspace
        self._empty = {}
        # Configured launchers per (kernel, grid, block, shared memory), checked once: the
        # launch plan of a shape is built on its first launch and reused by every later one.
        self._launchers = {}
        self._cooperative = {}

    def with_workspace(self, workspace: Workspace | None) -> DeviceOps:
        """The same launcher, allocating scratch from ``workspace``."""
        ops = DeviceOps(self.config, self.stream, workspace)
        ops._empty = self._empty
        ops._launchers = self._launchers
        ops._cooperative = self._cooperative
        return ops

    def cooperative_blocks(self, kernel, args, block, shared: int) -> int:
        """The most blocks of ``kernel`` that can be resident at once (a cooperative launch's
        limit: blocks per multiprocessor times multiprocessors); 1 in the simulator, which
        runs one block at a time."""
        if numba_config.ENABLE_CUDASIM:
            return 1
        key = (kernel, block, shared)
        blocks = self._cooperative.get(key)
        if blocks is None:
            compiled = kernel.compile(tuple(numba.typeof(a) for a in args))
            if shared > DEFAULT_SHARED_BYTES:
                opt_in_shared_memory(compiled, shared)
            blocks = self._cooperative[key] = int(compiled.max_cooperative_grid_blocks(block, shared))
        return blocks

    def launch(self, kernel, grid, block, shared, *args):
        key = (kernel, grid, block, shared)
        launcher = self._launchers.get(key)
        if launcher is None:
            check_launch(grid, block, shared, self.config)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", _LOW_OCCUPANCY, NumbaPerformanceWarning)
                launcher = kernel[grid, block, self.stream, shared]
            if numba_config.ENABLE_CUDASIM:
                # The simulator's kernel[...] configures the kernel object itself: not reusable.
                launcher(*args)
                return
            check_registers(kernel, args, block, shared)
            self._launchers[key] = launcher
        launcher(*args)

    def alloc(self, name, shape, dtype):
        if self.workspace is not None:
            return self.workspace.get(name, shape, dtype, stream=self.stream)
        return cuda.device_array(shape, dtype, stream=self.stream)

    def alloc_zeros(self, name, shape, dtype):
        """Like :meth:`alloc`, zero when first allocated."""
        if self.workspace is not None:
            return self.workspace.get(name, shape, dtype, stream=self.stream, zeroed=True)
        return cuda.to_device(np.zeros(shape, dtype), stream=self.stream)

    def empty(self, dtype, ndim: int):
        key = (np.dtype(dtype), ndim)
        if key not in self._empty:
            self._empty[key] = cuda.device_array((0,) * ndim, dtype, stream=self.stream)
        return self._empty[key]

    def copy(self, dst, src):
        dst.copy_to_device(src, stream=self.stream)

    def new(self, shape, dtype):
        """A fresh device array (contents undefined)."""
        return cuda.device_array(shape, dtype, stream=self.stream)

    def upload(self, host: np.ndarray):
        """A new device array holding a copy of ``host``."""
        return cuda.to_device(np.ascontiguousarray(host), stream=self.stream)

    def download(self, device_array) -> np.ndarray:
        """A host copy of ``device_array`` (waits for the stream)."""
        host = device_array.copy_to_host(stream=self.stream)
        self.stream.synchronize()
        return host

    @staticmethod
    def is_device_array(a) -> bool:
        return cuda.devicearray.is_cuda_ndarray(a)


class RecordingOps:
    """Record every launch (kernel, launch shape, numba argument types) instead of running it.

    Works on NumPy stand-ins of the device arrays: ``numba.typeof`` of a writable
    C-contiguous NumPy array is the type numba.cuda gives a C-contiguous device array of the
    same dtype and rank, and scalars are typed identically, so the recorded signatures are
    the ones the dispatcher compiles at a real launch.
    """

    def __init__(self, config: LaunchConfig):
        self.config = config
        self.launches: list[tuple] = []

    def with_workspace(self, workspace) -> RecordingOps:
        return self

    def launch(self, kernel, grid, block, shared, *args):
        check_launch(grid, block, shared, self.config)
        self.launches.append((kernel, grid, block, shared, tuple(numba.typeof(a) for a in args)))

    def cooperative_blocks(self, kernel, args, block, shared: int) -> int:
        return 1 << 30  # no GPU to ask: as if every block fitted at once

    def alloc(self, name, shape, dtype):
        return np.zeros(shape, dtype)

    def alloc_zeros(self, name, shape, dtype):
        return self.alloc(name, shape, dtype)

    def empty(self, dtype, ndim: int):
        return np.zeros((0,) * ndim, dtype)

    def copy(self, dst, src):
        dst[...] = src

    def new(self, shape, dtype):
        return np.zeros(shape, dtype)

    def upload(self, host: np.ndarray) -> np.ndarray:
        return np.array(host, order="C", copy=True)

    def download(self, device_array) -> np.ndarray:
        return np.array(device_array, copy=True)

    @staticmethod
    def is_device_array(a) -> bool:
        return isinstance(a, np.ndarray)


# --------------------------------------------------------------------------- building blocks


def _itemsize(a) -> int:
    return a.dtype.itemsize


@functools.lru_cache(maxsize=1024)
def gemm_plan(M: int, K: int, Nc: int, itemsize: int, split: bool, cfg: LaunchConfig):
    """``(grid, block, k_chunk, bk, shared bytes)`` of a tiled product with an ``M x Nc``
    output and a reduction of ``K`` (memoised: a training loop asks for the same few shapes
    at every step)."""
    bx, by = gemm_block(M, Nc, cfg)
    bm, bn, bk = by * MICRO, bx * MICRO, cfg.gemm_bk
    tiles_n, tiles_m = math.ceil(Nc / bn), math.ceil(M / bm)
    splits, chunk = split_count(K, tiles_m * tiles_n, cfg) if split else (1, K)
    shared = bk * (bm + 1 + bn + 1) * itemsize
    return (tiles_n, tiles_m, splits), (bx, by), chunk, bk, shared


def gemm(ops, a, b, c, *, trans_a=False, trans_b=False, bias=None, accumulate=False, split=None):
    """``c (+)= op(a) @ op(b) (+ bias)`` with the tiled kernel; ``c`` is 2-D.

    ``split`` names a workspace buffer and allows splitting the reduction dimension into
    slices computed by separate blocks (for the weight gradients, whose reduction runs over
    batch x time while their output is small); the slices are summed by ``reduce_splits``.
    """
    lk = linalg_kernels(dtype_name(c.dtype))
    M, Nc = c.shape
    K = a.shape[0] if trans_a else a.shape[1]
    grid, block, chunk, bk, shared = gemm_plan(M, K, Nc, _itemsize(c), bool(split), ops.config)
    splits = grid[2]
    bias = ops.empty(c.dtype, 1) if bias is None else bias
    if splits == 1:
        ops.launch(
            lk.gemm, grid, block, shared, a, b, c.reshape(1, M, Nc), bias, trans_a, trans_b, accumulate,
            chunk, bk,
        )  # fmt: skip
        return
    partial = ops.alloc(split, (splits, M, Nc), c.dtype)
    ops.launch(lk.gemm, grid, block, shared, a, b, partial, bias, trans_a, trans_b, False, chunk, bk)
    blocks = math.ceil(M * Nc / REDUCE_THREADS)
    ops.launch(lk.reduce_splits, blocks, REDUCE_THREADS, 0, partial, c, accumulate)


def column_sums(ops, a, out, name: str):
    """``out = a.sum(axis=0)`` (the bias gradients), split over row chunks like :func:`gemm`."""
    cfg = ops.config
    lk = linalg_kernels(dtype_name(a.dtype))
    R, C = a.shape
    bx, by = cfg.aux_block
    tiles = math.ceil(C / bx)
    splits, chunk = split_count(R, tiles, cfg)
    shared = bx * by * _itemsize(a)
    if splits == 1:
        ops.launch(lk.column_sums, (tiles, 1), (bx, by), shared, a, out.reshape(1, 1, C), chunk)
        return
    partial = ops.alloc(name, (splits, 1, C), a.dtype)
    ops.launch(lk.column_sums, (tiles, splits), (bx, by), shared, a, partial, chunk)
    blocks = math.ceil(C / REDUCE_THREADS)
    ops.launch(lk.reduce_splits, blocks, REDUCE_THREADS, 0, partial, out.reshape(1, C), False)


def transpose(ops, src, dst):
    """``dst = src.T`` through shared-memory tiles."""
    cfg = ops.config
    lk = linalg_kernels(dtype_name(src.dtype))
    R, C = src.shape
    bx, by = cfg.aux_block
    by = min(by, bx)
    shared = bx * (bx + 1) * _itemsize(src)
    ops.launch(lk.transpose, (math.ceil(C / bx), math.ceil(R / bx)), (bx, by), shared, src, dst)


_plan_recurrence = functools.lru_cache(maxsize=256)(plan_recurrence)


def recurrence_plan(cell: str, x, w_hh, config: LaunchConfig) -> RecurrencePlan:
    """The :class:`RecurrencePlan` the forward and backward of this layer use (memoised per
    shape and configuration)."""
    return _plan_recurrence(GATES[cell], x.shape[1], w_hh.shape[1], _itemsize(x), config)


def split_launch(ops, kernel, plan: RecurrencePlan, args) -> tuple[int, int]:
    """``(blocks, shared bytes)`` of a hidden-split launch: as few slices per block as let
    every block be resident at once (a cooperative launch must), so one per block when the
    GPU holds ``plan.grid`` blocks."""
    slices, one = plan.grid, plan.shared_forward
    limit = shared_limit(ops.config)
    per = 1
    while True:
        blocks = math.ceil(slices / per)
        most = math.ceil(slices / blocks)  # slices of the busiest block (block b owns b, b+blocks, ...)
        if most * one > limit:
            break
        if blocks <= ops.cooperative_blocks(kernel, args, plan.block, most * one):
            return blocks, most * one
        if blocks == 1:
            break
        per += 1
    raise ValueError(
        f"the hidden-split kernels cannot keep all {slices} slices of W_hh ({one} bytes each) in "
        f"the shared memory of blocks that are resident at once (max_shared_bytes={limit}); "
        "use LaunchConfig(path='stepwise')."
    )


# --------------------------------------------------------------------------- forward / backward


def forward(cell, x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates, ops):
    """Launch the forward of one layer (arguments as in the kernel contract, on the device)."""
    L, N, D = x.shape
    H = w_hh.shape[1]
    GH = GATES[cell] * H
    ck = cell_kernels(cell, dtype_name(x.dtype))
    plan = recurrence_plan(cell, x, w_hh, ops.config)

    # The input projection of every step; the recurrence overwrites it in place.
    proj = (gates if GATES[cell] > 1 else out).reshape(L * N, GH)
    gemm(ops, x.reshape(L * N, D), w_ih, proj, trans_b=True, bias=b_ih)

    if plan.path == "split":
        sk = split_kernels(cell, dtype_name(x.dtype))
        flat = (h0.reshape(h0.size), out.reshape(out.size))
        args = (w_hh, b_hh, h0, c0, out, aux, gates, *flat, int(plan.split_units))
        blocks, shared = split_launch(ops, sk.forward_split, plan, args)
        ops.launch(sk.forward_split, blocks, plan.block, shared, *args)
        return
    if plan.path == "persistent":
        if plan.cache_weights_forward:
            w = w_hh.reshape(GH * H)  # transposed by the kernel on its way into shared memory
        else:
            w = ops.alloc("w_hh_t", (H, GH), x.dtype)
            transpose(ops, w_hh, w)
            w = w.reshape(H * GH)
        pk = persistent_kernels(cell, dtype_name(x.dtype), plan.rows_per_thread, plan.cache_weights_forward)
        ops.launch(
            pk.forward_persistent, plan.grid, plan.block, plan.shared_forward,
            w, b_hh, h0, c0, out, aux, gates,
        )  # fmt: skip
        return
    bx, by = plan.block
    grid = (math.ceil(H / bx), math.ceil(N / by))
    rec = ops.alloc("rec", (N, GH), x.dtype)
    for t in range(L):
        gemm(ops, h0 if t == 0 else out[t - 1], w_hh, rec, trans_b=True)
        ops.launch(ck.forward_step, grid, plan.block, 0, rec, b_hh, h0, c0, out, aux, gates, t)


def backward(
    cell, x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, aux, gates, d_out, d_hn, d_cn,
    dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0, ops, need_dx=True,
):  # fmt: skip
    """Launch BPTT of one layer (arguments as in the kernel contract, on the device); with
    ``need_dx=False`` ``dx`` is left as it is (a network's first layer, when nobody asks for
    the input gradient)."""
    L, N, D = x.shape
    H = w_hh.shape[1]
    GH = GATES[cell] * H
    ck = cell_kernels(cell, dtype_name(x.dtype))
    plan = recurrence_plan(cell, x, w_hh, ops.config)
    dpre_ih = ops.alloc("dpre_ih", (L, N, GH), x.dtype)
    # Only a cell with a separate recurrent term (the GRU's n gate, scaled by r) has a
    # recurrent-side gradient that differs from the input side.
    separate = cell_spec(cell).recurrent_term_gate is not None
    dpre_hh = ops.alloc("dpre_hh", (L, N, GH), x.dtype) if separate else dpre_ih

    if plan.path == "split":
        sk = split_kernels(cell, dtype_name(x.dtype))
        args = (
            w_hh, h0, c0, out, aux, gates, d_out, d_hn, d_cn, dpre_ih, dpre_hh, dh0, dc0,
            dpre_hh.reshape(dpre_hh.size), int(plan.split_units),
        )  # fmt: skip
        blocks, shared = split_launch(ops, sk.backward_split, plan, args)
        ops.launch(sk.backward_split, blocks, plan.block, shared, *args)
    elif plan.path == "persistent":
        pk = persistent_kernels(cell, dtype_name(x.dtype), plan.rows_per_thread, plan.cache_weights_backward)
        ops.launch(
            pk.backward_persistent, plan.grid, plan.block, plan.shared_backward,
            w_hh.reshape(GH * H), h0, c0, out, aux, gates, d_out, d_hn, d_cn,
            dpre_ih, dpre_hh, dh0, dc0,
        )  # fmt: skip
    else:
        bx, by = plan.block
        grid = (math.ceil(H / bx), math.ceil(N / by))
        for t in range(L - 1, -1, -1):
            ops.launch(
                ck.backward_step, grid, plan.block, 0,
                h0, c0, out, aux, gates, d_out, d_hn, d_cn, dpre_ih, dpre_hh, dh0, dc0, t,
            )  # fmt: skip
            gemm(ops, dpre_hh[t], w_hh, dh0, accumulate=True)

    # Input and weight gradients of all steps at once.
    gi = dpre_ih.reshape(L * N, GH)
    if need_dx:
        gemm(ops, gi, w_ih, dx.reshape(L * N, D))
    gh = dpre_hh.reshape(L * N, GH)
    weight_grads(ops, gi, gh, separate, x.reshape(L * N, D), h0, out, dw_ih, dw_hh, db_ih, db_hh)


@functools.lru_cache(maxsize=256)
def weight_grads_plan(K: int, M: int, D: int, H: int, separate: bool, itemsize: int, cfg: LaunchConfig):
    """``(grid, block, k_chunk, bk, shared bytes, partial shape)`` of :func:`weight_grads`."""
    width = max(D, H) + 1 if separate else D + H + 1
    problems = 2 if separate else 1
    bx, by = gemm_block(M, width, cfg)
    bm, bn, bk = by * MICRO, bx * MICRO, cfg.gemm_bk
    tiles_n, tiles_m = math.ceil(width / bn), math.ceil(M / bm)
    splits, chunk = split_count(K, problems * tiles_m * tiles_n, cfg)
    shared = bk * (bm + 1 + bn + 1) * itemsize
    slab = math.ceil(bm * bn / 32) * 32  # whole 128-byte lines per slab
    partial = (problems, tiles_m, tiles_n, splits, slab) if splits > 1 else (0, 0, 0, 0, 0)
    return (tiles_n, tiles_m, problems * splits), (bx, by), chunk, bk, shared, partial


def weight_grads(ops, gi, gh, separate: bool, x2, h0, out, dw_ih, dw_hh, db_ih, db_hh) -> None:
    """``dW_ih = gi^T X``, ``dW_hh = gh^T [h0; out[:-1]]``, ``db_ih``, ``db_hh`` (column sums
    of ``gi``, ``gh``) in one launch of the ``weight_grads`` kernel: split over the rows
    (batch x time) with the split partials added by the last block of each output tile.
    Unless ``separate``, ``gh`` holds the same values as ``gi`` and one product serves both."""
    lk = linalg_kernels(dtype_name(gi.dtype))
    K, M = gi.shape
    L, N, H = out.shape
    grid, block, chunk, bk, shared, pshape = weight_grads_plan(
        K, M, x2.shape[1], H, separate, _itemsize(gi), ops.config
    )
    partial = ops.alloc("split_weight_grads", pshape, gi.dtype)
    counters = ops.alloc_zeros("split_weight_grads_counters", (grid[0] * grid[1] * grid[2],), np.int32)
    h_seq = out[: max(L - 1, 0)].reshape(max(L - 1, 0) * N, H)
    ops.launch(
        lk.weight_grads, grid, block, shared,
        gi, gh, x2, h0, h_seq, dw_ih, dw_hh, db_ih, db_hh, partial, counters, chunk, bk, separate,
    )  # fmt: skip
