"""Coverage of the 80/90/95 % intervals over rolling origins on simulated series.

The measurement behind the coverage table of docs/probabilistic.md and of
``tests/forecasting/test_probabilistic.py::test_coverage_over_rolling_origins`` (whose
functions it runs): three AR(1) series (coefficient 0.7) of 4000 steps, with Gaussian noise,
Student-t(4) noise and Gaussian noise of scale ``0.5 + 0.5 |y_{t-1}|``; per series seed, a GRU
(8 units, window 5, batch 128) with a Gaussian head, a Student-t head and a quantile head
(7 levels, intervals by CQR) fitted once on the first 2000 steps, then 2000 rolling one-step
forecasts. Per series, method and level: the coverage pooled over the seeds' forecasts, the
lowest and highest coverage of one seed, and the true process's intervals on the same values.

The seeds are split once, before anything was chosen: settings are compared on
``--seeds tuning`` (10-17) and reported on ``--seeds report`` (100-104, the default).
``--set name=value`` changes an estimator setting for every head (values parsed as JSON), to
compare settings on the tuning seeds, e.g. ``--set validation_split='"tail"'``.

    python benchmarks/coverage.py                       # the docs' table (about 2 min CPU)
    python benchmarks/coverage.py --seeds tuning --set validation_split='"tail"'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "forecasting"))

from test_probabilistic import (
    COVERAGES,
    HEADS,
    LEVELS,
    N_TEST,
    N_TRAIN,
    REPORT_SEEDS,
    TUNING_SEEDS,
    ar1,
    interval_index,
    rolling_coverage,
    true_quantiles,
)

SERIES = {"gaussian": "Gaussian AR(1)", "student_t": "Student-t noise", "level": "level-dependent"}
#: a Gaussian head does not describe Student-t noise; every other pairing is calibrated in principle
MISSPECIFIED = {("student_t", "gaussian")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="report", help="'report', 'tuning' or a comma-separated list")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=JSON", help="estimator setting")
    parser.add_argument(
        "--series", default=",".join(SERIES), help="comma-separated subset of " + ",".join(SERIES)
    )
    args = parser.parse_args()
    named = {"report": REPORT_SEEDS, "tuning": TUNING_SEEDS}
    seeds = named.get(args.seeds) or tuple(int(s) for s in args.seeds.split(","))
    change = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    print(
        f"series seeds {list(seeds)}, {len(seeds) * N_TEST} forecasts per row; changed: {change or 'nothing'}"
    )
    print("| series | head | method | 80 % | 90 % | 95 % | one seed: lowest | highest | epochs |")
    print("| :--- | :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |")
    start = time.process_time()
    crossings, matched = 0, []
    for noise in args.series.split(","):
        truth = []
        for seed in seeds:
            y = ar1(N_TRAIN + N_TEST, noise=noise, seed=seed)
            origins = np.arange(N_TRAIN, N_TRAIN + N_TEST)
            q = true_quantiles(noise, y, origins, LEVELS)
            truth.append(
                [
                    np.mean((y[origins] >= q[:, lo]) & (y[origins] <= q[:, hi]))
                    for lo, hi in map(interval_index, COVERAGES)
                ]
            )
        for loss, method in HEADS:
            runs = [rolling_coverage(noise, seed, loss, method, **change) for seed in seeds]
            crossings += sum(int(np.sum(np.diff(r["quantiles"], axis=1) <= 0)) for r in runs)
            shares = 100 * np.array([[r[c] for c in COVERAGES] for r in runs])
            if (noise, loss) not in MISSPECIFIED:
                matched.append(shares - 100 * np.array(COVERAGES))
            pooled = " | ".join(f"{v:.1f}" for v in shares.mean(axis=0))
            low = "/".join(f"{v:.1f}" for v in shares.min(axis=0))
            high = "/".join(f"{v:.1f}" for v in shares.max(axis=0))
            epochs = np.mean([r["epochs"] for r in runs])
            print(
                f"| {SERIES[noise]} | {loss} | {method} | {pooled} | {low} | {high} | {epochs:.0f} |",
                flush=True,
            )
        pooled = " | ".join(f"{100 * v:.1f}" for v in np.mean(truth, axis=0))
        print(f"| {SERIES[noise]} | (true process) | | {pooled} | | | |", flush=True)
    off = np.concatenate(matched)
    print(
        f"matched pairs, every fit and level ({off.size}): root mean square distance from nominal "
        f"{np.sqrt(np.mean(off**2)):.2f} points, {100 * np.mean(np.abs(off) > 3):.1f} % more than 3 off"
    )
    print(f"quantile crossings: {crossings}; CPU time {time.process_time() - start:.0f} s")


if __name__ == "__main__":
    main()
