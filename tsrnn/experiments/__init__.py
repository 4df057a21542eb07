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

from .._lazy import lazy_exports

# Imported on first use (PEP 562): the command line lists the experiments without loading them.
EXPERIMENTS = ("gradient-flow", "memory", "clipping", "convergence", "cost")
_EXPORTS = {
    "clipping": "._clipping",
    "summarize_clipping": "._clipping",
    "convergence": "._convergence",
    "summarize_convergence": "._convergence",
    "cost": "._cost",
    "gradient_flow": "._gradient_flow",
    "state_gradients": "._gradient_flow",
    "summarize_gradient_flow": "._gradient_flow",
    "long_memory": "._memory",
    "summarize_long_memory": "._memory",
    "train_on_task": "._memory",
    "plot_clipping": "._plotting",
    "plot_convergence": "._plotting",
    "plot_cost": "._plotting",
    "plot_gradient_flow": "._plotting",
    "plot_long_memory": "._plotting",
    "cpu_seconds": "._report",
    "markdown_table": "._report",
    "run_experiment": "._report",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


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
