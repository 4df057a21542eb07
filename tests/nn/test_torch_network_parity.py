"""The whole stacked bidirectional network against torch.nn.LSTM/GRU/RNN + torch.nn.Linear.

The torch model is ``rnn(x) -> h_n -> cat(h_n[-2], h_n[-1]) -> Linear``, loaded with our
weights through their PyTorch names; outputs and the gradient of every parameter and of the
input must agree to float64 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn._layout import CELLS, cell_spec
from tsrnn.nn import Adam, RecurrentNetwork, mse_loss, softmax_cross_entropy, to_time_major

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def torch_model(torch, net: RecurrentNetwork, params: np.ndarray):
    spec = cell_spec(net.cell)
    kwargs = {"nonlinearity": spec.torch_nonlinearity} if spec.torch_module == "RNN" else {}
    rnn = getattr(torch.nn, spec.torch_module)(
        net.input_size,
        net.hidden_size,
        num_layers=net.num_layers,
        bidirectional=net.bidirectional,
        batch_first=True,
        dtype=torch.float64,
        **kwargs,
    )
    head = torch.nn.Linear(net.n_directions * net.hidden_size, net.output_size, dtype=torch.float64)
    views = net.layout.views(params)
    rnn.load_state_dict(
        {k: torch.from_numpy(v.copy()) for k, v in views.items() if not k.startswith("head.")}
    )
    head.load_state_dict(
        {
            "weight": torch.from_numpy(views["head.weight"].copy()),
            "bias": torch.from_numpy(views["head.bias"].copy()),
        }
    )

    def run(x):
        _, state = rnn(x)
        h_n = state[0] if net.cell == "lstm" else state
        z = torch.cat([h_n[-2], h_n[-1]], dim=1) if net.bidirectional else h_n[-1]
        return head(z)

    return rnn, head, run


@pytest.mark.parametrize("cell", list(CELLS))
def test_stacked_bidirectional_network_matches_torch(torch, cell):
    net = RecurrentNetwork(cell, 3, 5, 2, num_layers=2, bidirectional=True, dtype=np.float64)
    rng = np.random.default_rng(0)
    params = net.init_params(0) + rng.normal(scale=0.2, size=net.n_params)
    x = rng.normal(size=(4, 6, 3))
    y = rng.normal(size=(4, 2))

    output, cache = net.forward(params, to_time_major(x))
    value, d_out = mse_loss(output, y)
    grad, d_x = net.backward(params, cache, d_out, input_grad=True)

    rnn, head, run = torch_model(torch, net, params)
    tx = torch.tensor(x, requires_grad=True)
    tout = run(tx)
    tloss = 0.5 * ((tout - torch.from_numpy(y)) ** 2).mean()
    tloss.backward()

    np.testing.assert_allclose(output, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert value == pytest.approx(tloss.item(), rel=1e-12)
    gviews = net.layout.views(grad)
    for name, p in rnn.named_parameters():
        np.testing.assert_allclose(gviews[name], p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(gviews["head.weight"], head.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gviews["head.bias"], head.bias.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(d_x.transpose(1, 0, 2), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_entropy_and_adam_training_steps_match_torch(torch):
    # Three Adam steps with weight decay on the full network: same trajectory as torch.optim.Adam
    # (ours decays only the weight matrices, so the torch optimizer gets two parameter groups).
    net = RecurrentNetwork("gru", 2, 4, 3, num_layers=2, dtype=np.float64)
    rng = np.random.default_rng(1)
    params = net.init_params(1)
    x = rng.normal(size=(5, 4, 2))
    labels = np.array([0, 1, 2, 1, 0])
    rnn, head, run = torch_model(torch, net, params)
    named = dict(rnn.named_parameters()) | {"head.weight": head.weight, "head.bias": head.bias}
    decay = [p for n, p in named.items() if "weight" in n]
    no_decay = [p for n, p in named.items() if "weight" not in n]
    topt = torch.optim.Adam(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=0.01
    )
    opt = Adam(params, 0.01, weight_decay=0.1, decay_mask=net.layout.decay_mask(np.float64))
    xt = to_time_major(x)
    for _ in range(3):
        value, grad = net.loss_and_grad(params, xt, labels, softmax_cross_entropy)
        opt.step(params, grad)
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(run(torch.from_numpy(x)), torch.from_numpy(labels))
        tloss.backward()
        topt.step()
        assert value == pytest.approx(tloss.item(), rel=1e-10)
    views = net.layout.views(params)
    for name, p in named.items():
        np.testing.assert_allclose(views[name], p.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
