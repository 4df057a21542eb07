"""Building blocks shared by the jitted CPU kernels.

Design (measured lever by lever in ``docs/performance.md``):

* **One parallel strategy: the batch.** Sequences of a batch are independent, so each thread
  runs the whole time loop (forward, and the backward recurrence) for its own blocks of batch
  rows with no synchronisation per step. Nothing calls BLAS, so no second thread pool competes
  for the cores. The blocks depend on the batch size only, never on the number of threads, so
  the weight gradients (per-block partial sums added in block order) and therefore whole
  training runs are bit-identical whatever the thread count: a model trained in a one-thread
  worker process equals the same model trained with every core.
* **Register-blocked matrix products** (:func:`mm_nn`, :func:`mm_tn_acc`) written with the explicit
  SIMD vectors of :mod:`._simd`: a tile of accumulators stays in registers while the contraction
  index runs, which reaches the arithmetic peak of a core for the small, skinny products of a
  recurrent step where a BLAS call is dominated by its overhead. The tile is sized from the
  target's vector register count (:data:`TILES`): 4 rows x 4 vectors with 32 registers
  (AVX-512, aarch64), 6 rows x 2 vectors with AVX2's 16.
* **Padded, transposed weights.** Each gate block is padded to ``Hp`` (a multiple of the vector
  width) and stored contraction-major, so every product and every elementwise pass works on whole
  vectors. Padding lanes carry zero weights, so they compute zeros and never reach the outputs.
* **Input projection fused into the step** (one extra product with ``K = D`` per step) instead
  of materialising ``(L, N, G*H)``; weight gradients are accumulated inside the backward loop
  while the step's pre-activation gradients are hot in cache, per thread, and summed at the end.
* **Elementwise passes on explicit vectors too.** LLVM would not vectorise the gate loops (it
  cannot prove that the gate blocks of one array do not overlap), and this Numba build has no
  SVML, so ``math.tanh`` is a scalar libm call. The gate math is written with the vectors of
  :mod:`._simd`; float32 uses a rational tanh (within 4e-7, NaN in -> NaN out), float64 keeps
  libm's tanh lane by lane (it is the gradient-check dtype). Rows of the caller's arrays whose
  length is not a multiple of the vector width are read and written with masked accesses.
* ``error_model="numpy"`` (no zero-division branch in the loops) and only the ``contract``
  fast-math flag: nothing assumes the absence of NaN/inf, so training sees a divergence.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import overload

from ._simd import VECTOR_BYTES, VECTOR_REGISTERS, lanes_of, vadd, vfma, vload, vsplat, vstore, vsum, vzero

JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"contract"}}
njit = numba.njit(**JIT)
# The kernels' outer functions split the batch over threads.
PJIT = dict(JIT, parallel=True)

# Parallel blocks of batch rows: at least MIN_BLOCK_ROWS rows each (below that a block costs
# more than it saves), at most 4 blocks until they would exceed LARGE_BLOCK_ROWS rows, at most
# MAX_BLOCKS in all. Every block keeps its own weight-gradient partial sum (G*H*(D+H) values),
# so more blocks than cores cost memory traffic (docs/performance.md has the measurements).
MIN_BLOCK_ROWS = 16
LARGE_BLOCK_ROWS = 64
MAX_BLOCKS = 16

# Register tiles of the products, (rows, vectors of columns): each keeps rows x vectors
# accumulators, plus one register per column vector of ``b`` and one broadcast of ``a``, in
# vector registers while the contraction runs. The largest implemented tile that fits the
# target's register file is used: 4 x 4 (21 registers) with 32 (AVX-512, aarch64), 6 x 2
# (15 registers; the shape of BLIS's Haswell kernel) with 16 (AVX2). A tile that does not fit
# spills accumulators to the stack on every contraction step. Tiles and spill counts per target
# are recorded in docs/performance.md.
TILES = ((4, 4), (6, 2))


def tile_for(registers: int) -> tuple[int, int]:
    """The tile ``(rows, vectors)`` with the most accumulators that fits ``registers``."""
    fitting = [t for t in TILES if t[0] * t[1] + t[1] + 1 <= registers]
    if not fitting:
        raise ValueError(f"no register tile fits {registers} vector registers")
    return max(fitting, key=lambda t: t[0] * t[1])


TILE_ROWS, TILE_VECS = tile_for(VECTOR_REGISTERS)

# A zero that jitted code types as a plain int64. A literal ``0`` given to a jitted function
# (or a variable that starts at 0) makes Numba compile that callee, and everything it calls,
# once more for the literal value (benchmarks/compile_profile.py lists such copies).
ZERO = np.int64(0)

# ----------------------------------------------------------------------------- layout

# Columns of a weight-gradient partial moved together when it is transposed back into the
# caller's layout (:func:`unpack_transposed_sum`): one 64-byte cache line of float32, two of float64.
TRANSPOSE_BLOCK = 16


@njit
def padded(h, array):
    """``h`` rounded up to a whole number of SIMD vectors of the dtype of ``array``."""
    v = lanes_of(array)
    return (h + v - 1) // v * v


@njit
def pack_transposed(w, n_gates, hidden, hp):
    """``(G*H, K)`` weights -> ``(K, G*Hp)``: contraction-major, each gate block padded to ``Hp``."""
    k_dim = w.shape[1]
    wt = np.zeros((k_dim, n_gates * hp), w.dtype)
    for g in range(n_gates):
        for j in range(hidden):
            for k in range(k_dim):
                wt[k, g * hp + j] = w[g * hidden + j, k]
    return wt


@njit
def _panel_width(j, m, v):
    return TILE_VECS * v if j + TILE_VECS * v <= m else v


@njit
def pack_transposed_panels(w, n_gates, hidden, hp):
    """:func:`pack_transposed` laid out for :func:`mm_nn` (see :func:`pack_panels`), in one pass
    that reads ``w`` row by row (this runs on every kernel call)."""
    k_dim = w.shape[1]
    m = n_gates * hp
    out = np.empty(k_dim * m, w.dtype)
    v = lanes_of(w)
    j0 = 0
    while j0 < m:
        width = _panel_width(j0, m, v)
        base = j0 * k_dim
        for q in range(width):
            g, jj = divmod(j0 + q, hp)
            if jj < hidden:
                row = g * hidden + jj
                for k in range(k_dim):
                    out[base + k * width + q] = w[row, k]
            else:
                for k in range(k_dim):
                    out[base + k * width + q] = 0.0
        j0 += width
    return out


@njit
def pack_rows(w, n_gates, hidden, hp, kp):
    """``(G*H, K)`` weights -> ``(G*Hp, Kp)`` (rows gate-padded, columns zero-padded to ``Kp``)
    laid out for :func:`mm_nn` (see :func:`pack_panels`), in one pass."""
    k_dim = w.shape[1]
    rows = n_gates * hp
    out = np.zeros(rows * kp, w.dtype)
    v = lanes_of(w)
    j0 = 0
    while j0 < kp:
        width = _panel_width(j0, kp, v)
        base = j0 * rows
        for r in range(rows):
            g, jj = divmod(r, hp)
            if jj < hidden:
                for q in range(min(width, k_dim - j0)):
                    out[base + r * width + q] = w[g * hidden + jj, j0 + q]
        j0 += width
    return out


@njit
def pack_bias(b, n_gates, hidden, hp):
    bp = np.zeros(n_gates * hp, b.dtype)
    for g in range(n_gates):
        for j in range(hidden):
            bp[g * hp + j] = b[g * hidden + j]
    return bp


@njit
def unpack_transposed_sum(parts, n_gates, hidden, hp, w):
    """Inverse of :func:`pack_transposed`, summing the per-thread partials ``parts[c]``.

    A blocked transpose: for each ``k``, a block of ``TRANSPOSE_BLOCK`` neighbouring columns of
    ``parts`` (one cache line) goes to as many rows of ``w``. Walking one column of ``parts``
    at a time instead touches a new cache line, ``hp * n_gates`` elements away, on every read.
    """
    for g in range(n_gates):
        for j0 in range(0, hidden, TRANSPOSE_BLOCK):
            j1 = min(hidden, j0 + TRANSPOSE_BLOCK)
            for k in range(w.shape[1]):
                for j in range(j0, j1):
                    s = parts[0, k, g * hp + j]
                    for c in range(1, parts.shape[0]):
                        s += parts[c, k, g * hp + j]
                    w[g * hidden + j, k] = s


@njit
def unpack_bias_sum(parts, side, n_gates, hidden, hp, b):
    """Inverse of :func:`pack_bias`, summing the per-thread partials ``parts[c, side]``."""
    for g in range(n_gates):
        for j in range(hidden):
            s = parts[0, side, g * hp + j]
            for c in range(1, parts.shape[0]):
                s += parts[c, side, g * hp + j]
            b[g * hidden + j] = s


@njit
def n_chunks(n):
    """How many blocks of batch rows the threads share: a function of the batch size alone,
    so that results do not depend on the number of threads (see the module docstring)."""
    return max(1, min(n // MIN_BLOCK_ROWS, max(4, n // LARGE_BLOCK_ROWS), MAX_BLOCKS))


@njit
def chunk_bounds(n, chunks, c):
    """Rows ``[lo, hi)`` of block ``c``; blocks are multiples of 4 rows (the tile height)."""
    step = ((n + chunks - 1) // chunks + 3) // 4 * 4
    lo = min(n, c * step)
    return lo, min(n, lo + step)


# ----------------------------------------------------------------------------- products


# Contraction block of the products: a panel of KC rows x TILE_VECS vectors of ``b`` (32 KiB)
# stays in the L1 cache while every row block of ``a`` passes over it: 128 rows with 4 vectors of
# 64 bytes, 512 with 2 vectors of 32 bytes.
KC = 32768 // (TILE_VECS * VECTOR_BYTES)


@njit
def _nn_panel4(a, r0, nr, bf, m, j, k0, k1, cf, first, bias):
    """Columns ``j:j+4v`` of ``c`` for all ``nr`` rows, contraction steps ``[k0, k1)``.

    Tiles of 4 rows x 4 vectors (16 accumulators in registers), then single rows. The
    columns' panel of ``b`` starts at ``j * K`` with row stride ``4v`` (see pack_panels).
    """
    v = lanes_of(bias)
    base = j * a.shape[1]
    i = 0
    while i + 4 <= nr:
        ra = r0 + i
        o = i * m + j
        if first:
            c00 = vload(bias, j)
            c01 = vload(bias, j + v)
            c02 = vload(bias, j + 2 * v)
            c03 = vload(bias, j + 3 * v)
            c10, c11, c12, c13 = c00, c01, c02, c03
            c20, c21, c22, c23 = c00, c01, c02, c03
            c30, c31, c32, c33 = c00, c01, c02, c03
        else:
            c00, c01, c02, c03 = vload(cf, o), vload(cf, o + v), vload(cf, o + 2 * v), vload(cf, o + 3 * v)
            p = o + m
            c10, c11, c12, c13 = vload(cf, p), vload(cf, p + v), vload(cf, p + 2 * v), vload(cf, p + 3 * v)
            p += m
            c20, c21, c22, c23 = vload(cf, p), vload(cf, p + v), vload(cf, p + 2 * v), vload(cf, p + 3 * v)
            p += m
            c30, c31, c32, c33 = vload(cf, p), vload(cf, p + v), vload(cf, p + 2 * v), vload(cf, p + 3 * v)
        for k in range(k0, k1):
            q = base + k * 4 * v
            b0 = vload(bf, q)
            b1 = vload(bf, q + v)
            b2 = vload(bf, q + 2 * v)
            b3 = vload(bf, q + 3 * v)
            s = vsplat(a[ra, k])
            c00, c01, c02, c03 = vfma(s, b0, c00), vfma(s, b1, c01), vfma(s, b2, c02), vfma(s, b3, c03)
            s = vsplat(a[ra + 1, k])
            c10, c11, c12, c13 = vfma(s, b0, c10), vfma(s, b1, c11), vfma(s, b2, c12), vfma(s, b3, c13)
            s = vsplat(a[ra + 2, k])
            c20, c21, c22, c23 = vfma(s, b0, c20), vfma(s, b1, c21), vfma(s, b2, c22), vfma(s, b3, c23)
            s = vsplat(a[ra + 3, k])
            c30, c31, c32, c33 = vfma(s, b0, c30), vfma(s, b1, c31), vfma(s, b2, c32), vfma(s, b3, c33)
        vstore(cf, o, c00)
        vstore(cf, o + v, c01)
        vstore(cf, o + 2 * v, c02)
        vstore(cf, o + 3 * v, c03)
        o += m
        vstore(cf, o, c10)
        vstore(cf, o + v, c11)
        vstore(cf, o + 2 * v, c12)
        vstore(cf, o + 3 * v, c13)
        o += m
        vstore(cf, o, c20)
        vstore(cf, o + v, c21)
        vstore(cf, o + 2 * v, c22)
        vstore(cf, o + 3 * v, c23)
        o += m
        vstore(cf, o, c30)
        vstore(cf, o + v, c31)
        vstore(cf, o + 2 * v, c32)
        vstore(cf, o + 3 * v, c33)
        i += 4
    while i < nr:
        ra = r0 + i
        o = i * m + j
        if first:
            c0, c1, c2, c3 = (
                vload(bias, j),
                vload(bias, j + v),
                vload(bias, j + 2 * v),
                vload(bias, j + 3 * v),
            )
        else:
            c0, c1, c2, c3 = vload(cf, o), vload(cf, o + v), vload(cf, o + 2 * v), vload(cf, o + 3 * v)
        for k in range(k0, k1):
            q = base + k * 4 * v
            s = vsplat(a[ra, k])
            c0 = vfma(s, vload(bf, q), c0)
            c1 = vfma(s, vload(bf, q + v), c1)
            c2 = vfma(s, vload(bf, q + 2 * v), c2)
            c3 = vfma(s, vload(bf, q + 3 * v), c3)
        vstore(cf, o, c0)
        vstore(cf, o + v, c1)
        vstore(cf, o + 2 * v, c2)
        vstore(cf, o + 3 * v, c3)
        i += 1


@njit
def _nn_panel2(a, r0, nr, bf, m, j, k0, k1, cf, first, bias):
    """Columns ``j:j+2v`` of ``c`` for all ``nr`` rows, contraction steps ``[k0, k1)``: the tile
    for 16 vector registers. Tiles of 6 rows x 2 vectors (12 accumulators), then one of 4 rows,
    then single rows. The panel of ``b`` starts at ``j * K`` with row stride ``2v``."""
    v = lanes_of(bias)
    base = j * a.shape[1]
    i = 0
    while i + 6 <= nr:
        ra = r0 + i
        o = i * m + j
        if first:
            c00, c01 = vload(bias, j), vload(bias, j + v)
            c10, c11 = c00, c01
            c20, c21 = c00, c01
            c30, c31 = c00, c01
            c40, c41 = c00, c01
            c50, c51 = c00, c01
        else:
            c00, c01 = vload(cf, o), vload(cf, o + v)
            c10, c11 = vload(cf, o + m), vload(cf, o + m + v)
            c20, c21 = vload(cf, o + 2 * m), vload(cf, o + 2 * m + v)
            c30, c31 = vload(cf, o + 3 * m), vload(cf, o + 3 * m + v)
            c40, c41 = vload(cf, o + 4 * m), vload(cf, o + 4 * m + v)
            c50, c51 = vload(cf, o + 5 * m), vload(cf, o + 5 * m + v)
        for k in range(k0, k1):
            q = base + k * 2 * v
            b0 = vload(bf, q)
            b1 = vload(bf, q + v)
            s = vsplat(a[ra, k])
            c00, c01 = vfma(s, b0, c00), vfma(s, b1, c01)
            s = vsplat(a[ra + 1, k])
            c10, c11 = vfma(s, b0, c10), vfma(s, b1, c11)
            s = vsplat(a[ra + 2, k])
            c20, c21 = vfma(s, b0, c20), vfma(s, b1, c21)
            s = vsplat(a[ra + 3, k])
            c30, c31 = vfma(s, b0, c30), vfma(s, b1, c31)
            s = vsplat(a[ra + 4, k])
            c40, c41 = vfma(s, b0, c40), vfma(s, b1, c41)
            s = vsplat(a[ra + 5, k])
            c50, c51 = vfma(s, b0, c50), vfma(s, b1, c51)
        vstore(cf, o, c00)
        vstore(cf, o + v, c01)
        vstore(cf, o + m, c10)
        vstore(cf, o + m + v, c11)
        vstore(cf, o + 2 * m, c20)
        vstore(cf, o + 2 * m + v, c21)
        vstore(cf, o + 3 * m, c30)
        vstore(cf, o + 3 * m + v, c31)
        vstore(cf, o + 4 * m, c40)
        vstore(cf, o + 4 * m + v, c41)
        vstore(cf, o + 5 * m, c50)
        vstore(cf, o + 5 * m + v, c51)
        i += 6
    if i + 4 <= nr:
        ra = r0 + i
        o = i * m + j
        if first:
            c00, c01 = vload(bias, j), vload(bias, j + v)
            c10, c11 = c00, c01
            c20, c21 = c00, c01
            c30, c31 = c00, c01
        else:
            c00, c01 = vload(cf, o), vload(cf, o + v)
            c10, c11 = vload(cf, o + m), vload(cf, o + m + v)
            c20, c21 = vload(cf, o + 2 * m), vload(cf, o + 2 * m + v)
            c30, c31 = vload(cf, o + 3 * m), vload(cf, o + 3 * m + v)
        for k in range(k0, k1):
            q = base + k * 2 * v
            b0 = vload(bf, q)
            b1 = vload(bf, q + v)
            s = vsplat(a[ra, k])
            c00, c01 = vfma(s, b0, c00), vfma(s, b1, c01)
            s = vsplat(a[ra + 1, k])
            c10, c11 = vfma(s, b0, c10), vfma(s, b1, c11)
            s = vsplat(a[ra + 2, k])
            c20, c21 = vfma(s, b0, c20), vfma(s, b1, c21)
            s = vsplat(a[ra + 3, k])
            c30, c31 = vfma(s, b0, c30), vfma(s, b1, c31)
        vstore(cf, o, c00)
        vstore(cf, o + v, c01)
        vstore(cf, o + m, c10)
        vstore(cf, o + m + v, c11)
        vstore(cf, o + 2 * m, c20)
        vstore(cf, o + 2 * m + v, c21)
        vstore(cf, o + 3 * m, c30)
        vstore(cf, o + 3 * m + v, c31)
        i += 4
    while i < nr:
        ra = r0 + i
        o = i * m + j
        if first:
            c0, c1 = vload(bias, j), vload(bias, j + v)
        else:
            c0, c1 = vload(cf, o), vload(cf, o + v)
        for k in range(k0, k1):
            q = base + k * 2 * v
            s = vsplat(a[ra, k])
            c0 = vfma(s, vload(bf, q), c0)
            c1 = vfma(s, vload(bf, q + v), c1)
        vstore(cf, o, c0)
        vstore(cf, o + v, c1)
        i += 1


@njit
def _nn_panel1(a, r0, nr, bf, m, j, k0, k1, cf, first, bias):
    """Columns ``j:j+v`` (one vector) of ``c`` for all ``nr`` rows: 4-row tiles, then rows."""
    v = lanes_of(bias)
    base = j * a.shape[1]
    i = 0
    while i + 4 <= nr:
        ra = r0 + i
        o = i * m + j
        if first:
            c0 = vload(bias, j)
            c1, c2, c3 = c0, c0, c0
        else:
            c0, c1, c2, c3 = vload(cf, o), vload(cf, o + m), vload(cf, o + 2 * m), vload(cf, o + 3 * m)
        for k in range(k0, k1):
            b0 = vload(bf, base + k * v)
            c0 = vfma(vsplat(a[ra, k]), b0, c0)
            c1 = vfma(vsplat(a[ra + 1, k]), b0, c1)
            c2 = vfma(vsplat(a[ra + 2, k]), b0, c2)
            c3 = vfma(vsplat(a[ra + 3, k]), b0, c3)
        vstore(cf, o, c0)
        vstore(cf, o + m, c1)
        vstore(cf, o + 2 * m, c2)
        vstore(cf, o + 3 * m, c3)
        i += 4
    while i < nr:
        o = i * m + j
        c0 = vload(bias, j) if first else vload(cf, o)
        for k in range(k0, k1):
            c0 = vfma(vsplat(a[r0 + i, k]), vload(bf, base + k * v), c0)
        vstore(cf, o, c0)
        i += 1


@njit
def pack_panels(b):
    """``(K, M)`` -> flat panels: columns in blocks of ``TILE_VECS`` vectors (then single vectors
    for the rest), each block stored ``K`` rows x its width contiguously.

    A tile then streams one contiguous panel instead of rows ``M`` elements apart, which would
    map to the same L1 cache sets when ``M`` is a large power of two.
    """
    k_dim, m = b.shape
    v = lanes_of(b)
    out = np.empty(k_dim * m, b.dtype)
    j = 0
    while j < m:
        w = _panel_width(j, m, v)
        base = j * k_dim
        for k in range(k_dim):
            for q in range(w):
                out[base + k * w + q] = b[k, j + q]
        j += w
    return out


@njit
def mm_nn(a, r0, nr, bp, bias, c):
    """``c[i, :] = bias + a[r0 + i, :] @ b`` for ``i < nr``, with ``bp = pack_panels(b)``.

    ``a (., K)``, ``b (K, M)`` and ``c (>= nr, M)`` C-contiguous with ``M`` a multiple of the
    vector width. Tiles of ``TILE_ROWS`` rows x ``TILE_VECS`` vectors keep their accumulators in
    registers while ``k`` runs; for large ``K`` the contraction is cut into blocks of ``KC`` so
    that the panel of ``b`` in use stays in L1 while all row blocks pass over it.
    """
    k_dim = a.shape[1]
    m = c.shape[1]
    v = lanes_of(c)
    bf = bp
    cf = c.reshape(c.size)
    j = ZERO
    while j < m:
        wide = j + TILE_VECS * v <= m
        for k0 in range(0, max(k_dim, 1), KC):
            k1 = min(k_dim, k0 + KC)
            if not wide:
                _nn_panel1(a, r0, nr, bf, m, j, k0, k1, cf, k0 == 0, bias)
            elif TILE_VECS == 4:
                _nn_panel4(a, r0, nr, bf, m, j, k0, k1, cf, k0 == 0, bias)
            else:
                _nn_panel2(a, r0, nr, bf, m, j, k0, k1, cf, k0 == 0, bias)
        j += TILE_VECS * v if wide else v


@njit
def mm_tn_acc(a, r0, nr, b, c):
    """``c[k, :] += sum_{i < nr} a[r0 + i, k] * b[i, :]`` (a rank-``nr`` update).

    ``a (., K)``, ``b (>= nr, M)``, ``c (K, M)`` C-contiguous, ``M`` a multiple of the vector
    width. Used for the weight gradients ``dW^T += inputs^T @ dpre`` of one step. Column panels
    of ``b`` (``TILE_VECS`` vectors wide) are copied to a contiguous buffer first, which then stays in L1
    while all rows of ``c`` pass over it (rows of ``b`` lie ``M`` elements apart and would
    compete for the same L1 sets).
    """
    k_dim = a.shape[1]
    m = c.shape[1]
    v = lanes_of(c)
    cf = c.reshape(c.size)
    bf = b.reshape(b.size)
    # Small operands stay in L1 anyway, and a short update (K < 16 rows of c, e.g. the input
    # weights with D = 1 or 8) does not reuse a panel enough to pay for its copy.
    copy = k_dim >= 16 and nr * m * b.itemsize > 32768
    buf = np.empty(nr * TILE_VECS * v if copy else 0, c.dtype)
    j = ZERO
    while j < m:
        w = _panel_width(j, m, v)
        if copy:
            for i in range(nr):
                for q in range(0, w, v):
                    vstore(buf, i * w + q, vload(bf, i * m + j + q))
            src, off, stride = buf, ZERO, w
        else:
            src, off, stride = bf, j, m
        if w == v:
            _tn_panel1(a, r0, nr, src, off, stride, cf, m, j, k_dim)
        elif TILE_VECS == 4:
            _tn_panel4(a, r0, nr, src, off, stride, cf, m, j, k_dim)
        else:
            _tn_panel2(a, r0, nr, src, off, stride, cf, m, j, k_dim)
        j += w


@njit
def _tn_panel4(a, r0, nr, buf, off, w, cf, m, j, k_dim):
    """Columns ``j:j+4v`` of ``c``: tiles of 4 rows x 4 vectors, then single rows. Row ``i`` of
    the panel of ``b`` starts at ``buf[off + i * w]``."""
    v = lanes_of(buf)
    k = 0
    while k + 4 <= k_dim:
        o = k * m + j
        c00, c01, c02, c03 = vload(cf, o), vload(cf, o + v), vload(cf, o + 2 * v), vload(cf, o + 3 * v)
        o += m
        c10, c11, c12, c13 = vload(cf, o), vload(cf, o + v), vload(cf, o + 2 * v), vload(cf, o + 3 * v)
        o += m
        c20, c21, c22, c23 = vload(cf, o), vload(cf, o + v), vload(cf, o + 2 * v), vload(cf, o + 3 * v)
        o += m
        c30, c31, c32, c33 = vload(cf, o), vload(cf, o + v), vload(cf, o + 2 * v), vload(cf, o + 3 * v)
        for i in range(nr):
            ra = r0 + i
            q = off + i * w
            b0 = vload(buf, q)
            b1 = vload(buf, q + v)
            b2 = vload(buf, q + 2 * v)
            b3 = vload(buf, q + 3 * v)
            s = vsplat(a[ra, k])
            c00, c01, c02, c03 = vfma(s, b0, c00), vfma(s, b1, c01), vfma(s, b2, c02), vfma(s, b3, c03)
            s = vsplat(a[ra, k + 1])
            c10, c11, c12, c13 = vfma(s, b0, c10), vfma(s, b1, c11), vfma(s, b2, c12), vfma(s, b3, c13)
            s = vsplat(a[ra, k + 2])
            c20, c21, c22, c23 = vfma(s, b0, c20), vfma(s, b1, c21), vfma(s, b2, c22), vfma(s, b3, c23)
            s = vsplat(a[ra, k + 3])
            c30, c31, c32, c33 = vfma(s, b0, c30), vfma(s, b1, c31), vfma(s, b2, c32), vfma(s, b3, c33)
        o = k * m + j
        vstore(cf, o, c00)
        vstore(cf, o + v, c01)
        vstore(cf, o + 2 * v, c02)
        vstore(cf, o + 3 * v, c03)
        o += m
        vstore(cf, o, c10)
        vstore(cf, o + v, c11)
        vstore(cf, o + 2 * v, c12)
        vstore(cf, o + 3 * v, c13)
        o += m
        vstore(cf, o, c20)
        vstore(cf, o + v, c21)
        vstore(cf, o + 2 * v, c22)
        vstore(cf, o + 3 * v, c23)
        o += m
        vstore(cf, o, c30)
        vstore(cf, o + v, c31)
        vstore(cf, o + 2 * v, c32)
        vstore(cf, o + 3 * v, c33)
        k += 4
    while k < k_dim:
        o = k * m + j
        c0, c1, c2, c3 = vload(cf, o), vload(cf, o + v), vload(cf, o + 2 * v), vload(cf, o + 3 * v)
        for i in range(nr):
            s = vsplat(a[r0 + i, k])
            q = off + i * w
            c0 = vfma(s, vload(buf, q), c0)
            c1 = vfma(s, vload(buf, q + v), c1)
            c2 = vfma(s, vload(buf, q + 2 * v), c2)
            c3 = vfma(s, vload(buf, q + 3 * v), c3)
        vstore(cf, o, c0)
        vstore(cf, o + v, c1)
        vstore(cf, o + 2 * v, c2)
        vstore(cf, o + 3 * v, c3)
        k += 1


@njit
def _tn_panel2(a, r0, nr, buf, off, w, cf, m, j, k_dim):
    """Columns ``j:j+2v`` of ``c``, the tile for 16 vector registers: tiles of 6 rows x 2 vectors,
    then one of 4 rows, then single rows. Row ``i`` of the panel of ``b`` starts at ``buf[off + i * w]``."""
    v = lanes_of(buf)
    k = 0
    while k + 6 <= k_dim:
        o = k * m + j
        c00, c01 = vload(cf, o), vload(cf, o + v)
        c10, c11 = vload(cf, o + m), vload(cf, o + m + v)
        c20, c21 = vload(cf, o + 2 * m), vload(cf, o + 2 * m + v)
        c30, c31 = vload(cf, o + 3 * m), vload(cf, o + 3 * m + v)
        c40, c41 = vload(cf, o + 4 * m), vload(cf, o + 4 * m + v)
        c50, c51 = vload(cf, o + 5 * m), vload(cf, o + 5 * m + v)
        for i in range(nr):
            ra = r0 + i
            q = off + i * w
            b0 = vload(buf, q)
            b1 = vload(buf, q + v)
            s = vsplat(a[ra, k])
            c00, c01 = vfma(s, b0, c00), vfma(s, b1, c01)
            s = vsplat(a[ra, k + 1])
            c10, c11 = vfma(s, b0, c10), vfma(s, b1, c11)
            s = vsplat(a[ra, k + 2])
            c20, c21 = vfma(s, b0, c20), vfma(s, b1, c21)
            s = vsplat(a[ra, k + 3])
            c30, c31 = vfma(s, b0, c30), vfma(s, b1, c31)
            s = vsplat(a[ra, k + 4])
            c40, c41 = vfma(s, b0, c40), vfma(s, b1, c41)
            s = vsplat(a[ra, k + 5])
            c50, c51 = vfma(s, b0, c50), vfma(s, b1, c51)
        vstore(cf, o, c00)
        vstore(cf, o + v, c01)
        vstore(cf, o + m, c10)
        vstore(cf, o + m + v, c11)
        vstore(cf, o + 2 * m, c20)
        vstore(cf, o + 2 * m + v, c21)
        vstore(cf, o + 3 * m, c30)
        vstore(cf, o + 3 * m + v, c31)
        vstore(cf, o + 4 * m, c40)
        vstore(cf, o + 4 * m + v, c41)
        vstore(cf, o + 5 * m, c50)
        vstore(cf, o + 5 * m + v, c51)
        k += 6
    if k + 4 <= k_dim:
        o = k * m + j
        c00, c01 = vload(cf, o), vload(cf, o + v)
        c10, c11 = vload(cf, o + m), vload(cf, o + m + v)
        c20, c21 = vload(cf, o + 2 * m), vload(cf, o + 2 * m + v)
        c30, c31 = vload(cf, o + 3 * m), vload(cf, o + 3 * m + v)
        for i in range(nr):
            ra = r0 + i
            q = off + i * w
            b0 = vload(buf, q)
            b1 = vload(buf, q + v)
            s = vsplat(a[ra, k])
            c00, c01 = vfma(s, b0, c00), vfma(s, b1, c01)
            s = vsplat(a[ra, k + 1])
            c10, c11 = vfma(s, b0, c10), vfma(s, b1, c11)
            s = vsplat(a[ra, k + 2])
            c20, c21 = vfma(s, b0, c20), vfma(s, b1, c21)
            s = vsplat(a[ra, k + 3])
            c30, c31 = vfma(s, b0, c30), vfma(s, b1, c31)
        vstore(cf, o, c00)
        vstore(cf, o + v, c01)
        vstore(cf, o + m, c10)
        vstore(cf, o + m + v, c11)
        vstore(cf, o + 2 * m, c20)
        vstore(cf, o + 2 * m + v, c21)
        vstore(cf, o + 3 * m, c30)
        vstore(cf, o + 3 * m + v, c31)
        k += 4
    while k < k_dim:
        o = k * m + j
        c0, c1 = vload(cf, o), vload(cf, o + v)
        for i in range(nr):
            s = vsplat(a[r0 + i, k])
            q = off + i * w
            c0 = vfma(s, vload(buf, q), c0)
            c1 = vfma(s, vload(buf, q + v), c1)
        vstore(cf, o, c0)
        vstore(cf, o + v, c1)
        k += 1


@njit
def _tn_panel1(a, r0, nr, buf, off, w, cf, m, j, k_dim):
    """Columns ``j:j+v`` (one vector) of ``c``: tiles of 4 rows, then single rows."""
    k = 0
    while k + 4 <= k_dim:
        o = k * m + j
        c0, c1, c2, c3 = vload(cf, o), vload(cf, o + m), vload(cf, o + 2 * m), vload(cf, o + 3 * m)
        for i in range(nr):
            ra = r0 + i
            b0 = vload(buf, off + i * w)
            c0 = vfma(vsplat(a[ra, k]), b0, c0)
            c1 = vfma(vsplat(a[ra, k + 1]), b0, c1)
            c2 = vfma(vsplat(a[ra, k + 2]), b0, c2)
            c3 = vfma(vsplat(a[ra, k + 3]), b0, c3)
        vstore(cf, o, c0)
        vstore(cf, o + m, c1)
        vstore(cf, o + 2 * m, c2)
        vstore(cf, o + 3 * m, c3)
        k += 4
    while k < k_dim:
        o = k * m + j
        c0 = vload(cf, o)
        for i in range(nr):
            c0 = vfma(vsplat(a[r0 + i, k]), vload(buf, off + i * w), c0)
        vstore(cf, o, c0)
        k += 1


@njit
def row_dots(p, i, wt, out_row):
    """``out_row[d] = p[i, :] . wt[d, :]`` for every row ``d`` of ``wt`` (``(D, M)``).

    The input gradient ``dx_t = dpre_t @ W_ih`` of one batch row, with ``W_ih`` kept in its
    padded contraction-major form; a few dot products, so no padding of ``D`` is wasted.
    """
    m = p.shape[1]
    v = lanes_of(p)
    pf = p.reshape(p.size)
    wf = wt.reshape(wt.size)
    for d in range(wt.shape[0]):
        acc0 = vzero(p)
        acc1 = vzero(p)
        j = 0
        while j + 2 * v <= m:
            acc0 = vfma(vload(pf, i * m + j), vload(wf, d * m + j), acc0)
            acc1 = vfma(vload(pf, i * m + j + v), vload(wf, d * m + j + v), acc1)
            j += 2 * v
        if j < m:
            acc0 = vfma(vload(pf, i * m + j), vload(wf, d * m + j), acc0)
        out_row[d] = vsum(vadd(acc0, acc1))


@njit
def column_sums_acc(p, nr, acc):
    """``acc += p[:nr].sum(axis=0)`` (bias gradients of one step)."""
    m = p.shape[1]
    v = lanes_of(p)
    pf = p.reshape(p.size)
    j = 0
    while j < m:
        s = vload(acc, j)
        for i in range(nr):
            s = vadd(s, vload(pf, i * m + j))
        vstore(acc, j, s)
        j += v


def scalar(array, value):
    """``value`` as a scalar of the dtype of ``array`` (keeps float32 arithmetic in float32)."""
    return array.dtype.type(value)


@overload(scalar, jit_options={"error_model": "numpy"})
def _scalar_overload(array, value):
    dtype = array.dtype
    return lambda array, value: dtype(value)
