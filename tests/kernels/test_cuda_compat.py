"""What ``device="auto"``/``"cuda"`` do on a GPU that cannot run the kernels, and the launch
checks of the CUDA host code, on any machine (the GPU, its driver and the kernels are
stand-ins; numba's own cuda module stands in for numba-cuda where that is not installed)."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

import tsrnn
from tsrnn import kernels
from tsrnn.nn import resolve_device


@pytest.fixture
def gpu(monkeypatch):
    """A GPU that answers: CUDA 13.0 toolkit, a CUDA 13.0 driver, compute capability 9.0,
    and a test kernel that runs. Tests change one of them."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: real("numba" if name == "numba_cuda" else name, *a)
    )
    from numba import config, cuda

    monkeypatch.setattr(config, "ENABLE_CUDASIM", False)
    monkeypatch.setattr(cuda, "is_available", lambda: True)
    state = {"toolkit": (13, 0), "driver": (13, 0), "cc": (9, 0), "probe": None}
    monkeypatch.setattr(kernels, "_toolkit_version", lambda: state["toolkit"])
    monkeypatch.setattr(kernels, "_driver_version", lambda: state["driver"])
    monkeypatch.setattr(kernels, "_compute_capability", lambda: state["cc"])
    monkeypatch.setattr(kernels, "_probe", lambda: state["probe"])
    return state


def _auto_warning() -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert resolve_device("auto") == "cpu"
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    assert "\n" not in messages[0]
    return messages[0]


def test_a_working_gpu_is_used(gpu):
    assert tsrnn.cuda_available()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_device("auto") == "cuda"
        assert resolve_device("cuda") == "cuda"


def test_driver_older_than_the_toolkit(gpu):
    gpu["driver"] = (12, 4)
    assert not tsrnn.cuda_available()
    message = _auto_warning()
    assert message.startswith("device='auto' runs on the CPU: ")
    assert "driver supports CUDA 12.4" in message and "CUDA 13.0" in message
    with pytest.raises(RuntimeError) as info:
        resolve_device("cuda")
    text = str(info.value)
    assert "upgrade the NVIDIA driver" in text and "pip install 'tsrnn[cuda12]'" in text
    assert "device='cpu'" in text


def test_driver_newer_than_the_toolkit_is_fine(gpu):
    gpu["toolkit"], gpu["driver"] = (12, 8), (13, 1)
    assert tsrnn.cuda_available()


@pytest.mark.parametrize(
    ("toolkit", "cc", "ok"),
    [((13, 0), (7, 0), False), ((13, 0), (7, 5), True), ((12, 8), (7, 0), True), ((12, 8), (3, 7), False)],
)
def test_compute_capability_against_the_toolkit(gpu, toolkit, cc, ok):
    gpu["toolkit"], gpu["driver"], gpu["cc"] = toolkit, (13, 0), cc
    assert tsrnn.cuda_available() is ok
    if not ok:
        assert f"compute capability is {cc[0]}.{cc[1]}" in _auto_warning()
        with pytest.raises(RuntimeError, match=r"tsrnn\[cuda12\]"):
            resolve_device("cuda")


def test_a_failing_test_kernel_falls_back(gpu):
    gpu["probe"] = "CudaAPIError: [218] CUDA_ERROR_INVALID_PTX"
    assert "CUDA_ERROR_INVALID_PTX" in _auto_warning()
    with pytest.raises(RuntimeError, match="one-thread test kernel failed"):
        resolve_device("cuda")


