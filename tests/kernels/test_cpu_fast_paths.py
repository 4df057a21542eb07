"""Every branch of the optimised CPU kernels against an independent oracle.

The CPU kernels split the batch over threads, run register-blocked products on SIMD vectors
(tiles of 4 rows x 4 vectors with 32 vector registers, 6 x 2 then 4 x 2 with 16, remainders
of single rows and single vectors), pad each
gate block to a whole number of vectors and read/write the caller's rows with masked accesses
when ``H`` is not a multiple of the vector width. The shapes below are chosen to reach each of
these branches in float32 and float64 (vector widths differ); the oracle is the NumPy
reference (and NumPy's matrix product for the building blocks).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from tsrnn import functional as F
from tsrnn.kernels import cpu, inference_kernel_for, kernels_for
from tsrnn.kernels.cpu import _common
from tsrnn.kernels.cpu._simd import VECTOR_BYTES

from .cases import CELL_NAMES, CPU_TOLERANCE, final_state_grad, make_problem, relative_error

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])


def lanes(dtype) -> int:
    return VECTOR_BYTES // np.dtype(dtype).itemsize


# (N, L, D, H): 2 row blocks with a remainder row (N=21 -> 12 + 9 rows), H a multiple of the
# float32 vector width (whole vectors, 4-vector tiles for the gated cells), H with a masked
# tail, and D >= 4 so the input-weight gradient uses the 4-row tiles as well.
SHAPES = [(21, 3, 5, 16), (18, 2, 9, 19), (5, 4, 1, 40)]


@DTYPES
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-L{}-D{}-H{}".format(*s))
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_larger_shapes_match_reference(cell, shape, dtype):
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, shape, dtype, seed=5)
    g_state = final_state_grad(cell, g_h, g_c)
    res = {}
    for device in ("reference", "cpu"):
        out, state, cache = F.forward(cell, x, weights, h0, c0, device=device)
        res[device] = (out, state, F.backward(cache, g_out, g_state))
    tol = CPU_TOLERANCE[dtype]
    (ref_out, ref_state, ref_grads), (out, state, grads) = res["reference"], res["cpu"]
    assert relative_error(out, ref_out) < tol
    for a, b in zip(np.atleast_1d(state) if cell != "lstm" else state, np.atleast_1d(ref_state)):
        assert relative_error(a, b) < tol
    for name in ref_grads:
        assert relative_error(grads[name], ref_grads[name]) < tol, name


@DTYPES
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_inference_path_matches_reference_and_training_forward(cell, dtype):
    weights, x, h0, c0, *_ = make_problem(cell, (19, 4, 3, 21), dtype, seed=7)
    ref_out, ref_state, _ = F.forward(cell, x, weights, h0, c0, device="reference")
    out, state, cache = F.forward(cell, x, weights, h0, c0, device="cpu", need_cache=False)
    train_out, train_state, _ = F.forward(cell, x, weights, h0, c0, device="cpu")
    assert cache is None
    tol = CPU_TOLERANCE[dtype]
    assert relative_error(out, ref_out) < tol
    # same arithmetic in both cpu paths: bit-identical outputs
    np.testing.assert_array_equal(out, train_out)
    if cell == "lstm":
        for a, b, c in zip(state, ref_state, train_state):
            assert relative_error(a, b) < tol
            np.testing.assert_array_equal(a, c)
    else:
        assert relative_error(state, ref_state) < tol


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_reference_inference_kernel_matches_its_forward(cell):
    weights, x, h0, c0, *_ = make_problem(cell, (3, 4, 2, 5), np.float64, seed=1)
    out, state, _ = F.forward(cell, x, weights, h0, c0, device="reference")
    out2, state2, _ = F.forward(cell, x, weights, h0, c0, device="reference", need_cache=False)
    np.testing.assert_array_equal(out, out2)
    for a, b in zip(np.atleast_1d(state) if cell != "lstm" else state, np.atleast_1d(state2)):
        np.testing.assert_array_equal(a, b)


def test_need_cache_must_be_bool():
    w = F.init_weights("gru", 2, 3)
    with pytest.raises(TypeError, match="need_cache must be True or False, got str"):
        F.forward("gru", np.zeros((1, 2, 2), np.float32), w, need_cache="no")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_results_do_not_depend_on_the_thread_count(cell, dtype, monkeypatch):
    """The batch blocks depend on N alone, so 1 and 2 threads give bit-identical results."""
    n = 40  # two blocks of rows (16 rows each at least), so the split really happens
    assert _common.n_chunks(n) == 2
    # a call this small runs on one thread by default: give it every thread
    monkeypatch.setattr(cpu, "MIN_PARALLEL_GATE_VALUES", 0)
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, (n, 3, 2, 8), dtype, seed=4)
    results = []
    before = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            out, _, cache = F.forward(cell, x, weights, h0, c0)
            results.append((out, F.backward(cache, g_out, final_state_grad(cell, g_h, g_c))))
    finally:
        numba.set_num_threads(before)
    (out1, g1), (out2, g2) = results
    np.testing.assert_array_equal(out1, out2)
    for name in g1:
        np.testing.assert_array_equal(g1[name], g2[name], err_msg=name)


def test_small_calls_run_on_the_calling_thread_alone(monkeypatch):
    """While waiting threads sleep, a call gets every thread only with more than one batch
    block and at least MIN_PARALLEL_GATE_VALUES gate values (rows x steps x G*H, counted by
    hand below); while they spin, every call with more than one block does."""
    assert cpu.MIN_PARALLEL_GATE_VALUES == 2**17
    monkeypatch.setattr(cpu, "WAITING_THREADS_SLEEP", True)

    def weights(gate_units, hidden):
        return (None, np.empty((gate_units, hidden)), None, None)

    x = np.empty
    assert cpu.threads_for(x((2048, 31, 1)), weights(4 * 256, 256)) == 1  # a single block (31 rows)
    assert cpu.threads_for(x((32, 32, 1)), weights(4 * 32, 32)) is None  # 32 * 32 * 128 = 2**17
    assert cpu.threads_for(x((31, 32, 1)), weights(4 * 32, 32)) == 1  # 126976
    assert cpu.threads_for(x((48, 64, 8)), weights(3 * 16, 16)) is None  # 147456: D does not count
    assert cpu.threads_for(x((48, 64, 1)), weights(16, 16)) == 1  # a tanh RNN: 49152
    monkeypatch.setattr(cpu, "WAITING_THREADS_SLEEP", False)
    assert cpu.threads_for(x((48, 64, 1)), weights(16, 16)) is None
    assert cpu.threads_for(x((1, 32, 1)), weights(1, 1)) is None  # two blocks
    assert cpu.threads_for(x((2048, 31, 1)), weights(4 * 256, 256)) == 1


def test_a_small_call_sees_one_thread_and_the_count_is_restored(monkeypatch):
    """The kernel runs with Numba's thread count set to 1 (Numba keeps it per thread) and the
    caller's count comes back afterwards, also when the kernel raises."""
    seen = []

    def kernel(x, weights, *arrays):
        seen.append(numba.get_num_threads())
        if arrays:
            raise FloatingPointError("from the kernel")

    monkeypatch.setattr(cpu, "WAITING_THREADS_SLEEP", True)
    small = cpu.adapt_kernel(kernel)
    w = (None, np.empty((4, 1)), None, None)
    before = numba.get_num_threads()
    small(np.empty((1, 1, 1)), w)
    with pytest.raises(FloatingPointError, match="from the kernel"):
        small(np.empty((1, 1, 1)), w, "fail")
    big = np.empty((1024, 256, 1))  # 4 blocks, 2**20 gate values
    small(big, w)
    assert seen == [1, 1, before]
    assert numba.get_num_threads() == before


