"""Device code: the numba.cuda kernels and device functions.

Every kernel is built by a factory specialised on the float dtype (and on the cell for the
recurrence), so the numeric constants are of the array dtype: a Python float literal in a
float32 kernel would promote the arithmetic to float64, which runs at 1/2 to 1/64 of the
float32 rate on NVIDIA GPUs. ``tests/kernels/cuda/test_cuda_ptx.py`` checks the float32 PTX
for float64 instructions.

Kernels (the host side that launches them is :mod:`tsrnn.kernels.cuda._layer`):

``gemm``
    ``C[s] (+)= op(A)[:, K_s] @ op(B)[K_s, :] (+ bias)``: a shared-memory tiled matrix product
    with a 4x4 register tile per thread. ``blockIdx.z`` selects a slice ``K_s`` of the
    reduction dimension (split-K) whose partial result goes to its own slab ``C[s]``;
    :func:`reduce_splits` then sums the slabs in a fixed order. No atomics: results are
    deterministic run to run.
``reduce_splits``
    ``out (+)= sum_s partial[s]``.
``column_sums``
    Partial column sums of a matrix (the bias gradients), one slab per row chunk.
``transpose``
    Tiled transpose through shared memory (``W_hh -> W_hh^T`` for coalesced reads).
``forward_persistent`` / ``backward_persistent``
    The whole time loop in one launch. One thread block owns a group of batch rows and every
    hidden unit of them, so a step only needs ``syncthreads`` (see docs/cuda.md).
``forward_split`` / ``backward_split``
    The hidden-split persistent recurrence for large ``H``: blocks own slices of the hidden
    units and keep their part of ``W_hh`` in shared memory for all steps, with one grid-wide
    barrier per step (a cooperative launch).
``forward_step`` / ``backward_step``
    One elementwise pass of one time step, for the fallback path that launches the tiled
    product and this kernel once per step.
"""

from __future__ import annotations

import math
from functools import cache
from types import SimpleNamespace

import numba
import numpy as np
from numba import cuda, int64, uint64

from ..._layout import CELLS, cell_spec

# Outputs per thread along each axis of a GEMM tile (register blocking): a thread keeps a
# MICRO x MICRO accumulator tile in registers and reads 2*MICRO shared values per MICRO^2 FMAs.
MICRO = 4
# Largest number of gates of any cell (LSTM) and of batch rows one thread of a persistent
# kernel may own. Both are compile-time trip counts, so the accumulators stay in registers.
MAX_GATES = 4
MAX_ROWS_PER_THREAD = 4
# Local-array sizes must be literal constants at module level for numba.cuda.
MICRO_TILE = MICRO * MICRO
ACC_SIZE = MAX_ROWS_PER_THREAD * MAX_GATES

# cache=True: a second process loads the compiled kernels instead of recompiling them.
JIT = {"cache": True}
DEVICE_JIT = {"device": True, "inline": "always"}

# Gates per cell, from the one cell table.
GATES = {name: spec.n_gates for name, spec in CELLS.items()}


_DTYPE_NAMES: dict = {}


