"""CPU seconds Numba spends compiling each function of one cell's CPU kernels.

Run it with an empty cache, or every function loads from the cache and nothing is listed:

    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/compile_profile.py lstm [--dtype float32]

Prints the total CPU time of ``compile_kernels(cell)`` (what ``tsrnn compare`` and
``tsrnn warmup`` compile per cell), then one line per compiled specialisation, most expensive
first: CPU seconds including the functions it compiled in turn, CPU seconds of its own
(including the LLVM optimisation of everything linked into it), the caller, the function and its
argument types. A function listed twice with different argument types (e.g. ``Literal[int](0)``
against ``int64``) was compiled twice.
"""

from __future__ import annotations

import argparse
import time

from numba.core import event


class _Recorder(event.Listener):
    """Nested ``numba:compile`` events: (total, own, caller, function, argument types)."""

    def __init__(self) -> None:
        self.stack: list[list] = []
        self.rows: list[tuple[float, float, str, str, str]] = []

    @staticmethod
    def _name(dispatcher) -> str:
        fn = getattr(dispatcher, "py_func", None)
        return f"{fn.__module__}.{fn.__qualname__}" if fn is not None else "?"

    def on_start(self, ev) -> None:
        self.stack.append([ev.data.get("dispatcher"), ev.data.get("args"), time.process_time(), 0.0])

    def on_end(self, ev) -> None:
        dispatcher, args, start, children = self.stack.pop()
        total = time.process_time() - start
        caller = self._name(self.stack[-1][0]) if self.stack else "-"
        if self.stack:
            self.stack[-1][3] += total
        self.rows.append((total, total - children, caller, self._name(dispatcher), str(args)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cell", help="a cell of tsrnn._layout.CELLS, e.g. lstm")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--width", type=int, default=160, help="characters of argument types shown")
    args = parser.parse_args()

    from tsrnn.nn import compile_kernels

    recorder = _Recorder()
    event.register("numba:compile", recorder)
    start = time.process_time()
    compile_kernels(args.cell, args.dtype, "cpu")
    print(f"compile_kernels({args.cell!r}, {args.dtype!r}): {time.process_time() - start:.2f} s CPU")
    print(f"{'total s':>8} {'own s':>7}  caller > function (argument types)")
    for total, own, caller, name, types in sorted(recorder.rows, reverse=True):
        print(f"{total:8.2f} {own:7.2f}  {caller} > {name} {types[: args.width]}")


if __name__ == "__main__":
    main()
