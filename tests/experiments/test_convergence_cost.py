"""Convergence and cost: tidy frames, initial losses and parameter counts by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn.datasets import load
from tsrnn.experiments import convergence, cost, summarize_convergence
from tsrnn.nn import RecurrentNetwork


def test_convergence_quick_frame_and_initial_losses_by_hand():
    frame = convergence(cells=("rnn_tanh", "lstm"), quick=True, progress=False)
    epochs, window = frame.attrs["max_epochs"], frame.attrs["window"]
    assert len(frame) == 2 * (epochs + 1)  # cells x (initial + epochs), one seed
    assert set(frame.columns) == {"cell", "seed", "epoch", "seconds", "cpu_seconds", "train_mse", "val_mse"}
    # Independent data: standardize with the first 80% (247 of 309 values), window, split.
    z = load("sunspots").to_numpy()
    n_fit = round(0.8 * len(z))
    z = (z - z[:n_fit].mean()) / z[:n_fit].std()
    X = np.stack([z[i : i + window] for i in range(len(z) - window)])[:, :, None]
    y = z[window:]
    n_train = n_fit - window
    for cell in ("rnn_tanh", "lstm"):
        net = RecurrentNetwork(cell, 1, frame.attrs["hidden_size"], 1)
        params = net.init_params(np.random.RandomState(0))
        x = np.ascontiguousarray(X.transpose(1, 0, 2), dtype=np.float32)
        out = net.predict(params, x)[:, 0].astype(np.float64)
        start = frame[(frame["cell"] == cell) & (frame["epoch"] == 0)].iloc[0]
        assert start["train_mse"] == pytest.approx(np.mean((out[:n_train] - y[:n_train]) ** 2), rel=1e-5)
        assert start["val_mse"] == pytest.approx(np.mean((out[n_train:] - y[n_train:]) ** 2), rel=1e-5)
        curve = frame[frame["cell"] == cell]
        assert curve["seconds"].is_monotonic_increasing
        assert curve["train_mse"].iloc[-1] < curve["train_mse"].iloc[0]  # it learns


def test_convergence_summary_by_hand():
    rows = []
    for seed, curve in ((0, [1.0, 0.5, 0.09, 0.05]), (1, [1.0, 0.3, 0.2, 0.08]), (2, [1.0, 0.9, 0.8, 0.7])):
        for epoch, mse in enumerate(curve):
            rows.append(
                {"cell": "gru", "seed": seed, "epoch": epoch, "seconds": 0.5 * epoch,
                 "cpu_seconds": 0.25 * epoch, "train_mse": mse, "val_mse": 1.0 - 0.1 * epoch * (seed + 1)}
            )  # fmt: skip
    frame = pd.DataFrame(rows)
    summary = summarize_convergence(frame, target_mse=0.1).loc["gru"]
    assert summary["reached"] == "2/3"
    assert summary["epochs_to_target"] == 2.5  # median of epochs 2 and 3
    assert summary["epochs_range"] == "2-3"
    assert summary["seconds_to_target"] == 1.25
    assert summary["seconds_per_epoch"] == 0.5
    assert summary["best_val_epoch"] == 3
    assert summary["best_val_mse"] == pytest.approx(np.median([0.7, 0.4, 0.1]))
    with pytest.raises(ValueError, match="target_mse"):
        summarize_convergence(frame)


def test_cost_parameter_counts_by_hand():
    cells = ("rnn_tanh", "lstm", "gru")
    frame = cost(cells=cells, quick=True, progress=False)
    assert len(frame) == len(cells) * 2  # quick hidden sizes (4, 8)
    gates = {"rnn_tanh": 1, "lstm": 4, "gru": 3}
    for _, row in frame.iterrows():
        G, H, D = gates[row["cell"]], row["hidden_size"], 2
        assert row["n_params_layer"] == G * H * (D + H + 2)  # w_ih, w_hh, b_ih, b_hh
        assert row["n_params"] == G * H * (D + H + 2) + H + 1  # plus the linear head
        assert row["seconds_per_epoch"] > 0 and row["predict_seconds"] > 0
        assert row["ms_per_batch"] == pytest.approx(row["seconds_per_epoch"] * 1e3 / 2)  # 64 / 32
    rnn = frame[frame["cell"] == "rnn_tanh"]
    np.testing.assert_allclose(rnn["time_vs_rnn"], 1.0)


@pytest.mark.torch
def test_cost_parameter_counts_match_torch():
    torch = pytest.importorskip("torch")
    frame = cost(quick=True, progress=False)
    make = {"rnn_tanh": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    for _, row in frame.iterrows():
        module = make[row["cell"]](2, int(row["hidden_size"]))
        assert row["n_params_layer"] == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_mse": "0.1"}, "target_mse must be a positive number"),
        ({"target_mse": 0.0}, "target_mse must be a positive number"),
        ({"train_fraction": 1.0}, "train_fraction must be strictly between 0 and 1"),
        ({"train_fraction": None}, "train_fraction must be a number"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        convergence(quick=True, progress=False, **kwargs)
