"""Numba-jitted CPU kernels, one module per cell, with the signatures of
:mod:`tsrnn.kernels.reference` (see its docstring for the contract).

The kernels run their batch blocks on Numba's OpenMP threads. GNU OpenMP's default makes a
thread that waits for its team spin on its core; when another program holds one of the cores,
the spinning thread and the one it waits for then share a core, and a kernel call can take
several times longer than on one thread (measured on 2 cores with one busy: 0.6 ms -> 2.6 ms
per LSTM forward at N=32, H=64; docs/performance.md). Unless the user chose a policy, the
waiting threads sleep instead (``OMP_WAIT_POLICY=passive``): set before Numba starts its
threads, which happens at the first kernel call, not at import. It costs a few microseconds
per call on an idle machine. Set ``OMP_WAIT_POLICY`` yourself to override it.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from .gru import gru_backward, gru_forward, gru_forward_inference
from .lstm import lstm_backward, lstm_forward, lstm_forward_inference
from .rnn import (
    rnn_relu_backward,
    rnn_relu_forward,
    rnn_relu_forward_inference,
    rnn_tanh_backward,
    rnn_tanh_forward,
    rnn_tanh_forward_inference,
)

__all__ = [
    "gru_backward",
    "gru_forward",
    "gru_forward_inference",
    "lstm_backward",
    "lstm_forward",
    "lstm_forward_inference",
    "rnn_relu_backward",
    "rnn_relu_forward",
    "rnn_relu_forward_inference",
    "rnn_tanh_backward",
    "rnn_tanh_forward",
    "rnn_tanh_forward_inference",
]
