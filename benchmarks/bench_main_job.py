"""The main job in seconds: start-up, warm (and optionally cold) `tsrnn compare`, the long series.

Every measurement runs the command in a fresh process and reports wall time and the CPU time of
the child (user + system, from ``os.wait4``): on a shared machine the wall time depends on the
other load, the CPU time much less.

- ``import tsrnn`` and ``tsrnn --help``: best of ``--repeat`` runs;
- ``tsrnn compare`` on sunspots with the default models, warm (kernels compiled and cached),
  with the per-model share of the fit and predict time;
- ``--cold``: the same with a fresh, empty ``NUMBA_CACHE_DIR`` (the first run of a new user);
- ``--long``: a simulated half-hourly series of 4,032 values (12 weeks) with a daily and a
  weekly cycle, default models.

    python benchmarks/bench_main_job.py [--cold] [--long] [--repeat 3]

Prints a markdown section for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``python args`` in a fresh process; return (wall s, child CPU s, stdout)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    # The child's own CPU time: getrusage(RUSAGE_CHILDREN) sums all waited-for children, so diff it.
    usage = os.getrusage(os.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    before = getattr(run, "cpu_seen", 0.0)
    run.cpu_seen = cpu
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode}):\n{out.decode()[-3000:]}")
    return wall, cpu - before, out.decode()


def best_of(args, repeat: int) -> tuple[float, float]:
    runs = [run(args)[:2] for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def long_series_csv(path: Path, n: int = 4032, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    daily = 10 * np.sin(2 * np.pi * t / 48) + 3 * np.sin(4 * np.pi * t / 48)
    weekly = 4 * np.where((t // 48) % 7 >= 5, -1.0, 0.4)
    noise = np.zeros(n)
    e = rng.normal(scale=1.5, size=n)
    for i in range(1, n):
        noise[i] = 0.7 * noise[i - 1] + e[i]
    y = 50 + daily + weekly + noise
    index = pd.date_range("2021-01-04", periods=n, freq="30min")
    pd.DataFrame({"time": index.strftime("%Y-%m-%d %H:%M"), "load": y}).to_csv(path, index=False)


def compare_table(out_dir: Path) -> pd.DataFrame:
    """compare's summary, rebuilt from the results.csv the CLI wrote."""
    sys.path.insert(0, str(ROOT))
    from tsrnn.evaluation.metrics import summarize

    return summarize(pd.read_csv(out_dir / "results.csv"))


def shares(summary: pd.DataFrame) -> str:
    cost = (summary["fit_time"] + summary["predict_time"]) * summary["n_windows"]
    total = cost.sum()
    return ", ".join(
        f"{name} {c:.1f} s ({c / total:.0%})" for name, c in cost.sort_values(ascending=False).items()
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", action="store_true", help="also a first run with an empty Numba cache")
    parser.add_argument("--long", action="store_true", help="also the 4,032-point half-hourly series")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    lines = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}; load average at start {os.getloadavg()[0]:.1f}."]  # fmt: skip
    wall, cpu = best_of(["-c", "import tsrnn"], args.repeat)
    lines.append(f"- `import tsrnn`: {wall:.2f} s wall, {cpu:.2f} s CPU (best of {args.repeat})")
    wall, cpu = best_of(["-m", "tsrnn", "--help"], args.repeat)
    lines.append(f"- `tsrnn --help`: {wall:.2f} s wall, {cpu:.2f} s CPU (best of {args.repeat})")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.cold:
            env = {"NUMBA_CACHE_DIR": str(tmp / "numba-cache")}
            wall, cpu, _ = run(["-m", "tsrnn", "compare", "--no-progress", "--out", str(tmp / "cold")], env)
            lines.append(f"- cold `tsrnn compare` (sunspots, default models, empty NUMBA_CACHE_DIR): "
                         f"{wall:.1f} s wall, {cpu:.1f} s CPU")  # fmt: skip
        run(["-m", "tsrnn", "compare", "--no-progress", "--out", str(tmp / "warmup")])  # fill the cache
        wall, cpu, _ = run(["-m", "tsrnn", "compare", "--no-progress", "--out", str(tmp / "warm")])
        summary = compare_table(tmp / "warm")
        lines.append(f"- warm `tsrnn compare` (sunspots, default models): {wall:.1f} s wall, {cpu:.1f} s CPU")
        lines.append(f"  - per model (fit + predict, all windows): {shares(summary)}")
        if args.long:
            path = tmp / "halfhourly.csv"
            long_series_csv(path)
            command = ["-m", "tsrnn", "compare", "--csv", str(path), "--time-col", "time", "--target", "load"]
            wall, cpu, _ = run([*command, "--no-progress", "--out", str(tmp / "long")])
            summary = compare_table(tmp / "long")
            lines.append(
                "- warm `tsrnn compare` on the simulated half-hourly series (4,032 values, daily and "
                f"weekly cycle), default models: {wall:.1f} s wall, {cpu:.1f} s CPU"
            )
            lines.append(f"  - per model: {shares(summary)}")
            lines.append("  - MASE: " + ", ".join(f"{m} {v:.3f}" for m, v in summary["mase"].items()))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
