"""Reproducibility across processes, pickle/joblib round trips, PyTorch weight interchange."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest

from tsrnn import LSTMRegressor, RecurrentClassifier, RecurrentRegressor
from tsrnn._layout import cell_spec

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def run_python(code: str, *args: str, env_overrides: dict | None = None) -> str:
    """Run ``code`` in a fresh interpreter with this checkout importable; return stdout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_overrides or {})
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def sunspot_windows(width=12):
    from tsrnn.datasets import load

    series = load("sunspots").to_numpy()
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], width)
    return np.ascontiguousarray(X), series[width:]


FIT_AND_HASH = """
import hashlib, sys, warnings
import numpy as np
from tsrnn import RecurrentClassifier, RecurrentRegressor
from tsrnn.datasets import load

warnings.simplefilter("ignore")
series = load("sunspots").to_numpy()
X = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(series[:-1], 12))
y = series[12:]
digest = hashlib.sha256()
reg = RecurrentRegressor("lstm", hidden_size=8, num_layers=2, bidirectional=True, dropout=0.2,
                         max_iter=8, random_state=0).fit(X, y)
digest.update(reg.predict(X).tobytes())
clf = RecurrentClassifier("gru", hidden_size=8, max_iter=8, random_state=0).fit(X, y > np.median(y))
digest.update(clf.predict_proba(X).tobytes())
print(digest.hexdigest(), reg.n_iter_, clf.n_iter_)
"""


# Every kernel call with more than one batch block on all threads, even the small ones that
# run on one thread by default.
EVERY_THREAD = "import tsrnn.kernels.cpu as cpu\ncpu.MIN_PARALLEL_GATE_VALUES = 0\n"


