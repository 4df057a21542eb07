"""A stacked (optionally bidirectional) recurrent network with a dense head, on flat parameters.

All parameters live in ONE flat vector; :class:`ParamLayout` names its pieces with PyTorch's
names (``weight_ih_l0``, ``weight_hh_l1_reverse``, ...) plus ``head.weight`` / ``head.bias``
for the dense head, and hands out views. Optimizers, clipping, best-weight snapshots and
persistence therefore work on one array.

Architecture (identical to ``torch.nn.LSTM/GRU/RNN(num_layers, bidirectional,
batch_first=True)`` followed by ``torch.nn.Linear``):

- layer 0 reads the input ``(L, N, D)``; layer ``l > 0`` reads the outputs of layer ``l-1``,
  the two directions concatenated ``[forward, reverse]`` along the feature axis;
- the reverse direction is a second layer run on the time-reversed sequence, its outputs
  reversed back before concatenation (as torch does);
- dropout with probability ``p`` is applied to the input of every layer except the first
  (i.e. between layers, as torch does), with inverted scaling: kept units are divided by
  ``1 - p``, so nothing changes at inference;
- the head reads the final hidden state of the last layer, ``[h_n forward, h_n reverse]``
  (torch: ``torch.cat([h_n[-2], h_n[-1]], 1)``; for one direction ``h_n[-1]``, which equals
  the output of the last step), and computes ``head.weight @ z + head.bias``.

The network runs time-major, C-contiguous arrays ``(L, N, D)`` (the kernel contract of
:mod:`tsrnn.kernels.reference`); convert batch-first data once with :func:`to_time_major`.
Everything that depends on where the arrays live (allocation, the recurrent kernels, the
dense head, direction plumbing and dropout) goes through one operations object
(:mod:`tsrnn.nn._ops`): NumPy for ``device="cpu"``/``"reference"``, CUDA kernels on
device-resident arrays for ``device="cuda"`` (:mod:`tsrnn.nn._cuda`).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state

from .._layout import (
    PARAM_NAMES,
    cell_spec,
    init_weights,
    kernel_weights,
    param_shapes,
    torch_param_name,
)
from .._validation import FLOAT_DTYPES, check_positive_int, describe
from ._device import Backend, resolve_backend

__all__ = ["ForwardCache", "ParamLayout", "RecurrentNetwork", "to_time_major"]

HEAD_WEIGHT = "head.weight"
HEAD_BIAS = "head.bias"


def to_time_major(x: np.ndarray, dtype=None) -> np.ndarray:
    """Batch-first ``(N, L, D)`` to the C-contiguous time-major ``(L, N, D)`` the network runs."""
    return np.ascontiguousarray(np.asarray(x).transpose(1, 0, 2), dtype=dtype)


class ParamLayout:
    """Names, shapes and positions of every parameter inside the flat vector.

    Order: for each layer, the forward direction then (if bidirectional) the reverse one,
    each as ``weight_ih, weight_hh, bias_ih, bias_hh`` (:func:`tsrnn._layout.pack` order);
    then ``head.weight (output_size, n_directions * hidden_size)`` and ``head.bias``.
    """

    def __init__(self, cell, input_size, hidden_size, num_layers, bidirectional, output_size):
        self.cell = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.output_size = output_size
        self.n_directions = 2 if bidirectional else 1
        self._entries: dict[str, tuple[int, int, tuple[int, ...]]] = {}
        self._layer_entries: dict[tuple[int, bool], tuple] = {}
        start = 0
        for layer in range(num_layers):
            d_in = self.layer_input_size(layer)
            for reverse in (False, True)[: self.n_directions]:
                for name, shape in param_shapes(cell, d_in, hidden_size).items():
                    size = int(np.prod(shape))
                    self._entries[torch_param_name(name, layer, reverse)] = (start, start + size, shape)
                    start += size
                self._layer_entries[(layer, reverse)] = tuple(
                    (name, *self._entries[torch_param_name(name, layer, reverse)]) for name in PARAM_NAMES
                )
        head_in = self.n_directions * hidden_size
        for name, shape in ((HEAD_WEIGHT, (output_size, head_in)), (HEAD_BIAS, (output_size,))):
            size = int(np.prod(shape))
            self._entries[name] = (start, start + size, shape)
            start += size
        self.size = start

    def layer_input_size(self, layer: int) -> int:
        """Features per step that ``layer`` reads."""
        return self.input_size if layer == 0 else self.n_directions * self.hidden_size

    @property
    def names(self) -> list[str]:
        """Parameter names in flat order."""
        return list(self._entries)

    def shape(self, name: str) -> tuple[int, ...]:
        return self._entries[name][2]

    def slice(self, name: str) -> slice:
        start, stop, _ = self._entries[name]
        return slice(start, stop)

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter as a named view into ``flat`` (writes go through)."""
        self._check_flat(flat)
        return {name: flat[a:b].reshape(shape) for name, (a, b, shape) in self._entries.items()}

    def layer_views(self, flat: np.ndarray, layer: int, reverse: bool = False) -> dict[str, np.ndarray]:
        """One layer/direction's ``weight_ih, weight_hh, bias_ih, bias_hh`` as views."""
        # Called for every layer at every forward and backward pass: the positions come from
        # the table built once per layout (the same views :func:`tsrnn._layout.unpack` makes).
        # A shape check only: ``flat`` may be a device array (the CUDA ops call this too).
        if getattr(flat, "shape", None) != (self.size,):
            raise ValueError(f"params must be a flat array of {self.size} values, got {describe(flat)}.")
        return {name: flat[a:b].reshape(shape) for name, a, b, shape in self._layer_entries[(layer, reverse)]}

    def pack(self, named: dict[str, np.ndarray], dtype=np.float32) -> np.ndarray:
        """Flat vector from a dict keyed by :attr:`names` (shapes checked)."""
        missing = [n for n in self._entries if n not in named]
        extra = [n for n in named if n not in self._entries]
        if missing or extra:
            raise ValueError(
                f"parameters must have exactly the keys {self.names}; missing {missing}, unexpected {extra}."
            )
        flat = np.empty(self.size, dtype=dtype)
        for name, (a, b, shape) in self._entries.items():
            value = np.asarray(named[name])
            if value.shape != shape:
                raise ValueError(f"parameter {name!r} must have shape {shape}, got {value.shape}.")
            flat[a:b] = value.ravel()
        return flat

    def decay_mask(self, dtype=np.float32) -> np.ndarray:
        """1 on weight matrices, 0 on biases: where weight decay applies."""
        mask = np.zeros(self.size, dtype=dtype)
        for name, (a, b, _) in self._entries.items():
            if "weight" in name:
                mask[a:b] = 1.0
        return mask

    def _check_flat(self, flat) -> None:
        if not isinstance(flat, np.ndarray) or flat.ndim != 1 or flat.size != self.size:
            raise ValueError(f"params must be a flat array of {self.size} values, got {describe(flat)}.")


