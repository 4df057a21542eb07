"""Numba-jitted CPU kernels, one module per cell, with the signatures of
:mod:`tsrnn.kernels.reference` (see its docstring for the contract)."""

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
