"""Why the global Gaussian head under-covers on the simulated AR(1) panels of docs/panels.md.

The panel of ``test_global_model_interval_coverage_on_a_simulated_panel``
(``tests/forecasting/test_panel_probabilistic.py``; 4 Gaussian AR(1) series of levels 0-30
and scales 1-4, 300 training steps each, one GRU head of 8 units, window 4), and the 80 %
model intervals of one-step forecasts from given histories (every second origin):

- the global head out of sample (steps 300-699), as in the test;
- the same head fitted on each series alone (a one-series panel), out of sample;
- the global head trained for 300 epochs without early stopping, out of sample;
- the global head on its own training steps (60-299).

    python benchmarks/panel_head_coverage.py [--seeds 5 6 7]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.forecasting.test_panel_probabilistic import _fit, ar_panel
from tsrnn import RecurrentRegressor

HEAD = dict(loss="gaussian", cell="gru", hidden_size=8, max_iter=60, batch_size=128, learning_rate=0.01)
N_TRAIN, N = 300, 700


def coverage(f, df: pd.DataFrame, first: int, last: int, level: float = 0.8) -> float:
    """Share of one-step values inside the model interval, from every second origin."""
    histories, truth = [], []
    for uid, g in df.groupby("unique_id", sort=False):
        for o in range(first, last, 2):
            histories.append(g.iloc[o - 60 : o].assign(unique_id=f"{uid}@{o}"))
            truth.append(g["y"].iloc[o])
    iv = f.predict_interval(1, level, method="model", y=pd.concat(histories, ignore_index=True))
    truth = np.asarray(truth)
    return float(np.mean((truth >= iv["lower"].to_numpy()) & (truth <= iv["upper"].to_numpy())))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7])
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    rows = []
    for seed in args.seeds:
        df = ar_panel(n_series=4, n=N, seed=seed)
        train = df.groupby("unique_id").head(N_TRAIN)
        glob = _fit(RecurrentRegressor(**HEAD, random_state=0), train)
        longer = {**HEAD, "max_iter": 300, "early_stopping": False}
        long = _fit(RecurrentRegressor(**longer, random_state=0), train)
        alone = [
            coverage(_fit(RecurrentRegressor(**HEAD, random_state=0), g.iloc[:N_TRAIN]), g, N_TRAIN, N)
            for _, g in df.groupby("unique_id", sort=False)
        ]
        rows.append(
            {
                "seed": seed,
                "global, out of sample": coverage(glob, df, N_TRAIN, N),
                "each series alone, out of sample": float(np.mean(alone)),
                "global, 300 epochs, no early stopping": coverage(long, df, N_TRAIN, N),
                "global, its training steps": coverage(glob, df, 60, N_TRAIN),
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).set_index("seed")
    print("\n80 % model intervals, coverage:\n")
    print((100 * table).round(1).to_string())
    print("\nmean over the seeds:", (100 * table.mean()).round(1).to_dict())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
