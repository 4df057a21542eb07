"""Regenerate every table and figure of docs/rnn_vs_lstm.md.

Run from the repository root::

    PYTHONPATH=. python docs/regenerate_rnn_vs_lstm.py [--nice 10] [--out docs/results/rnn_vs_lstm]

Each run below is one ``tsrnn experiment`` command; each writes ``NAME.md`` (ending with
"Generated from tsrnn X at commit SHA"), ``NAME.csv``, ``NAME_summary.csv`` and ``NAME.png``
into its own folder under ``--out``. The figures the page and the README embed are copied to
``docs/figures/rnn_vs_lstm_*.png``. ``--nice N`` lowers the priority of the training studies
only: the two cost runs measure time and run at the priority this script was started with.
``summary.md`` under ``--out`` records every command, its wall time and the load average
before and after it (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (folder, experiment arguments, timing run, figure copied to docs/figures/rnn_vs_lstm_<name>.png)
RUNS = [
    ("gradient_flow", ["gradient-flow"], False, ("gradient_flow", "gradient_flow")),
    ("memory", ["memory"], False, ("memory", "memory")),
    ("memory_lag100", ["memory", "--lags", "100", "--seeds", "5"], False, None),
    ("memory_copy", ["memory", "--task", "copy", "--seeds", "1"], False, ("memory", "memory_copy")),
    (
        "memory_copy_forget_bias5",
        ["memory", "--task", "copy", "--seeds", "1", "--lags", "100,200", "--forget-bias", "5"],
        False,
        None,
    ),
    ("clipping", ["clipping"], False, ("clipping", "clipping")),
    ("convergence", ["convergence"], False, ("convergence", "convergence")),
    ("cost", ["cost"], True, ("cost", "cost")),
    ("cost_threads", ["cost", "--blas-threads", "1,2"], True, ("cost", "cost_threads")),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/results/rnn_vs_lstm", help="output folder")
    parser.add_argument("--nice", type=int, default=0, help="niceness added for the training studies")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the training runs")
    parser.add_argument("--only", nargs="*", help="run only these folders (default: all)")
    args = parser.parse_args(argv)
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    lines = ["# docs/rnn_vs_lstm.md: the runs behind the page", ""]
    lines.append(
        f"Command: `PYTHONPATH=. python docs/regenerate_rnn_vs_lstm.py {' '.join(argv or sys.argv[1:])}`"
    )
    lines += [
        "",
        "| folder | command | wall s | load before | load after | priority |",
        "|---|---|---|---|---|---|",
    ]
    start = time.perf_counter()
    copies = []
    for folder, extra, timing, figure in RUNS:
        if args.only and folder not in args.only:
            continue
        command = [
            sys.executable,
            "-m",
            "tsrnn",
            "experiment",
            *extra,
            "--out",
            # Relative to the checkout where possible: the recorded command names no local path.
            str((out / folder).relative_to(ROOT) if (out / folder).is_relative_to(ROOT) else out / folder),
            "--no-progress",
        ]
        if extra[0] != "cost":
            command += ["--jobs", str(args.jobs)]
        niceness = 0 if timing else args.nice
        load0, t0 = os.getloadavg()[0], time.perf_counter()
        print(" ".join(command[2:]), flush=True)
        subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            check=True,
            preexec_fn=(lambda n=niceness: os.nice(n)) if niceness else None,
        )
        wall, load1 = time.perf_counter() - t0, os.getloadavg()[0]
        shown = "tsrnn " + " ".join(command[3:])
        lines.append(
            f"| {folder} | `{shown}` | {wall:.0f} | {load0:.1f} | {load1:.1f} | "
            f"{'normal' if not niceness else f'nice {niceness}'} |"
        )
        if figure is not None:
            copies.append((out / folder / f"{figure[0]}.png", figure[1]))
    # Copied last: the figures are tracked files, and a changed tracked file would make the
    # later runs record "+ local changes" after their commit.
    for source, target in copies:
        shutil.copyfile(source, ROOT / "docs" / "figures" / f"rnn_vs_lstm_{target}.png")
    lines += ["", f"Total: {time.perf_counter() - start:.0f} s wall on {os.cpu_count()} cores.", ""]
    if not args.only:
        (out / "summary.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
