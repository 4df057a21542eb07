"""Ctrl-C during fit keeps the best weights so far; forced divergence keeps the last finite ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import tsrnn.nn._training as training
from tsrnn import Forecaster, GRURegressor, NaiveForecaster, PerSeriesForecaster, RNNRegressor, backtest
from tsrnn.nn import TrainingDivergedWarning, TrainingInterruptedWarning

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def windows(n=120, width=8, seed=0):
    rng = np.random.default_rng(seed)
    s = np.sin(np.arange(n + width) / 3) + 0.1 * rng.normal(size=n + width)
    X = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(s[:-1], width)[:n])
    return X, s[width : width + n]


def interrupt_at(monkeypatch, epoch: int):
    """Make the ``epoch``-th call of run_epoch (1-based) corrupt the weights, then raise Ctrl-C.

    The corruption stands for an interrupt that lands in the middle of an optimizer step:
    those half-updated weights must never be kept.
    """
    real = training.run_epoch
    calls = {"n": 0}

    def run_epoch(network, params, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == epoch:
            params += 1000.0
            raise KeyboardInterrupt
        return real(network, params, *args, **kwargs)

    monkeypatch.setattr(training, "run_epoch", run_epoch)
    return calls


def model(**kw):
    return GRURegressor(
        **{
            "hidden_size": 6,
            "max_iter": 20,
            "random_state": 0,
            "n_iter_no_change": 50,
            "early_stopping": True,
            **kw,
        }
    )


def test_interrupt_keeps_the_weights_of_the_last_completed_epoch(monkeypatch):
    X, y = windows()
    interrupt_at(monkeypatch, 4)
    with pytest.warns(TrainingInterruptedWarning, match="interrupted.*epoch 4.*after epoch 3"):
        est = model(early_stopping=False).fit(X, y)
    monkeypatch.undo()
    # oracle: the same seed trained for exactly 3 epochs
    reference = model(early_stopping=False, max_iter=3).fit(X, y)
    assert est.stop_reason_ == "interrupted" and est.n_iter_ == 3 and len(est.loss_curve_) == 3
    np.testing.assert_array_equal(est.params_, reference.params_)
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))


def test_interrupt_with_early_stopping_keeps_the_best_validation_weights(monkeypatch):
    X, y = windows()
    interrupt_at(monkeypatch, 6)
    with pytest.warns(TrainingInterruptedWarning, match="lowest validation loss"):
        est = model().fit(X, y)
    monkeypatch.undo()
    # oracle: 5 epochs with early stopping restore the epoch of lowest validation loss
    reference = model(max_iter=5).fit(X, y)
    assert est.n_iter_ == 5
    np.testing.assert_array_equal(est.params_, reference.params_)
    assert est.best_validation_score_ == reference.best_validation_score_


def test_interrupt_before_any_epoch_propagates_and_leaves_no_half_fitted_model(monkeypatch):
    X, y = windows()
    interrupt_at(monkeypatch, 1)
    est = model()
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_interrupt_in_a_warm_start_keeps_the_previous_model(monkeypatch):
    X, y = windows()
    est = model(early_stopping=False, max_iter=3, warm_start=True).fit(X, y)
    before = est.params_.copy()
    interrupt_at(monkeypatch, 1)
    with pytest.warns(TrainingInterruptedWarning, match="before this call"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.params_, before)
    assert est.n_iter_ == 3


def test_interrupted_forecaster_fit_leaves_a_usable_forecaster(monkeypatch):
    y = pd.Series(np.sin(np.arange(80) / 3), index=pd.RangeIndex(80))
    interrupt_at(monkeypatch, 3)
    with pytest.warns(TrainingInterruptedWarning):
        f = Forecaster(model(early_stopping=False), window=6).fit(y)
    monkeypatch.undo()
    reference = Forecaster(model(early_stopping=False, max_iter=2), window=6).fit(y)
    pd.testing.assert_series_equal(f.predict(5), reference.predict(5))


def test_interrupt_inside_a_backtest_stops_the_whole_backtest(monkeypatch):
    y = pd.Series(np.sin(np.arange(80) / 3), index=pd.RangeIndex(80))
    calls = interrupt_at(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        backtest(Forecaster(model(early_stopping=False), window=6), y, horizon=3, n_windows=3)
    assert calls["n"] == 3  # it did not go on to the next window


def test_interrupt_inside_fit_many_stops_everything(monkeypatch):
    frame = pd.DataFrame({c: np.sin(np.arange(60) / (3 + i)) for i, c in enumerate("abc")})
    calls = interrupt_at(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        PerSeriesForecaster(Forecaster(model(early_stopping=False), window=6)).fit(frame)
    assert calls["n"] == 2
    # a forecaster without training loop is unaffected by the machinery
    PerSeriesForecaster(NaiveForecaster()).fit(frame)


SIGINT_CHILD = """
import signal, sys, warnings
import numpy as np
import tsrnn.nn._training as training
from tsrnn import GRURegressor
from tsrnn.nn import TrainingInterruptedWarning

