"""The CUDA kernels give the NumPy reference's outputs and gradients.

Run on a GPU, or in numba's simulator: ``NUMBA_ENABLE_CUDASIM=1 python -m pytest -m cuda``.
The simulator runs every GPU thread as a Python thread, one block after the other, so the
shapes are small; tiny thread blocks (``LaunchConfig``) make them span many blocks, so the
indexing across blocks, partial tiles, split reductions and idle rows are exercised.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.kernels import reference

from ..cases import CASES, case_id
from .helpers import (
    FORWARD_ARGS,
    assert_same,
    contract_arrays,
    contract_tuples,
    run_backend,
    run_cuda_on_device,
)

pytestmark = pytest.mark.cuda

DTYPES = [np.float64, np.float32]
DTYPE_IDS = ["float64", "float32"]


@pytest.fixture(scope="module")
def cuda_kernels():
    from tsrnn.kernels import cuda

    return cuda


def tiny(**kwargs):
    """Thread blocks of 2x2 threads everywhere, 8x8 product tiles 2 deep, 2x2 transpose
    tiles, and split reductions from two rows on: a handful of rows and units spans several
    blocks."""
    from tsrnn.kernels.cuda import LaunchConfig

    base = dict(
        block=(2, 2),
        rows_per_thread=1,
        gemm_block=(2, 2),
        gemm_bk=2,
        aux_block=(2, 2),
        min_split_rows=2,
        target_blocks=16,
    )
    base.update(kwargs)
    return LaunchConfig(**base)


def check(cell, shape, dtype, seed=0, **kwargs):
    arrays = contract_arrays(cell, shape, dtype, seed=seed)
    expected = run_backend(reference, cell, arrays)
    actual = run_cuda_on_device(cell, arrays, **kwargs)
    assert_same(actual, expected, dtype, label=f"{cell}{shape}", cell=cell)


def plan_of(cell, shape, dtype, config):
    from tsrnn.kernels.cuda._config import plan_recurrence
    from tsrnn.kernels.cuda._device import GATES

    n, _length, _d, h = shape
    return plan_recurrence(GATES[cell], n, h, np.dtype(dtype).itemsize, config)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_shared_cases_default_launch(cuda_kernels, case, dtype):
    """The default configuration (which is the persistent path at these sizes)."""
    cell, shape = case
    assert plan_of(cell, shape, dtype, cuda_kernels.LaunchConfig()).path == "persistent"
    check(cell, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("path", ["persistent", "stepwise"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_shared_cases_tiny_blocks(case, path, dtype):
    """Both recurrence paths with blocks of 4 threads, 8x8 product tiles and split
    reductions."""
    cell, shape = case
    assert plan_of(cell, shape, dtype, tiny(path=path)).path == path
    check(cell, shape, dtype, seed=1, config=tiny(path=path))


# N=7 rows in blocks of 2 (x rows_per_thread) rows, H=9 units over 4 threads, GEMM tiles of
# 4 rows: every kernel runs on several blocks, the last one partly idle.
MANY_BLOCKS = (7, 3, 3, 9)


@pytest.mark.parametrize("rows_per_thread", [1, 3, 4])
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_persistent_many_blocks(cell, rows_per_thread):
    config = tiny(block=(4, 2), rows_per_thread=rows_per_thread, gemm_block=(1, 1))
    plan = plan_of(cell, MANY_BLOCKS, np.float32, config)
    assert plan.path == "persistent"
    assert plan.grid == -(-7 // (2 * rows_per_thread)) and plan.grid >= 1
    check(cell, MANY_BLOCKS, np.float32, seed=2, config=config)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_stepwise_many_blocks(cell, dtype):
    config = tiny(block=(4, 2), gemm_block=(1, 2), path="stepwise")
    check(cell, MANY_BLOCKS, dtype, seed=3, config=config)


@pytest.mark.parametrize("cache_weights", [True, False])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_hidden_size_not_a_multiple_of_32(cell, cache_weights):
    """H=33 over one warp of 32 threads: thread 0 also owns unit 32."""
    shape = (2, 2, 1, 33)
    config = tiny(block=(32, 1), gemm_block=(4, 4), gemm_bk=8, aux_block=(8, 2), cache_weights=cache_weights)
    plan = plan_of(cell, shape, np.float32, config)
    assert (plan.path, plan.cache_weights_forward, plan.cache_weights_backward) == (
        "persistent",
        cache_weights,
        cache_weights,
    )
    check(cell, shape, np.float32, seed=4, config=config)


def test_w_hh_above_48_kib_in_shared_memory():
    """LSTM with H=64 in float32: W_hh is 64 KiB, cached in shared memory only with a budget
    above the 48 KiB that needs no opt-in (as on an A100/H100)."""
    shape = (2, 2, 1, 64)
    config = tiny(block=(16, 1), gemm_block=(4, 4), gemm_bk=8, aux_block=(8, 2), max_shared_bytes=200_000)
    plan = plan_of("lstm", shape, np.float32, config)
    assert plan.cache_weights_forward and plan.cache_weights_backward
    assert min(plan.shared_forward, plan.shared_backward) > 48 * 1024
    check("lstm", shape, np.float32, seed=9, config=config)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_hidden_split_kernels(cell, dtype):
    """The hidden-split kernels (``path="split"``): H=5 in slices of 2 units (3 slices, the
    last with one idle unit), 3 batch rows over blocks of 2x2 threads (the threads loop
    over units and rows). The simulator's cooperative grid holds one block
    (``max_cooperative_grid_blocks`` is 1 there), so that block owns every slice and the
    per-step ``grid.sync()`` is its block barrier; on a GPU each block owns one slice."""
    shape = (3, 3, 2, 5)
    config = tiny(path="split", split_units=2)
    plan = plan_of(cell, shape, dtype, config)
    assert (plan.path, plan.grid, plan.split_units) == ("split", 3, 2)
    check(cell, shape, dtype, seed=21, config=config)


def test_hidden_split_chosen_automatically():
    """``"auto"`` takes the hidden-split kernels when the hidden size is at least
    ``split_min_hidden`` (lowered to 8 here, so the simulator stays quick) and the persistent
    kernels do not fit the shared-memory budget: an H=12 float32 LSTM's backward needs
    (12 + 48 + 576) x 4 = 2544 B > 2400 B, while its 3 slices of W_hh (4 units, 768 B each) fit
    (in the simulator the one resident block holds all of them). The result agrees with the
    reference."""
    shape = (1, 2, 1, 12)
    config = tiny(split_units=4, split_min_hidden=8, max_shared_bytes=2400)
    plan = plan_of("lstm", shape, np.float32, config)
    assert (plan.path, plan.grid, plan.shared_forward) == ("split", 3, 768)
    check("lstm", shape, np.float32, seed=22, config=config)


def test_fallback_chosen_automatically_above_the_hidden_size_limit():
    """``path="auto"`` falls back to the stepwise kernels above ``persistent_max_hidden``
    and when the persistent kernels' shared memory would not fit; both still agree."""
    shape = (3, 3, 2, 6)
    above = tiny(path="auto", persistent_max_hidden=5)
    assert plan_of("lstm", shape, np.float64, above).path == "stepwise"
    check("lstm", shape, np.float64, seed=5, config=above)
    # persistent backward: 2 rows x (6 + 3*6) x 8 B = 384 B; the 8x8x2 product tiles: 288 B
    no_room = tiny(path="auto", max_shared_bytes=300)
    assert plan_of("gru", shape, np.float64, no_room).path == "stepwise"
    check("gru", shape, np.float64, seed=5, config=no_room)


