"""RNN vs LSTM vs GRU on the adding problem at L = 100: vanishing gradients and long memory.

Trains a tanh RNN, an LSTM and a GRU (32 hidden units, Adam) on 5000 adding-problem
sequences of 100 steps, then prints

- the test MSE of each network against the trivial baseline (predicting the mean: 0.167;
  success below 0.0167), and
- how much the gradient of the loss with respect to the hidden state h_t shrinks between the
  last step and 99 steps earlier, at initialisation and after training,

and writes the gradient-flow figure. The full study (five lags, clipping, convergence, cost)
is ``tsrnn experiment all --out DIR``; see docs/rnn_vs_lstm.md.

Run: ``PYTHONPATH=. python examples/rnn_vs_lstm.py`` (about 5 s on 2 idle cores;
``--quick`` for a smoke run on tiny settings).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tsrnn.experiments import gradient_flow, plot_gradient_flow, summarize_gradient_flow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument("--quick", action="store_true", help="tiny settings: a smoke run")
    args = parser.parse_args()

    start = time.perf_counter()
    # One run per cell: the same training as `tsrnn experiment memory` at lag 100 (same seed),
    # then the exact gradient dloss/dh_t for every step on 128 held-out sequences.
    frame = gradient_flow(seeds=(args.seed,), quick=args.quick, n_jobs=args.jobs)
    summary = summarize_gradient_flow(frame)
    L = frame.attrs["seq_len"]
    far = f"ratio k={L - 1}"

    print(f"\nAdding problem, L={L}, seed {args.seed}: test MSE (baseline 0.167, success < 0.0167)")
    trained = summary[(summary["stage"] == "trained") & (summary["quantity"] == "h")]
    for _, row in trained.iterrows():
        verdict = "success" if row["model_error"] < 0.0167 else "no success"
        print(f"  {row['cell']:<9} {row['model_error']:.4f}  {verdict}")

    print(f"\n||dloss/dh_t|| at distance {L - 1} / at distance 0 (c: the LSTM cell state)")
    print(f"  {'cell':<12} {'at init':>10} {'trained':>10}")
    for (cell, quantity), group in summary.groupby(["cell", "quantity"], sort=False):
        by_stage = group.set_index("stage")[far]
        label = cell if quantity == "h" else f"{cell} (c)"
        print(f"  {label:<12} {by_stage['init']:>10.2e} {by_stage['trained']:>10.2e}")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "rnn_vs_lstm_gradient_flow.png"
    try:
        import matplotlib

        matplotlib.use("Agg")
        plot_gradient_flow(frame, path=path)
        print(f"\nwrote {path}")
    except ImportError:
        print("\n(matplotlib is not installed: no figure; pip install 'tsrnn[plot]')")
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
