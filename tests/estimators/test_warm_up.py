"""warm_up compiles exactly what a later fit needs (checked in a fresh interpreter)."""

from __future__ import annotations

import json

import pytest

from tsrnn import Forecaster, GRUClassifier, LSTMRegressor, RecurrentRegressor
from tsrnn.estimators import recurrent_estimators, warm_up

from ..persistence.test_pickle_and_torch import run_python

SIGNATURES_AFTER_WARM_UP_AND_FIT = """
import json, warnings
import numpy as np
from tsrnn import Forecaster, RecurrentRegressor
from tsrnn.estimators import warm_up
from tsrnn.kernels import cpu

def compiled():
    roles = ("_forward", "_backward", "_forward_inference")
    return {name: len(getattr(cpu, name).signatures) for name in dir(cpu) if name.endswith(roles)}

warm_up([Forecaster(RecurrentRegressor(cell="gru"))])
after_warm_up = compiled()
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X, y = rng.normal(size=(64, 10, 3)), rng.normal(size=64)
model = RecurrentRegressor(cell="gru", hidden_size=16, num_layers=2, bidirectional=True, max_iter=2)
model.fit(X, y).predict(X)
print(json.dumps([after_warm_up, compiled()]))
"""


def test_a_fit_after_warm_up_compiles_nothing_new():
    last_line = run_python(SIGNATURES_AFTER_WARM_UP_AND_FIT).strip().splitlines()[-1]
    after_warm_up, after_fit = json.loads(last_line)
    assert after_fit == after_warm_up
    assert after_warm_up["gru_forward"] >= 1 and after_warm_up["gru_backward"] >= 1
    assert after_warm_up["lstm_forward"] == 0  # only the cells asked for


def test_finds_nested_estimators_and_counts_distinct_kernels():
    gru = RecurrentRegressor(cell="gru")
    assert recurrent_estimators(Forecaster(gru)) == [gru]
    assert recurrent_estimators(gru) == [gru]
    assert recurrent_estimators("not a model") == []
    models = [Forecaster(gru), RecurrentRegressor(cell="gru"), LSTMRegressor(), GRUClassifier(), "x"]
    # kernels are per (cell, dtype): (gru, float32) and (lstm, float32); the classifier shares gru's
    assert warm_up(models) == 2
    assert warm_up([RecurrentRegressor(cell="gru", dtype="float64")]) == 1


@pytest.mark.parametrize("device", ["reference"])
def test_other_devices_are_left_alone(device):
    assert warm_up([RecurrentRegressor(device=device)]) == 0


FIT_AFTER_WARMUP_COMMAND = """
import json, warnings
import numpy as np
from tsrnn import RecurrentRegressor
from tsrnn.kernels import cpu

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X, y = rng.normal(size=(32, 6, 2)), rng.normal(size=32)
RecurrentRegressor(cell="gru", hidden_size=8, max_iter=2).fit(X, y).predict(X)
stats = {n: getattr(cpu, n).stats for n in ("gru_forward", "gru_backward", "gru_forward_inference")}
print(json.dumps({n: [sum(s.cache_hits.values()), sum(s.cache_misses.values())] for n, s in stats.items()}))
"""


@pytest.mark.slow
def test_tsrnn_warmup_fills_the_cache_a_later_fit_loads(tmp_path):
    """``tsrnn warmup`` in a fresh Numba cache, then a new process fits a GRU: every kernel it
    calls comes from the cache (Numba's own hit/miss counters), none is compiled again. One
    kernel set: it compiles in the warm-up's own process, whatever ``--jobs`` asks for."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    out = run_python(
        "from tsrnn.cli import main; main(['warmup', '--cells', 'gru', '--jobs', '2', '--no-progress'])",
        env_overrides=env,
    )
    assert "compiled or loaded the CPU kernels of gru in float32" in out
    counts = json.loads(run_python(FIT_AFTER_WARMUP_COMMAND, env_overrides=env).strip().splitlines()[-1])
    for name, (hits, misses) in counts.items():
        assert hits >= 1 and misses == 0, (name, hits, misses)


def test_compile_lock_makes_a_second_holder_wait():
    """Two holders of the same (cell, dtype) lock take turns; another cell's lock is free."""
    import threading

    from tsrnn.kernels import compile_lock

    order, release = [], threading.Event()

    def first():
        with compile_lock("gru", "float32"):
            order.append("first in")
            release.wait(10)
            order.append("first out")

    def second():
        with compile_lock("gru", "float32"):
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    while not order:
        threading.Event().wait(0.01)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive() and order == ["first in"]  # waiting for the first holder
    with compile_lock("lstm", "float32"):  # another kernel set is not held up
        pass
    release.set()
    a.join(10)
    b.join(10)
    assert order == ["first in", "first out", "second in"]
