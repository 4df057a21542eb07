"""Coverage of the model and CQR intervals on simulated series with known distributions.

Three series of 2000 steps (seed 0): a Gaussian AR(1), an AR(1) with Student-t(4) noise and
an AR(1) whose noise scale grows with its level. Each forecaster (a GRU with a Gaussian,
Student-t or quantile head) is fitted once on the first 1000 steps (the last 300 of them are
the calibration stretch of CQR), then moved through the next 1000 steps with ``update``: 1000
rolling one-step forecasts, each scored for 80, 90 and 95 % intervals. Prints the markdown
table of docs/probabilistic.md and writes it to --out.

    python examples/probabilistic_coverage.py --out /tmp/coverage
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn import Forecaster, RecurrentRegressor

N_TRAIN, N_TEST = 1000, 1000
COVERAGES = (0.8, 0.9, 0.95)
LEVELS = (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975)
HEADS = (("gaussian", ("model", "cqr")), ("student_t", ("model", "cqr")), ("quantile", ("cqr",)))


def simulate(kind: str, n: int = N_TRAIN + N_TEST, seed: int = 0) -> pd.Series:
    """AR(1) with coefficient 0.7 and Gaussian, Student-t(4) or level-dependent Gaussian noise."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(1, n):
        if kind == "gaussian":
            e = rng.normal()
        elif kind == "student_t":
            e = rng.standard_t(4)
        else:  # the noise scale grows with the level
            e = (0.5 + 0.5 * abs(y[t - 1])) * rng.normal()
        y[t] = 0.7 * y[t - 1] + e
    return pd.Series(y, name=kind)


def make_regressor(loss: str) -> RecurrentRegressor:
    return RecurrentRegressor(
        cell="gru",
        loss=loss,
        quantiles=LEVELS,
        hidden_size=8,
        max_iter=60,
        learning_rate=0.01,
        random_state=0,
    )


def rolling_coverage(y: pd.Series, loss: str, methods: tuple[str, ...]) -> dict[tuple[str, float], float]:
    """Share of the N_TEST one-step-ahead values inside each method's interval."""
    f = Forecaster(make_regressor(loss), window=5, calibration_size=300, random_state=0).fit(y[:N_TRAIN])
    hits = {(m, c): [] for m in methods for c in COVERAGES}
    for t in range(N_TRAIN, len(y)):
        truth = y.iloc[t]
        if "model" in methods:
            q = f.predict_quantiles(1, quantiles=LEVELS).to_numpy()[0]
            for c in COVERAGES:
                lo, hi = LEVELS.index(round((1 - c) / 2, 3)), LEVELS.index(round((1 + c) / 2, 3))
                hits[("model", c)].append(q[lo] <= truth <= q[hi])
        if "cqr" in methods:
            for c in COVERAGES:
                iv = f.predict_interval(1, c, method="cqr").to_numpy()[0]
                hits[("cqr", c)].append(iv[0] <= truth <= iv[1])
        f.update(y.iloc[t : t + 1])
    return {k: float(np.mean(v)) for k, v in hits.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    rows = []
    tic = time.perf_counter()
    for kind in ("gaussian", "student_t", "level"):
        y = simulate(kind)
        for loss, methods in (
            ("gaussian", ("model", "cqr")),
            ("student_t", ("model", "cqr")),
            ("quantile", ("cqr",)),
        ):
            cov = rolling_coverage(y, loss, methods)
            for method in methods:
                rows.append(
                    {"series": kind, "head": loss, "method": method}
                    | {f"{c:.0%}": f"{100 * cov[(method, c)]:.1f}" for c in COVERAGES}
                )
            print(rows[-len(methods) :], f"{time.perf_counter() - tic:.0f} s", flush=True)
    header = list(rows[0])
    md = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in rows]
    )
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "coverage.md").write_text(md + "\n")


if __name__ == "__main__":
    main()