def test_blocks_depend_on_the_batch_size_only():
    # hand-computed from the rule: >= 16 rows per block, <= 4 blocks until blocks exceed 64 rows,
    # <= 16 blocks in all
    expected = {1: 1, 15: 1, 16: 1, 32: 2, 63: 3, 64: 4, 256: 4, 320: 5, 512: 8, 1024: 16, 4096: 16}
    assert {n: _common.n_chunks(n) for n in expected} == expected


def test_chunks_cover_the_batch_in_blocks_of_four():
    for n in (1, 7, 16, 21, 33, 256):
        for chunks in (1, 2, 3):
            bounds = [_common.chunk_bounds(n, chunks, c) for c in range(chunks)]
            rows = [r for lo, hi in bounds for r in range(lo, hi)]
            assert rows == list(range(n))
            assert all(lo % 4 == 0 for lo, hi in bounds if hi > lo)


# --------------------------------------------------------------------------- building blocks


@DTYPES
# 10 rows: two 4-row tiles + 2 rows, or a 6-row and a 4-row tile; 3: remainder rows only
@pytest.mark.parametrize("n_rows", [10, 3])
def test_register_blocked_products_match_numpy(dtype, n_rows):
    rng = np.random.default_rng(0)
    v = lanes(dtype)
    m = 5 * v  # 4-vector panel + 1 vector, or two 2-vector panels + 1 vector
    k = 11
    a = rng.normal(size=(n_rows + 2, k)).astype(dtype)
    b = rng.normal(size=(k, m)).astype(dtype)
    bias = rng.normal(size=m).astype(dtype)
    c = np.full((n_rows + 1, m), np.nan, dtype)
    _common.mm_nn(a, 2, n_rows, _common.pack_panels(b), bias, c)
    np.testing.assert_allclose(c[:n_rows], bias + a[2 : 2 + n_rows] @ b, rtol=1e-5, atol=1e-5)
    assert np.isnan(c[n_rows]).all()  # rows past nr untouched

    # c += a[r0:r0+nr].T @ p : k = 11 -> 4 + 4-row tiles + 3 rows, or 6 + 4-row tiles + 1 row
    p = rng.normal(size=(n_rows, m)).astype(dtype)
    acc0 = rng.normal(size=(k, m)).astype(dtype)
    acc = acc0.copy()
    _common.mm_tn_acc(a, 2, n_rows, p, acc)
    np.testing.assert_allclose(acc, acc0 + a[2 : 2 + n_rows].T @ p, rtol=1e-5, atol=1e-5)

    # a rank-n update of 17 vectors of columns, large enough (> 32 KiB) for the copied-panel path
    big_m = 17 * v
    big_n = 32768 // (big_m * np.dtype(dtype).itemsize) + 9
    big_k = 18  # >= 16 rows of c: the copy pays off
    big_a = rng.normal(size=(big_n + 1, big_k)).astype(dtype)
    big_p = rng.normal(size=(big_n, big_m)).astype(dtype)
    assert big_p.nbytes > 32768
    big_acc = np.zeros((big_k, big_m), dtype)
    _common.mm_tn_acc(big_a, 1, big_n, big_p, big_acc)
    np.testing.assert_allclose(big_acc, big_a[1:].T @ big_p, rtol=1e-5, atol=1e-4)

    wt = rng.normal(size=(3, m)).astype(dtype)
    dots = np.empty(3, dtype)
    _common.row_dots(p, 1, wt, dots)
    np.testing.assert_allclose(dots, wt @ p[1], rtol=1e-5, atol=1e-5)

    sums = np.ones(m, dtype)
    _common.column_sums_acc(p, n_rows, sums)
    np.testing.assert_allclose(sums, 1 + p.sum(axis=0), rtol=1e-5, atol=1e-5)


