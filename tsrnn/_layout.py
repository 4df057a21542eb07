"""The one table of recurrent cells: gates, parameter names, shapes and flat packing.

Every other module asks this table what a cell looks like instead of hard-coding it.
The layout is PyTorch's, so a ``torch.nn.RNN/LSTM/GRU`` state dict maps onto it 1:1:

===========  =====  =========================  ==========================================
cell         gates  gate order (row blocks)    recurrence
===========  =====  =========================  ==========================================
rnn_tanh     1      h                          h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
rnn_relu     1      h                          h' = relu(W_ih x + b_ih + W_hh h + b_hh)
lstm         4      i, f, g, o                 c' = f*c + i*g,  h' = o*tanh(c')
gru          3      r, z, n                    n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),
                                               h' = (1-z)*n + z*h
===========  =====  =========================  ==========================================

Parameter shapes for a layer with input size ``D`` and hidden size ``H`` (``G`` gates):
``weight_ih (G*H, D)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H,)``, ``bias_hh (G*H,)``.
Gate ``k`` occupies rows ``k*H:(k+1)*H`` of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from ._validation import FLOAT_DTYPES, check_positive_int

PARAM_NAMES: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass(frozen=True)
class CellSpec:
    """Static description of one recurrent cell type: every per-cell fact in one place.

    Attributes
    ----------
    name : str
        The key in :data:`CELLS`; the kernels are ``<name>_forward``, ``<name>_backward``
        and ``<name>_forward_inference`` in every backend.
    gate_names : tuple of str
        Gate row blocks of the weights, in PyTorch's order.
    has_cell_state : bool
        The cell carries a second state ``c`` (``c0``, ``c_n``) besides ``h``.
    torch_module, torch_nonlinearity : str, str or None
        The ``torch.nn`` module with this layout (and its ``nonlinearity=``).
    aux : str or None
        What the contract forward stores per step in ``aux (L, N, H)`` for backward; None
        when it stores nothing there (the array may then be empty).
    stores_gates : bool
        The contract forward stores the gate activations ``gates (L, N, G*H)`` for backward.
    recurrent_term_gate : int or None
        The gate whose recurrent-side term ``W_h h + b_h`` is kept apart from the input side
        (the GRU's ``n``, where it is scaled by ``r``): its input- and recurrent-side
        pre-activation gradients differ. None when every gate adds both sides.
    forget_gate : int or None
        Index of the forget gate, whose input bias is initialised to 1 (Jozefowicz et al.,
        2015); None for cells without one.
    kernel_module : str or None
        The module of the CPU kernels, ``tsrnn/kernels/cpu/<kernel_module>.py``; None means
        the cell's name.
    """

    name: str
    gate_names: tuple[str, ...]
    has_cell_state: bool
    torch_module: str
    torch_nonlinearity: str | None = None
    aux: str | None = None
    stores_gates: bool = False
    recurrent_term_gate: int | None = None
    forget_gate: int | None = None
    kernel_module: str | None = None

    @property
    def n_gates(self) -> int:
        return len(self.gate_names)

    @property
    def stores_aux(self) -> bool:
        """The contract forward fills ``aux`` (and backward reads it)."""
        return self.aux is not None


CELLS: dict[str, CellSpec] = {
    "rnn_tanh": CellSpec("rnn_tanh", ("h",), False, "RNN", "tanh", kernel_module="rnn"),
    "rnn_relu": CellSpec("rnn_relu", ("h",), False, "RNN", "relu", kernel_module="rnn"),
    "lstm": CellSpec(
        "lstm", ("i", "f", "g", "o"), True, "LSTM", aux="cell state c_t", stores_gates=True, forget_gate=1
    ),
    "gru": CellSpec(
        "gru",
        ("r", "z", "n"),
        False,
        "GRU",
        aux="W_hn h_{t-1} + b_hn",
        stores_gates=True,
        recurrent_term_gate=2,
    ),
}


def cell_spec(cell: str) -> CellSpec:
    """Return the :class:`CellSpec` of ``cell``, with an error listing the valid names."""
    try:
        return CELLS[cell]
    except (KeyError, TypeError):
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}.") from None


def param_shapes(cell: str, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Shapes of the four parameters of one layer, keyed by PyTorch's names."""
    gh = cell_spec(cell).n_gates * hidden_size
    return {
        "weight_ih": (gh, input_size),
        "weight_hh": (gh, hidden_size),
        "bias_ih": (gh,),
        "bias_hh": (gh,),
    }


def n_params(cell: str, input_size: int, hidden_size: int) -> int:
    """Number of scalar parameters of one layer."""
    return sum(int(np.prod(s)) for s in param_shapes(cell, input_size, hidden_size).values())


def network_n_params(
    cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool, output_size: int
) -> int:
    """Scalar parameters of a stacked network and its dense head, without building its layout.

    Layer 0 reads ``input_size`` features, every later layer ``n_directions * hidden_size``; the
    head maps the last hidden state of each direction to ``output_size`` outputs.
    """
    dirs = 2 if bidirectional else 1
    first = n_params(cell, input_size, hidden_size)
    rest = n_params(cell, dirs * hidden_size, hidden_size)
    return dirs * (first + (num_layers - 1) * rest) + output_size * (dirs * hidden_size + 1)


def pack(weights: dict[str, np.ndarray]) -> np.ndarray:
    """Concatenate one layer's parameters into a flat vector in ``PARAM_NAMES`` order."""
    return np.concatenate([np.asarray(weights[name]).ravel() for name in PARAM_NAMES])


def unpack(flat: np.ndarray, cell: str, input_size: int, hidden_size: int) -> dict[str, np.ndarray]:
    """Split a flat vector made by :func:`pack` back into named parameters (views, no copy)."""
    shapes = param_shapes(cell, input_size, hidden_size)
    expected = n_params(cell, input_size, hidden_size)
    if flat.ndim != 1 or flat.size != expected:
        raise ValueError(
            f"flat parameter vector for {cell} (input_size={input_size}, "
            f"hidden_size={hidden_size}) must have {expected} elements, got shape {flat.shape}."
        )
    out, start = {}, 0
    for name in PARAM_NAMES:
        size = int(np.prod(shapes[name]))
        out[name] = flat[start : start + size].reshape(shapes[name])
        start += size
    return out


def kernel_weights(weights: Mapping[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """One layer's parameters as the kernels take them: a plain tuple in :data:`PARAM_NAMES`
    order, ``(w_ih, w_hh, b_ih, b_hh)`` (the contract of :mod:`tsrnn.kernels.reference`)."""
    return tuple(weights[name] for name in PARAM_NAMES)


def torch_param_name(name: str, layer: int = 0, reverse: bool = False) -> str:
    """PyTorch's state-dict key for parameter ``name`` of ``layer`` (``weight_ih_l0_reverse``)."""
    if name not in PARAM_NAMES:
        raise ValueError(f"name must be one of {PARAM_NAMES}, got {name!r}.")
    return f"{name}_l{layer}" + ("_reverse" if reverse else "")


def _orthogonal(rng: np.random.RandomState, size: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(size, size)))
    return q * np.sign(np.diag(r))  # sign fix makes the distribution uniform (Haar)


def init_weights(
    cell: str,
    input_size: int,
    hidden_size: int,
    random_state=None,
    dtype=np.float32,
) -> dict[str, np.ndarray]:
    """Initial weights for one layer.

    - ``weight_ih``: Glorot-uniform per gate block, ``U(-a, a)`` with
      ``a = sqrt(6 / (input_size + hidden_size))``.
    - ``weight_hh``: an independent random orthogonal ``H x H`` matrix per gate block, which
      keeps the recurrent Jacobian's singular values at 1 at the start of training.
    - Biases zero, except the LSTM forget gate: ``bias_ih[H:2H] = 1`` so the cell state is
      kept by default (Jozefowicz et al., 2015).

    Parameters
    ----------
    cell : str
        A cell of the table :data:`tsrnn.CELLS` ("rnn_tanh", "rnn_relu", "lstm", "gru", ...).
    input_size, hidden_size : int
    random_state : int, RandomState instance or None
        Seed for reproducible weights.
    dtype : {np.float32, np.float64}

    Returns
    -------
    dict of ndarray
        ``weight_ih, weight_hh, bias_ih, bias_hh`` with PyTorch's shapes.
    """
    spec = cell_spec(cell)
    input_size = check_positive_int(input_size, "input_size")
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    if np.dtype(dtype).type not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}.")
    rng = check_random_state(random_state)
    limit = np.sqrt(6.0 / (input_size + hidden_size))
    g, h = spec.n_gates, hidden_size
    w_ih = rng.uniform(-limit, limit, size=(g * h, input_size))
    w_hh = np.concatenate([_orthogonal(rng, h) for _ in range(g)], axis=0)
    b_ih = np.zeros(g * h)
    b_hh = np.zeros(g * h)
    if spec.forget_gate is not None:
        b_ih[spec.forget_gate * h : (spec.forget_gate + 1) * h] = 1.0
    return {
        name: np.ascontiguousarray(a, dtype=dtype) for name, a in zip(PARAM_NAMES, (w_ih, w_hh, b_ih, b_hh))
    }
