"""The floating-point environment of the kernels' threads: subnormal numbers flushed to zero.

A gradient that decays through a long recurrence (an LSTM whose forget gates sit near 0.5, a
backward pass through hundreds of steps) passes through the subnormal range (below 1.2e-38 in
float32, 2.2e-308 in float64) before it underflows to zero. x86 cores compute with subnormal
operands or results through a microcode assist, tens to a hundred times slower than a normal
operation, so a few such steps can make a whole kernel call several times slower. The kernels
therefore run each batch block with the x86 control register MXCSR's flush-to-zero (FTZ) and
denormals-are-zero (DAZ) bits set, as ``torch.set_flush_denormal(True)`` does, and restore the
caller's register afterwards (the calling thread runs blocks too, and its NumPy code must see
the environment it had). Values below the normal range then count as zero: a change of at most
1.2e-38 (float32) per operation, far inside every tolerance of the kernels' tests.

On other architectures both functions do nothing.
"""

from __future__ import annotations

import platform

import numba
import numpy as np

from ._common import JIT

__all__ = ["flush_subnormals", "restore_fp_env"]

#: MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) bits.
FTZ_DAZ = np.uint32(0x8040)

if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    def _mxcsr_call(builder, name: str, slot) -> None:
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.x86.sse.{name}")
        builder.call(fn, [builder.bitcast(slot, ir.IntType(8).as_pointer())])

    @intrinsic
    def _read_mxcsr(typingctx):
        def codegen(context, builder, signature, args):
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            _mxcsr_call(builder, "stmxcsr", slot)
            return builder.load(slot)

        return types.uint32(), codegen

    @intrinsic
    def _write_mxcsr(typingctx, value):
        def codegen(context, builder, signature, args):
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], slot)
            _mxcsr_call(builder, "ldmxcsr", slot)
            return context.get_dummy_value()

        return types.none(types.uint32), codegen

    @numba.njit(**JIT)
    def flush_subnormals():
        """Set FTZ and DAZ on this thread; returns the previous MXCSR for :func:`restore_fp_env`."""
        saved = _read_mxcsr()
        _write_mxcsr(saved | FTZ_DAZ)
        return saved

    @numba.njit(**JIT)
    def restore_fp_env(saved):
        """Put back the MXCSR that :func:`flush_subnormals` returned."""
        _write_mxcsr(saved)

else:

    @numba.njit(**JIT)
    def flush_subnormals():
        """No-op outside x86 (see the module docstring)."""
        return np.uint32(0)

    @numba.njit(**JIT)
    def restore_fp_env(saved):
        """No-op outside x86."""
        return None