def test_float32_tanh_is_close_to_libm_and_keeps_nan():
    """The vectorised float32 tanh (through the RNN kernel, weights chosen so pre-activations
    span the whole range) is within 1e-6 of tanh; NaN and +-inf inputs behave like tanh."""
    n = 64
    pre = np.concatenate([np.linspace(-12, 12, n - 3), [np.nan, np.inf, -np.inf]]).astype(np.float32)
    x = pre.reshape(1, n, 1)
    w_ih = np.ones((1, 1), np.float32)
    w_hh = np.zeros((1, 1), np.float32)
    b = np.zeros(1, np.float32)
    h0 = np.zeros((n, 1), np.float32)
    out = np.empty((1, n, 1), np.float32)
    fwd, _ = kernels_for("cpu", "rnn_tanh")
    fwd(x, (w_ih, w_hh, b, b), (h0, h0, out, out, out))
    got = out.ravel()
    expected = np.tanh(pre.astype(np.float64))
    np.testing.assert_allclose(got[:-3], expected[:-3], atol=1e-6, rtol=0)
    assert np.isnan(got[-3]) and got[-2] == 1.0 and got[-1] == -1.0


# --------------------------------------------------------------------------- divergence is visible


@DTYPES
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_nan_in_weights_reaches_outputs_and_gradients(cell, dtype):
    """No fast-math flag may hide a divergence: one NaN recurrent weight must show up."""
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, (6, 3, 2, 5), dtype, seed=9)
    _, _, cache = F.forward(cell, x, weights, h0, c0)  # valid buffers and shapes
    w = dict(weights)
    w["weight_hh"] = w["weight_hh"].copy()
    w["weight_hh"][0, 0] = np.nan
    fwd, bwd = kernels_for("cpu", cell)
    xt = cache.x
    out, aux, gates = np.empty_like(cache.out), np.empty_like(cache.aux), np.empty_like(cache.gates)
    wt = (w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"])
    fwd(xt, wt, (cache.h0, cache.c0, out, aux, gates))
    assert np.isnan(out[-1]).any(), "NaN weight did not reach the outputs"
    d_out = np.ascontiguousarray(g_out.transpose(1, 0, 2))
    d_cn = g_c if cell == "lstm" else cache.c0
    dx, dh0, dc0 = np.empty_like(xt), np.empty_like(cache.h0), np.empty_like(cache.c0)
    d_weights = tuple(np.empty_like(a) for a in wt)
    bwd(xt, wt, (cache.h0, cache.c0, out, aux, gates), (d_out, g_h, d_cn, dx, dh0, dc0), d_weights)
    dw_ih, dw_hh = d_weights[:2]
    assert np.isnan(dw_hh).any() and np.isnan(dw_ih).any() and np.isnan(dx).any()
    inf_out = np.empty_like(out)
    c_n = np.empty_like(cache.h0)
    inference_kernel_for("cpu", cell)(xt, wt, (cache.h0, cache.c0, inf_out, c_n))
    assert np.isnan(inf_out[-1]).any()


def test_backend_without_inference_kernel_gets_an_adapter(monkeypatch):
    """A backend that only has the contract kernels (e.g. a new one) still serves
    ``need_cache=False``, through its contract forward."""
    import sys
    import types

    from tsrnn import kernels
    from tsrnn.kernels import reference

    fake = types.ModuleType("tsrnn_fake_backend")
    fake.ARGUMENTS = reference.ARGUMENTS
    for cell in CELL_NAMES:
        setattr(fake, f"{cell}_forward", getattr(reference, f"{cell}_forward"))
        setattr(fake, f"{cell}_backward", getattr(reference, f"{cell}_backward"))
    monkeypatch.setitem(sys.modules, "tsrnn_fake_backend", fake)
    monkeypatch.setitem(kernels.BACKENDS, "fake", "tsrnn_fake_backend")
    for cell in ("lstm", "gru"):
        weights, x, h0, c0, *_ = make_problem(cell, (3, 4, 2, 5), np.float64, seed=2)
        expected_out, expected_state, _ = F.forward(cell, x, weights, h0, c0, device="reference")
        out, state, cache = F.forward(cell, x, weights, h0, c0, device="fake", need_cache=False)
        assert cache is None
        np.testing.assert_array_equal(out, expected_out)
        for a, b in zip(
            state if cell == "lstm" else [state], expected_state if cell == "lstm" else [expected_state]
        ):
            np.testing.assert_array_equal(a, b)


# Importing the CPU kernels starts Numba's threads (no kernel needs to run, so none is
# compiled in these fresh interpreters); ``seen[0]`` is the policy at that first start.
OPENMP_START = (
    "import os\n"
    "from numba.np.ufunc import parallel\n"
    "launch, seen = parallel._launch_threads, []\n"
    "def spy():\n"
    "    seen.append(os.environ.get('OMP_WAIT_POLICY'))\n"
    "    launch()\n"
    "parallel._launch_threads = spy\n"
    "from tsrnn.kernels import cpu\n"
    "print(seen[0], os.environ.get('OMP_WAIT_POLICY'), cpu.WAITING_THREADS_SLEEP)\n"
)


def _start_openmp(preset: str | None, before: str = "") -> str:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset is not None:
        env["OMP_WAIT_POLICY"] = preset
    done = subprocess.run(
        [sys.executable, "-c", before + OPENMP_START], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_openmp_threads_sleep_while_waiting_unless_the_user_chose():
    """Numba's OpenMP threads start with OMP_WAIT_POLICY=passive unless the user set a policy,
    and the process environment is left as the user had it (fresh interpreters);
    WAITING_THREADS_SLEEP says which policy the threads got."""
    assert _start_openmp(None) == "passive None True"
    assert _start_openmp("active") == "active active False"
    assert _start_openmp("PASSIVE") == "PASSIVE PASSIVE True"


@pytest.mark.torch
def test_openmp_loaded_by_torch_first_keeps_its_own_policy():
    """PyTorch loads GNU OpenMP (libgomp.so.1) with the default policy, and Numba's OpenMP
    layer shares that copy: tsrnn's passive setting cannot take effect, and tsrnn knows it."""
    pytest.importorskip("torch")
    assert _start_openmp(None, before="import torch\n") == "passive None False"
