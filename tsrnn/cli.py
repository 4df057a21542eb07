"""Command-line interface: ``tsrnn <command>`` or ``python -m tsrnn <command>``."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _selftest(args: argparse.Namespace) -> int:
    """Compile the kernels and check each one against the NumPy reference."""
    from . import functional as F
    from ._layout import CELLS

    rng = np.random.default_rng(0)
    print(f"{'cell':<9} {'dtype':<8} {'max |cpu - reference|':>22} {'first call':>11} {'warm call':>10}")
    worst = 0.0
    for cell in CELLS:
        for dtype in (np.float32, np.float64):
            w = F.init_weights(cell, 3, 16, random_state=0, dtype=dtype)
            x = rng.normal(size=(8, 24, 3)).astype(dtype)
            timings = []
            for _ in range(2):
                start = time.perf_counter()
                out, _, cache = F.forward(cell, x, w, device="cpu")
                grads = F.backward(cache, np.ones_like(out))
                timings.append(time.perf_counter() - start)
            out_ref, _, cache_ref = F.forward(cell, x, w, device="reference")
            grads_ref = F.backward(cache_ref, np.ones_like(out_ref))
            err = max(
                float(np.abs(out - out_ref).max()),
                *(
                    float(np.abs(grads[k] - grads_ref[k]).max() / max(np.abs(grads_ref[k]).max(), 1e-3))
                    for k in grads
                ),
            )
            worst = max(worst, err / (1e-4 if dtype == np.float32 else 1e-9))
            print(
                f"{cell:<9} {np.dtype(dtype).name:<8} {err:>22.2e} "
                f"{timings[0]:>10.2f}s {timings[1] * 1e3:>8.2f}ms"
            )
    ok = worst < 1.0
    print("all kernels agree with the reference" if ok else "MISMATCH: see the table above")
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsrnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("selftest", help="compile the kernels and check them against the reference")
    p.set_defaults(func=_selftest)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