def test_two_processes_give_bit_identical_predictions_whatever_their_thread_count():
    first = run_python(EVERY_THREAD + FIT_AND_HASH).split()
    one_thread = {"NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    second = run_python(FIT_AND_HASH, env_overrides=one_thread).split()
    assert first == second
    assert len(first[0]) == 64


LOAD_AND_PREDICT = """
import pickle, sys
import numpy as np
from tsrnn.kernels import cpu

with open(sys.argv[1], "rb") as fh:
    model, X, expected = pickle.load(fh)
got = model.predict(X)
assert np.array_equal(got, expected), "predictions differ after unpickling"
roles = ("_forward", "_backward", "_forward_inference")
dispatchers = [getattr(cpu, n) for n in dir(cpu) if n.endswith(roles)]
used = [d for d in dispatchers if d.signatures]
misses = sum(sum(d.stats.cache_misses.values()) for d in used)
hits = sum(sum(d.stats.cache_hits.values()) for d in used)
print(len(used), hits, misses)
"""


def test_pickle_round_trip_in_a_fresh_process_without_recompiling(tmp_path):
    X, y = sunspot_windows()
    model = LSTMRegressor(hidden_size=8, num_layers=2, max_iter=3, random_state=0).fit(X, y)
    payload = pickle.dumps((model, X, model.predict(X)))
    assert b"numba" not in payload  # compiled dispatchers are never pickled
    path = tmp_path / "model.pkl"
    path.write_bytes(payload)
    n_used, hits, misses = map(int, run_python(LOAD_AND_PREDICT, str(path)).split())
    # The fresh process ran the LSTM forward kernel loaded from Numba's on-disk cache.
    assert n_used >= 1 and hits >= 1 and misses == 0


def test_joblib_round_trip_and_training_continues(tmp_path):
    X, y = sunspot_windows()
    model = RecurrentRegressor("gru", hidden_size=8, max_iter=3, random_state=0).fit(X, y)
    joblib.dump(model, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib", mmap_mode="r")  # read-only memory maps
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded.partial_fit(X, y)  # the loaded model can still be trained
    assert loaded.n_iter_ == model.n_iter_ + 1


# ----------------------------------------------------------------------------- torch names


def test_state_dict_names_shapes_and_round_trip():
    X, y = sunspot_windows()
    a = RecurrentRegressor("gru", hidden_size=6, num_layers=2, bidirectional=True, max_iter=2, random_state=0)
    a.fit(X, y)
    sd = a.to_torch_state_dict()
    assert set(sd) == {
        f"{p}_l{layer}{suffix}"
        for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        for layer in (0, 1)
        for suffix in ("", "_reverse")
    }
    assert sd["weight_ih_l0"].shape == (18, 1) and sd["weight_ih_l1_reverse"].shape == (18, 12)
    assert all(isinstance(v, np.ndarray) for v in sd.values())

    b = RecurrentRegressor("gru", hidden_size=6, num_layers=2, bidirectional=True, max_iter=2, random_state=1)
    b.fit(X, y)
    assert not np.array_equal(a.predict(X), b.predict(X))
    b.from_torch_state_dict(a.to_torch_state_dict(include_head=True))
    np.testing.assert_array_equal(b.predict(X), a.predict(X))

    sd["weight_hh_l0"] = sd["weight_hh_l0"][:, :3]
    with pytest.raises(ValueError, match="weight_hh_l0"):
        b.from_torch_state_dict(sd)
    del sd["weight_hh_l0"]
    with pytest.raises(ValueError, match=r"missing \['weight_hh_l0'\]"):
        b.from_torch_state_dict(sd)


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_relu"])
def test_torch_module_loaded_with_the_state_dict_reproduces_predict(cell):
    torch = pytest.importorskip("torch")
    X, y = sunspot_windows()
    model = RecurrentRegressor(
        cell, hidden_size=6, num_layers=2, bidirectional=True, max_iter=3, random_state=0
    )
    model.fit(X, y)
    spec = cell_spec(cell)
    kwargs = {"nonlinearity": spec.torch_nonlinearity} if spec.torch_module == "RNN" else {}
    rnn = getattr(torch.nn, spec.torch_module)(
        1, 6, num_layers=2, bidirectional=True, batch_first=True, **kwargs
    )
    head = torch.nn.Linear(12, 1)
    module = torch.nn.ModuleDict({"rnn": rnn, "head": head})
    module.load_state_dict(
        {k: torch.from_numpy(v) for k, v in model.to_torch_state_dict(include_head=True).items()}
    )
    # The estimator standardizes inputs and targets; do the same around the torch module.
    x = (X[:, :, None] - model.input_mean_) / model.input_scale_
    with torch.no_grad():
        _, state = rnn(torch.from_numpy(x.astype(np.float32)))
        h_n = state[0] if cell == "lstm" else state
        out = head(torch.cat([h_n[-2], h_n[-1]], dim=1)).numpy()[:, 0].astype(np.float64)
    expected = out * model.target_scale_[0] + model.target_mean_[0]
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-4, atol=1e-4 * model.target_scale_[0])


# ----------------------------------------------------------------------------- grid search


def test_grid_search_over_cells_with_time_series_split_on_sunspots():
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = sunspot_windows(width=12)
    pipe = make_pipeline(StandardScaler(), RecurrentRegressor(hidden_size=8, max_iter=30, random_state=0))
    search = GridSearchCV(
        pipe,
        {
            "recurrentregressor__cell": ["rnn_tanh", "lstm", "gru"],
            "recurrentregressor__learning_rate": [0.01],
        },
        cv=TimeSeriesSplit(3),
        n_jobs=2,
        error_score="raise",
    )
    search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    print(
        "grid search mean R^2 per cell:",
        dict(zip(search.cv_results_["param_recurrentregressor__cell"], scores)),
    )
    assert np.all(np.isfinite(scores))
    assert np.isfinite(search.best_score_)
    assert search.best_score_ > 0.0  # better than predicting the mean of each test fold
    assert search.best_estimator_.predict(X[-3:]).shape == (3,)


def test_classifier_pickles_with_string_labels():
    X, y = sunspot_windows()
    labels = np.where(y > np.median(y), "high", "low")
    clf = RecurrentClassifier("lstm", hidden_size=4, max_iter=2, random_state=0).fit(X, labels)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict(X), clf.predict(X))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
