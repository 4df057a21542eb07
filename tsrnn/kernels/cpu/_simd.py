"""Explicit SIMD vectors for the jitted kernels.

Numba has no vector type, and LLVM cannot keep a matrix-product accumulator tile in
registers when it sees it as array memory that might alias the operands. This module adds a
small Numba type whose LLVM representation is a native vector (64 bytes on AVX-512 targets, 32
bytes with AVX2, 16 on aarch64) and a handful of intrinsics (load, store, splat, fused multiply-add,
horizontal sum). Local variables of this type are SSA values, so a register-blocked tile of
accumulators written with them stays in registers; :mod:`._common` builds its matrix
products on them. Arithmetic is IEEE: no flag here assumes the absence of NaN or infinity.
"""

from __future__ import annotations

import operator
import os
import platform

import llvmlite.binding as llb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model


def _target_features() -> str:
    """The CPU features Numba compiles for: ``NUMBA_CPU_FEATURES`` when set, else the host's.

    Numba passes this string to LLVM (with ``NUMBA_CPU_NAME`` or the host CPU); the vector width
    and the register count below follow it, so that ``NUMBA_CPU_NAME=haswell
    NUMBA_CPU_FEATURES=+avx2,+fma`` on an AVX-512 machine compiles the AVX2 code, tiles included.
    """
    from numba.core import config

    if config.CPU_FEATURES is not None:
        return config.CPU_FEATURES
    return llb.get_host_cpu_features().flatten()


_FEATURES = set(_target_features().split(","))
_AARCH64 = platform.machine().lower() in ("aarch64", "arm64")
_AVX512 = "+avx512f" in _FEATURES

# Vector width in bytes: the widest the target has registers for (Numba's cache is keyed by the
# target CPU and its features). TSRNN_VECTOR_BYTES=32 forces the AVX2 width on an AVX-512
# machine, which still has 32 registers (so the tiles stay those of AVX-512); for the whole AVX2
# code, tiles included, compile for an AVX2 CPU as in _target_features. Use it only with a fresh
# NUMBA_CACHE_DIR, since the cache does not know about this setting.
_DEFAULT_BYTES = 16 if _AARCH64 else 64 if _AVX512 else 32 if "+avx" in _FEATURES else 16
VECTOR_BYTES = int(os.environ.get("TSRNN_VECTOR_BYTES", _DEFAULT_BYTES))
if VECTOR_BYTES not in (16, 32, 64):
    raise ValueError(f"TSRNN_VECTOR_BYTES must be 16, 32 or 64, got {VECTOR_BYTES}.")

#: Architectural vector registers the code generator can allocate: 32 with AVX-512 (zmm/ymm/xmm
#: 0-31, also at a forced 32-byte width) and on aarch64 (v0-v31), 16 on x86-64 without AVX-512
#: (ymm/xmm 0-15). The register-blocked products size their tiles from it (``_common``).
VECTOR_REGISTERS = 32 if (_AVX512 or _AARCH64) else 16


