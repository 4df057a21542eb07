"""The recurrent estimators on three small tasks: the figures quoted in docs/estimators.md.

1. LSTMRegressor forecasting a noisy sine one step ahead: R^2 on the held-out last 20%.
2. A memory task: two classes of sequences that differ only in their first step;
   held-out accuracy of LSTM, GRU and Elman RNN classifiers.
3. GridSearchCV over the cell type, Pipeline([StandardScaler, RecurrentRegressor]) with
   TimeSeriesSplit(3) on windows of the yearly sunspot series.

Run: ``PYTHONPATH=. python examples/estimators_acceptance.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsrnn import LSTMRegressor, RecurrentClassifier, RecurrentRegressor
from tsrnn.datasets import load


def windows(series, width):
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], width)
    return np.ascontiguousarray(X), series[width:]


def memory_task(n, length, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, length, 1))
    X[:, 0, 0] = np.where(y == 1, 1.0, -1.0)
    return X, y


def main() -> None:
    warnings.simplefilter("ignore", ConvergenceWarning)

    t = np.arange(500)
    sine = np.sin(2 * np.pi * t / 25) + 0.1 * np.random.default_rng(0).normal(size=t.size)
    X, y = windows(sine, 20)
    cut = int(0.8 * len(X))
    start = time.perf_counter()
    model = LSTMRegressor(hidden_size=16, random_state=0).fit(X[:cut], y[:cut])
    print(
        f"noisy sine, LSTMRegressor(hidden_size=16): held-out R^2 = {model.score(X[cut:], y[cut:]):.4f} "
        f"({model.n_iter_} epochs, {model.stop_reason_}, {time.perf_counter() - start:.1f} s)"
    )

    X_train, y_train = memory_task(300, 20, seed=0)
    X_test, y_test = memory_task(200, 20, seed=1)
    for cell in ("lstm", "gru", "rnn_tanh"):
        clf = RecurrentClassifier(cell, hidden_size=16, random_state=0).fit(X_train, y_train)
        print(f"memory task (20 steps), {cell:8s}: held-out accuracy = {clf.score(X_test, y_test):.3f}")

    X, y = windows(load("sunspots").to_numpy(), 12)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), RecurrentRegressor(hidden_size=8, max_iter=30, random_state=0)),
        {
            "recurrentregressor__cell": ["rnn_tanh", "lstm", "gru"],
            "recurrentregressor__learning_rate": [0.01],
        },
        cv=TimeSeriesSplit(3),
        n_jobs=2,
    ).fit(X, y)
    for cell, score in zip(
        search.cv_results_["param_recurrentregressor__cell"], search.cv_results_["mean_test_score"]
    ):
        print(f"sunspots grid search, {cell:8s}: mean R^2 over TimeSeriesSplit(3) = {score:.3f}")
    print(f"best: {search.best_params_['recurrentregressor__cell']} with R^2 = {search.best_score_:.3f}")


if __name__ == "__main__":
    main()
