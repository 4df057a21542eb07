"""Launch configuration of the CUDA kernels: block sizes, path choice, shared-memory budget.

Pure Python (no numba.cuda import), so the heuristics can be tested and reasoned about on
any machine. The defaults are educated guesses for current NVIDIA GPUs that have NOT been
tuned on hardware (no GPU was available when they were written; see docs/cuda.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# What every CUDA device since compute capability 2.0 gives a block without opting in to
# more. Above it a kernel must be opted in per compiled function (the driver attribute
# CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES), up to the device's opt-in limit:
# 99 KiB (sm_86/89), 163 KiB (A100), 227 KiB (H100/H200).
DEFAULT_SHARED_BYTES = 48 * 1024
MAX_THREADS_PER_BLOCK = 1024
MAX_GRID_Y = 65535
# The persistent kernels use up to ~220 registers per thread (float64 LSTM, sm_80; see the
# table in docs/cuda.md) and a block may hold at most 64K registers, so their blocks are
# limited to 256 threads.
MAX_PERSISTENT_THREADS = 256

# Kept in step with tsrnn.kernels.cuda._device (which imports numba.cuda).
MICRO = 4
MAX_ROWS_PER_THREAD = 4
PATHS = ("auto", "persistent", "split", "stepwise")


@dataclass(frozen=True)
class LaunchConfig:
    """How the CUDA kernels are launched. Every field has a working default.

    Parameters
    ----------
    path : {"auto", "persistent", "split", "stepwise"}, default="auto"
        ``"persistent"``: one launch runs the whole time loop (forward and backward each);
        a block owns whole batch rows. ``"split"``: the hidden-split persistent kernels, one
        cooperative launch each; blocks own slices of the hidden units and keep their part of
        ``W_hh`` in shared memory, with a grid-wide barrier per step. ``"stepwise"``: the
        fallback, two launches per time step (a tiled matrix product and an elementwise
        kernel). ``"auto"`` picks persistent when its shared memory fits,
        ``hidden_size <= persistent_max_hidden`` and ``W_hh`` fits one block's shared memory
        or ``hidden_size < split_min_hidden``; split when ``W_hh`` does not fit one block and
        ``hidden_size >= split_min_hidden``; stepwise otherwise.
    block : (int, int), optional
        Threads ``(x, y)`` of the recurrence kernels: ``x`` threads share the hidden units of
        a batch row, ``y`` rows are handled side by side. Default: ``x`` the next power of two
        of ``H`` (at most 256), ``y`` so a block has about 128 threads.
    rows_per_thread : int, optional
        Batch rows each thread of a persistent kernel owns (1 to 4); a weight loaded once is
        used for all of them. A block owns ``block[1] * rows_per_thread`` rows.
    cache_weights : bool, optional
        Keep ``W_hh`` in shared memory in the persistent kernels. Default: when it fits.
    gemm_block : (int, int), optional
        Threads ``(x, y)`` of the tiled matrix product; a block computes a
        ``(4*y) x (4*x)`` tile. Default chosen from the output shape.
    gemm_bk : int, default=16
        Depth of the shared-memory tiles along the reduction dimension.
    aux_block : (int, int), default=(32, 8)
        Threads ``(x, y)`` of the transpose (``x`` by ``x`` tiles) and column-sum kernels.
    target_blocks : int, default=160
        Roughly how many blocks keep the GPU busy (about two per multiprocessor); the
        weight-gradient products split their long reduction (over batch and time) into
        slices until they have that many blocks.
    min_split_rows : int, default=1024
        Fewest reduction rows (batch x time) per slice when splitting.
    max_shared_bytes : int, optional
        Dynamic shared memory a block may use. Default: the GPU's opt-in limit per block
        (``MAX_SHARED_MEMORY_PER_BLOCK_OPTIN``, e.g. 227 KiB on an H100), read when the
        kernels are launched; 48 KiB where no GPU answers (the simulator, recorded launches).
        Launches above 48 KiB opt the kernel in through the driver.
    persistent_max_hidden : int, default=512
        ``"auto"`` uses the stepwise path above this hidden size: a persistent block does
        ``G*H*H`` multiply-adds per row per step alone, while the stepwise product spreads
        them over many blocks.
    elementwise_threads : int, default=256
        Threads per block of the training kernels (batch gathering, layer-input assembly,
        dropout, losses, gradient norm, optimizer steps).
    max_elementwise_blocks : int, default=1024
        Most blocks of an elementwise training kernel; each thread loops over the elements
        with the grid's stride beyond that.
    norm_blocks : int, default=64
        Most blocks of the first stage of the gradient-norm reduction (the second stage adds
        their partial sums in order in one thread, so the norm is the same run to run).
    dropout_states : int, default=16384
        Random-number generator states (xoroshiro128+, one per thread of the dropout
        kernel, rounded down to a multiple of ``elementwise_threads``).
    split_min_hidden : int, default=128
        Smallest hidden size for which ``"auto"`` uses the hidden-split kernels (when
        ``W_hh`` does not fit one block's shared memory).
    split_units : int, optional
        Hidden units per slice of the hidden-split kernels. Default: about
        ``hidden_size / target_blocks`` (at least 1), so the slices fill the GPU.
    """

    path: str = "auto"
    block: tuple[int, int] | None = None
    rows_per_thread: int | None = None
    cache_weights: bool | None = None
    gemm_block: tuple[int, int] | None = None
    gemm_bk: int = 16
    aux_block: tuple[int, int] = (32, 8)
    target_blocks: int = 160
    min_split_rows: int = 1024
    max_shared_bytes: int | None = None
    persistent_max_hidden: int = 512
    elementwise_threads: int = 256
    max_elementwise_blocks: int = 1024
    norm_blocks: int = 64
    dropout_states: int = 16384
    split_min_hidden: int = 128
    split_units: int | None = None

    def __post_init__(self):
        if self.path not in PATHS:
            raise ValueError(f"LaunchConfig.path must be one of {PATHS}, got {self.path!r}.")
        for name in ("block", "gemm_block", "aux_block"):
            value = getattr(self, name)
            if value is None:
                continue
            ok = (
                isinstance(value, tuple)
                and len(value) == 2
                and all(isinstance(v, int) and v >= 1 for v in value)
                and value[0] * value[1] <= MAX_THREADS_PER_BLOCK
            )
            if not ok:
                raise ValueError(
                    f"LaunchConfig.{name} must be a tuple (x, y) of positive ints with "
                    f"x*y <= {MAX_THREADS_PER_BLOCK}, got {value!r}."
                )
        if self.rows_per_thread is not None and not (
            isinstance(self.rows_per_thread, int) and 1 <= self.rows_per_thread <= MAX_ROWS_PER_THREAD
        ):
            raise ValueError(
                f"LaunchConfig.rows_per_thread must be an int from 1 to {MAX_ROWS_PER_THREAD}, "
                f"got {self.rows_per_thread!r}."
            )
        for name in (
            "gemm_bk",
            "target_blocks",
            "min_split_rows",
            "max_elementwise_blocks",
            "norm_blocks",
            "dropout_states",
            "split_min_hidden",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"LaunchConfig.{name} must be a positive int, got {value!r}.")
        if self.split_units is not None and (not isinstance(self.split_units, int) or self.split_units < 1):
            raise ValueError(
                f"LaunchConfig.split_units must be a positive int or None, got {self.split_units!r}."
            )
        if self.max_shared_bytes is not None and (
            not isinstance(self.max_shared_bytes, int) or self.max_shared_bytes < 1
        ):
            raise ValueError(
                "LaunchConfig.max_shared_bytes must be a positive int or None, "
                f"got {self.max_shared_bytes!r}."
            )
        threads = self.elementwise_threads
        if not (isinstance(threads, int) and 1 <= threads <= MAX_THREADS_PER_BLOCK):
            raise ValueError(
                f"LaunchConfig.elementwise_threads must be an int from 1 to {MAX_THREADS_PER_BLOCK}, "
                f"got {self.elementwise_threads!r}."
            )
        if not isinstance(self.persistent_max_hidden, int) or self.persistent_max_hidden < 0:
            raise ValueError(
                "LaunchConfig.persistent_max_hidden must be a non-negative int, "
                f"got {self.persistent_max_hidden!r}."
            )


@dataclass(frozen=True)
class RecurrencePlan:
    """What :func:`plan_recurrence` decided for one layer."""

    path: str  # "persistent", "split" or "stepwise"
    block: tuple[int, int]
    rows_per_thread: int
    grid: int  # blocks of the persistent kernels
    cache_weights_forward: bool
    cache_weights_backward: bool
    shared_forward: int  # bytes of dynamic shared memory
    shared_backward: int
    split_units: int = 0  # hidden units per slice of the "split" path


def shared_limit(config: LaunchConfig) -> int:
    """``config.max_shared_bytes``, or 48 KiB when it is left to the GPU and none was asked
    (the launchers resolve it first: :func:`tsrnn.kernels.cuda._layer.with_device_limits`)."""
    return DEFAULT_SHARED_BYTES if config.max_shared_bytes is None else config.max_shared_bytes


def _next_pow2(v: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(v, 1))))


def persistent_shared_bytes(
    n_gates: int, hidden: int, rows: int, itemsize: int, cache_weights: bool
) -> tuple[int, int]:
    """Dynamic shared memory (bytes) of the persistent forward and backward kernels.

    Forward: two ``(rows, H)`` hidden-state buffers (+ ``W_hh^T``, ``G*H*H``, when cached).
    Backward: ``dh (rows, H)`` and the recurrent pre-activation gradients ``(rows, G*H)``
    (+ ``W_hh`` when cached).
    """
    w = n_gates * hidden * hidden if cache_weights else 0
    fwd = (2 * rows * hidden + w) * itemsize
    bwd = (rows * hidden + rows * n_gates * hidden + w) * itemsize
    return fwd, bwd


def plan_recurrence(
    n_gates: int, batch: int, hidden: int, itemsize: int, config: LaunchConfig
) -> RecurrencePlan:
    """Choose the path, block shape and shared-memory layout of the recurrence kernels."""
    if config.block is not None:
        bx, by = config.block
    else:
        bx = min(256, _next_pow2(hidden))
        by = max(1, min(128 // bx, batch))
    if config.rows_per_thread is not None:
        rpt = config.rows_per_thread
    else:
        # More rows per thread reuse each weight load more but leave fewer blocks to spread
        # over the multiprocessors; only worth it when there are blocks to spare.
        rpt = 2 if math.ceil(batch / by) >= 2 * config.target_blocks else 1
    rows = by * rpt
    grid = math.ceil(batch / rows)
    limit = shared_limit(config)
    fwd0, bwd0 = persistent_shared_bytes(n_gates, hidden, rows, itemsize, False)
    fits = max(fwd0, bwd0) <= limit
    if config.path == "persistent" and not fits:
        raise ValueError(
            f"the persistent kernels need {max(fwd0, bwd0)} bytes of shared memory for "
            f"{rows} batch rows of hidden size {hidden}, more than max_shared_bytes={limit}; "
            "use fewer rows per block (LaunchConfig.block / rows_per_thread) or path='stepwise'."
        )
    fwd1, bwd1 = persistent_shared_bytes(n_gates, hidden, rows, itemsize, True)
    if config.path == "auto":
        if (
            hidden >= config.split_min_hidden
            and max(fwd1, bwd1) > limit
            and split_units(n_gates, hidden, itemsize, config) is not None
        ):
            path = "split"
        else:
            path = "persistent" if fits and hidden <= config.persistent_max_hidden else "stepwise"
    else:
        path = config.path
    if path == "split":
        return plan_split(n_gates, batch, hidden, itemsize, config)
    if path == "persistent" and bx * by > MAX_PERSISTENT_THREADS:
        raise ValueError(
            f"the persistent kernels take at most {MAX_PERSISTENT_THREADS} threads per block "
            f"(register file), got LaunchConfig.block={config.block}; use fewer threads or "
            "path='stepwise'."
        )
    if config.cache_weights is None:
        cache_f, cache_b = fwd1 <= limit, bwd1 <= limit
    else:
        cache_f = cache_b = bool(config.cache_weights)
        if cache_f and max(fwd1, bwd1) > limit:
            raise ValueError(
                f"cache_weights=True needs {max(fwd1, bwd1)} bytes of shared memory, more than "
                f"max_shared_bytes={limit}; leave cache_weights=None to cache only when it fits."
            )
    return RecurrencePlan(
        path=path,
        block=(bx, by),
        rows_per_thread=rpt,
        grid=grid,
        cache_weights_forward=cache_f,
        cache_weights_backward=cache_b,
        shared_forward=fwd1 if cache_f else fwd0,
        shared_backward=bwd1 if cache_b else bwd0,
    )


def split_slice_bytes(n_gates: int, hidden: int, units: int, itemsize: int) -> int:
    """Shared memory (bytes) of one slice of ``W_hh`` in the hidden-split kernels."""
    return n_gates * units * hidden * itemsize


def split_units(n_gates: int, hidden: int, itemsize: int, config: LaunchConfig) -> int | None:
    """Hidden units per slice of the hidden-split kernels: ``config.split_units``, or about
    ``hidden / target_blocks`` (so the slices fill the GPU) but no more than one block's
    shared memory holds; None when not even one unit's rows of ``W_hh`` fit."""
    per_unit = split_slice_bytes(n_gates, hidden, 1, itemsize)
    fit = shared_limit(config) // per_unit
    if config.split_units is not None:
        return min(config.split_units, hidden)
    if fit < 1:
        return None
    return min(max(1, math.ceil(hidden / config.target_blocks)), fit, hidden)


def plan_split(n_gates: int, batch: int, hidden: int, itemsize: int, config: LaunchConfig) -> RecurrencePlan:
    """The hidden-split plan: units per slice, block shape, and ``grid`` = the number of
    slices (the launcher runs as many blocks as the GPU can hold at once, each owning one or
    more slices, and sizes the shared memory from that)."""
    units = split_units(n_gates, hidden, itemsize, config) or 1
    if config.block is not None:
        bx, by = config.block
    else:
        bx = min(32, _next_pow2(units))
        by = max(1, min(128 // bx, batch))
    one = split_slice_bytes(n_gates, hidden, units, itemsize)
    if one > shared_limit(config):
        raise ValueError(
            f"one slice of {units} hidden units of W_hh needs {one} bytes of shared memory, more "
            f"than max_shared_bytes={shared_limit(config)}; use fewer LaunchConfig.split_units."
        )
    if bx * by > MAX_PERSISTENT_THREADS:
        raise ValueError(
            f"the split kernels take at most {MAX_PERSISTENT_THREADS} threads per block, got "
            f"LaunchConfig.block={config.block}."
        )
    return RecurrencePlan(
        path="split",
        block=(bx, by),
        rows_per_thread=1,
        grid=math.ceil(hidden / units),
        cache_weights_forward=True,
        cache_weights_backward=True,
        shared_forward=one,
        shared_backward=one,
        split_units=units,
    )


def gemm_block(m: int, n: int, config: LaunchConfig) -> tuple[int, int]:
    """Threads ``(x, y)`` of a tiled product with an ``m x n`` output.

    Narrow outputs (``n`` of 1 to 8 columns, e.g. ``dx`` with a few input features) get
    narrow, tall tiles so few threads idle; otherwise 16 x 16 threads (64 x 64 tiles).
    """
    if config.gemm_block is not None:
        return config.gemm_block
    bx = min(16, _next_pow2(math.ceil(n / MICRO)))
    by = min(256 // bx, max(1, _next_pow2(math.ceil(m / MICRO))), 64)
    return bx, by


def split_count(k: int, tiles: int, config: LaunchConfig) -> tuple[int, int]:
    """``(splits, rows per split)`` for a product whose reduction has ``k`` rows and whose
    output has ``tiles`` blocks: split until about ``target_blocks`` blocks run, with at
    least ``min_split_rows`` rows per split (rounded to the tile depth)."""
    want = max(1, math.ceil(config.target_blocks / max(tiles, 1)))
    most = max(1, k // config.min_split_rows)
    splits = min(want, most)
    if splits <= 1:
        return 1, k
    chunk = math.ceil(math.ceil(k / splits) / config.gemm_bk) * config.gemm_bk
    return math.ceil(k / chunk), chunk
