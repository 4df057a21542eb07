"""The main job in seconds: start-up, warm and cold `tsrnn compare`, the long series.

Every measurement runs the command in a fresh process and reports wall time and the CPU time of
the child (user + system, from ``os.wait4``): on a shared machine the wall time depends on the
other load, the CPU time much less.

- ``import tsrnn`` and ``tsrnn --help``: ``--repeat`` runs each;
- ``tsrnn compare`` on sunspots with the default models, warm (kernels compiled and cached),
  with the per-model share of the fit and predict time;
- the same with a fresh, empty ``NUMBA_CACHE_DIR`` (the first run of a new user), and
  ``tsrnn warmup`` in another empty one;
- a half-hourly series of 4,032 values (12 weeks) with a daily and a weekly cycle, default
  models (see :func:`long_series_csv`).

The machine may be shared: every figure carries the load average before it, and the warm ones
are repeated.

    python benchmarks/bench_main_job.py [--no-cold] [--no-long] [--repeat 3]

Prints each figure as it is measured, then all of them as a markdown section for
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
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
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    before = getattr(run, "cpu_seen", 0.0)
    run.cpu_seen = cpu
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode}):\n{out.decode()[-3000:]}")
    return wall, cpu - before, out.decode()


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def repeated(args: list[str], repeat: int, env: dict | None = None) -> str:
    """``repeat`` runs of ``python args``: every run's wall / CPU seconds and the load average
    before it, then the best."""
    runs = []
    for _ in range(repeat):
        before = load()
        wall, cpu, _ = run(args, env)
        runs.append((wall, cpu, before))
    each = "; ".join(f"{w:.2f} s wall, {c:.2f} s CPU ({ld})" for w, c, ld in runs)
    return f"best {min(r[0] for r in runs):.2f} s wall, {min(r[1] for r in runs):.2f} s CPU [{each}]"


VIC_ELEC = "tsa/stl/tests/results/mstl_elec_vic.csv"  # inside the statsmodels package


def long_series_csv(path: Path, n: int = 4032, seed: int = 0) -> str:
    """Write the long half-hourly series; return what it is.

    Real data where the machine has it: the hourly Victoria electricity demand of 2012 that
    statsmodels ships with its MSTL tests, linearly interpolated to half-hours, the last ``n``
    values (12 weeks; daily and weekly cycle). Otherwise a simulated series with the same
    cycles.
    """
    import statsmodels

    source = Path(statsmodels.__file__).parent / VIC_ELEC
    if source.exists():
        hourly = pd.read_csv(source, parse_dates=["ds"]).set_index("ds")["y"]
        y = hourly.resample("30min").interpolate("linear").iloc[-n:]
        index, values = y.index, y.to_numpy()
        what = (
            f"Victoria electricity demand 2012 (statsmodels' {VIC_ELEC}, hourly), linearly "
            f"interpolated to half-hours, last {n:,} values"
        )
    else:
        rng = np.random.default_rng(seed)
        t = np.arange(n)
        daily = 10 * np.sin(2 * np.pi * t / 48) + 3 * np.sin(4 * np.pi * t / 48)
        weekly = 4 * np.where((t // 48) % 7 >= 5, -1.0, 0.4)
        noise = np.zeros(n)
        e = rng.normal(scale=1.5, size=n)
        for i in range(1, n):
            noise[i] = 0.7 * noise[i - 1] + e[i]
        values = 50 + daily + weekly + noise
        index = pd.date_range("2021-01-04", periods=n, freq="30min")
        what = f"simulated half-hourly series of {n:,} values (daily and weekly cycle, AR(1) noise)"
    pd.DataFrame({"time": index.strftime("%Y-%m-%d %H:%M"), "load": values}).to_csv(path, index=False)
    return what


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
    parser.add_argument("--no-cold", action="store_true", help="skip the first run with an empty Numba cache")
    parser.add_argument("--no-long", action="store_true", help="skip the 4,032-point half-hourly series")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each warm measurement")
    args = parser.parse_args()

    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {load()} at the start; environment as given "
        f"(OpenBLAS variables: {blas or 'none set'}). Every figure: wall and CPU seconds of a fresh "
        "process (CPU includes its worker processes), with the 1-minute load average before it."
    ]
    print(lines[0], flush=True)

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    say(f"- `import tsrnn`: {repeated(['-c', 'import tsrnn'], args.repeat)}")
    say(f"- `tsrnn --help`: {repeated(['-m', 'tsrnn', '--help'], args.repeat)}")

    compare = ["-m", "tsrnn", "compare", "--no-progress", "--out"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.no_cold:
            env = {"NUMBA_CACHE_DIR": str(tmp / "numba-cache")}
            before = load()
            wall, cpu, _ = run([*compare, str(tmp / "cold")], env)
            say(
                "- cold `tsrnn compare` (sunspots, default models, empty NUMBA_CACHE_DIR, install "
                f"excluded): {wall:.1f} s wall, {cpu:.1f} s CPU ({before})"
            )
            before = load()
            wall, cpu, _ = run(
                ["-m", "tsrnn", "warmup", "--no-progress"], {"NUMBA_CACHE_DIR": str(tmp / "w")}
            )
            say(f"- `tsrnn warmup` (every cell, float32, empty NUMBA_CACHE_DIR): "
                f"{wall:.1f} s wall, {cpu:.1f} s CPU ({before})")  # fmt: skip
        run([*compare, str(tmp / "fill")])  # fill the package's own cache
        warm = repeated([*compare, str(tmp / "warm")], args.repeat)
        say(f"- warm `tsrnn compare` (sunspots, default models): {warm}")
        say(f"  - per model (fit + predict, all windows, last run): {shares(compare_table(tmp / 'warm'))}")
        if not args.no_long:
            path = tmp / "halfhourly.csv"
            what = long_series_csv(path)
            command = ["-m", "tsrnn", "compare", "--csv", str(path), "--time-col", "time", "--target", "load"]
            before = load()
            wall, cpu, _ = run([*command, "--no-progress", "--out", str(tmp / "long")])
            summary = compare_table(tmp / "long")
            say(f"- warm `tsrnn compare` on the half-hourly series ({what}), default models: "
                f"{wall:.1f} s wall, {cpu:.1f} s CPU ({before})")  # fmt: skip
            say(f"  - per model: {shares(summary)}")
            say("  - MASE: " + ", ".join(f"{m} {v:.3f}" for m, v in summary["mase"].items()))
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