class VectorType(types.Type):
    """A SIMD vector of ``VECTOR_BYTES`` bytes holding floats of ``dtype``."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.lanes = VECTOR_BYTES // (dtype.bitwidth // 8)
        super().__init__(name=f"Vector({dtype}x{self.lanes})")


@register_model(VectorType)
class _VectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        element = ir.FloatType() if fe_type.dtype.bitwidth == 32 else ir.DoubleType()
        super().__init__(dmm, fe_type, ir.VectorType(element, fe_type.lanes))


_VECTOR_TYPES: dict = {}


def vector_type(dtype) -> VectorType:
    """The (unique) vector type of a float dtype."""
    if dtype not in _VECTOR_TYPES:
        _VECTOR_TYPES[dtype] = VectorType(dtype)
    return _VECTOR_TYPES[dtype]


def _element_pointer(context, builder, array_type, array, index, vtype):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), context.get_value_type(vtype).as_pointer())


@intrinsic
def vload(typingctx, array, index):
    """Load ``lanes`` consecutive elements of a C-contiguous array starting at flat ``index``."""
    vtype = vector_type(array.dtype)

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1], vtype)
        return builder.load(ptr, align=array.dtype.bitwidth // 8)

    return vtype(array, index), codegen


@intrinsic
def vstore(typingctx, array, index, value):
    """Store a vector into a C-contiguous array at flat ``index``."""

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[2])
        builder.store(args[2], ptr, align=array.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(array, index, value), codegen


@intrinsic
def vsplat(typingctx, scalar):
    """A vector with every lane equal to ``scalar``."""
    vtype = vector_type(scalar)

    def codegen(context, builder, sig, args):
        ltype = context.get_value_type(vtype)
        one = builder.insert_element(
            ir.Constant(ltype, ir.Undefined), args[0], ir.Constant(ir.IntType(32), 0)
        )
        mask = ir.Constant(ir.VectorType(ir.IntType(32), vtype.lanes), [0] * vtype.lanes)
        return builder.shuffle_vector(one, ir.Constant(ltype, ir.Undefined), mask)

    return vtype(scalar), codegen


@intrinsic
def vzero(typingctx, array):
    """A zero vector of the dtype of ``array``."""
    vtype = vector_type(array.dtype)

    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vtype), None)

    return vtype(array), codegen


def _fma_function(builder, ltype):
    bits = 32 if isinstance(ltype.element, ir.FloatType) else 64
    fnty = ir.FunctionType(ltype, [ltype, ltype, ltype])
    return cgutils.get_or_insert_function(builder.module, fnty, f"llvm.fma.v{ltype.count}f{bits}")


@intrinsic
def vfma(typingctx, a, b, c):
    """``a * b + c`` lane by lane, one rounding (hardware FMA)."""

    def codegen(context, builder, sig, args):
        return builder.call(_fma_function(builder, args[0].type), args)

    return a(a, b, c), codegen


@intrinsic
def vadd(typingctx, a, b):
    """``a + b`` lane by lane."""

    def codegen(context, builder, sig, args):
        return builder.fadd(args[0], args[1])

    return a(a, b), codegen


@intrinsic
def vsum(typingctx, a):
    """Sum of the lanes (pairwise tree, so NaN/inf propagate as in any float sum)."""

    def codegen(context, builder, sig, args):
        value = args[0]
        n = value.type.count
        ltype = value.type
        while n > 1:
            half = n // 2
            lo = builder.shuffle_vector(
                value,
                ir.Constant(ltype, ir.Undefined),
                ir.Constant(ir.VectorType(ir.IntType(32), half), list(range(half))),
            )
            hi = builder.shuffle_vector(
                value,
                ir.Constant(ltype, ir.Undefined),
                ir.Constant(ir.VectorType(ir.IntType(32), half), list(range(half, n))),
            )
            value = builder.fadd(lo, hi)
            ltype = value.type
            n = half
        return builder.extract_element(value, ir.Constant(ir.IntType(32), 0))

    return a.dtype(a), codegen


@intrinsic
def lanes_of(typingctx, array):
    """Number of lanes of a vector of the dtype of ``array`` (a compile-time constant)."""
    n = vector_type(array.dtype).lanes

    def codegen(context, builder, sig, args):
        return ir.Constant(ir.IntType(64), n)

    return types.intp(array), codegen


def _mask(builder, lanes, count):
    """``<lanes x i1>``: lane ``k`` is on when ``k < count``."""
    idx = ir.Constant(ir.VectorType(ir.IntType(64), lanes), list(range(lanes)))
    count = builder.sext(count, ir.IntType(64)) if count.type.width < 64 else count
    undef = ir.Constant(ir.VectorType(ir.IntType(64), lanes), ir.Undefined)
    one = builder.insert_element(undef, count, ir.Constant(ir.IntType(32), 0))
    splat = builder.shuffle_vector(one, undef, ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes))
    return builder.icmp_signed("<", idx, splat)


def _whole_vector(builder, lanes, count):
    """``i1``: ``count >= lanes`` (every lane of the access is inside the row)."""
    return builder.icmp_signed(">=", count, ir.Constant(count.type, lanes))


def _suffix(ltype):
    bits = 32 if isinstance(ltype.element, ir.FloatType) else 64
    return f"v{ltype.count}f{bits}"


@intrinsic
def vload_n(typingctx, array, index, count):
    """Like :func:`vload` but reads only the first ``count`` lanes (others are zero): no
    access past the end of a row whose length is not a multiple of the vector width. A whole
    vector (``count >= lanes``, nearly every call) is a plain load; only the row's tail takes
    the masked one."""
    vtype = vector_type(array.dtype)

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1], vtype)
        ltype = context.get_value_type(vtype)
        align = array.dtype.bitwidth // 8
        whole = _whole_vector(builder, vtype.lanes, args[2])
        with builder.if_else(whole, likely=True) as (then, otherwise):
            with then:
                plain = builder.load(ptr, align=align)
                plain_block = builder.block
            with otherwise:
                mask = _mask(builder, vtype.lanes, args[2])
                fnty = ir.FunctionType(ltype, [ptr.type, ir.IntType(32), mask.type, ltype])
                fn = cgutils.get_or_insert_function(
                    builder.module, fnty, f"llvm.masked.load.{_suffix(ltype)}.p0"
                )
                masked = builder.call(
                    fn, [ptr, ir.Constant(ir.IntType(32), align), mask, ir.Constant(ltype, None)]
                )
                masked_block = builder.block
        value = builder.phi(ltype)
        value.add_incoming(plain, plain_block)
        value.add_incoming(masked, masked_block)
        return value

    return vtype(array, index, count), codegen


@intrinsic
def vstore_n(typingctx, array, index, value, count):
    """Like :func:`vstore` but writes only the first ``count`` lanes. A whole vector is a plain
    store: AVX2's masked store (``vmaskmovps``) is microcoded on AMD's Zen 2 and Zen 3, many
    times slower than a store, and only a row's tail needs it."""

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[2])
        ltype = args[2].type
        align = array.dtype.bitwidth // 8
        whole = _whole_vector(builder, ltype.count, args[3])
        with builder.if_else(whole, likely=True) as (then, otherwise):
            with then:
                builder.store(args[2], ptr, align=align)
            with otherwise:
                mask = _mask(builder, ltype.count, args[3])
                fnty = ir.FunctionType(ir.VoidType(), [ltype, ptr.type, ir.IntType(32), mask.type])
                fn = cgutils.get_or_insert_function(
                    builder.module, fnty, f"llvm.masked.store.{_suffix(ltype)}.p0"
                )
                builder.call(fn, [args[2], ptr, ir.Constant(ir.IntType(32), align), mask])
        return context.get_dummy_value()

    return types.none(array, index, value, count), codegen


