"""The walkthrough of docs/contributing.md, exercised: a fifth cell written in the places it
names (a table row, reference kernels, a CPU kernel module) runs through the whole stack.

The toy cell is a leaky tanh RNN, ``h' = (1 - a) h + a tanh(W_ih x + b_ih + W_hh h + b_hh)`` with
``a = 0.5``. Its pieces are written into a temporary module, then put where the walkthrough puts
them: the row into ``tsrnn._layout.CELLS``, the reference functions into
``tsrnn.kernels.reference``, the CPU module as ``tsrnn.kernels.cpu.toy``. Nothing else is
touched, and the network, ``tsrnn.functional`` and the estimators must work with it. The
reference is checked by finite differences; the CPU kernel against the reference.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tsrnn
from tsrnn import functional as F
from tsrnn._layout import CELLS, CellSpec
from tsrnn.kernels import reference
from tsrnn.nn import RecurrentNetwork, mse_loss

DOC = Path(__file__).resolve().parents[1] / "docs" / "contributing.md"

TOY = textwrap.dedent(
    """
    import numpy as np

    A = 0.5


    def toy_forward(x, weights, buffers):
        w_ih, w_hh, b_ih, b_hh = weights
        h, _c0, out, _aux, _gates = buffers
        for t in range(x.shape[0]):
            h = (1 - A) * h + A * np.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
            out[t] = h


    def toy_backward(x, weights, buffers, grads, d_weights):
        w_ih, w_hh, _b_ih, _b_hh = weights
        h0, _c0, out, _aux, _gates = buffers
        d_out, d_hn, _d_cn, dx, dh0, _dc0 = grads
        dw_ih, dw_hh, db_ih, db_hh = d_weights
        for a in d_weights:
            a[...] = 0
        dh = d_hn.copy()
        for t in range(x.shape[0] - 1, -1, -1):
            dh = dh + d_out[t]
            h_prev = h0 if t == 0 else out[t - 1]
            s = (out[t] - (1 - A) * h_prev) / A  # tanh of the pre-activation
            dpre = dh * A * (1 - s * s)
            dw_ih += dpre.T @ x[t]
            dw_hh += dpre.T @ h_prev
            db_ih += dpre.sum(axis=0)
            db_hh += dpre.sum(axis=0)
            dx[t] = dpre @ w_ih
            dh = (1 - A) * dh + dpre @ w_hh
        dh0[...] = dh
    """
)


def _load(tmp_path: Path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def toy_cell(tmp_path, monkeypatch):
    """The three pieces of the walkthrough, in place for the duration of a test."""
    ref = _load(tmp_path, "toy_reference", TOY)
    # The CPU kernel module: a separate copy, as kernels/cpu/toy.py would be (no inference
    # kernel, so the adapter from the contract forward serves need_cache=False/predict).
    cpu = _load(tmp_path, "toy_cpu", TOY)
    monkeypatch.setitem(CELLS, "toy", CellSpec("toy", ("h",), False, "RNN"))
    monkeypatch.setattr(reference, "toy_forward", ref.toy_forward, raising=False)
    monkeypatch.setattr(reference, "toy_backward", ref.toy_backward, raising=False)
    monkeypatch.setattr(
        reference,
        "toy_forward_inference",
        lambda *a: reference.inference_via_forward("toy", ref.toy_forward, *a),
        raising=False,
    )
    monkeypatch.setitem(sys.modules, "tsrnn.kernels.cpu.toy", cpu)
    return "toy"


def _problem(seed=0, n=3, length=5, d=2, h=4):
    rng = np.random.default_rng(seed)
    w = F.init_weights("toy", d, h, random_state=seed, dtype=np.float64)
    x = rng.normal(size=(n, length, d))
    return w, x, rng.normal(size=(n, h))


def test_the_walkthrough_names_four_files_or_fewer():
    text = DOC.read_text()
    section = text[text.index("## Adding a cell") :]
    section = section[: section.find("\n## ", 3) if "\n## " in section[3:] else len(section)]
    # The numbered steps, each naming the file it edits first.
    steps = re.findall(r"^\d+\. `(tsrnn/[\w/<>.]+\.py)`", section, flags=re.M)
    files = sorted(set(steps))
    assert 1 <= len(files) <= 4, files
    root = DOC.parents[1]
    for f in files:
        if "<" not in f:
            assert (root / f).exists(), f


def test_the_reference_gradient_matches_finite_differences(toy_cell):
    w, x, h0 = _problem()
    g_out = np.random.default_rng(1).normal(size=(3, 5, 4))
    _, _, cache = F.forward("toy", x, w, h0, device="reference")
    grads = F.backward(cache, g_out)

    def loss(weights):
        o, _, _ = F.forward("toy", x, weights, h0, device="reference", need_cache=False)
        return float(np.sum(o * g_out))

    eps = 1e-6
    for name in ("weight_ih", "weight_hh", "bias_hh"):
        numeric = np.zeros_like(w[name])
        for i in np.ndindex(w[name].shape):
            up = {k: v.copy() for k, v in w.items()}
            down = {k: v.copy() for k, v in w.items()}
            up[name][i] += eps
            down[name][i] -= eps
            numeric[i] = (loss(up) - loss(down)) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8)


def test_the_cpu_kernel_matches_the_reference_through_the_network(toy_cell):
    x = np.random.default_rng(2).normal(size=(6, 5, 2))  # time-major (L, N, D)
    target = np.random.default_rng(3).normal(size=(5, 1))
    results = {}
    for device in ("reference", "cpu"):
        net = RecurrentNetwork(
            "toy", 2, 4, 1, num_layers=2, bidirectional=True, dtype=np.float64, device=device
        )
        params = net.init_params(0)
        loss, grad = net.loss_and_grad(params, x, target, mse_loss)
        results[device] = (loss, grad, net.predict(params, x))
    for a, b in zip(results["reference"], results["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_estimators_accept_the_new_cell(toy_cell):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 6))
    y = X[:, -1] + 0.5 * X[:, -2]
    model = tsrnn.RecurrentRegressor(cell="toy", hidden_size=4, max_iter=3, random_state=0).fit(X, y)
    assert model.network_.cell == "toy"
    assert model.predict(X).shape == (40,)