def test_split_reductions_are_used():
    """The tiny configuration really splits the weight-gradient reductions (the launches of
    one backward, recorded without running them), and the split results agree."""
    from tsrnn.kernels.cuda._layer import RecordingOps, backward, forward

    from .helpers import codegen_module

    kernel_names = codegen_module().kernel_names

    cell, shape = "gru", (4, 5, 3, 3)
    arrays = contract_arrays(cell, shape, np.float64)
    ops = RecordingOps(tiny())
    forward(cell, *(arrays[k] for k in FORWARD_ARGS), ops)
    backward(cell, *arrays.values(), ops)  # contract order: inputs, d_*, then gradients
    names = kernel_names("float64")
    # GRU: two problems (input and recurrent side), each split over the rows
    split = [g for k, g, *_ in ops.launches if names[id(k)] == "weight_grads" and g[2] > 2]
    assert split, "the weight gradients were not split"
    assert not any(names[id(k)] in ("reduce_splits", "column_sums") for k, *_ in ops.launches)
    check(cell, shape, np.float64, seed=6, config=tiny())


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_weight_gradients_of_unequal_widths(cell):
    """Input size 2 and hidden size 10: the weight-gradient launch has column tiles that only
    the wider of the GRU's two problems covers (the other problem's blocks leave), and the
    last block of each split tile adds the partials; gradients agree with the reference."""
    check(cell, (3, 4, 2, 10), np.float64, seed=11, config=tiny())
    check(cell, (3, 4, 2, 10), np.float32, seed=12, config=tiny())