def test_no_gpu_falls_back_silently(monkeypatch):
    from numba import cuda

    monkeypatch.setattr(cuda, "is_available", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_device("auto") == "cpu"


@pytest.mark.numba_cuda
def test_the_test_kernel_runs_once_per_process(monkeypatch):
    from numba import config, cuda

    if config.ENABLE_CUDASIM or cuda.is_available():
        pytest.skip("checks the failure path, which needs a machine without a GPU")
    calls = []

    def to_device(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("no device")

    monkeypatch.setattr(cuda, "to_device", to_device)
    kernels._probe.cache_clear()
    try:
        assert kernels._probe() == "RuntimeError: no device"
        assert kernels._probe() == "RuntimeError: no device"
        assert len(calls) == 1
    finally:
        kernels._probe.cache_clear()


def test_estimator_auto_falls_back_with_the_reason(gpu):
    from sklearn.exceptions import ConvergenceWarning

    from tsrnn.estimators import GRURegressor

    gpu["driver"] = (12, 2)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GRURegressor(hidden_size=3, max_iter=2, random_state=0, device="auto").fit(X, X[:, 0])
    assert model.device_ == "cpu"
    reasons = [str(w.message) for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert any("driver supports CUDA 12.2" in r for r in reasons), reasons


class _FakeKernel:
    """A dispatcher stand-in: configuring it warns as numba-cuda does for small grids, and
    its compiled form reports a register-limited block size."""

    def __init__(self, max_threads):
        self.max_threads = max_threads
        self.calls = []
        self.py_func = _FakeKernel

    def __getitem__(self, launch):
        from numba.core.errors import NumbaPerformanceWarning

        grid = launch[0]
        warnings.warn(
            NumbaPerformanceWarning(
                f"Grid size {grid} will likely result in GPU under-utilization due to low occupancy."
            ),
            stacklevel=2,
        )
        return lambda *args: self.calls.append((launch, args))

    def compile(self, signature):
        return type("Compiled", (), {"max_threads_per_block": self.max_threads, "regs_per_thread": 255})


def _ops():
    from numba import config

    if config.ENABLE_CUDASIM:
        pytest.skip("the simulator's launches are not configured objects")
    from tsrnn.kernels.cuda import LaunchConfig, _layer

    return _layer.DeviceOps(LaunchConfig(max_shared_bytes=232448), stream=0)


@pytest.mark.numba_cuda
def test_low_occupancy_warning_silenced_for_own_launches_only():
    from numba.core.errors import NumbaPerformanceWarning

    ops, kernel = _ops(), _FakeKernel(1024)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ops.launch(kernel, 4, 32, 0, np.zeros(3))
        ops.launch(kernel, 4, 32, 0, np.zeros(3))  # the cached launcher: configured once
    assert len(kernel.calls) == 2
    with pytest.warns(NumbaPerformanceWarning, match="Grid size 4"):
        kernel[4, 32, 0, 0]  # a launch of the user's own is not silenced


@pytest.mark.numba_cuda
def test_block_larger_than_the_register_file_allows_is_refused():
    ops, kernel = _ops(), _FakeKernel(672)
    ops.launch(kernel, 2, (16, 42), 0, np.zeros(3))
    with pytest.raises(ValueError, match=r"at most 672 threads.*block=\(16, 48\).*LaunchConfig"):
        ops.launch(kernel, 2, (16, 48), 0, np.zeros(3))
    assert len(kernel.calls) == 1


@pytest.mark.numba_cuda
def test_more_than_48_kib_of_shared_memory_is_opted_in(monkeypatch):
    ops, kernel = _ops(), _FakeKernel(1024)
    from tsrnn.kernels.cuda import _layer

    opted = []
    monkeypatch.setattr(_layer, "opt_in_shared_memory", lambda compiled, nbytes: opted.append(nbytes))
    ops.launch(kernel, 2, 32, 48 * 1024, np.zeros(3))
    ops.launch(kernel, 2, 32, 160 * 1024, np.zeros(3))
    ops.launch(kernel, 2, 32, 160 * 1024, np.zeros(3))  # once per compiled kernel and launch shape
    assert opted == [160 * 1024]
    with pytest.raises(ValueError, match="more than max_shared_bytes=232448"):
        ops.launch(kernel, 2, 32, 232449, np.zeros(3))


@pytest.mark.numba_cuda
def test_large_shared_memory_keeps_w_hh_on_chip():
    """With an H100's 227 KiB per block, an LSTM of H=96 (float32) keeps W_hh in shared
    memory in both persistent kernels; with the 48 KiB default it cannot."""
    from tsrnn.kernels.cuda import LaunchConfig
    from tsrnn.kernels.cuda._config import persistent_shared_bytes, plan_recurrence

    big = plan_recurrence(4, 64, 96, 4, LaunchConfig(max_shared_bytes=232448))
    small = plan_recurrence(4, 64, 96, 4, LaunchConfig())
    fwd, bwd = persistent_shared_bytes(4, 96, big.block[1] * big.rows_per_thread, 4, True)
    assert 4 * 96 * 96 * 4 == 147456  # W_hh alone: 144 KiB
    assert (big.cache_weights_forward, big.cache_weights_backward) == (True, True)
    assert (big.shared_forward, big.shared_backward) == (fwd, bwd) and fwd > 48 * 1024
    assert (small.cache_weights_forward, small.cache_weights_backward) == (False, False)