def _make_binary(instruction):
    @intrinsic
    def op(typingctx, a, b):
        def codegen(context, builder, sig, args):
            return getattr(builder, instruction)(args[0], args[1])

        return a(a, b), codegen

    return op


_fadd, _fsub, _fmul, _fdiv = (_make_binary(n) for n in ("fadd", "fsub", "fmul", "fdiv"))


def _register_operator(op, impl):
    @overload(op)
    def _ol(a, b):
        if isinstance(a, VectorType) and isinstance(b, VectorType):
            return lambda a, b: impl(a, b)
        if isinstance(a, VectorType) and isinstance(b, (types.Float, types.Integer)):
            dtype = a.dtype
            return lambda a, b: impl(a, vsplat(dtype(b)))
        if isinstance(b, VectorType) and isinstance(a, (types.Float, types.Integer)):
            dtype = b.dtype
            return lambda a, b: impl(vsplat(dtype(a)), b)
        return None


for _op, _impl in (
    (operator.add, _fadd),
    (operator.sub, _fsub),
    (operator.mul, _fmul),
    (operator.truediv, _fdiv),
):
    _register_operator(_op, _impl)


@overload(operator.neg)
def _ol_neg(a):
    if isinstance(a, VectorType):
        dtype = a.dtype
        return lambda a: _fsub(vsplat(dtype(0)), a)
    return None


