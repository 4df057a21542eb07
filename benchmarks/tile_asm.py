"""Register spills of the products' tiles in the machine code Numba generates.

Compiles :func:`tsrnn.kernels.cpu._common.mm_nn` (forward and hidden-gradient products) and
``mm_tn_acc`` (weight-gradient updates) for float32 and float64 with the target Numba is set up
for, and counts in the assembly the register spills and reloads (LLVM marks them
``Spill``/``Reload``), in all and inside the innermost loops (the contraction loops of the
tiles), and the vector registers used (``zmm``/``ymm``/``xmm``). Run it once per target, each
time with a fresh ``NUMBA_CACHE_DIR``::

    python benchmarks/tile_asm.py                                   # the host (AVX-512 here)
    NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=+avx,+avx2,+fma TSRNN_VECTOR_BYTES=32 \\
        python benchmarks/tile_asm.py                               # AVX2, 16 ymm registers
    TSRNN_VECTOR_BYTES=16 python benchmarks/tile_asm.py --aarch64   # NEON (cross-compiled)

``--aarch64`` takes the LLVM IR Numba produced (with 16-byte vectors; the tile follows the 32
registers of aarch64) and compiles it with LLVM's AArch64 back end (``neoverse-n1``): Numba
cannot target another architecture itself, so this shows the register allocation of the tile
loops on NEON, not a run there. ``--save DIR`` also writes the assembly.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_STACK = r"\(%rsp\)|\[sp|\[x29"
_VREG = r"%[xyz]mm\d+|\b[qv]\d+\b|\bd\d+\b|\bs\d+\b"
_JUMP = re.compile(r"^\s*(j\w+|b\.\w+|b|cbn?z|tbn?z)\s+(?:.*,\s*)?(\.?L\w+)\s*$")


def _stack_kind(line: str) -> str | None:
    """``spill`` (vector register stored to the stack), ``reload`` (stack read into or used by a
    vector instruction) or None. Stack slots are ``(%rsp)``/``(%rbp)`` on x86, ``[sp``/``[x29``
    on AArch64; the tile code stores nothing else of vector type on the stack."""
    if not re.search(_STACK, line) or not re.search(_VREG, line):
        return None
    op, _, operands = line.strip().replace("\t", " ").partition(" ")
    if op.startswith(("vmov", "mov")) and re.search(r"(%[xyz]mm\d+)\s*,\s*-?\d*\(", operands):
        return "spill"  # AT&T: source first
    if op in ("str", "stp", "stur"):
        return "spill"
    return "reload"


def count(asm: str) -> dict:
    """Vector stack stores/loads in all (these include copies of array structures between calls)
    and inside the tiles' contraction loops (innermost loops, a backward branch whose body holds
    no other loop, that do fused multiply-adds), and the vector registers used by kind."""
    lines = [ln.split("#")[0].split("//")[0].rstrip() for ln in asm.splitlines()]
    labels = {ln.strip()[:-1]: i for i, ln in enumerate(lines) if re.match(r"^\.?L\w+:$", ln.strip())}
    loops = []
    for i, ln in enumerate(lines):
        m = _JUMP.match(ln)
        if m and m.group(2) in labels and labels[m.group(2)] < i:
            loops.append((labels[m.group(2)], i))
    innermost = [lp for lp in loops if not any(o != lp and lp[0] <= o[0] and o[1] <= lp[1] for o in loops)]
    # the tiles' contraction loops: innermost loops that do fused multiply-adds
    innermost = [
        (a, b) for a, b in innermost if any(re.search(r"\b(vfmadd|fmla)", lines[i]) for i in range(a, b))
    ]
    inner_lines = {i for a, b in innermost for i in range(a, b + 1)}
    total = {"spill": 0, "reload": 0}
    inner = {"spill": 0, "reload": 0}
    for i, ln in enumerate(lines):
        kind = _stack_kind(ln)
        if kind:
            total[kind] += 1
            if i in inner_lines:
                inner[kind] += 1
    regs = {k: len(set(re.findall(rf"%({k}\d+)\b", asm))) for k in ("zmm", "ymm", "xmm")}
    regs["v"] = len(set(re.findall(r"\bv(\d+)\.", asm)))
    return {"total": total, "innermost": inner, "registers": regs, "inner_loops": len(innermost)}


def cross_compile(ir: str, triple: str, cpu: str) -> str:
    import llvmlite.binding as llb

    llb.initialize_all_targets()
    llb.initialize_all_asmprinters()
    ir = re.sub(r'"target-(cpu|features)"="[^"]*"', "", ir)
    # The x86 back end's form of the reference-count decrement ("sub, then test for zero") in
    # Numba's runtime, written back as the portable atomic it was made from.
    pattern = re.compile(
        r"(%[\w.]+) = tail call i8 @llvm\.x86\.atomic\.sub\.cc\.i64"
        r"\(ptr (?:nonnull )?(%[\w.]+), i64 (\d+), i32 4\)"
    )
    count = iter(range(1 << 30))

    def portable(m: re.Match) -> str:
        n = next(count)
        return (
            f"%rc.old{n} = atomicrmw sub ptr {m[2]}, i64 {m[3]} seq_cst\n"
            f"  %rc.zero{n} = icmp eq i64 %rc.old{n}, {m[3]}\n  {m[1]} = zext i1 %rc.zero{n} to i8"
        )

    ir = pattern.sub(portable, ir)
    ir = re.sub(r"^declare .*@llvm\.x86\..*$", "", ir, flags=re.M)
    ir = re.sub(r"^target (triple|datalayout) = .*$", "", ir, flags=re.M)
    tm = llb.Target.from_triple(triple).create_target_machine(cpu=cpu, features="+neon", opt=3)
    mod = llb.parse_assembly(ir)
    mod.triple = triple
    mod.data_layout = str(tm.target_data)
    mod.verify()
    return tm.emit_assembly(mod)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--aarch64", action="store_true", help="cross-compile the IR for AArch64")
    parser.add_argument("--save", help="directory to write the assembly to")
    args = parser.parse_args(argv)

    from numba.core import config

    from tsrnn.kernels.cpu import _common, _simd

    target = f"{config.CPU_NAME or 'host'} features={config.CPU_FEATURES or 'host'}"
    if args.aarch64:
        target = "aarch64 neoverse-n1 +neon (cross-compiled IR)"
    # (checkouts from before the tiles followed the register count had a 4 x 4 tile everywhere)
    print(
        f"target: {target}; vector {_simd.VECTOR_BYTES} bytes, "
        f"{getattr(_simd, 'VECTOR_REGISTERS', '?')} registers; tile {getattr(_common, 'TILE_ROWS', 4)} "
        f"rows x {getattr(_common, 'TILE_VECS', 4)} vectors; KC {_common.KC}"
    )
    print(
        f"{'function':10s} {'dtype':8s} {'spills':>6s} {'reloads':>7s} {'FMA loops':>11s} "
        f"{'loop spills':>12s} {'loop reloads':>13s}  vector registers"
    )
    for dtype in (np.float32, np.float64):
        v = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
        a = np.ones((8, 16), dtype)
        c = np.zeros((8, 8 * v), dtype)
        bias = np.zeros(8 * v, dtype)
        bp = _common.pack_panels(np.ones((16, 8 * v), dtype))
        _common.mm_nn(a, 0, 8, bp, bias, c)
        acc = np.zeros((16, 8 * v), dtype)
        _common.mm_tn_acc(a, 0, 8, c, acc)
        for fn in (_common.mm_nn, _common.mm_tn_acc):
            sig = fn.signatures[0]
            if args.aarch64:
                asm = cross_compile(fn.inspect_llvm(sig), "aarch64-unknown-linux-gnu", "neoverse-n1")
            else:
                asm = fn.inspect_asm(sig)
            if args.save:
                out = Path(args.save)
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{fn.__name__}_{np.dtype(dtype).name}.s").write_text(asm)
            r = count(asm)
            regs = ", ".join(
                f"{n} {k}" for k, n in r["registers"].items() if n and (k != "v" or args.aarch64)
            )
            print(
                f"{fn.__name__:10s} {np.dtype(dtype).name:8s} {r['total']['spill']:6d} "
                f"{r['total']['reload']:7d} {r['inner_loops']:11d} {r['innermost']['spill']:12d} "
                f"{r['innermost']['reload']:13d}  {regs}"
            )


if __name__ == "__main__":
    main()
