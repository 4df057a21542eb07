"""Same weights in torch.nn.RNN/LSTM/GRU(batch_first=True): same outputs and gradients.

PyTorch is an independent implementation of the same equations, so agreement to float64
rounding checks the gate order, the GRU reset-gate placement and the whole backward pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn import functional as F
from tsrnn._layout import PARAM_NAMES, cell_spec, torch_param_name

from .cases import CASES, case_id, final_state_grad, make_problem, relative_error

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def torch_layer(torch, cell, input_size, hidden_size, weights):
    spec = cell_spec(cell)
    module_cls = getattr(torch.nn, spec.torch_module)
    kwargs = {"nonlinearity": spec.torch_nonlinearity} if spec.torch_module == "RNN" else {}
    layer = module_cls(input_size, hidden_size, batch_first=True, dtype=torch.float64, **kwargs)
    state = {torch_param_name(k): torch.from_numpy(weights[k].copy()) for k in PARAM_NAMES}
    layer.load_state_dict(state)
    return layer


@pytest.mark.parametrize("device", ["cpu", "reference"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch(torch, case, device):
    cell, (n, length, d, h) = case
    weights, x, h0, c0, g_out, g_h, g_c = make_problem(cell, (n, length, d, h), np.float64, seed=3)
    out, state, cache = F.forward(cell, x, weights, h0, c0, device=device)
    grads = F.backward(cache, g_out, final_state_grad(cell, g_h, g_c))

    layer = torch_layer(torch, cell, d, h, weights)
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0[None], requires_grad=True)
    if cell == "lstm":
        tc0 = torch.tensor(c0[None], requires_grad=True)
        tout, (thn, tcn) = layer(tx, (th0, tc0))
        loss = (
            (tout * torch.from_numpy(g_out)).sum()
            + (thn[0] * torch.from_numpy(g_h)).sum()
            + (tcn[0] * torch.from_numpy(g_c)).sum()
        )
        np.testing.assert_allclose(state[1], tcn[0].detach().numpy(), rtol=1e-10, atol=1e-12)
        h_n = state[0]
    else:
        tout, thn = layer(tx, th0)
        loss = (tout * torch.from_numpy(g_out)).sum() + (thn[0] * torch.from_numpy(g_h)).sum()
        h_n = state
    loss.backward()

    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_n, thn[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    expected = {k: getattr(layer, torch_param_name(k)).grad.numpy() for k in PARAM_NAMES}
    expected["x"] = tx.grad.numpy()
    expected["h0"] = th0.grad.numpy()[0]
    if cell == "lstm":
        expected["c0"] = tc0.grad.numpy()[0]
    assert set(grads) == set(expected)
    for name, value in expected.items():
        assert relative_error(grads[name], value) < 1e-10, name