def dtype_name(dtype) -> str:
    """``np.dtype(dtype).name``, memoised: the host code asks for it at every launch, and
    NumPy's own lookup costs microseconds."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = np.dtype(dtype).name
    return name


def _constants(dtype_name: str):
    t = np.dtype(dtype_name).type
    return numba.from_dtype(np.dtype(dtype_name)), t(0.0), t(0.5), t(1.0)


# --------------------------------------------------------------------------- matrix products


@cache
def linalg_kernels(dtype_name: str) -> SimpleNamespace:
    """The tiled matrix-product, split reduction, column-sum and transpose kernels."""
    T, ZERO, _HALF, _ONE = _constants(dtype_name)

    @cuda.jit(**JIT)
    def gemm(a, b, c, bias, trans_a, trans_b, accumulate, k_chunk, bk):
        """``c[s] (+)= op(a) @ op(b) (+ bias)`` over the K range of split ``s = blockIdx.z``.

        ``op(a)`` is ``(M, K)``: ``a`` itself, or ``a.T`` when ``trans_a`` (``a`` is then
        ``(K, M)``). Likewise ``op(b)`` is ``(K, Nc)``. ``c`` is ``(S, M, Nc)``. A block of
        ``(bx, by)`` threads computes a ``(by*MICRO) x (bx*MICRO)`` tile of ``c``; thread
        ``(tx, ty)`` owns rows ``ty + i*by`` and columns ``tx + j*bx`` of it (strided, so a
        warp's global stores and shared loads are contiguous). ``bias`` (zero-size for none)
        is added to every row by split 0.
        """
        if trans_a:
            M = a.shape[1]
            K = a.shape[0]
        else:
            M = a.shape[0]
            K = a.shape[1]
        Nc = c.shape[2]
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        bx = cuda.blockDim.x
        by = cuda.blockDim.y
        tid = ty * bx + tx
        nthreads = bx * by
        BM = by * MICRO
        BN = bx * MICRO
        PA = BM + 1  # padded pitches: transposing stores do not hit one shared bank
        PB = BN + 1
        m0 = cuda.blockIdx.y * BM
        n0 = cuda.blockIdx.x * BN
        s = cuda.blockIdx.z
        k_begin = s * k_chunk
        k_end = min(K, k_begin + k_chunk)

        smem = cuda.shared.array(0, T)
        a_tile = smem[: bk * PA]
        b_tile = smem[bk * PA : bk * PA + bk * PB]

        acc = cuda.local.array(MICRO_TILE, T)
        ra = cuda.local.array(MICRO, T)
        rb = cuda.local.array(MICRO, T)
        for e in range(MICRO * MICRO):
            acc[e] = ZERO

        for k0 in range(k_begin, k_end, bk):
            # Stage op(a)[m0:m0+BM, k0:k0+bk] and op(b)[k0:k0+bk, n0:n0+BN], zero-padded.
            # Consecutive threads read consecutive addresses of the stored layout.
            for e in range(tid, BM * bk, nthreads):
                if trans_a:
                    mm = e % BM
                    kk = e // BM
                else:
                    kk = e % bk
                    mm = e // bk
                m = m0 + mm
                k = k0 + kk
                v = ZERO
                if m < M and k < k_end:
                    v = a[k, m] if trans_a else a[m, k]
                a_tile[kk * PA + mm] = v
            for e in range(tid, BN * bk, nthreads):
                if trans_b:
                    kk = e % bk
                    nn = e // bk
                else:
                    nn = e % BN
                    kk = e // BN
                n = n0 + nn
                k = k0 + kk
                v = ZERO
                if n < Nc and k < k_end:
                    v = b[n, k] if trans_b else b[k, n]
                b_tile[kk * PB + nn] = v
            cuda.syncthreads()
            for kk in range(bk):
                for i in range(MICRO):
                    ra[i] = a_tile[kk * PA + ty + i * by]
                for j in range(MICRO):
                    rb[j] = b_tile[kk * PB + tx + j * bx]
                for i in range(MICRO):
                    for j in range(MICRO):
                        acc[i * MICRO + j] += ra[i] * rb[j]
            cuda.syncthreads()

        add_bias = bias.shape[0] > 0 and s == 0
        for i in range(MICRO):
            m = m0 + ty + i * by
            if m < M:
                for j in range(MICRO):
                    n = n0 + tx + j * bx
                    if n < Nc:
                        v = acc[i * MICRO + j]
                        if add_bias:
                            v += bias[n]
                        if accumulate:
                            v += c[s, m, n]
                        c[s, m, n] = v

    @cuda.jit(**JIT)
    def weight_grads(
        a_ih, a_hh, x, h0, h_seq, dw_ih, dw_hh, db_ih, db_hh, partial, counters, k_chunk, bk, separate
    ):
        """All weight and bias gradients of a layer in one launch, from the pre-activation
        gradients of all steps (``a_ih``, ``a_hh``: ``(K, M)`` with ``K = L*N``, ``M = G*H``):

        ``[dW_ih | dW_hh | db] = a^T [X | H_prev | 1]`` with ``H_prev`` the hidden state
        before each step (rows ``< N`` from ``h0``, the others from ``h_seq = out[:-1]``
        flattened) and ``1`` a column of ones (the bias gradient is the column sum). When
        ``separate`` (the GRU's recurrent side differs) problem ``p = 0`` is
        ``a_ih^T [X | 1]`` (``dW_ih``, ``db_ih``) and ``p = 1`` is ``a_hh^T [H_prev | 1]``
        (``dW_hh``, ``db_hh``); otherwise one problem and ``db_hh = db_ih``.

        Tiling as :func:`gemm` (``blockIdx.z = p*S + s`` with ``S`` splits of the reduction,
        ``k_chunk`` rows each). With ``S > 1`` each block writes its partial tile to its own
        slab of ``partial`` (``(P, tiles_m, tiles_n, S, slab)``: the slabs of one tile are
        contiguous and no two tiles share a cache line), then the last block of a tile to
        finish (a counter per tile, ``counters``, zero between launches) adds the ``S`` slabs
        in order ``s = 0..S-1`` and writes the gradients: the same sum whichever block comes
        last, so results are bit-for-bit reproducible, and no separate reduction launch.
        """
        K = a_ih.shape[0]
        M = a_ih.shape[1]
        D = x.shape[1]
        N = h0.shape[0]
        H = h0.shape[1]
        P = 2 if separate else 1
        S = cuda.gridDim.z // P
        p = cuda.blockIdx.z // S
        s = cuda.blockIdx.z % S
        xw = D if p == 0 else 0
        hw = H if (p == 1 or not separate) else 0
        Wd = xw + hw + 1
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        bx = cuda.blockDim.x
        by = cuda.blockDim.y
        tid = ty * bx + tx
        nthreads = bx * by
        BM = by * MICRO
        BN = bx * MICRO
        PA = BM + 1
        PB = BN + 1
        m0 = cuda.blockIdx.y * BM
        n0 = cuda.blockIdx.x * BN
        if n0 >= Wd:  # a column tile of the wider problem only: the whole block leaves
            return
        k_begin = s * k_chunk
        k_end = min(K, k_begin + k_chunk)

        smem = cuda.shared.array(0, T)
        a_tile = smem[: bk * PA]
        b_tile = smem[bk * PA : bk * PA + bk * PB]
        acc = cuda.local.array(MICRO_TILE, T)
        ra = cuda.local.array(MICRO, T)
        rb = cuda.local.array(MICRO, T)
        for e in range(MICRO * MICRO):
            acc[e] = ZERO

        for k0 in range(k_begin, k_end, bk):
            for e in range(tid, BM * bk, nthreads):
                mm = e % BM
                kk = e // BM
                m = m0 + mm
                k = k0 + kk
                v = ZERO
                if m < M and k < k_end:
                    v = a_ih[k, m] if p == 0 else a_hh[k, m]
                a_tile[kk * PA + mm] = v
            for e in range(tid, BN * bk, nthreads):
                nn = e % BN
                kk = e // BN
                c = n0 + nn
                k = k0 + kk
                v = ZERO
                if c < Wd and k < k_end:
                    if c < xw:
                        v = x[k, c]
                    elif c < xw + hw:
                        v = h0[k, c - xw] if k < N else h_seq[k - N, c - xw]
                    else:
                        v = _ONE
                b_tile[kk * PB + nn] = v
            cuda.syncthreads()
            for kk in range(bk):
                for i in range(MICRO):
                    ra[i] = a_tile[kk * PA + ty + i * by]
                for j in range(MICRO):
                    rb[j] = b_tile[kk * PB + tx + j * bx]
                for i in range(MICRO):
                    for j in range(MICRO):
                        acc[i * MICRO + j] += ra[i] * rb[j]
            cuda.syncthreads()

        if S > 1:
            tile = partial[p, cuda.blockIdx.y, cuda.blockIdx.x]
            for i in range(MICRO):
                for j in range(MICRO):
                    tile[s, (ty + i * by) * BN + tx + j * bx] = acc[i * MICRO + j]
            cuda.threadfence()  # this block's slab is visible before the counter says so
            cuda.syncthreads()
            if tid == 0:
                tile_id = (p * cuda.gridDim.y + cuda.blockIdx.y) * cuda.gridDim.x + cuda.blockIdx.x
                done = cuda.atomic.add(counters, tile_id, 1)
                last = done == S - 1
                smem[0] = _ONE if last else ZERO
                if last:
                    counters[tile_id] = 0  # ready for the next launch
            cuda.syncthreads()
            if smem[0] == ZERO:
                return
            cuda.threadfence()
            for i in range(MICRO):
                for j in range(MICRO):
                    e = (ty + i * by) * BN + tx + j * bx
                    v = ZERO
                    for ss in range(S):
                        v += tile[ss, e]
                    acc[i * MICRO + j] = v

        for i in range(MICRO):
            m = m0 + ty + i * by
            if m < M:
                for j in range(MICRO):
                    c = n0 + tx + j * bx
                    if c < Wd:
                        v = acc[i * MICRO + j]
                        if c < xw:
                            dw_ih[m, c] = v
                        elif c < xw + hw:
                            dw_hh[m, c - xw] = v
                        elif p == 0:
                            db_ih[m] = v
                            if not separate:
                                db_hh[m] = v
                        else:
                            db_hh[m] = v

    @cuda.jit(**JIT)
    def reduce_splits(partial, out, accumulate):
        """``out (+)= partial.sum(axis=0)``, summing the slabs in order (deterministic)."""
        S = partial.shape[0]
        M = out.shape[0]
        Nc = out.shape[1]
        e = cuda.grid(1)
        if e < M * Nc:
            m = e // Nc
            n = e % Nc
            v = ZERO
            for s in range(S):
                v += partial[s, m, n]
            if accumulate:
                v += out[m, n]
            out[m, n] = v

    @cuda.jit(**JIT)
    def column_sums(a, partial, r_chunk):
        """``partial[s, 0, c] = a[s*r_chunk:(s+1)*r_chunk, c].sum()`` for ``s = blockIdx.y``.

        Threads ``(tx, ty)`` of a block share column ``c``; each sums a strided subset of the
        rows and thread ``ty = 0`` adds the ``by`` partial sums in order.
        """
        R = a.shape[0]
        C = a.shape[1]
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        bx = cuda.blockDim.x
        by = cuda.blockDim.y
        col = cuda.blockIdx.x * bx + tx
        s = cuda.blockIdx.y
        r_end = min(R, (s + 1) * r_chunk)
        v = ZERO
        if col < C:
            for r in range(s * r_chunk + ty, r_end, by):
                v += a[r, col]
        smem = cuda.shared.array(0, T)
        smem[ty * bx + tx] = v
        cuda.syncthreads()
        if ty == 0 and col < C:
            total = ZERO
            for yy in range(by):
                total += smem[yy * bx + tx]
            partial[s, 0, col] = total

    @cuda.jit(**JIT)
    def transpose(src, dst):
        """``dst = src.T`` through a ``bx x (bx+1)`` shared tile; a block of ``(bx, by)``
        threads moves one ``bx x bx`` tile, each thread ``bx/by`` elements per direction."""
        R = src.shape[0]
        C = src.shape[1]
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        bx = cuda.blockDim.x
        by = cuda.blockDim.y
        P = bx + 1
        smem = cuda.shared.array(0, T)
        c0 = cuda.blockIdx.x * bx
        r0 = cuda.blockIdx.y * bx
        for yy in range(ty, bx, by):
            r = r0 + yy
            c = c0 + tx
            if r < R and c < C:
                smem[yy * P + tx] = src[r, c]
        cuda.syncthreads()
        for yy in range(ty, bx, by):
            c = c0 + yy
            r = r0 + tx
            if r < R and c < C:
                dst[c, r] = smem[tx * P + yy]

    return SimpleNamespace(
        gemm=gemm,
        weight_grads=weight_grads,
        reduce_splits=reduce_splits,
        column_sums=column_sums,
        transpose=transpose,
    )


# --------------------------------------------------------------------------- cell arithmetic


def _cell_units(cell: str, dtype_name: str):
    """The per-unit forward and backward arithmetic of ``cell`` as device functions.

    ``fwd(t, n, j, H, a0..a3, h_prev, b_hh, c0, out, aux, gates) -> h_t[n, j]`` takes the
    recurrent sums ``a_g = (W_hh h_{t-1})[g*H + j]`` (without ``b_hh``) and writes ``out``,
    ``aux`` and ``gates`` at ``(t, n, j)`` exactly as :mod:`tsrnn.kernels.reference` defines
    them; the input projection (with ``b_ih``) is already in ``gates`` (``out`` for RNN).

    ``bwd(t, n, j, H, dh, h0, c0, out, aux, gates, d_cn, dc0, dpre_ih, dpre_hh)`` takes the
    total hidden-state gradient ``dh`` of the unit, writes the pre-activation gradients of
    the input side (``dpre_ih``) and the recurrent side (``dpre_hh``; GRU only, the other
    cells share one array) and returns ``(carry, p0, p1, p2, p3)``: the part of ``dh_{t-1}``
    that does not go through ``W_hh`` (GRU: ``dh*z``) and the recurrent-side gradients
    ``p_g`` of the unit. The LSTM cell-state gradient is carried in ``dc0`` (read from
    ``d_cn`` at the last step), which holds ``dc_0`` when the loop ends.

    The indices may be signed or unsigned integers (the persistent kernels index with unsigned
    ones); gate offsets are sums (``H + H``), since a signed literal times an unsigned integer
    is a float in numba.
    """
    _T, ZERO, HALF, ONE = _constants(dtype_name)

    @cuda.jit(**DEVICE_JIT)
    def sigmoid(v):
        return HALF + HALF * math.tanh(HALF * v)

    spec = cell_spec(cell)
    if spec.n_gates == 1:  # Elman RNN
        relu = spec.torch_nonlinearity == "relu"

        @cuda.jit(**DEVICE_JIT)
        def fwd(t, n, j, H, a0, a1, a2, a3, h_prev, b_hh, c0, out, aux, gates):
            v = out[t, n, j] + a0 + b_hh[j]
            if relu:
                h = v if v > ZERO else ZERO
            else:
                h = math.tanh(v)
            out[t, n, j] = h
            return h

        @cuda.jit(**DEVICE_JIT)
        def bwd(t, n, j, H, dh, h0, c0, out, aux, gates, d_cn, dc0, dpre_ih, dpre_hh):
            h = out[t, n, j]
            if relu:
                d = dh if h > ZERO else ZERO
            else:
                d = dh * (ONE - h * h)
            dpre_ih[t, n, j] = d
            return ZERO, d, ZERO, ZERO, ZERO

    elif spec.has_cell_state:  # LSTM

        @cuda.jit(**DEVICE_JIT)
        def fwd(t, n, j, H, a0, a1, a2, a3, h_prev, b_hh, c0, out, aux, gates):
            i = sigmoid(gates[t, n, j] + a0 + b_hh[j])
            f = sigmoid(gates[t, n, H + j] + a1 + b_hh[H + j])
            g = math.tanh(gates[t, n, H + H + j] + a2 + b_hh[H + H + j])
            o = sigmoid(gates[t, n, H + H + H + j] + a3 + b_hh[H + H + H + j])
            c_prev = c0[n, j] if t == 0 else aux[t - 1, n, j]
            c = f * c_prev + i * g
            h = o * math.tanh(c)
            gates[t, n, j] = i
            gates[t, n, H + j] = f
            gates[t, n, H + H + j] = g
            gates[t, n, H + H + H + j] = o
            aux[t, n, j] = c
            out[t, n, j] = h
            return h

        @cuda.jit(**DEVICE_JIT)
        def bwd(t, n, j, H, dh, h0, c0, out, aux, gates, d_cn, dc0, dpre_ih, dpre_hh):
            L = out.shape[0]
            i = gates[t, n, j]
            f = gates[t, n, H + j]
            g = gates[t, n, H + H + j]
            o = gates[t, n, H + H + H + j]
            tanh_c = math.tanh(aux[t, n, j])
            c_prev = c0[n, j] if t == 0 else aux[t - 1, n, j]
            dc_next = d_cn[n, j] if t == L - 1 else dc0[n, j]
            dc = dc_next + dh * o * (ONE - tanh_c * tanh_c)
            d_i = dc * g * i * (ONE - i)
            d_f = dc * c_prev * f * (ONE - f)
            d_g = dc * i * (ONE - g * g)
            d_o = dh * tanh_c * o * (ONE - o)
            dpre_ih[t, n, j] = d_i
            dpre_ih[t, n, H + j] = d_f
            dpre_ih[t, n, H + H + j] = d_g
            dpre_ih[t, n, H + H + H + j] = d_o
            dc0[n, j] = dc * f
            return ZERO, d_i, d_f, d_g, d_o

    elif spec.recurrent_term_gate is not None:  # GRU: W_hn h + b_hn kept apart, scaled by r

        @cuda.jit(**DEVICE_JIT)
        def fwd(t, n, j, H, a0, a1, a2, a3, h_prev, b_hh, c0, out, aux, gates):
            r = sigmoid(gates[t, n, j] + a0 + b_hh[j])
            z = sigmoid(gates[t, n, H + j] + a1 + b_hh[H + j])
            hn = a2 + b_hh[H + H + j]
            nn = math.tanh(gates[t, n, H + H + j] + r * hn)
            h = (ONE - z) * nn + z * h_prev
            gates[t, n, j] = r
            gates[t, n, H + j] = z
            gates[t, n, H + H + j] = nn
            aux[t, n, j] = hn
            out[t, n, j] = h
            return h

        @cuda.jit(**DEVICE_JIT)
        def bwd(t, n, j, H, dh, h0, c0, out, aux, gates, d_cn, dc0, dpre_ih, dpre_hh):
            r = gates[t, n, j]
            z = gates[t, n, H + j]
            nn = gates[t, n, H + H + j]
            h_prev = h0[n, j] if t == 0 else out[t - 1, n, j]
            dn_pre = dh * (ONE - z) * (ONE - nn * nn)
            dz_pre = dh * (h_prev - nn) * z * (ONE - z)
            dr_pre = dn_pre * aux[t, n, j] * r * (ONE - r)
            dpre_ih[t, n, j] = dr_pre
            dpre_ih[t, n, H + j] = dz_pre
            dpre_ih[t, n, H + H + j] = dn_pre
            dpre_hh[t, n, j] = dr_pre
            dpre_hh[t, n, H + j] = dz_pre
            dpre_hh[t, n, H + H + j] = dn_pre * r
            return dh * z, dr_pre, dz_pre, dn_pre * r, ZERO

    else:  # pragma: no cover - guarded by the callers
        raise ValueError(f"unknown cell {cell!r}")
    return fwd, bwd


# --------------------------------------------------------------------------- the recurrence

# Unroll factor of the dot-product loops of the persistent kernels.
UNROLL = 4


@cache
def persistent_kernels(cell: str, dtype_name: str, rows_per_thread: int, cache_weights: bool):
    """The persistent forward and backward recurrence of ``cell``, compiled for a fixed number
    of batch rows per thread and for ``W_hh`` in shared (``cache_weights``) or global memory.

    Both choices are compile-time constants, so the row loops unroll into straight-line
    code with no predicated multiply-adds, and every load of ``W_hh`` is a shared- or a
    global-memory load (one variable that may point to either compiles to generic loads).
    All index arithmetic is unsigned 64-bit (numba adds a negative-index wraparound select to
    every signed index) and walks the arrays with additive offsets; the dot-product loops are
    unrolled :data:`UNROLL` times.
    """
    T, ZERO, _HALF, _ONE = _constants(dtype_name)
    G = GATES[cell]
    RPT = rows_per_thread
    CACHED = cache_weights
    NACC = RPT * G
    UG = np.uint64(G)
    URPT = np.uint64(RPT)
    U0 = np.uint64(0)
    U1 = np.uint64(1)
    U2 = np.uint64(2)
    UU = np.uint64(UNROLL)
    fwd_unit, bwd_unit = _cell_units(cell, dtype_name)

    @cuda.jit(**JIT)
    def forward_persistent(w, b_hh, h0, c0, out, aux, gates):
        """All ``L`` steps of the forward recurrence in one launch.

        Block ``b`` owns batch rows ``n0 = b*R ... n0+R-1`` (``R = blockDim.y *
        rows_per_thread``) and all ``H`` units of them. Thread ``(tx, ty)`` owns units
        ``j = tx, tx+bx, ...`` of rows ``ty + q*by`` (``q < rows_per_thread``) for the whole
        sequence, so each thread reuses a weight it loads for all of its rows, and the LSTM
        cell state it reads at step ``t`` is the one it wrote at ``t-1``.

        Shared memory: ``h_{t-1}`` and ``h_t`` of the block's rows (ping-pong buffers, so one
        ``syncthreads`` per step suffices) and, when cached, ``W_hh^T``. The dot products read
        ``W_hh^T`` flattened (``[k*G*H + g*H + j] = W_hh[g*H + j, k]``, so a warp's reads for
        consecutive ``j`` are contiguous): ``w`` is ``W_hh`` flattened when cached (the
        kernel transposes it into shared memory) and ``W_hh^T`` flattened otherwise.
        """
        L = out.shape[0]
        N = uint64(out.shape[1])
        H = uint64(out.shape[2])
        GH = UG * H
        tx = uint64(cuda.threadIdx.x)
        ty = uint64(cuda.threadIdx.y)
        bx = uint64(cuda.blockDim.x)
        by = uint64(cuda.blockDim.y)
        R = by * URPT
        RH = R * H
        n0 = uint64(cuda.blockIdx.x) * R
        HU = H - H % UU  # the unrolled part of the k loop

        smem = cuda.shared.array(0, T)
        hbuf = smem[: int64(2 * RH)]
        if CACHED:
            # ``w`` is W_hh itself (row-major, ``w[gj*H + k]``): transposed on the way into
            # shared memory (reads coalesced, once per launch), so no transpose launch.
            W = smem[int64(2 * RH) : int64(2 * RH + H * GH)]
            for e in range(ty * bx + tx, H * GH, bx * by):
                W[(e % H) * GH + e // H] = w[e]
        else:
            W = w
        for q in range(URPT):
            r = ty + q * by
            n = n0 + r
            for j in range(tx, H, bx):
                hbuf[r * H + j] = h0[n, j] if n < N else ZERO
                hbuf[RH + r * H + j] = ZERO
        cuda.syncthreads()

        acc = cuda.local.array(NACC, T)
        hv = cuda.local.array(RPT, T)
        for t in range(L):
            cur = RH if t % 2 else U0
            nxt = RH - cur
            hrow = cur + ty * H  # h_{t-1} of row q starts at hrow + q*by*H
            for j in range(tx, H, bx):
                for e in range(NACC):
                    acc[e] = ZERO
                w_off = j
                k = U0
                while k < HU:
                    for u in range(UU):
                        for q in range(URPT):
                            hv[q] = hbuf[hrow + q * by * H + k + u]
                        for g in range(UG):
                            w = W[w_off + g * H]
                            for q in range(URPT):
                                acc[q * UG + g] += w * hv[q]
                        w_off += GH
                    k += UU
                while k < H:
                    for q in range(URPT):
                        hv[q] = hbuf[hrow + q * by * H + k]
                    for g in range(UG):
                        w = W[w_off + g * H]
                        for q in range(URPT):
                            acc[q * UG + g] += w * hv[q]
                    w_off += GH
                    k += U1
                for q in range(URPT):
                    r = ty + q * by
                    n = n0 + r
                    if n < N:
                        a = q * UG
                        h = fwd_unit(
                            t,
                            n,
                            j,
                            H,
                            acc[a],
                            acc[a + U1] if G > 1 else ZERO,
                            acc[a + U2] if G > 2 else ZERO,
                            acc[a + UG - U1] if G > 3 else ZERO,
                            hbuf[cur + r * H + j],
                            b_hh,
                            c0,
                            out,
                            aux,
                            gates,
                        )
                        hbuf[nxt + r * H + j] = h
            cuda.syncthreads()

    @cuda.jit(**JIT)
    def backward_persistent(w_hh, h0, c0, out, aux, gates, d_out, d_hn, d_cn, dpre_ih, dpre_hh, dh0, dc0):
        """All ``L`` steps of BPTT in one launch (same block/row ownership as the forward).

        Per step, phase 1 (units ``j``): the cell's elementwise backward from
        ``dh_t = dh_s + d_out[t]``; writes the pre-activation gradients to global memory and
        the recurrent-side ones of the block's rows to shared ``dp_s``. ``syncthreads``.
        Phase 2 (units ``k``): ``dh_s[r, k] = carry + sum_gj dp_s[r, gj] W_hh[gj, k]``
        (``w_hh`` flattened row-major, so consecutive ``k`` are contiguous). ``syncthreads``.
        Shared memory: ``dh_s (R, H)``, ``dp_s (R, G*H)`` and, when cached, ``W_hh``.
        """
        L = out.shape[0]
        N = uint64(out.shape[1])
        H = uint64(out.shape[2])
        GH = UG * H
        tx = uint64(cuda.threadIdx.x)
        ty = uint64(cuda.threadIdx.y)
        bx = uint64(cuda.blockDim.x)
        by = uint64(cuda.blockDim.y)
        R = by * URPT
        n0 = uint64(cuda.blockIdx.x) * R
        GHU = GH - GH % UU

        smem = cuda.shared.array(0, T)
        dh_s = smem[: int64(R * H)]
        dp_s = smem[int64(R * H) : int64(R * H + R * GH)]
        if CACHED:
            W = smem[int64(R * H + R * GH) : int64(R * H + R * GH + GH * H)]
            for e in range(ty * bx + tx, GH * H, bx * by):
                W[e] = w_hh[e]
        else:
            W = w_hh
        for q in range(URPT):
            r = ty + q * by
            n = n0 + r
            for j in range(tx, H, bx):
                dh_s[r * H + j] = d_hn[n, j] if n < N else ZERO
        cuda.syncthreads()

        acc = cuda.local.array(RPT, T)
        prow = ty * GH  # dp_s of row q starts at prow + q*by*GH
        for step in range(L):
            t = L - 1 - step
            for j in range(tx, H, bx):
                for q in range(URPT):
                    r = ty + q * by
                    n = n0 + r
                    p = r * GH + j
                    if n < N:
                        carry, p0, p1, p2, p3 = bwd_unit(
                            t,
                            n,
                            j,
                            H,
                            dh_s[r * H + j] + d_out[t, n, j],
                            h0,
                            c0,
                            out,
                            aux,
                            gates,
                            d_cn,
                            dc0,
                            dpre_ih,
                            dpre_hh,
                        )
                    else:
                        carry, p0, p1, p2, p3 = ZERO, ZERO, ZERO, ZERO, ZERO
                    dh_s[r * H + j] = carry
                    dp_s[p] = p0
                    if G > 1:
                        dp_s[p + H] = p1
                    if G > 2:
                        dp_s[p + U2 * H] = p2
                    if G > 3:
                        dp_s[p + (UG - U1) * H] = p3
            cuda.syncthreads()
            for k in range(tx, H, bx):
                for q in range(URPT):
                    acc[q] = ZERO
                w_off = k
                gj = U0
                while gj < GHU:
                    for u in range(UU):
                        w = W[w_off]
                        for q in range(URPT):
                            acc[q] += w * dp_s[prow + q * by * GH + gj + u]
                        w_off += H
                    gj += UU
                while gj < GH:
                    w = W[w_off]
                    for q in range(URPT):
                        acc[q] += w * dp_s[prow + q * by * GH + gj]
                    w_off += H
                    gj += U1
                for q in range(URPT):
                    dh_s[(ty + q * by) * H + k] += acc[q]
            cuda.syncthreads()

        for q in range(URPT):
            r = ty + q * by
            n = n0 + r
            if n < N:
                for j in range(tx, H, bx):
                    dh0[n, j] = dh_s[r * H + j]

    return SimpleNamespace(forward_persistent=forward_persistent, backward_persistent=backward_persistent)


@cache
def split_kernels(cell: str, dtype_name: str) -> SimpleNamespace:
    """The hidden-split persistent recurrence of ``cell``: for hidden sizes whose ``W_hh`` does
    not fit one block's shared memory.

    The hidden units are cut into ``S = ceil(H / units)`` slices of ``units`` units; block
    ``b`` of the cooperative grid owns slices ``b, b + gridDim.x, ...`` (one each when the
    grid is large enough) for every batch row and keeps their part of ``W_hh`` in shared
    memory for all ``L`` steps (cuDNN's persistent design). A step needs the hidden state of
    every unit, so the blocks exchange it through global memory with one grid-wide barrier
    (``cg.this_grid().sync()``, which makes numba-cuda launch the kernel cooperatively: all
    blocks resident at once) per step, in the forward and in the backward.
    """
    T, ZERO, _HALF, _ONE = _constants(dtype_name)
    G = GATES[cell]
    UG = np.uint64(G)
    U0 = np.uint64(0)
    U1 = np.uint64(1)
    UU = np.uint64(UNROLL)
    fwd_unit, bwd_unit = _cell_units(cell, dtype_name)

    @cuda.jit(**JIT)
    def forward_split(w_hh, b_hh, h0, c0, out, aux, gates, h0_flat, out_flat, units):
        """All ``L`` forward steps. Shared memory per owned slice ``s``:
        ``[k, g, u] = W_hh[g*H + s*units + u, k]`` (consecutive units contiguous). Thread
        ``(tx, ty)`` owns units ``u = tx, tx+bx, ...`` of each owned slice for rows
        ``n = ty, ty+by, ...``: the sums ``(W_hh h_{t-1})[g*H + j]`` over all ``k`` read
        ``h_{t-1}`` of all units from ``out[t-1]`` (``h0`` at ``t = 0``; ``h0_flat`` and
        ``out_flat`` are the same arrays flattened, for unsigned additive indexing), written
        by every block before the grid barrier that ended step ``t-1``."""
        grid = cuda.cg.this_grid()
        L = out.shape[0]
        N = uint64(out.shape[1])
        H = uint64(out.shape[2])
        U = uint64(units)
        S = (H + U - U1) // U
        nb = uint64(cuda.gridDim.x)
        b = uint64(cuda.blockIdx.x)
        tx = uint64(cuda.threadIdx.x)
        ty = uint64(cuda.threadIdx.y)
        bx = uint64(cuda.blockDim.x)
        by = uint64(cuda.blockDim.y)
        GU = UG * U
        SLICE = GU * H
        HU = H - H % UU  # the unrolled part of the k loop
        smem = cuda.shared.array(0, T)
        base = U0
        for s in range(b, S, nb):
            for e in range(ty * bx + tx, SLICE, bx * by):
                u = e % U
                rest = e // U
                g = rest % UG
                k = rest // UG
                j = s * U + u
                smem[base + e] = w_hh[g * H + j, k] if j < H else ZERO
            base += SLICE
        cuda.syncthreads()
        acc = cuda.local.array(MAX_GATES, T)
        for t in range(L):
            src = h0_flat if t == 0 else out_flat
            step = U0 if t == 0 else uint64(t - 1) * N * H
            base = U0
            for s in range(b, S, nb):
                for u in range(tx, U, bx):
                    j = s * U + u
                    if j < H:
                        for n in range(ty, N, by):
                            for g in range(UG):
                                acc[g] = ZERO
                            row = step + n * H
                            off = base + u
                            k = U0
                            while k < HU:
                                for q in range(UU):
                                    hk = src[row + k + q]
                                    for g in range(UG):
                                        acc[g] += smem[off + g * U] * hk
                                    off += GU
                                k += UU
                            while k < H:
                                hk = src[row + k]
                                for g in range(UG):
                                    acc[g] += smem[off + g * U] * hk
                                off += GU
                                k += U1
                            fwd_unit(
                                t,
                                n,
                                j,
                                H,
                                acc[0],
                                acc[1] if G > 1 else ZERO,
                                acc[2] if G > 2 else ZERO,
                                acc[3] if G > 3 else ZERO,
                                src[row + j],
                                b_hh,
                                c0,
                                out,
                                aux,
                                gates,
                            )
                base += SLICE
            grid.sync()

    @cuda.jit(**JIT)
    def backward_split(
        w_hh, h0, c0, out, aux, gates, d_out, d_hn, d_cn, dpre_ih, dpre_hh, dh0, dc0, dpre_hh_flat, units
    ):
        """All ``L`` BPTT steps, same ownership as the forward; ``dh0`` holds the running
        ``dh`` (each element read and written by its owner only). Per step, phase 1: the
        cell's elementwise backward of the owned units (pre-activation gradients to
        ``dpre_ih``/``dpre_hh``, the non-``W_hh`` part of ``dh_{t-1}`` to ``dh0``); grid
        barrier; phase 2: ``dh0[n, k] += sum_gj dpre_hh[t, n, gj] W_hh[gj, k]`` for the owned
        units ``k`` (shared memory per owned slice: ``[gj, u] = W_hh[gj, s*units + u]``;
        ``dpre_hh_flat`` is ``dpre_hh`` flattened). Phase 2 of step ``t`` reads only
        ``dpre_hh[t]``, which the next step's phase 1 does not write, so one barrier per step
        suffices."""
        grid = cuda.cg.this_grid()
        L = out.shape[0]
        N = uint64(out.shape[1])
        H = uint64(out.shape[2])
        GH = UG * H
        U = uint64(units)
        S = (H + U - U1) // U
        nb = uint64(cuda.gridDim.x)
        b = uint64(cuda.blockIdx.x)
        tx = uint64(cuda.threadIdx.x)
        ty = uint64(cuda.threadIdx.y)
        bx = uint64(cuda.blockDim.x)
        by = uint64(cuda.blockDim.y)
        SLICE = GH * U
        GHU = GH - GH % UU
        smem = cuda.shared.array(0, T)
        base = U0
        for s in range(b, S, nb):
            for e in range(ty * bx + tx, SLICE, bx * by):
                u = e % U
                gj = e // U
                j = s * U + u
                smem[base + e] = w_hh[gj, j] if j < H else ZERO
            for u in range(tx, U, bx):
                j = s * U + u
                if j < H:
                    for n in range(ty, N, by):
                        dh0[n, j] = d_hn[n, j]
            base += SLICE
        cuda.syncthreads()
        for step in range(L):
            t = L - 1 - step
            for s in range(b, S, nb):
                for u in range(tx, U, bx):
                    j = s * U + u
                    if j < H:
                        for n in range(ty, N, by):
                            carry, _p0, _p1, _p2, _p3 = bwd_unit(
                                t, n, j, H, dh0[n, j] + d_out[t, n, j], h0, c0, out, aux, gates, d_cn,
                                dc0, dpre_ih, dpre_hh,
                            )  # fmt: skip
                            dh0[n, j] = carry
            grid.sync()
            base = U0
            for s in range(b, S, nb):
                for u in range(tx, U, bx):
                    k = s * U + u
                    if k < H:
                        for n in range(ty, N, by):
                            row = (uint64(t) * N + n) * GH
                            acc = ZERO
                            off = base + u
                            gj = U0
                            while gj < GHU:
                                for q in range(UU):
                                    acc += dpre_hh_flat[row + gj + q] * smem[off]
                                    off += U
                                gj += UU
                            while gj < GH:
                                acc += dpre_hh_flat[row + gj] * smem[off]
                                off += U
                                gj += U1
                            dh0[n, k] += acc
                base += SLICE

    return SimpleNamespace(forward_split=forward_split, backward_split=backward_split)


@cache
def cell_kernels(cell: str, dtype_name: str) -> SimpleNamespace:
    """The per-step recurrence kernels of ``cell`` for one dtype (the stepwise path)."""
    _T, ZERO, _HALF, _ONE = _constants(dtype_name)
    G = GATES[cell]
    fwd_unit, bwd_unit = _cell_units(cell, dtype_name)

    @cuda.jit(**JIT)
    def forward_step(rec, b_hh, h0, c0, out, aux, gates, t):
        """Elementwise forward of step ``t`` given ``rec = h_{t-1} @ W_hh^T`` (fallback path).

        Grid ``(ceil(H/bx), ceil(N/by))``; thread ``(x, y)`` updates unit ``j = x`` of row
        ``n = y``.
        """
        N = out.shape[1]
        H = out.shape[2]
        j, n = cuda.grid(2)
        if j < H and n < N:
            a1 = rec[n, H + j] if G > 1 else ZERO
            a2 = rec[n, 2 * H + j] if G > 2 else ZERO
            a3 = rec[n, 3 * H + j] if G > 3 else ZERO
            h_prev = h0[n, j] if t == 0 else out[t - 1, n, j]
            fwd_unit(t, n, j, H, rec[n, j], a1, a2, a3, h_prev, b_hh, c0, out, aux, gates)

    @cuda.jit(**JIT)
    def backward_step(h0, c0, out, aux, gates, d_out, d_hn, d_cn, dpre_ih, dpre_hh, dh0, dc0, t):
        """Elementwise backward of step ``t`` (fallback path).

        Reads ``dh`` from ``d_hn`` at the last step and from ``dh0`` (the running gradient)
        otherwise, and leaves the non-``W_hh`` part of ``dh_{t-1}`` in ``dh0``; the host then
        adds ``dpre_hh[t] @ W_hh`` to it with the tiled product.
        """
        L = out.shape[0]
        N = out.shape[1]
        H = out.shape[2]
        j, n = cuda.grid(2)
        if j < H and n < N:
            dh = (d_hn[n, j] if t == L - 1 else dh0[n, j]) + d_out[t, n, j]
            carry, _p0, _p1, _p2, _p3 = bwd_unit(
                t, n, j, H, dh, h0, c0, out, aux, gates, d_cn, dc0, dpre_ih, dpre_hh
            )
            dh0[n, j] = carry

    return SimpleNamespace(forward_step=forward_step, backward_step=backward_step)
