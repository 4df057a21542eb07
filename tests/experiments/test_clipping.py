"""Clipping: per-batch records against the estimator's curves and against the clip threshold."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsrnn import RNNRegressor
from tsrnn.datasets import load
from tsrnn.experiments import clipping, summarize_clipping


def sunspot_windows(window):
    """Standardized sunspot windows and next values, built here independently of the experiment."""
    z = load("sunspots").to_numpy()
    z = (z - z.mean()) / z.std()
    X = np.stack([z[i : i + window] for i in range(len(z) - window)])[:, :, None].astype(np.float32)
    return X, z[window:].astype(np.float32)


def test_clipped_runs_apply_at_most_the_threshold():
    frame = clipping(quick=True, max_epochs=3, progress=False)
    n_batches = -(-(309 - 12) // 32)  # quick windows of 12 steps, batches of 32
    assert len(frame) == 2 * 3 * n_batches  # settings x epochs x batches
    clipped = frame[frame["setting"] == "clip_norm=1"]
    unclipped = frame[frame["setting"] == "unclipped"]
    assert (clipped["clipped_grad_norm"] <= 1.0 + 1e-6).all()
    expected = np.minimum(clipped["grad_norm"], 1.0)
    np.testing.assert_allclose(clipped["clipped_grad_norm"], expected, rtol=1e-5)
    assert (clipped["grad_norm"] > 1.0).any()  # clipping really acted
    np.testing.assert_array_equal(unclipped["clipped_grad_norm"], unclipped["grad_norm"])
    # Same initial weights and batch order: the first batch is the same in both runs.
    assert clipped["grad_norm"].iloc[0] == unclipped["grad_norm"].iloc[0]
    assert list(clipped["epoch"].unique()) == [1, 2, 3]


@pytest.mark.parametrize("clip", [None, 1.0])
def test_batch_records_agree_with_the_estimator_curves(clip):
    # With spectral_radius=1 the network starts as RNNRegressor does; per-epoch means of the
    # per-batch records must then equal the estimator's grad_norm_curve_ and loss_curve_.
    epochs, window = 3, 12
    frame = clipping(quick=True, spectral_radius=1.0, max_epochs=epochs, seeds=(4,), progress=False)
    runs = frame[frame["setting"] == ("unclipped" if clip is None else "clip_norm=1")]
    X, y = sunspot_windows(window)
    model = RNNRegressor(
        hidden_size=8, solver="sgd", learning_rate=0.05, momentum=0.9, batch_size=32, max_iter=epochs,
        clip_norm=clip, early_stopping=False, standardize=False, random_state=4,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    sizes = np.array([32] * (len(X) // 32) + [len(X) % 32])
    for epoch in range(1, epochs + 1):
        part = runs[runs["epoch"] == epoch]
        assert part["grad_norm"].mean() == pytest.approx(model.grad_norm_curve_[epoch - 1], rel=1e-5)
        weighted = np.dot(part["loss"], sizes) / len(X) / 2  # the estimator records half the MSE
        assert weighted == pytest.approx(model.loss_curve_[epoch - 1], rel=1e-5)


def test_large_recurrent_weights_make_larger_gradients():
    # The same seed with the recurrent matrix scaled from 1 to 3: the first-batch gradient grows.
    small = clipping(quick=True, spectral_radius=1.0, max_epochs=1, progress=False)
    large = clipping(quick=True, spectral_radius=3.0, max_epochs=1, progress=False)
    assert large["grad_norm"].iloc[0] > 2 * small["grad_norm"].iloc[0]


def test_summary_by_hand():
    frame = clipping(quick=True, progress=False)
    summary = summarize_clipping(frame).set_index("setting")
    for setting, group in frame.groupby("setting"):
        row = summary.loc[setting]
        assert row["last_epoch_mse"] == pytest.approx(group.loc[group["epoch"] == 2, "loss"].mean())
        assert row["max_grad_norm"] == pytest.approx(group["grad_norm"].max())
        assert row["batches_norm>10x"] == int((group["grad_norm"] > 10.0).sum())
    assert summary.loc["clip_norm=1", "max_applied_norm"] <= 1.0 + 1e-6


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="clip_norm"):
        clipping(clip_norm=0, quick=True, progress=False)
    with pytest.raises(ValueError, match="spectral_radius"):
        clipping(spectral_radius=-1, quick=True, progress=False)
    with pytest.raises(ValueError, match="window"):
        clipping(window=400, quick=True, progress=False)
    # a string or None is named too, not a bare comparison error
    for bad in ("1", None, float("nan")):
        with pytest.raises((TypeError, ValueError), match="clip_norm must be a positive number"):
            clipping(clip_norm=bad, quick=True, progress=False)
