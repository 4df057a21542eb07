"""Launch planning of the CUDA kernels (pure Python: runs without a GPU or simulator).

The expected numbers are worked out by hand from the shared-memory layout documented in
tsrnn/kernels/cuda/_device.py and docs/cuda.md.
"""

from __future__ import annotations

import importlib.util

import pytest

# Skipped without numba-cuda by the marker (tests/conftest.py), which CI turns into a failure.
pytestmark = pytest.mark.numba_cuda

if importlib.util.find_spec("numba_cuda") is not None:
    from tsrnn.kernels.cuda import LaunchConfig
    from tsrnn.kernels.cuda._config import (
        gemm_block,
        persistent_shared_bytes,
        plan_recurrence,
        split_count,
    )
    from tsrnn.kernels.cuda._layer import split_launch


def test_shared_bytes_by_hand():
    # LSTM, H=50, 1 row, float32: forward 2*1*50 state + 4*50*50 weights; backward
    # 1*50 + 1*200 + 4*50*50; times 4 bytes.
    assert persistent_shared_bytes(4, 50, 1, 4, True) == ((100 + 10000) * 4, (250 + 10000) * 4)
    assert persistent_shared_bytes(4, 50, 1, 4, False) == (100 * 4, 250 * 4)


def test_weights_cached_only_when_they_fit():
    # float32 LSTM, 1 row: H=50 needs 40400 / 41000 B <= 49152; H=60 needs 57600 B of weights.
    small = plan_recurrence(4, 1, 50, 4, LaunchConfig(block=(64, 1)))
    assert (small.path, small.cache_weights_forward, small.cache_weights_backward) == (
        "persistent",
        True,
        True,
    )
    assert small.shared_forward == 40400 and small.shared_backward == 41000
    large = plan_recurrence(4, 1, 60, 4, LaunchConfig(block=(64, 1)))
    assert (large.path, large.cache_weights_forward, large.cache_weights_backward) == (
        "persistent",
        False,
        False,
    )
    assert large.shared_forward == 2 * 60 * 4 and large.shared_backward == (60 + 240) * 4
    # backward: (60 + 4*60 + 4*60*60) * 4 B = 58800 B
    with pytest.raises(ValueError, match="cache_weights=True needs 58800 bytes"):
        plan_recurrence(4, 1, 60, 4, LaunchConfig(block=(64, 1), cache_weights=True))


def test_fallback_triggers():
    assert plan_recurrence(4, 32, 512, 4, LaunchConfig()).path == "persistent"
    assert plan_recurrence(4, 32, 513, 4, LaunchConfig()).path == "stepwise"
    # 8 rows x (H + 4H) x 8 B for the backward at H=256: 81920 B > 49152 B.
    assert plan_recurrence(4, 64, 256, 8, LaunchConfig(block=(32, 8))).path == "stepwise"
    with pytest.raises(ValueError, match="need 81920 bytes of shared memory"):
        plan_recurrence(4, 64, 256, 8, LaunchConfig(block=(32, 8), path="persistent"))
    with pytest.raises(ValueError, match="at most 256 threads"):
        plan_recurrence(1, 4, 8, 4, LaunchConfig(block=(512, 1), path="persistent"))
    # the stepwise path has no such limit
    assert plan_recurrence(1, 4, 8, 4, LaunchConfig(block=(512, 1), path="stepwise")).path == "stepwise"


def test_hidden_split_plan_by_hand():
    # float32 LSTM, H=256: W_hh (1 MiB) fits no block, so "auto" splits the hidden units:
    # ceil(256 / 160) = 2 units per slice, 128 slices of 4*2*256*4 = 8192 bytes.
    plan = plan_recurrence(4, 64, 256, 4, LaunchConfig(max_shared_bytes=227 * 1024))
    assert (plan.path, plan.split_units, plan.grid, plan.shared_forward) == ("split", 2, 128, 8192)
    assert plan.block == (2, 64)
    # below split_min_hidden (and without a budget for it) the old rules hold
    assert plan_recurrence(4, 64, 100, 4, LaunchConfig()).path == "persistent"
    assert plan_recurrence(4, 64, 256, 4, LaunchConfig(split_min_hidden=512)).path == "persistent"
    # H=4096 float32 LSTM: one unit's rows of W_hh (64 KiB) exceed 48 KiB: stepwise
    assert plan_recurrence(4, 64, 4096, 4, LaunchConfig()).path == "stepwise"


class _GPU:
    """Stands in for a launcher on a GPU that holds ``resident`` blocks of a kernel at once."""

    def __init__(self, resident, max_shared_bytes=227 * 1024):
        self.resident = resident
        self.config = LaunchConfig(max_shared_bytes=max_shared_bytes)

    def cooperative_blocks(self, kernel, args, block, shared):
        return self.resident


def test_hidden_split_grid_is_sized_by_the_cooperative_limit():
    plan = plan_recurrence(4, 64, 256, 4, LaunchConfig(max_shared_bytes=227 * 1024))
    # 132 resident blocks: one slice each; 100: two slices per block (64 blocks, 16 KiB)
    assert split_launch(_GPU(132), None, plan, ()) == (128, 8192)
    assert split_launch(_GPU(100), None, plan, ()) == (64, 16384)
    assert split_launch(_GPU(40), None, plan, ()) == (32, 32768)  # 4 slices per block
    # one resident block would need all of W_hh (1 MiB) in its shared memory
    with pytest.raises(ValueError, match="resident at once"):
        split_launch(_GPU(1), None, plan, ())


def test_default_blocks():
    plan = plan_recurrence(4, 256, 64, 4, LaunchConfig())
    assert plan.block == (64, 2) and plan.rows_per_thread == 1 and plan.grid == 128
    plan = plan_recurrence(3, 32, 256, 4, LaunchConfig())
    assert plan.block == (256, 1) and plan.grid == 32
    plan = plan_recurrence(1, 5000, 16, 4, LaunchConfig())  # enough rows for 2 per thread
    assert plan.block == (16, 8) and plan.rows_per_thread == 2 and plan.grid == 313


def test_gemm_blocks_and_splits():
    assert gemm_block(100_000, 1, LaunchConfig()) == (1, 64)  # dx with D=1: tall, narrow tiles
    assert gemm_block(4096, 1024, LaunchConfig()) == (16, 16)
    assert gemm_block(5, 5, LaunchConfig(gemm_block=(2, 3))) == (2, 3)
    # dW_ih for N*L = 256*512 rows into a (4*64) x 8 output (4 x 1 tiles): 40 splits wanted
    # (160 blocks / 4 tiles), at most 128 (1024 rows each); chunk 3277 -> 3280 (tile depth 16).
    assert split_count(131072, 4, LaunchConfig()) == (40, 3280)
    assert split_count(1000, 4, LaunchConfig()) == (1, 1000)  # too short to split


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": "gpu"}, "path must be one of"),
        ({"block": (0, 1)}, "block must be a tuple"),
        ({"block": (64, 32)}, "x\\*y <= 1024"),
        ({"rows_per_thread": 5}, "rows_per_thread must be an int from 1 to 4"),
        ({"gemm_bk": 0}, "gemm_bk must be a positive int"),
        ({"aux_block": [32, 8]}, "aux_block must be a tuple"),
    ],
)
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LaunchConfig(**kwargs)
