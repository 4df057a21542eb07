"""The device rules of the estimators, on a machine without CUDA (or with it hidden).

``device="auto"`` falls back to the CPU silently, ``device="cuda"`` without a usable GPU
fails with an error that names the fix, ``device_`` records where a model trained, and a
model trained on a GPU stays usable where there is none. (Training on the device itself is
tested under the simulator: tests/kernels/cuda/test_cuda_training.py.)
"""

from __future__ import annotations

import importlib.util
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsrnn import nn
from tsrnn.estimators import GRURegressor, RecurrentClassifier

FAST = dict(hidden_size=4, max_iter=3, batch_size=16, random_state=0)


def _data(n=60, length=5):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, length))
    return X, X[:, -1] * 2 + X[:, 0]


@pytest.fixture
def no_gpu(monkeypatch):
    """CUDA unavailable, whatever this machine has (numba-cuda installed or not)."""
    try:
        from numba import cuda
    except ImportError:  # a numba without its CUDA module and no numba-cuda: nothing to hide
        return
    monkeypatch.setattr(cuda, "is_available", lambda: False)


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def test_auto_trains_on_the_cpu_without_a_gpu_exactly_like_cpu(no_gpu, capsys):
    X, y = _data()
    auto = _fit(GRURegressor(device="auto", verbose=1, **FAST), X, y)
    err = capsys.readouterr().err
    cpu = _fit(GRURegressor(device="cpu", **FAST), X, y)
    assert auto.device_ == "cpu" and cpu.device_ == "cpu"
    assert auto.device == "auto"  # the parameter is left as given
    np.testing.assert_array_equal(auto.predict(X), cpu.predict(X))
    # the progress bar says where training runs, from its first line on
    assert "GRURegressor(gru) on cpu" in err and "device=cpu" in err


@pytest.mark.parametrize("missing", ["gpu", "numba-cuda"])
def test_cuda_without_a_gpu_raises_an_error_naming_the_fix(no_gpu, monkeypatch, missing):
    real = importlib.util.find_spec
    if missing == "numba-cuda":
        fake = lambda name, *a: None if name == "numba_cuda" else real(name, *a)  # noqa: E731
    else:  # numba-cuda present (whether or not this machine has it), but no GPU
        fake = lambda name, *a: real("numba" if name == "numba_cuda" else name, *a)  # noqa: E731
    monkeypatch.setattr(importlib.util, "find_spec", fake)
    X, y = _data()
    model = GRURegressor(device="cuda", **FAST)
    with pytest.raises(RuntimeError) as info:
        model.fit(X, y)
    message = str(info.value)
    assert "pip install 'tsrnn[cuda]'" in message
    assert "device='cpu'" in message and "device='auto'" in message
    if missing == "gpu":
        assert "needs an NVIDIA GPU with a working CUDA driver" in message
    else:
        assert "needs the numba-cuda package, which is not installed" in message
    assert not [k for k in vars(model) if k.endswith("_")]  # nothing half-fitted left behind
    with pytest.raises(RuntimeError, match=r"tsrnn\[cuda\]"):
        RecurrentClassifier(device="cuda", **FAST).fit(X, (y > 0).astype(int))


def test_resolve_device_rule(no_gpu, monkeypatch):
    assert nn.resolve_device("cpu") == "cpu"
    assert nn.resolve_device("reference") == "reference"
    assert nn.resolve_device("auto") == "cpu"
    with pytest.raises(RuntimeError, match="device='cpu'"):
        nn.resolve_device("cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        nn.resolve_device("gpu")
    # with CUDA available (a GPU, or the simulator enabled explicitly) both mean CUDA
    import tsrnn.kernels as kernels

    monkeypatch.setattr(kernels, "cuda_diagnosis", lambda: kernels.CudaDiagnosis(None))
    assert nn.resolve_device("auto") == "cuda" and nn.resolve_device("cuda") == "cuda"


def test_unknown_device_is_rejected_by_parameter_validation():
    X, y = _data()
    with pytest.raises(ValueError, match="device"):
        GRURegressor(device="gpu", **FAST).fit(X, y)


def test_a_model_trained_on_cuda_predicts_on_the_cpu_where_there_is_no_gpu(no_gpu):
    """A pickled model whose network ran on CUDA is loaded on a machine without a GPU: it
    warns, keeps its weights and predicts on the CPU. (The weights of a CPU fit stand in for
    GPU-trained ones: where they were trained does not change them.)"""
    X, y = _data()
    model = _fit(GRURegressor(**FAST), X, y)
    expected = model.predict(X)
    # what the network of a CUDA fit carries into the pickle
    model.network_._device, model.network_._ops = "cuda", None
    model.device_ = "cuda"
    blob = pickle.dumps(model)
    with pytest.warns(UserWarning, match="trained with device='cuda'.*predicts on the CPU"):
        loaded = pickle.loads(blob)
    assert loaded.network_.device == "cpu" and loaded.device_ == "cuda"
    np.testing.assert_array_equal(loaded.predict(X), expected)