@dataclass
class _Direction:
    """Buffers of one layer/direction for one batch shape (time-major)."""

    x: np.ndarray | None  # input it reads (None: filled in at forward time)
    out: np.ndarray
    aux: np.ndarray
    gates: np.ndarray
    d_out: np.ndarray
    dx: np.ndarray


@dataclass
class ForwardCache:
    """What :meth:`RecurrentNetwork.backward` needs from :meth:`RecurrentNetwork.forward`.

    It lives in a workspace reused by the next forward pass of the same batch shape, so run
    ``backward`` before the next ``forward`` of that shape.
    """

    length: int
    batch: int
    layers: list[list[_Direction]]
    inputs: list[np.ndarray | None]  # input of layer l (after dropout), layer 0: the caller's x
    masks: list[np.ndarray | None] = field(default_factory=list)
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None
    dh0: np.ndarray | None = None
    dc0: np.ndarray | None = None
    zeros_state: np.ndarray | None = None
    zeros_seq: np.ndarray | None = None
    head_in: np.ndarray | None = None
    c_n: np.ndarray | None = None  # the final cell state written by the inference kernels
    scratch: dict = field(default_factory=dict)  # lazily allocated per-layer buffers


class RecurrentNetwork:
    """Stacked recurrent layers and a dense head over one flat parameter vector.

    Parameters
    ----------
    cell : str
        A cell of the table :data:`tsrnn.CELLS` ("rnn_tanh", "rnn_relu", "lstm", "gru", ...).
    input_size : int
        Features per time step.
    hidden_size : int
        Hidden units per layer and direction.
    output_size : int
        Outputs of the dense head (regression targets or class logits).
    num_layers : int, default=1
    bidirectional : bool, default=False
    dropout : float, default=0.0
        Dropout probability between recurrent layers (needs ``num_layers > 1``).
    dtype : {np.float32, np.float64}, default=np.float32
    device : {"cpu", "reference", "cuda", "auto"} or Backend, default="cpu"
        Kernel backend (:func:`tsrnn.nn.resolve_backend`). With "cuda" the network works on
        numba device arrays: ``params``, ``x`` and the gradients passed to
        :meth:`forward`/:meth:`backward` may be device arrays (host arrays are copied to the
        device), and results stay on the device (the output of :meth:`forward` is a buffer
        of the workspace, valid until the next forward of the same batch shape), except
        :meth:`predict`, which returns a host array.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.nn import RecurrentNetwork, mse_loss, to_time_major
    >>> net = RecurrentNetwork("gru", input_size=1, hidden_size=8, output_size=1)
    >>> params = net.init_params(random_state=0)
    >>> x = to_time_major(np.ones((4, 10, 1), np.float32))
    >>> loss, grad = net.loss_and_grad(params, x, np.zeros((4, 1), np.float32), mse_loss)
    >>> grad.shape == params.shape
    True
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        dtype=np.float32,
        device: str | Backend = "cpu",
    ):
        self.spec = cell_spec(cell)
        self.cell = cell
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.output_size = check_positive_int(output_size, "output_size")
        self.num_layers = check_positive_int(num_layers, "num_layers")
        self.bidirectional = bool(bidirectional)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        self.dropout = float(dropout)
        if np.dtype(dtype).type not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}.")
        self.dtype = np.dtype(dtype)
        self.layout = ParamLayout(cell, input_size, hidden_size, num_layers, bidirectional, output_size)
        self._local = threading.local()  # scratch buffers per thread: concurrent predict is safe
        # Fails now (unknown device, CUDA missing) rather than at the first batch.
        self.device = device

    # ------------------------------------------------------------------ plumbing

    @property
    def n_directions(self) -> int:
        return self.layout.n_directions

    @property
    def n_params(self) -> int:
        return self.layout.size

    @property
    def device(self) -> str:
        """Where the network runs ("cpu", "reference" or "cuda"); setting it (a name or a
        :class:`~tsrnn.nn.Backend`) switches the kernels and drops the buffers."""
        return self._device

    @device.setter
    def device(self, device) -> None:
        backend = resolve_backend(device)
        self._ops = backend.ops(self.cell, self.dtype)
        self._backend = backend
        self._device = backend.name
        self._local = threading.local()

    @property
    def backend(self) -> Backend:
        """The resolved :class:`~tsrnn.nn.Backend` of :attr:`device`."""
        if self._backend is None:
            self._backend = resolve_backend(self._device)
        return self._backend

    @property
    def ops(self):
        """The operations object of :attr:`device` (:mod:`tsrnn.nn._ops`), rebuilt lazily."""
        if self._ops is None:
            self._ops = self.backend.ops(self.cell, self.dtype)
        return self._ops

    @property
    def on_device(self) -> bool:
        """Whether arrays live on a GPU (``device="cuda"``)."""
        return self.ops.on_device

    def __getstate__(self):
        # The backend (a module), compiled dispatchers, device buffers and scratch buffers are
        # rebuilt on demand after unpickling: the jitted kernels load from Numba's on-disk
        # cache instead of being pickled.
        state = self.__dict__.copy()
        state["_ops"] = None
        state["_backend"] = None
        del state["_local"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def release_buffers(self) -> None:
        """Drop the scratch buffers of every thread (device memory with ``device="cuda"``);
        they are allocated again on demand."""
        self._local = threading.local()
        release = getattr(self.ops, "release", None)
        if release is not None:
            release()

    def _workspace(self, length: int, batch: int, inference: bool = False) -> ForwardCache:
        cache = getattr(self._local, "workspaces", None)
        if cache is None:
            cache = self._local.workspaces = OrderedDict()
        key = (length, batch, inference)
        ws = cache.get(key)
        if ws is not None:
            cache.move_to_end(key)
            return ws
        ws = self._allocate(length, batch, inference)
        cache[key] = ws
        while len(cache) > 4:  # training batch, last batch, prediction chunks
            cache.popitem(last=False)
        return ws

    def _allocate(self, length: int, batch: int, inference: bool = False) -> ForwardCache:
        """Buffers for one batch shape; ``inference`` leaves out what only backward reads."""
        dt, L, N, H = self.dtype, length, batch, self.hidden_size
        empty, zeros = self.ops.empty, self.ops.zeros
        spec = self.spec
        empty3 = zeros((0, 0, 0), dt)
        stores_aux = spec.stores_aux and not inference
        stores_gates = spec.stores_gates and not inference
        layers = []
        for layer in range(self.num_layers):
            d_in = self.layout.layer_input_size(layer)
            dirs = []
            for k in range(self.n_directions):
                dirs.append(
                    _Direction(
                        x=empty((L, N, d_in), dt) if k == 1 else None,
                        out=empty((L, N, H), dt),
                        aux=empty((L, N, H), dt) if stores_aux else empty3,
                        gates=empty((L, N, spec.n_gates * H), dt) if stores_gates else empty3,
                        d_out=empty3 if inference else empty((L, N, H), dt),
                        dx=empty3 if inference else empty((L, N, d_in), dt),
                    )
                )
            layers.append(dirs)
        state = (N, H) if spec.has_cell_state else (0, 0)
        return ForwardCache(
            length=L,
            batch=N,
            layers=layers,
            inputs=[None] * self.num_layers,
            masks=[None] * self.num_layers,
            h0=zeros((N, H), dt),
            c0=zeros(state, dt),
            dh0=empty((N, H), dt),
            dc0=empty(state, dt),
            zeros_state=zeros((N, H), dt),
            zeros_seq=empty3 if inference else zeros((L, N, H), dt),
            head_in=empty((N, self.n_directions * H), dt),
            c_n=empty(state, dt),
        )

    def _check_input(self, x) -> None:
        ops = self.ops
        if (
            not ops.is_array(x)
            or x.ndim != 3
            or x.dtype != self.dtype
            or not ops.is_c_contiguous(x)
            or x.shape[2] != self.input_size
        ):
            raise ValueError(
                f"x must be a C-contiguous time-major {self.dtype} array of shape "
                f"(n_timesteps, n_samples, {self.input_size}), got {describe(x)}; "
                f"convert batch-first data with to_time_major(x, dtype)."
            )

    # ------------------------------------------------------------------ parameters

    def init_params(self, random_state=None) -> np.ndarray:
        """A fresh flat parameter vector.

        Recurrent layers use :func:`tsrnn.functional.init_weights` (Glorot-uniform input
        weights, orthogonal recurrent blocks, LSTM forget bias 1); the head is
        Glorot-uniform with a zero bias.
        """
        rng = check_random_state(random_state)
        flat = np.zeros(self.n_params, dtype=self.dtype)
        for layer in range(self.num_layers):
            for reverse in (False, True)[: self.n_directions]:
                w = init_weights(
                    self.cell,
                    self.layout.layer_input_size(layer),
                    self.hidden_size,
                    random_state=rng,
                    dtype=self.dtype,
                )
                views = self.layout.layer_views(flat, layer, reverse)
                for name in PARAM_NAMES:
                    views[name][...] = w[name]
        fan_out, fan_in = self.layout.shape(HEAD_WEIGHT)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        flat[self.layout.slice(HEAD_WEIGHT)] = rng.uniform(-limit, limit, size=fan_out * fan_in)
        return flat

    # ------------------------------------------------------------------ forward / backward

    def forward(self, params: np.ndarray, x: np.ndarray, *, training: bool = False, rng=None):
        """Run the network on a time-major batch.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
        x : ndarray of shape (L, N, input_size), C-contiguous, of the network's dtype
        training : bool, default=False
            Apply dropout (between layers) when True.
        rng : RandomState or Generator, optional
            Source of the dropout masks; needed when ``training`` and dropout is active.

        Returns
        -------
        output : ndarray of shape (N, output_size)
            A new array (head outputs: predictions or logits).
        cache : ForwardCache
            For :meth:`backward`; valid until the next forward of the same batch shape.
        """
        return self._forward(params, x, training=training, rng=rng, inference=False)

    def _forward(self, params, x, *, training: bool, rng, inference: bool, head: bool = True):
        """:meth:`forward`; with ``inference`` the layers run the inference-only kernels, which
        store nothing for backward (the returned workspace then cannot serve backward). With
        ``head=False`` the dense head is left out and the output is None (a device trainer
        runs the head, the loss and the head's backward in one kernel, then calls
        :meth:`backward` with ``d_hidden``)."""
        ops = self.ops
        params = ops.as_device(params)
        x = ops.as_device(x)
        self._check_input(x)
        length, batch, _ = x.shape
        ws = self._workspace(length, batch, inference)
        drop = training and self.dropout > 0.0 and self.num_layers > 1
        if drop and rng is None:
            raise ValueError("forward(training=True) with dropout needs rng (a RandomState or Generator).")
        two = self.n_directions == 2
        layer_in = x
        for layer in range(self.num_layers):
            dirs = ws.layers[layer]
            if layer > 0:
                prev = ws.layers[layer - 1]
                if not two and not drop:
                    layer_in = prev[0].out  # read in place: no copy needed
                    ws.masks[layer] = None
                else:
                    layer_in = self._scratch(ws, "input", layer)
                    ws.masks[layer] = ops.assemble_input(
                        prev[0].out,
                        prev[1].out if two else None,
                        layer_in,
                        self.dropout if drop else 0.0,
                        rng,
                        ws,
                        layer,
                    )
            ws.inputs[layer] = layer_in
            dirs[0].x = layer_in
            if two:
                ops.reverse_time(layer_in, dirs[1].x)
            for k, buf in enumerate(dirs):
                weights = kernel_weights(ops.layer_views(self.layout, params, layer, k == 1))
                if inference:
                    ops.recurrent_inference(ws, buf.x, weights, (ws.h0, ws.c0, buf.out, ws.c_n))
                else:
                    ops.recurrent_forward(ws, buf.x, weights, (ws.h0, ws.c0, buf.out, buf.aux, buf.gates))
        if not head:
            return None, ws
        ops.head_input([buf.out for buf in ws.layers[-1]], ws.head_in)
        views = ops.views(self.layout, params)
        output = ops.linear(ws.head_in, views[HEAD_WEIGHT], views[HEAD_BIAS], ws)
        return output, ws

    def _scratch(self, ws: ForwardCache, kind: str, layer: int) -> np.ndarray:
        """A ``(L, N, layer input size)`` buffer of the workspace, allocated on first use."""
        buf = ws.scratch.get((kind, layer))
        if buf is None:
            buf = self.ops.empty((ws.length, ws.batch, self.layout.layer_input_size(layer)), self.dtype)
            ws.scratch[(kind, layer)] = buf
        return buf

    def backward(
        self,
        params: np.ndarray,
        cache: ForwardCache,
        d_output: np.ndarray,
        *,
        grad: np.ndarray | None = None,
        input_grad: bool = False,
        d_hidden: list | None = None,
    ):
        """Backpropagate ``d_output`` (the loss gradient of the head output) through time.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The parameters the forward pass used.
        cache : ForwardCache
            From :meth:`forward` on the same batch.
        d_output : ndarray of shape (N, output_size)
        grad : ndarray of shape (n_params,), optional
            Filled in place when given (no allocation).
        input_grad : bool, default=False
            Also return the gradient with respect to ``x``, time-major ``(L, N, input_size)``.
        d_hidden : list of arrays of shape (N, hidden_size), optional
            The gradients of the final hidden states of the top layer's directions, when the
            head's gradients (in ``grad``) were already computed elsewhere (the device
            trainer's fused head and loss); ``d_output`` is then ignored.

        Returns
        -------
        grad : ndarray of shape (n_params,)
        d_x : ndarray of shape (L, N, input_size)
            Only when ``input_grad``.
        """
        ws = cache
        ops = self.ops
        params = ops.as_device(params)
        if grad is None:
            grad = ops.empty(self.n_params, self.dtype)
        H = self.hidden_size
        two = self.n_directions == 2
        if d_hidden is None:
            d_output = ops.as_output_grad(d_output, self.dtype)
            if d_output.shape != (ws.batch, self.output_size):
                raise ValueError(
                    f"d_output must have shape {(ws.batch, self.output_size)}, got {d_output.shape}."
                )
            gviews = ops.views(self.layout, grad)
            pviews = ops.views(self.layout, params)
            d_z = ops.linear_backward(
                d_output, ws.head_in, pviews[HEAD_WEIGHT], gviews[HEAD_WEIGHT], gviews[HEAD_BIAS], ws
            )
        d_x = None
        for layer in range(self.num_layers - 1, -1, -1):
            dirs = ws.layers[layer]
            top = layer == self.num_layers - 1
            for k, buf in enumerate(dirs):
                weights = kernel_weights(ops.layer_views(self.layout, params, layer, k == 1))
                d_weights = kernel_weights(ops.layer_views(self.layout, grad, layer, k == 1))
                if top:
                    d_hn = ops.columns(d_z, k, H, ws) if d_hidden is None else d_hidden[k]
                    d_seq = ws.zeros_seq
                else:
                    d_seq, d_hn = buf.d_out, ws.zeros_state
                # ws.c0 (zeros) as d_cn: the head reads h_n only
                grads = (d_seq, d_hn, ws.c0, buf.dx, ws.dh0, ws.dc0)
                ops.recurrent_backward(
                    ws,
                    buf.x,
                    weights,
                    (ws.h0, ws.c0, buf.out, buf.aux, buf.gates),
                    grads,
                    d_weights,
                    need_dx=layer > 0 or input_grad,
                )
            if layer == 0 and not input_grad:
                break
            # Gradient of this layer's input: forward direction + reverse direction re-reversed.
            scratch = lambda layer=layer: self._scratch(ws, "d_input", layer)  # noqa: E731
            dx1 = dirs[1].dx if two else None
            if layer == 0:
                d_x = ops.input_grad(dirs[0].dx, dx1, scratch)
                break
            below = ws.layers[layer - 1]
            ops.route_input_grad(
                dirs[0].dx, dx1, ws.masks[layer], below[0].d_out, below[1].d_out if two else None, scratch
            )
        return (grad, d_x) if input_grad else grad

    # ------------------------------------------------------------------ conveniences

    def loss_and_grad(
        self,
        params: np.ndarray,
        x: np.ndarray,
        target: np.ndarray,
        loss,
        *,
        training: bool = True,
        rng=None,
        grad: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """Forward, ``loss(output, target) -> (value, d_output)``, backward; returns ``(value, grad)``."""
        output, cache = self.forward(params, x, training=training, rng=rng)
        # A host loss on a device network sees a host copy of the output (slow; for tests
        # and one-off use: device training computes its losses on the device).
        value, d_output = loss(self.ops.to_host(output), target)
        return value, self.backward(params, cache, d_output, grad=grad)

    def predict(self, params: np.ndarray, x: np.ndarray, chunk_size: int | None = None) -> np.ndarray:
        """Head outputs for a time-major ``x`` of any size, in chunks that bound the memory.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
        x : ndarray of shape (L, N, input_size)
        chunk_size : int, optional
            Samples per forward pass; by default as many as keep the largest buffer near
            16 M values.

        Returns
        -------
        ndarray of shape (N, output_size)
            A host array, on every device.
        """
        ops = self.ops
        params = ops.as_device(params)
        x = ops.as_device(x)
        length, n, _ = x.shape
        # The inference kernels store no gates for backward; the CUDA backend has none yet and
        # runs its training forward.
        inference = hasattr(ops, "recurrent_inference")
        if chunk_size is None:
            per_sample = length * self.hidden_size * max(self.spec.n_gates, 1)
            chunk_size = max(1, (1 << 24) // per_sample)

        def run(start: int, stop: int) -> np.ndarray:
            batch = ops.batch_slice(x, start, stop)
            return ops.to_host(self._forward(params, batch, training=False, rng=None, inference=inference)[0])

        if n <= chunk_size:
            return run(0, n)
        out = np.empty((n, self.output_size), self.dtype)
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            out[start:stop] = run(start, stop)
        return out


_COMPILED: set = set()


def compile_kernels(cell: str, dtype=np.float32, device: str = "cpu") -> None:
    """Load (or compile, 5-15 s the first time after installation) the kernels of ``cell``.

    Runs a forward and backward pass of a tiny network once per process and (cell, dtype,
    device), so that later timings exclude the compilation and parallel workers do not all
    compile the same kernels at once.
    """
    key = (cell, np.dtype(dtype).name, device)
    if key in _COMPILED:
        return
    from ..kernels import compile_lock
    from ._losses import mse_loss

    # Processes sharing the on-disk cache take turns, so a (cell, dtype) compiles once.
    with compile_lock(cell, key[1]) if device == "cpu" else contextlib.nullcontext():
        net = RecurrentNetwork(cell, 1, 2, 1, dtype=dtype, device=device)
        params = net.init_params(0)
        x = np.zeros((3, 2, 1), dtype)
        net.loss_and_grad(params, x, np.zeros((2, 1), dtype), mse_loss)
        net.predict(params, x)
    _COMPILED.add(key)
