"""Choosing a kernel backend, and the errors when the CUDA one cannot run."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import tsrnn
from tsrnn import functional as F
from tsrnn.kernels import get_backend, kernels_for, reference


def test_unknown_device_lists_the_choices():
    with pytest.raises(ValueError, match=r"device must be one of \['cpu', 'cuda', 'reference'\]"):
        get_backend("gpu")


def test_reference_backend():
    assert kernels_for("reference", "gru") == (reference.gru_forward, reference.gru_backward)


def _forward_on_cuda():
    w = F.init_weights("gru", 2, 3, random_state=0)
    F.forward("gru", np.zeros((1, 2, 2), np.float32), w, device="cuda")


def test_missing_numba_cuda_names_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "numba_cuda" else real(name, *a)
    )
    assert tsrnn.cuda_available() is False
    for call in (lambda: get_backend("cuda"), _forward_on_cuda):
        with pytest.raises(RuntimeError) as info:
            call()
        assert "pip install 'tsrnn[cuda]'" in str(info.value)
        assert "NUMBA_ENABLE_CUDASIM=1" in str(info.value)


@pytest.mark.numba_cuda
def test_missing_gpu_names_the_simulator(monkeypatch):
    from numba import cuda

    monkeypatch.setattr(cuda, "is_available", lambda: False)
    assert tsrnn.cuda_available() is False
    with pytest.raises(RuntimeError) as info:
        _forward_on_cuda()
    assert "needs an NVIDIA GPU" in str(info.value)
    assert "NUMBA_ENABLE_CUDASIM=1" in str(info.value)
    assert "device='cpu'" in str(info.value)


def test_cuda_available_answers_what_numba_says():
    if importlib.util.find_spec("numba_cuda") is None:
        assert tsrnn.cuda_available() is False
    else:
        from numba import cuda

        assert tsrnn.cuda_available() is bool(cuda.is_available())