@intrinsic
def vclamp(typingctx, a, limit):
    """Clamp every lane to ``[-limit, limit]``; a NaN lane stays NaN (both compares are false)."""

    def codegen(context, builder, sig, args):
        v = args[0]
        ltype = v.type
        one = builder.insert_element(
            ir.Constant(ltype, ir.Undefined), args[1], ir.Constant(ir.IntType(32), 0)
        )
        hi = builder.shuffle_vector(
            one,
            ir.Constant(ltype, ir.Undefined),
            ir.Constant(ir.VectorType(ir.IntType(32), ltype.count), [0] * ltype.count),
        )
        lo = builder.fsub(ir.Constant(ltype, None), hi)
        v = builder.select(builder.fcmp_ordered(">", v, hi), hi, v)
        return builder.select(builder.fcmp_ordered("<", v, lo), lo, v)

    return a(a, limit), codegen


@intrinsic
def vwhere_positive(typingctx, cond, a):
    """``a`` in the lanes where ``cond > 0``, ``0 * a`` elsewhere (so a NaN in ``a`` survives)."""

    def codegen(context, builder, sig, args):
        zero = ir.Constant(args[1].type, None)
        return builder.select(builder.fcmp_ordered(">", args[0], zero), args[1], builder.fmul(args[1], zero))

    return a(cond, a), codegen


@intrinsic
def vrelu(typingctx, a):
    """``max(a, 0)`` lane by lane, NaN-propagating like ``np.maximum``."""

    def codegen(context, builder, sig, args):
        zero = ir.Constant(args[0].type, None)
        return builder.select(builder.fcmp_ordered("<", args[0], zero), zero, args[0])

    return a(a), codegen


@intrinsic
def _vtanh_libm(typingctx, a):
    """float64: ``tanh`` from the C math library on each lane (exact to the last bit)."""

    def codegen(context, builder, sig, args):
        v = args[0]
        fnty = ir.FunctionType(v.type.element, [v.type.element])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "tanh")
        for k in range(v.type.count):
            idx = ir.Constant(ir.IntType(32), k)
            v = builder.insert_element(v, builder.call(fn, [builder.extract_element(v, idx)]), idx)
        return v

    return a(a), codegen


# float32 tanh: Eigen's clamped rational approximation (odd degree-13 over even degree-6
# polynomial), within 4e-7 of tanh on all of float32, no library call so it vectorises.
_F = np.float32
_TANH_CLAMP = _F(9.0)
_A = [_F(c) for c in (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08)]
_A += [_F(c) for c in (-8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16)]
_B = [_F(c) for c in (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06)]
_A1, _A3, _A5, _A7, _A9, _A11, _A13 = _A
_B0, _B2, _B4, _B6 = _B


def vtanh(a):
    """tanh of every lane (see the implementations below)."""
    raise NotImplementedError("vtanh is only callable from jitted code")


@overload(vtanh, jit_options={"error_model": "numpy"})
def _ol_vtanh(a):
    if not isinstance(a, VectorType):
        return None
    if a.dtype.bitwidth == 64:
        return lambda a: _vtanh_libm(a)

    def impl(a):
        v = vclamp(a, _TANH_CLAMP)
        v2 = v * v
        p = vfma(
            vfma(
                vfma(
                    vfma(vfma(vfma(vsplat(_A13), v2, vsplat(_A11)), v2, vsplat(_A9)), v2, vsplat(_A7)),
                    v2,
                    vsplat(_A5),
                ),
                v2,
                vsplat(_A3),
            ),
            v2,
            vsplat(_A1),
        )
        q = vfma(vfma(vfma(vsplat(_B6), v2, vsplat(_B4)), v2, vsplat(_B2)), v2, vsplat(_B0))
        return (p * v) / q

    return impl


def vsigmoid(a):
    """Logistic function of every lane, as ``0.5 + 0.5 * tanh(0.5 * a)``."""
    raise NotImplementedError("vsigmoid is only callable from jitted code")


@overload(vsigmoid, jit_options={"error_model": "numpy"})
def _ol_vsigmoid(a):
    if not isinstance(a, VectorType):
        return None
    dtype = a.dtype
    return lambda a: dtype(0.5) + dtype(0.5) * vtanh(dtype(0.5) * a)
