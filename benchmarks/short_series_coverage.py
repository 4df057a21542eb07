"""Coverage of the distributional heads on SHORT series, at the estimator's default settings.

A Gaussian AR(1) series (phi 0.7, unit noise: ``ar1`` of tests/forecasting/test_probabilistic.py)
of ``n_train`` values trains a default ``RecurrentRegressor(loss=...)`` inside a
``Forecaster(window=5)``; its one-step 90, 80 and 50 % central intervals are then scored on the
next 1 000 values (rolling origin, no refit). Two settings side by side, on the same series:
``early_stopping=False`` (every sample trains until ``max_iter``; what ``early_stopping="auto"``
did below 1 000 samples for every loss) and ``early_stopping="auto"`` (the current default:
the distributional losses hold out a validation part whenever they can). Prints the coverage
pooled over the seeds, and the epochs trained.

    python benchmarks/short_series_coverage.py [--seeds report|tuning] [--n-train 60,300,900]

The series seeds are the coverage study's: ``tuning`` (10-17) chose, ``report`` (100-104) is
what docs/probabilistic.md reports.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.forecasting.test_probabilistic import REPORT_SEEDS, TUNING_SEEDS, ar1  # noqa: E402
from tsrnn import Forecaster, RecurrentRegressor  # noqa: E402

LEVELS = (0.05, 0.1, 0.25, 0.75, 0.9, 0.95)
COVERAGES = (0.9, 0.8, 0.5)
WINDOW = 5
N_TEST = 1000


def coverage(seed: int, loss: str, early_stopping, n_train: int) -> tuple[list[float], int]:
    """Share of the test values inside each central interval, and the epochs trained."""
    y = ar1(n_train + N_TEST, noise="gaussian", seed=seed)
    extra = {"quantiles": LEVELS} if loss == "quantile" else {}
    estimator = RecurrentRegressor(loss=loss, early_stopping=early_stopping, random_state=0, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = Forecaster(estimator, window=WINDOW, random_state=0).fit(pd.Series(y[:n_train]))
    est, tr = f.estimator_, f.transform_
    origins = np.arange(n_train, n_train + N_TEST)
    X = (y[origins[:, None] - WINDOW + np.arange(WINDOW)] - tr.mean_[0]) / tr.scale_[0]
    q = est.predict_quantiles(X, LEVELS) * tr.scale_[0] + tr.mean_[0]
    truth = y[origins]
    inside = [float(np.mean((truth >= q[:, i]) & (truth <= q[:, -1 - i]))) for i in range(len(COVERAGES))]
    return inside, est.n_iter_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", choices=["report", "tuning"], default="report")
    parser.add_argument("--n-train", default="60,300,900")
    args = parser.parse_args()
    seeds = REPORT_SEEDS if args.seeds == "report" else TUNING_SEEDS
    print(f"seeds {list(seeds)}; one-step intervals over {N_TEST} values after each training stretch")
    print("| n_train | loss | early_stopping | 90 % | 80 % | 50 % | epochs (per seed) |")
    print("|---:|---|---|---:|---:|---:|---|")
    start = time.process_time()
    for n_train in (int(n) for n in args.n_train.split(",")):
        for loss in ("gaussian", "student_t", "quantile"):
            for early_stopping in (False, "auto"):
                runs = [coverage(seed, loss, early_stopping, n_train) for seed in seeds]
                pooled = np.mean([r[0] for r in runs], axis=0) * 100
                cells = " | ".join(f"{c:.1f}" for c in pooled)
                epochs = ", ".join(str(r[1]) for r in runs)
                print(f"| {n_train} | {loss} | {early_stopping} | {cells} | {epochs} |", flush=True)
    print(f"\nCPU time {time.process_time() - start:.0f} s")


if __name__ == "__main__":
    main()
