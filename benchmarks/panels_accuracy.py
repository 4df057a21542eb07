"""Global GRU vs per-series (local) GRUs vs per-series ARIMA on panels, by mean MASE.

Four panels:

* ``grunfeld``: statsmodels' Grunfeld investment data, gross investment ``invest`` of the 11
  firms, 1935-1954 (yearly, 20 points each);
* ``macrodata``: the 12 quarterly columns of statsmodels' macrodata (1959Q1-2009Q3, 203 points
  each) as one panel;
* ``fertility``: statsmodels' World Bank fertility rates (births per woman), yearly 1960-2013,
  every country with a contiguous record of at least 30 years (ragged starts where the record
  begins late);
* ``synthetic``: 200 series of 40-80 points (ragged starts), all following the same nonlinear
  AR(2) dynamics ``x[t] = 0.5 x[t-1] - 0.3 x[t-2] + 0.8 tanh(2 x[t-1]) + e[t]``, each with its
  own level and scale.

Protocol (fixed before any result was seen, the same for all three models): rolling origins
on cutoff dates shared by the series of a panel (``tsrnn.backtest`` on the long frame), the
model refitted at every cutoff; horizon and number of windows per panel as in ``PANELS``; MASE
per series and window, averaged over both. The recurrent models use the same estimator
(``RecurrentRegressor(cell="gru", random_state=0)``, tsrnn's defaults: 32 hidden units,
Adam, early stopping on the last 10 % of the windows) and the same Forecaster settings
(``window`` from the table, ``diff="auto"``), global (``scope="global"``) or one per series
(``scope="local"``). ARIMA is ``ARIMAForecaster(seasonal_period=m)`` (order chosen by AICc),
as in ``tsrnn compare``, except on the synthetic panel, where it is given the order of the
simulation's linear part, AR(2) (the automatic search was too slow for 400 fits on the shared
machine). Nothing was tuned on these windows.

Usage::

    python benchmarks/panels_accuracy.py [--panels grunfeld macrodata fertility synthetic]
        [--seeds 0 1 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np
import pandas as pd

# (horizon, n_windows, window, seasonal period, ARIMA order: None = chosen by AICc)
PANELS = {
    "grunfeld": (2, 3, 4, None, None),
    "macrodata": (4, 3, 8, 4, None),
    # the M4 yearly horizon; window twice the horizon, the recurrent recipe's rule for series
    # without a season (benchmarks/ACCURACY.md); fixed before this panel first ran
    "fertility": (6, 3, 12, None, None),
    # the automatic order search costs ~25 s per fit on the shared 2-core machine (400 fits):
    # ARIMA gets the linear order of the simulation instead, which can only help it
    "synthetic": (6, 2, 8, None, (2, 0, 0)),
}


def grunfeld() -> pd.DataFrame:
    import statsmodels.api as sm

    g = sm.datasets.grunfeld.load_pandas().data
    return pd.DataFrame(
        {"unique_id": g["firm"].astype(str), "ds": g["year"].astype(int), "y": g["invest"].astype(float)}
    )


def macrodata() -> pd.DataFrame:
    from tsrnn import datasets

    wide = datasets.load("macrodata")
    long = wide.stack().rename("y").reset_index()
    long.columns = ["ds", "unique_id", "y"]
    return long[["unique_id", "ds", "y"]]


def fertility(min_years: int = 30) -> pd.DataFrame:
    import statsmodels.api as sm

    wide = sm.datasets.fertility.load_pandas().data
    years = [c for c in wide.columns if c.isdigit()]
    rows = []
    for _, country in wide.iterrows():
        values = country[years].astype(float)
        present = values.notna().to_numpy()
        if present.sum() < min_years:
            continue
        first, last = np.argmax(present), len(present) - 1 - np.argmax(present[::-1])
        if not present[first : last + 1].all():  # a hole inside the record: not a regular series
            continue
        kept = values.iloc[first : last + 1]
        rows.append(
            pd.DataFrame(
                {"unique_id": country["Country Code"], "ds": kept.index.astype(int), "y": kept.to_numpy()}
            )
        )
    return pd.concat(rows, ignore_index=True)


def synthetic(n_series: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        n = int(rng.integers(40, 81))
        burn = 50
        x = np.zeros(n + burn)
        e = rng.normal(scale=0.3, size=n + burn)
        for t in range(2, n + burn):
            x[t] = 0.5 * x[t - 1] - 0.3 * x[t - 2] + 0.8 * np.tanh(2 * x[t - 1]) + e[t]
        level, scale = rng.normal(scale=10), rng.uniform(0.5, 5)
        start = 80 - n  # ragged starts, common end
        rows.append(
            pd.DataFrame(
                {"unique_id": f"s{i:03d}", "ds": np.arange(start, 80), "y": level + scale * x[burn:]}
            )
        )
    return pd.concat(rows, ignore_index=True)


def models(window: int, season, order=None, seed: int = 0, arima: bool = True):
    from tsrnn import ARIMAForecaster, Forecaster
    from tsrnn.estimators import RecurrentRegressor

    def gru(scope):
        return Forecaster(
            RecurrentRegressor(cell="gru", random_state=seed), window=window, diff="auto", scope=scope
        )

    out = {"global GRU": gru("global"), "local GRU": gru("local")}
    if arima:
        out["ARIMA"] = ARIMAForecaster(order=order, seasonal_period=season)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", nargs="+", default=list(PANELS), choices=list(PANELS))
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=[0], help="seeds of the GRUs (ARIMA runs once)"
    )
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--figure",
        default=None,
        help="write a figure of the last window's forecasts of a few series of the (last) panel",
    )
    args = parser.parse_args(argv)

    from tsrnn import backtest
    from tsrnn.evaluation.metrics import summarize, summarize_series

    loaders = {
        "grunfeld": grunfeld,
        "macrodata": macrodata,
        "fertility": fertility,
        "synthetic": synthetic,
    }
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"python {sys.version.split()[0]}"
    )
    out = {}
    for name in args.panels:
        horizon, n_windows, window, season, order = PANELS[name]
        data = loaders[name]()
        n_series = data["unique_id"].nunique()
        print(
            f"\n== {name}: {n_series} series, {len(data)} observations; horizon {horizon}, "
            f"{n_windows} windows, window {window}"
        )
        rows, results = {}, {}
        candidates = {}
        for k, seed in enumerate(args.seeds):
            for label, model in models(window, season, order, seed, arima=k == 0).items():
                candidates[label if len(args.seeds) == 1 or label == "ARIMA" else f"{label} s{seed}"] = model
        # every model is scored on the same series in every window: those with the history
        # the recurrent models need (window + differencing), as tsrnn.compare does
        min_history = max(m.min_history() for m in candidates.values() if hasattr(m, "min_history"))
        for label, model in candidates.items():
            tic = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = backtest(
                    model,
                    data,
                    horizon=horizon,
                    n_windows=n_windows,
                    seasonal_period=season or 1,
                    model=label,
                    min_history=min_history,
                )
            elapsed = time.perf_counter() - tic
            results[label] = res
            summary = summarize(res).iloc[0]
            per_series = summarize_series(res)["mase"]
            rows[label] = {
                "mean_mase": float(summary["mase"]),
                "median_series_mase": float(per_series.median()),
                "mae": float(summary["mae"]),
                "seconds": elapsed,
                "n_forecasts": len(res),
            }
            print(
                f"{label:>11}: mean MASE {summary['mase']:.3f}  "
                f"median series MASE {per_series.median():.3f}  ({elapsed:.0f} s)",
                flush=True,
            )
        out[name] = rows
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    if args.figure:
        plot_last_window(data, results, args.figure, name)
    return 0


def plot_last_window(data: pd.DataFrame, results: dict, path: str, panel: str, n_series: int = 6):
    """History and the last window's forecasts of each model, for the series ranked at even
    intervals by the global model's MASE on that window (its best, its worst and between)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    last = {label: res[res["window"] == res["window"].max()] for label, res in results.items()}
    first = next(iter(last.values()))
    errors = first.groupby("series").apply(
        lambda g: float(np.mean(np.abs(g["y_true"] - g["y_pred"])) / g["mase_scale"].iloc[0])
    )
    ranked = errors.sort_values().index.to_list()
    picks = [ranked[round(i * (len(ranked) - 1) / (n_series - 1))] for i in range(n_series)]
    fig, axes = plt.subplots(2, (n_series + 1) // 2, figsize=(12, 6), constrained_layout=True)
    for ax, uid in zip(axes.ravel(), picks):
        hist = data[data["unique_id"] == uid]
        ax.plot(hist["ds"], hist["y"], color="0.6", lw=1.2, label="observed")
        for (label, res), color in zip(last.items(), ("C0", "C1", "C2", "C3", "C4")):
            g = res[res["series"] == uid]
            mase = float(np.mean(np.abs(g["y_true"] - g["y_pred"])) / g["mase_scale"].iloc[0])
            ax.plot(g["timestamp"], g["y_pred"], color=color, lw=1.5, label=f"{label} ({mase:.2f})")
        ax.axvline(g["cutoff"].iloc[0], color="0.3", lw=0.6, ls=":")
        ax.set_title(str(uid), fontsize=10)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{panel}: last window's forecasts (MASE on that window); series picked from the global "
        "model's best to its worst"
    )
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
