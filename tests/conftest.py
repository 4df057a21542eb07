"""Shared test configuration.

Tests that need an optional oracle (PyTorch) or the CUDA kernels are marked ``torch`` /
``cuda`` and skip when it is missing, so the plain test command works without a multi-GB
download. ``.ci/run`` sets ``TSRNN_REQUIRE_ORACLES=1``: then such a skip is a failure, so CI
cannot pass without having run them.
"""

from __future__ import annotations

import os

import pytest

REQUIRED_MARKERS = ("torch", "cuda")


def _required_here(item) -> bool:
    wanted = {m.strip() for m in os.environ.get("TSRNN_REQUIRE_ORACLES", "").split(",") if m.strip()}
    if not wanted:
        return False
    names = {m.name for m in item.iter_markers()}
    if wanted == {"1"}:
        wanted = set(REQUIRED_MARKERS)
    return bool(names & wanted)


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
