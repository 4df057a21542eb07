"""Shared command line and estimator choice of the forecasting examples."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ESTIMATORS = ("gru", "lstm", "rnn", "mlp", "ridge")


def parse_args(description: str, default_estimator: str = "gru") -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--estimator",
        choices=ESTIMATORS,
        default=default_estimator,
        help="regressor behind the Forecaster: tsrnn's recurrent models (gru, lstm, rnn) or "
        "scikit-learn's MLPRegressor / Ridge (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "out",
        help="directory for the figure and the forecast table (default: examples/out/)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the regressor")
    return parser.parse_args()


def make_estimator(name: str, seed: int, hidden_size: int = 32):
    """The regressor called ``name`` (see ``ESTIMATORS``)."""
    if name in ("gru", "lstm", "rnn"):
        try:
            from tsrnn.estimators import RecurrentRegressor
        except ImportError:
            sys.exit(
                f"--estimator {name} needs tsrnn.estimators.RecurrentRegressor, which this installation "
                "lacks; run with --estimator mlp or --estimator ridge."
            )
        return RecurrentRegressor(cell=name, hidden_size=hidden_size, random_state=seed)
    if name == "mlp":
        from sklearn.neural_network import MLPRegressor

        return MLPRegressor(hidden_layer_sizes=(hidden_size,), max_iter=3000, random_state=seed)
    from sklearn.linear_model import Ridge

    return Ridge(alpha=1.0)


def mae(a, b) -> float:
    import numpy as np

    return float(np.mean(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))
