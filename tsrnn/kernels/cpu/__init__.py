"""Numba-jitted CPU kernels, one module per cell, with the signatures of
:mod:`tsrnn.kernels.reference` (see its docstring for the contract)."""

from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_relu_backward, rnn_relu_forward, rnn_tanh_backward, rnn_tanh_forward

__all__ = [
    "gru_backward",
    "gru_forward",
    "lstm_backward",
    "lstm_forward",
    "rnn_relu_backward",
    "rnn_relu_forward",
    "rnn_tanh_backward",
    "rnn_tanh_forward",
]
