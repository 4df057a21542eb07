"""Gradient flow: exact per-step state gradients against finite differences and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import functional as F
from tsrnn._layout import CELLS
from tsrnn.experiments import gradient_flow, state_gradients, summarize_gradient_flow
from tsrnn.experiments._tasks import make_task
from tsrnn.nn import RecurrentNetwork

N, L, D, H = 2, 6, 2, 3


def _weights(cell, seed=0):
    w = F.init_weights(cell, D, H, random_state=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 10)
    # Non-zero biases and a larger recurrent matrix make every path matter.
    return {
        k: v * 1.3 + (0.3 * rng.normal(size=v.shape) if k.startswith("bias") else 0.0) for k, v in w.items()
    }


def _problem(seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, L, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))


def _per_sample_loss(h, c, a, b):
    """0.5 ||h - a||^2 (+ 0.5 ||c - b||^2 for the LSTM) per sample."""
    loss = 0.5 * ((h - a) ** 2).sum(axis=1)
    if c is not None:
        loss += 0.5 * ((c - b) ** 2).sum(axis=1)
    return loss


def _loss_from(cell, x, w, t, h_t, c_t, a, b):
    """Per-sample loss when the state after step t is replaced by (h_t, c_t): forward only."""
    if t == x.shape[1] - 1:
        h_n, c_n = h_t, c_t
    else:
        _, final, _ = F.forward(cell, x[:, t + 1 :], w, h0=h_t, c0=c_t, device="reference")
        h_n, c_n = final if cell == "lstm" else (final, None)
    return _per_sample_loss(h_n, c_n, a, b)


@pytest.mark.parametrize("cell", CELLS)
def test_state_gradients_match_finite_differences(cell):
    w = _weights(cell)
    x, a, b = _problem()
    out, final, cache = F.forward(cell, x, w, device="reference")
    lstm = cell == "lstm"
    h_n, c_n = final if lstm else (final, None)
    grad_final = (h_n - a, c_n - b) if lstm else h_n - a
    got = state_gradients(cell, x, w, grad_final, device="reference")
    assert got["h"].shape == (N, L, H) and (("c" in got) == lstm)
    eps = 1e-6
    fd_h = np.empty((N, L, H))
    fd_c = np.empty((N, L, H))
    for t in range(L):
        h_t = out[:, t]
        c_t = cache.aux[t] if lstm else None
        o_t = cache.gates[t][:, 3 * H :] if lstm else None
        for i in range(H):
            e = np.zeros(H)
            e[i] = eps
            up = _loss_from(cell, x, w, t, h_t + e, c_t, a, b)
            down = _loss_from(cell, x, w, t, h_t - e, c_t, a, b)
            fd_h[:, t, i] = (up - down) / (2 * eps)
            if lstm:
                # Total derivative in c_t: h_t = o_t * tanh(c_t) moves with it.
                up = _loss_from(cell, x, w, t, o_t * np.tanh(c_t + e), c_t + e, a, b)
                down = _loss_from(cell, x, w, t, o_t * np.tanh(c_t - e), c_t - e, a, b)
                fd_c[:, t, i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(got["h"], fd_h, rtol=1e-6, atol=1e-9)
    if lstm:
        np.testing.assert_allclose(got["c"], fd_c, rtol=1e-6, atol=1e-9)
    # The gradients do vary along the sequence (the check above is not vacuous).
    assert np.ptp(np.linalg.norm(fd_h, axis=2)) > 1e-3


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_state_gradients_cpu_kernels_agree_with_the_reference(cell):
    w = _weights(cell, seed=3)
    x, a, _ = _problem(seed=4)
    ref = state_gradients(cell, x, w, a, device="reference")
    cpu = state_gradients(cell, x, w, a, device="cpu")
    for key in ref:
        np.testing.assert_allclose(cpu[key], ref[key], rtol=1e-10, atol=1e-13)


def test_state_gradients_checks_the_final_gradient_shape():
    w = _weights("gru")
    x, _, _ = _problem()
    with pytest.raises(ValueError, match=r"grad_final_state \(h\)"):
        state_gradients("gru", x, w, np.zeros((N, H + 1)), device="reference")


def test_gradient_flow_at_distance_zero_is_the_head_gradient():
    # dloss_n/dh_{L-1} = (prediction_n - target_n) * head.weight: its mean norm by hand.
    frame = gradient_flow(cells=("rnn_tanh", "gru"), train=False, quick=True, progress=False)
    seq_len, n_eval = frame.attrs["seq_len"], frame.attrs["n_eval"]
    assert len(frame) == 2 * seq_len  # 2 cells x 1 seed x "h" x L distances
    assert set(frame["stage"]) == {"init"} and sorted(frame["distance"].unique()) == list(range(seq_len))
    data = make_task("adding", seq_len, 0, n_train=1, n_val=1, n_test=n_eval)
    for cell in ("rnn_tanh", "gru"):
        net = RecurrentNetwork(cell, 2, frame.attrs["hidden_size"], 1)
        params = net.init_params(np.random.RandomState(0))
        prediction = net.predict(params, data.X_test)[:, 0].astype(np.float64) + 1.0
        head = net.layout.views(params)["head.weight"].astype(np.float64)
        expected = np.mean(np.abs(prediction - data.y_test)) * np.linalg.norm(head)
        row = frame[(frame["cell"] == cell) & (frame["distance"] == 0)].iloc[0]
        assert row["grad_norm"] == pytest.approx(expected, rel=1e-5)
        assert row["relative"] == 1.0 and row["step"] == seq_len - 1
        assert row["model_error"] == pytest.approx(np.mean((prediction - data.y_test) ** 2), rel=1e-5)


@pytest.mark.torch
def test_gradient_flow_matches_torch_autograd_through_an_unrolled_network():
    torch = pytest.importorskip("torch")
    frame = gradient_flow(cells=("rnn_tanh", "lstm", "gru"), train=False, quick=True, progress=False)
    seq_len, n_eval, hidden = frame.attrs["seq_len"], frame.attrs["n_eval"], frame.attrs["hidden_size"]
    data = make_task("adding", seq_len, 0, n_train=1, n_val=1, n_test=n_eval)
    x = torch.tensor(data.X_test.transpose(1, 0, 2), dtype=torch.float64)
    y = torch.tensor(data.y_test, dtype=torch.float64)
    for cell in ("rnn_tanh", "lstm", "gru"):
        net = RecurrentNetwork(cell, 2, hidden, 1)
        views = net.layout.views(net.init_params(np.random.RandomState(0)))
        module = {
            "rnn_tanh": lambda: torch.nn.RNNCell(2, hidden, nonlinearity="tanh"),
            "lstm": lambda: torch.nn.LSTMCell(2, hidden),
            "gru": lambda: torch.nn.GRUCell(2, hidden),
        }[cell]().double()
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(module, name).copy_(torch.tensor(views[f"{name}_l0"], dtype=torch.float64))
        head_w = torch.tensor(views["head.weight"], dtype=torch.float64)
        head_b = torch.tensor(views["head.bias"], dtype=torch.float64)
        h = torch.zeros(n_eval, hidden, dtype=torch.float64)
        c = torch.zeros_like(h)
        hs, cs = [], []
        for t in range(seq_len):
            if cell == "lstm":
                h, c = module(x[:, t], (h, c))
                c.retain_grad()
                cs.append(c)
            else:
                h = module(x[:, t], h)
            h.retain_grad()
            hs.append(h)
        prediction = (h @ head_w.T + head_b)[:, 0] + 1.0
        (0.5 * ((prediction - y) ** 2)).sum().backward()  # sum of per-sample losses
        for quantity, states in (("h", hs), ("c", cs)):
            if not states:
                continue
            expected = np.array([s.grad.norm(dim=1).mean().item() for s in states])
            part = frame[(frame["cell"] == cell) & (frame["quantity"] == quantity)].sort_values("step")
            np.testing.assert_allclose(part["grad_norm"].to_numpy(), expected, rtol=2e-4)


def test_gradient_flow_quick_with_training_has_both_stages_and_a_summary():
    frame = gradient_flow(cells=("lstm",), quick=True, progress=False)
    seq_len = frame.attrs["seq_len"]
    # stages x quantities (h and c for the LSTM) x distances
    assert len(frame) == 2 * 2 * seq_len
    assert set(frame["stage"]) == {"init", "trained"}
    assert (frame.loc[frame["stage"] == "trained", "train_epochs"] >= 1).all()
    summary = summarize_gradient_flow(frame)
    assert list(summary["stage"]) == ["init", "init", "trained", "trained"]
    far = frame[frame["distance"] == seq_len - 1].set_index(["stage", "quantity"])["relative"]
    for _, row in summary.iterrows():
        # One seed: the geometric mean is the value itself.
        assert row[f"ratio k={seq_len - 1}"] == pytest.approx(far[(row["stage"], row["quantity"])])
        assert row["log10 ratio"] == pytest.approx(np.log10(far[(row["stage"], row["quantity"])]))


def test_gradient_flow_rejects_bad_arguments():
    with pytest.raises(ValueError, match="cells"):
        gradient_flow(cells=("lstm", "transformer"), quick=True, progress=False)
    with pytest.raises(ValueError, match="seq_len must be at least 2"):
        gradient_flow(seq_len=1, quick=True, progress=False)
    with pytest.raises(ValueError, match="task"):
        gradient_flow(task="sorting", quick=True, progress=False)


def test_network_state_gradients_keep_a_gradient_below_float32_range():
    # A saturated one-unit tanh RNN: each step multiplies dloss/dh by w_hh (1 - h_s^2), about
    # 1e-7 here, so over 11 steps the gradient (about 1e-77) is below float32's smallest
    # subnormal. Oracle: the chain rule by hand, as a sum of logarithms in float64.
    from tsrnn.experiments._gradient_flow import _network_state_gradients

    seq_len = 12
    data = make_task("adding", seq_len, 0, n_train=1, n_val=1, n_test=4)
    net = RecurrentNetwork("rnn_tanh", data.input_size, 1, data.output_size)
    params = net.init_params(np.random.RandomState(0))
    views = net.layout.views(params)
    views["weight_ih_l0"][:] = [[0.5, -0.25]]
    views["weight_hh_l0"][:] = 0.75
    views["bias_ih_l0"][:] = 8.0
    views["bias_hh_l0"][:] = 0.5
    views["head.weight"][:] = 1.5
    views["head.bias"][:] = 0.1
    norms, _ = _network_state_gradients(net, params, data, data.X_test, data.y_test, "cpu")

    p = {k: v.astype(np.float64) for k, v in views.items()}
    x = data.X_test.astype(np.float64)  # (L, N, D)
    h = np.zeros(x.shape[1])
    pre = np.empty((seq_len, x.shape[1]))
    for t in range(seq_len):
        pre[t] = (
            x[t] @ p["weight_ih_l0"][0]
            + p["bias_ih_l0"][0]
            + p["weight_hh_l0"][0, 0] * h
            + p["bias_hh_l0"][0]
        )
        h = np.tanh(pre[t])
    prediction = p["head.weight"][0, 0] * h + p["head.bias"][0]
    target = data.targets(data.y_test).astype(np.float64).reshape(-1)
    d_hn = np.abs((prediction - target) * p["head.weight"][0, 0])
    # log|dloss/dh_t| = log|dh_n| + sum_{s>t} (log|w_hh| + log(1 - tanh(pre_s)^2)),
    # with 1 - tanh^2 = 1 / cosh^2 computed without cancellation.
    log_step = np.log(abs(p["weight_hh_l0"][0, 0])) - 2.0 * np.log(np.cosh(pre))  # (L, N)
    after = np.cumsum(log_step[::-1], axis=0)[::-1]  # row t: sum over s >= t
    suffix = np.concatenate([after[1:], np.zeros((1, x.shape[1]))])  # row t: sum over s > t
    expected = d_hn[:, None] * np.exp(suffix.T)
    assert expected[:, 0].max() < 1e-50  # zero in float32
    np.testing.assert_allclose(norms["h"], expected, rtol=1e-6)


def test_summary_reports_a_zero_ratio_as_an_underflow_not_minus_infinity():
    frame = gradient_flow(cells=("rnn_tanh",), train=False, quick=True, seeds=(0, 1), progress=False)
    longest = frame["distance"].max()
    far = (frame["distance"] == longest) & (frame["seed"] == 1)
    frame.loc[far, "relative"] = 0.0
    row = summarize_gradient_flow(frame).iloc[0]
    assert np.isnan(row[f"ratio k={longest}"]) and np.isnan(row["log10 ratio"])
    assert row["underflows"] == 1