def test_host_arrays_give_the_device_result_and_are_not_modified(cuda_kernels):
    arrays = contract_arrays("lstm", (3, 4, 2, 5), np.float32, seed=7)
    before = {k: v.copy() for k, v in arrays.items()}
    on_device = run_cuda_on_device("lstm", arrays)
    from_host = run_backend(cuda_kernels, "lstm", arrays)  # NumPy in, NumPy out
    for name, value in on_device.items():
        np.testing.assert_array_equal(from_host[name], value, err_msg=name)
    for name, value in before.items():
        np.testing.assert_array_equal(arrays[name], value, err_msg=name)
    assert_same(from_host, run_backend(reference, "lstm", arrays), np.float32)


def test_device_inputs_are_not_modified():
    from numba import cuda

    from tsrnn.kernels import cuda as ck

    arrays = contract_arrays("gru", (2, 3, 2, 4), np.float64, seed=8)
    d = {k: cuda.to_device(v) for k, v in arrays.items()}
    weights, buffers, grads, d_weights = contract_tuples(d)
    ck.gru_forward(d["x"], weights, buffers)
    fwd = {k: d[k].copy_to_host() for k in ("out", "aux", "gates")}
    ck.gru_backward(d["x"], weights, buffers, grads, d_weights)
    for name in ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "d_out", "d_hn"):
        np.testing.assert_array_equal(d[name].copy_to_host(), arrays[name], err_msg=name)
    for name, value in fwd.items():  # backward reads the forward's results, never writes them
        np.testing.assert_array_equal(d[name].copy_to_host(), value, err_msg=name)


def test_workspace_and_stream_reuse_across_calls():
    """A training loop's pattern: one Workspace and one stream for many calls with new data
    (and a new shape in between); every call must still agree with the reference."""
    from numba import cuda

    from tsrnn.kernels.cuda import Workspace

    ws, stream = Workspace(), cuda.stream()
    for seed, shape in enumerate([(3, 4, 2, 5), (3, 4, 2, 5), (2, 6, 1, 5), (3, 4, 2, 5)]):
        check("lstm", shape, np.float32, seed=10 + seed, workspace=ws, stream=stream, config=tiny())


def test_bad_arguments_are_named(cuda_kernels):
    arrays = contract_arrays("rnn_tanh", (2, 3, 1, 2), np.float64)
    x = arrays["x"]
    weights, buffers, grads, d_weights = contract_tuples(arrays)
    mixed = (weights[0], weights[1].astype(np.float32), *weights[2:])
    with pytest.raises(TypeError, match="w_hh is float32"):
        cuda_kernels.rnn_tanh_forward(x, mixed, buffers)
    flat = (buffers[0].ravel(), *buffers[1:])
    with pytest.raises(ValueError, match="h0 must be 2-D"):
        cuda_kernels.rnn_tanh_forward(x, weights, flat)
    with pytest.raises(TypeError, match="config must be"):
        cuda_kernels.rnn_tanh_forward(x, weights, buffers, config={"path": "stepwise"})
    with pytest.raises(TypeError, match="x must be a numba device array or a NumPy array"):
        cuda_kernels.rnn_tanh_forward([[0.0]], weights, buffers)
    with pytest.raises(TypeError, match=r"weights must be a tuple of 4 arrays"):
        cuda_kernels.rnn_tanh_forward(x, weights[:3], buffers)
    with pytest.raises(TypeError, match=r"grads must be a tuple of 6 arrays"):
        cuda_kernels.rnn_tanh_backward(x, weights, buffers, grads[:5], d_weights)
