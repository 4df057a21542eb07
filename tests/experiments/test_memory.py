"""Long-range memory: frame shape, baselines by Monte-Carlo, errors recomputed, real learning."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.experiments import long_memory, summarize_long_memory, train_on_task

COLUMNS = {
    "task", "cell", "lag", "seed", "metric", "test_error", "baseline", "baseline_empirical", "threshold",
    "success", "error_to_baseline", "epochs", "best_epoch", "epochs_to_success", "seconds_to_success",
    "seconds", "cpu_seconds", "stop_reason", "hidden_size", "n_params", "forget_bias", "n_train",
    "batch_size", "learning_rate",
}  # fmt: skip


def test_quick_frame_is_tidy_with_the_adding_baseline():
    frame = long_memory(cells=("rnn_tanh", "gru"), quick=True, progress=False)
    assert set(frame.columns) == COLUMNS
    assert len(frame) == 2 * 2  # cells x quick lags (5, 10) x one seed
    assert sorted(frame["lag"].unique()) == [5, 10] and set(frame["seed"]) == {0}
    # The trivial predictor's MSE, Var(U + U') for U, U' ~ U(0, 1), by Monte-Carlo.
    rng = np.random.default_rng(0)
    mc = np.var(rng.uniform(size=400_000) + rng.uniform(size=400_000))
    assert frame["baseline"].iloc[0] == pytest.approx(mc, abs=2e-3)
    np.testing.assert_allclose(frame["threshold"], 0.1 * frame["baseline"])
    np.testing.assert_array_equal(frame["success"], frame["test_error"] < frame["threshold"])
    np.testing.assert_allclose(frame["error_to_baseline"], frame["test_error"] / frame["baseline"])
    assert (frame["epochs"] <= 2).all() and (frame["seconds"] > 0).all()
    assert frame.attrs["seeds"] == [0] and frame.attrs["hidden_size"] == 8


def test_test_error_and_empirical_baseline_recomputed_from_the_trained_model():
    row, (net, initial, params, data) = train_on_task(
        "gru", "adding", 8, 3, hidden_size=8, n_train=128, n_val=32, n_test=300, max_epochs=2,
        return_model=True,
    )  # fmt: skip
    prediction = net.predict(params, data.X_test)[:, 0].astype(np.float64) + 1.0
    assert row["test_error"] == pytest.approx(np.mean((prediction - data.y_test) ** 2), rel=1e-6)
    # The test sequences are the adding problem: the target is the sum of the two marked values.
    x = data.X_test.transpose(1, 0, 2).astype(np.float64)
    np.testing.assert_allclose((x[:, :, 0] * x[:, :, 1]).sum(axis=1), data.y_test, rtol=1e-6)
    y_train = data.Y_train[:, 0].astype(np.float64) + 1.0
    assert row["baseline_empirical"] == pytest.approx(np.mean((data.y_test - y_train.mean()) ** 2), rel=1e-6)
    assert not np.array_equal(initial, params)  # it trained


@pytest.mark.slow
def test_gru_learns_the_adding_problem_at_a_short_lag():
    # A real learning check: a working pipeline solves lag 10 within a few epochs.
    frame = long_memory(
        cells=("gru",), lags=(10,), hidden_size=16, n_train=2000, n_val=200, n_test=500, max_epochs=4,
        progress=False,
    )  # fmt: skip
    row = frame.iloc[0]
    assert row["success"] and row["test_error"] < 0.0167
    assert row["epochs_to_success"] <= row["epochs"]


def test_copy_task_reports_the_error_rate_against_guessing():
    frame = long_memory(cells=("lstm",), task="copy", quick=True, progress=False)
    assert set(frame["metric"]) == {"error_rate"}
    assert frame["baseline"].iloc[0] == pytest.approx(7 / 8)
    assert frame["test_error"].between(0, 1).all()
    # Monte-Carlo: guessing the most frequent symbol of 8 is right about 1/8 of the time.
    assert frame["baseline_empirical"].between(0.75, 0.95).all()


def test_results_do_not_depend_on_the_number_of_workers():
    kwargs = dict(cells=("rnn_tanh", "gru"), lags=(5,), seeds=(0, 1), quick=True, progress=False)
    serial = long_memory(n_jobs=1, **kwargs)
    parallel = long_memory(n_jobs=2, **kwargs)
    keys = ["cell", "lag", "seed", "test_error", "epochs", "best_epoch"]
    assert serial[keys].equals(parallel[keys])
    assert list(serial["seed"]) == [0, 1, 0, 1]


def test_summary_pivots_the_mean_error_and_counts_successes():
    frame = long_memory(cells=("rnn_tanh", "gru"), quick=True, progress=False)
    frame.loc[0, "success"] = True  # pretend one run succeeded
    summary = summarize_long_memory(frame)
    assert list(summary.index) == ["rnn_tanh", "gru"]
    for _, row in frame.iterrows():
        assert summary.loc[row["cell"], f"L={row['lag']}"] == pytest.approx(row["test_error"])
        assert summary.loc[row["cell"], f"ok L={row['lag']}"] == ("1/1" if row["success"] else "0/1")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="task"):
        long_memory(task="sorting", quick=True, progress=False)
    with pytest.raises(ValueError, match="lags"):
        long_memory(lags=(1, 10), quick=True, progress=False)
    with pytest.raises(ValueError, match="seeds"):
        long_memory(seeds=(-1,), quick=True, progress=False)
    with pytest.raises(TypeError, match="cells"):
        long_memory(cells=3, quick=True, progress=False)


def test_forget_bias_sets_the_lstm_initial_forget_gate_only():
    row, (net, initial, _, _) = train_on_task(
        "lstm", "copy", 6, 0, hidden_size=4, n_train=64, n_val=16, n_test=16, max_epochs=1,
        forget_bias=5.0, return_model=True,
    )  # fmt: skip
    views = net.layout.views(initial)
    np.testing.assert_array_equal(views["bias_ih_l0"][4:8], 5.0)
    np.testing.assert_array_equal(views["bias_hh_l0"][4:8], 0.0)
    np.testing.assert_array_equal(views["bias_ih_l0"][:4], 0.0)  # input gate untouched
    assert row["forget_bias"] == 5.0
    gru = train_on_task("gru", "copy", 6, 0, hidden_size=4, n_train=64, n_val=16, n_test=16, max_epochs=1,
                        forget_bias=5.0)  # fmt: skip
    assert np.isnan(gru["forget_bias"])
