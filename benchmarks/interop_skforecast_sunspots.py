"""The skforecast backtest of the interop recipe: a tsrnn GRU against Ridge on yearly sunspots.

skforecast's ``ForecasterRecursive(lags=12)`` and ``backtesting_forecaster`` (10-step folds, no
refit) on the last 50 years (1959-2008). The GRU's settings are chosen first, by the same
backtest on the 50 years before them (1909-1958, trained on the years up to 1908), over a small
grid and 3 seeds; the last 50 years are used only to report the chosen setting, next to Ridge
(default alpha; no tuning) and the GRU read newest-first (the layout mistake the recipe fixes).

Run: ``python benchmarks/interop_skforecast_sunspots.py`` (needs ``pip install ".[interop]"``).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from skforecast.model_selection import TimeSeriesFold, backtesting_forecaster
from skforecast.recursive import ForecasterRecursive
from sklearn.linear_model import Ridge

from tsrnn import RecurrentRegressor, datasets
from tsrnn.interop import skforecast_layout

GRID = {"hidden_size": [8, 16, 32], "learning_rate": [0.002, 0.005, 0.01]}
SEEDS = (0, 1, 2)


def mae(estimator, y: pd.Series, test_years: int = 50) -> float:
    cv = TimeSeriesFold(steps=10, initial_train_size=len(y) - test_years)
    metric, _ = backtesting_forecaster(
        forecaster=ForecasterRecursive(estimator=estimator, lags=12),
        y=y,
        cv=cv,
        metric="mean_absolute_error",
        show_progress=False,
    )
    return float(metric.iloc[0, 0])


def main() -> None:
    warnings.simplefilter("ignore")
    y = pd.Series(datasets.load("sunspots").to_numpy(), name="y")
    tuning = y.iloc[:-50]  # the reported years are not used to choose
    scores = {}
    for hidden, lr in itertools.product(GRID["hidden_size"], GRID["learning_rate"]):
        runs = [
            mae(
                RecurrentRegressor(
                    cell="gru", hidden_size=hidden, learning_rate=lr, random_state=s, **skforecast_layout()
                ),
                tuning,
            )
            for s in SEEDS
        ]
        scores[(hidden, lr)] = float(np.mean(runs))
        print(f"tuning 1909-1958: hidden_size={hidden:3d} learning_rate={lr}: MAE {scores[(hidden, lr)]:.2f}")
    hidden, lr = min(scores, key=scores.get)
    print(f"chosen: hidden_size={hidden}, learning_rate={lr}")
    print(f"tuning 1909-1958: Ridge(): MAE {mae(Ridge(), tuning):.2f}")
    print("reported 1959-2008 (MAE):")
    print(f"  Ridge()                              {mae(Ridge(), y):.2f}")
    wrong = [
        mae(RecurrentRegressor(cell="gru", hidden_size=hidden, learning_rate=lr, random_state=s), y)
        for s in range(5)
    ]
    print(f"  GRU, row read oldest-first, seed 0   {wrong[0]:.2f}")
    print(f"  GRU, row read oldest-first, seeds 0-4 {np.mean(wrong):.2f} ± {np.std(wrong, ddof=1):.2f}")
    chosen = [
        mae(
            RecurrentRegressor(
                cell="gru", hidden_size=hidden, learning_rate=lr, random_state=s, **skforecast_layout()
            ),
            y,
        )
        for s in range(5)
    ]
    print(f"  GRU, skforecast_layout(), seed 0     {chosen[0]:.2f}")
    print(f"  GRU, skforecast_layout(), seeds 0-4  {np.mean(chosen):.2f} ± {np.std(chosen, ddof=1):.2f}")


if __name__ == "__main__":
    main()