# Ctrl-C raises KeyboardInterrupt, as in a terminal, even when this test runs where SIGINT is
# ignored (a shell's background job inherits SIGINT ignored, and Python then keeps it so)
signal.signal(signal.SIGINT, signal.default_int_handler)
rng = np.random.default_rng(0)
s = np.sin(np.arange(3000) / 3) + 0.1 * rng.normal(size=3000)
X = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(s[:-1], 16)); y = s[16:]
real = training.run_epoch
def run_epoch(*args, **kwargs):
    out = real(*args, **kwargs)
    print("epoch", flush=True)
    # wait for the parent's go-ahead: the interrupt lands here, after epoch 2's work and before
    # its bookkeeping, however slowly the parent runs (no epochs race ahead of the signal)
    sys.stdin.readline()
    return out
training.run_epoch = run_epoch
kw = dict(hidden_size=16, early_stopping=False, n_iter_no_change=10**6, random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    est = GRURegressor(max_iter=100000, **kw).fit(X, y)
warned = any(issubclass(w.category, TrainingInterruptedWarning) for w in caught)
training.run_epoch = real
# the model kept is exactly the one trained for n_iter_ epochs with the same seed
ref = GRURegressor(max_iter=est.n_iter_, **kw).fit(X, y)
same = np.array_equal(est.predict(X), ref.predict(X))
finite = bool(np.all(np.isfinite(est.predict(X))))
print("result", est.stop_reason_, est.n_iter_, warned, same, finite, flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_real_sigint_during_fit_keeps_a_usable_model():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SIGINT_CHILD)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        epochs = 0
        deadline = time.monotonic() + 300
        while epochs < 2 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            is_epoch = line.startswith("epoch")
            epochs += is_epoch
            if is_epoch and epochs == 1:
                child.stdin.write("go\n")
                child.stdin.flush()
        assert epochs == 2, child.stderr.read()
        child.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
        out, err = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    result = next(line for line in out.splitlines() if line.startswith("result")).split()
    stop, n_iter, warned, same, finite = result[1:]
    # the signal lands in epoch 2 before its bookkeeping: the model of epoch 1 is kept
    assert stop == "interrupted" and int(n_iter) == 1
    assert (warned, same, finite) == ("True", "True", "True")


# -- divergence ----------------------------------------------------------------------------------


def test_divergence_after_raising_the_learning_rate_keeps_the_last_finite_weights():
    X, y = windows(200, 10)
    kw = dict(nonlinearity="relu", hidden_size=16, solver="sgd", clip_norm=None, early_stopping=False)
    est = RNNRegressor(learning_rate=0.05, max_iter=5, warm_start=True, random_state=0, **kw).fit(X, y)
    before = est.predict(X)
    # A relu RNN without clipping at a learning rate 200x higher blows up in the next epoch.
    est.set_params(learning_rate=10.0)
    with pytest.warns(TrainingDivergedWarning, match=r"lower learning_rate.*clip_norm") as record:
        est.fit(X, y)
    assert "epoch 6" in str(record[0].message)
    assert est.stop_reason_ == "diverged" and est.n_iter_ == 5
    np.testing.assert_array_equal(est.predict(X), before)
    assert np.all(np.isfinite(est.params_))


def test_divergence_with_no_finite_epoch_raises_with_advice_and_no_model():
    X, y = windows(200, 10)
    est = RNNRegressor(
        nonlinearity="relu", hidden_size=16, solver="sgd", learning_rate=3.0, clip_norm=None, random_state=0
    )
    with pytest.raises(ValueError, match=r"diverged in its first epoch.*learning_rate.*clip_norm"):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)
    # the advice works: clipping the gradient norm at the same learning rate gives a finite model
    est.set_params(clip_norm=1.0, max_iter=5).fit(X, y)
    assert np.all(np.isfinite(est.predict(X)))
