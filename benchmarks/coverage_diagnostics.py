"""Why the likelihood heads under-covered on one level-dependent-variance series.

The series and fit of the coverage study (``benchmarks/coverage.py``) on one of its tuning
seeds (AR(1), noise scale 0.5 + 0.5 |y_{t-1}|, seed 10; 2000 training steps, 2000 rolling
one-step forecasts; GRU 8 units, window 5, batch 128), with early stopping on the last 10 % of
the windows (``validation_split="tail"``, the former default) and training settings varied
one at a time. For
each: the coverage of the 80/90/95 % head intervals, the epochs run, and the median ratio of the
head's 10-90 % width to the true Gaussian one (2 x 1.2816 x (0.5 + 0.5 |y_{t-1}|)).

    python benchmarks/coverage_diagnostics.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "forecasting"))

from test_probabilistic import SMALL, ar1, one_step_quantiles

from tsrnn import Forecaster, RecurrentRegressor

N_TRAIN, N_TEST = 2000, 2000
LEVELS = (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975)
CONFIGS = [
    ("gaussian", {}),
    ("gaussian", {"validation_fraction": 0.3}),
    ("gaussian", {"learning_rate": 0.003, "max_iter": 300}),
    ("gaussian", {"early_stopping": False, "max_iter": 80}),
    ("gaussian", {"early_stopping": False, "max_iter": 150}),
    ("gaussian", {"early_stopping": False, "max_iter": 300}),
    ("gaussian", {"early_stopping": False, "max_iter": 60}),
    ("student_t", {"early_stopping": False, "max_iter": 60}),
    ("student_t", {}),
    ("student_t", {"validation_fraction": 0.3}),
    ("student_t", {"early_stopping": False, "max_iter": 150}),
    ("gaussian", {"validation_split": "blocked"}),
    ("student_t", {"validation_split": "blocked"}),
]


def main() -> None:
    y = ar1(N_TRAIN + N_TEST, noise="level", seed=10)
    origins = np.arange(N_TRAIN, N_TRAIN + N_TEST)
    truth, true_sd = y[origins], 0.5 + 0.5 * np.abs(y[origins - 1])
    print("| head | change from the tail hold-out | 80 % | 90 % | 95 % | epochs | median width ratio |")
    print("| :--- | :--- | ---: | ---: | ---: | ---: | ---: |")
    for loss, change in CONFIGS:
        fit = {**SMALL, "batch_size": 128, "max_iter": 150, "validation_split": "tail", **change}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = Forecaster(RecurrentRegressor(loss=loss, **fit), window=5, random_state=0)
            f.fit(pd.Series(y[:N_TRAIN]))
        q = one_step_quantiles(f.estimator_, f.transform_, y, origins, 5, LEVELS)
        cover = [np.mean((truth >= q[:, 3 - k]) & (truth <= q[:, 3 + k])) for k in (1, 2, 3)]
        # the 10-90 % width over that of the true Gaussian, 2 * 1.2816 * true sd
        ratio = np.median((q[:, 4] - q[:, 2]) / (2 * 1.2815515655446004 * true_sd))
        cells = " | ".join(f"{100 * c:.1f}" for c in cover)
        label = ", ".join(f"{k}={v}" for k, v in change.items()) or "none"
        print(f"| {loss} | {label} | {cells} | {f.estimator_.n_iter_} | {ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
