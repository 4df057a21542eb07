"""Shared test configuration.

Tests that need an optional oracle or optional hardware carry a marker and skip when it is
missing, so the plain test command works on any machine without a multi-GB download:

``torch``
    compares against PyTorch (``pip install ".[parity]"``).
``nvvm``
    compiles the CUDA kernels to PTX (NVVM) and machine code (ptxas in nvJitLink) with
    NVIDIA's compilers from ``numba-cuda[cu13]`` (``pip install ".[cuda]"``); needs no GPU.
    Skipped under the simulator, which has no compiler.
``dask``
    runs on a ``dask.distributed`` local cluster (``pip install ".[distributed]"``).
``cuda``
    runs the CUDA kernels: on a GPU, or in numba's simulator when the environment variable
    ``NUMBA_ENABLE_CUDASIM=1`` is set before the run (``tsrnn.cuda_available()``). The
    simulator runs each GPU thread as a Python thread, so these tests use small shapes and
    are best selected on their own: ``NUMBA_ENABLE_CUDASIM=1 python -m pytest -m cuda``.

``TSRNN_REQUIRE_ORACLES`` turns skips of marked tests into failures: a comma-separated list
of markers (``torch,nvvm``), or ``1`` for all of them. ``.ci/run`` requires ``torch,nvvm,dask`` in
the main run and ``cuda`` in its simulator run, so CI cannot pass without having run them.
"""

from __future__ import annotations

import functools
import importlib.util
import os

import pytest

REQUIRED_MARKERS = ("torch", "cuda", "nvvm", "numba_cuda", "dask")

# Property-based tests: a bounded, reproducible number of examples by default (CI), more on demand
# with HYPOTHESIS_PROFILE=thorough. No deadline: a first call may compile Numba kernels.
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass
else:
    settings.register_profile(
        "tsrnn",
        max_examples=50,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tsrnn"))


def _required_here(item) -> bool:
    wanted = {m.strip() for m in os.environ.get("TSRNN_REQUIRE_ORACLES", "").split(",") if m.strip()}
    if not wanted:
        return False
    names = {m.name for m in item.iter_markers()}
    if wanted == {"1"}:
        wanted = set(REQUIRED_MARKERS)
    return bool(names & wanted)


@functools.cache
def _cuda_skip_reason() -> str | None:
    from tsrnn import cuda_available

    if cuda_available():
        return None
    return (
        "the CUDA kernels need numba-cuda (pip install '.[cuda]') and a GPU, or the simulator: "
        "NUMBA_ENABLE_CUDASIM=1 python -m pytest -m cuda"
    )


@functools.cache
def _numba_cuda_skip_reason() -> str | None:
    if importlib.util.find_spec("numba_cuda") is None:
        return "needs the numba-cuda package: pip install '.[cuda]'"
    return None


@functools.cache
def _nvvm_skip_reason() -> str | None:
    if importlib.util.find_spec("numba_cuda") is None:
        return "compiling the CUDA kernels needs numba-cuda with NVVM: pip install '.[cuda]'"
    from numba import config

    if config.ENABLE_CUDASIM:
        return "NUMBA_ENABLE_CUDASIM=1 replaces numba.cuda by the simulator, which has no compiler"
    from numba.cuda.cudadrv import nvvm

    if not nvvm.is_available():
        return "the NVVM library was not found: pip install 'numba-cuda[cu13]'"
    try:
        from cuda.bindings import nvjitlink  # noqa: F401
    except ImportError:
        return "nvJitLink (ptxas) was not found: pip install 'numba-cuda[cu13]'"
    return None


def pytest_runtest_setup(item):
    markers = {m.name for m in item.iter_markers()}
    if "cuda" in markers and (reason := _cuda_skip_reason()):
        pytest.skip(reason)
    if "nvvm" in markers and (reason := _nvvm_skip_reason()):
        pytest.skip(reason)
    if "numba_cuda" in markers and (reason := _numba_cuda_skip_reason()):
        pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _required_here(item):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} was skipped ({call.excinfo.value if call.excinfo else 'skip'}), "
            "but TSRNN_REQUIRE_ORACLES demands that it runs."
        )
