"""RNN vs LSTM vs GRU: the classic claims as experiments that return tidy DataFrames.

- :func:`gradient_flow`: ``||dloss/dh_t||`` against the distance to the loss, at
  initialisation and after training (vanishing gradients); :func:`state_gradients` is the
  exact per-step BPTT gradient behind it.
- :func:`long_memory`: test error per cell and lag on the adding or copy task against the
  trivial baseline (long-range memory).
- :func:`clipping`: a plain RNN with large recurrent weights trained with and without
  gradient clipping, batch by batch (exploding gradients).
- :func:`convergence`: epochs and seconds to a target loss on a real series.
- :func:`cost`: parameters and time per epoch.

Each ``summarize_*`` function condenses a frame into the table the documentation shows and
each ``plot_*`` function draws its figure (matplotlib, imported only then). Every
experiment has a ``quick`` mode (seconds) used by the tests; the command line runs them:
``tsrnn experiment {gradient-flow,memory,clipping,convergence,cost,all} --out DIR``.
See docs/rnn_vs_lstm.md for the measured results.
"""

from ._clipping import clipping, summarize_clipping
from ._convergence import convergence, summarize_convergence
from ._cost import cost
from ._gradient_flow import gradient_flow, state_gradients, summarize_gradient_flow
from ._memory import long_memory, summarize_long_memory, train_on_task
from ._plotting import plot_clipping, plot_convergence, plot_cost, plot_gradient_flow, plot_long_memory
from ._report import EXPERIMENTS, cpu_seconds, markdown_table, run_experiment

__all__ = [
    "EXPERIMENTS",
    "clipping",
    "convergence",
    "cost",
    "cpu_seconds",
    "gradient_flow",
    "long_memory",
    "markdown_table",
    "plot_clipping",
    "plot_convergence",
    "plot_cost",
    "plot_gradient_flow",
    "plot_long_memory",
    "run_experiment",
    "state_gradients",
    "summarize_clipping",
    "summarize_convergence",
    "summarize_gradient_flow",
    "summarize_long_memory",
    "train_on_task",
]
