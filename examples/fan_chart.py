"""A fan chart of probabilistic forecasts: yearly sunspot numbers, 1989-2008 held out.

A GRU with a Gaussian head (``loss="gaussian"``) is fitted on 1700-1988; 2000 sample paths
feed each draw back through the recurrence for 20 years, and their 5-95, 10-90 and 25-75 %
bands are shaded around the median, against what happened. Also prints the CRPS of the paths
and the coverage of the bands over the 20 held-out years.

    python examples/fan_chart.py --out docs/figures
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tsrnn import Forecaster, RecurrentRegressor, datasets
from tsrnn.evaluation import metrics

HOLD_OUT = 20
LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = datasets.load("sunspots")
    train, test = y.iloc[:-HOLD_OUT], y.iloc[-HOLD_OUT:]
    est = RecurrentRegressor(cell="gru", loss="gaussian", hidden_size=16, batch_size=16, random_state=0)
    f = Forecaster(est, window=24, random_state=0).fit(train)
    paths = f.sample_paths(HOLD_OUT, n_paths=2000, random_state=0)
    q = f.predict_quantiles(HOLD_OUT, quantiles=LEVELS, n_paths=2000, random_state=0)
    truth = test.to_numpy()
    crps = metrics.crps_from_samples(truth, paths.to_numpy())
    print(f"CRPS of the 2000 paths over {HOLD_OUT} years: {crps:.2f}")
    for lo, hi in ((0.05, 0.95), (0.1, 0.9), (0.25, 0.75)):
        inside = metrics.coverage(truth, q[lo].to_numpy(), q[hi].to_numpy())
        print(f"{hi - lo:.0%} band: {inside:.0%} of the held-out years inside")

    t_past = train.index[-60:].to_timestamp()
    t_future = test.index.to_timestamp()
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(t_past, train.iloc[-60:].to_numpy(), color="0.4", lw=1.2, label="history")
    for (lo, hi), alpha in zip(((0.05, 0.95), (0.1, 0.9), (0.25, 0.75)), (0.18, 0.28, 0.4)):
        ax.fill_between(t_future, q[lo], q[hi], color="C0", alpha=alpha, lw=0, label=f"{hi - lo:.0%} band")
    ax.plot(t_future, q[0.5], color="C0", lw=2, label="median")
    ax.plot(t_future, truth, color="black", marker="o", ms=3, lw=1.4, label="actual")
    ax.set_title("Yearly sunspots: GRU with a Gaussian head, 2000 sample paths from 1988", loc="left")
    ax.legend(ncol=3, fontsize=8, frameon=False, loc="upper left")
    ax.grid(alpha=0.25)
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "probabilistic_fan_sunspots.png"
    fig.savefig(path, dpi=130)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
