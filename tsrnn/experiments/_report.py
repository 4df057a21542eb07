"""Run an experiment and write its files: tidy CSV, summary CSV, markdown section, PNG figure.

The markdown sections are what docs/rnn_vs_lstm.md shows: tables and the sentences that
state each claim's measured numbers are generated here, from the frames, never typed in.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import EXPERIMENTS  # the order of `tsrnn experiment all`, defined where the CLI reads it
from ._clipping import clipping, summarize_clipping
from ._convergence import convergence, summarize_convergence
from ._cost import cost
from ._gradient_flow import gradient_flow, summarize_gradient_flow
from ._memory import long_memory, summarize_long_memory

__all__ = ["EXPERIMENTS", "markdown_table", "run_experiment"]


def _format(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "-"
        if value == 0:
            return "0"
        if abs(value) >= 1e4 or abs(value) < 1e-3:
            return f"{value:.2e}"
        return f"{value:.4g}"
    return str(value)


def markdown_table(frame: pd.DataFrame, index: bool = True) -> str:
    """A GitHub-flavoured markdown table; floats with 4 significant digits (or scientific)."""
    cols = list(frame.columns)
    header = ([frame.index.name or ""] if index else []) + [str(c) for c in cols]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for idx, row in frame.iterrows():
        cells = ([_format(idx)] if index else []) + [_format(row[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- sections


def _gradient_flow_md(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    summary = summarize_gradient_flow(frame)
    L = frame.attrs["seq_len"]
    far = f"ratio k={L - 1}"
    lines = [
        f"Norm of dloss/dh_t at distance k = L-1-t divided by its norm at k = 0 (the state the head "
        f"reads), geometric mean over seeds {frame.attrs['seeds']}; `c` rows are the LSTM cell state. "
        f"`model_error` is the network's MSE on the evaluation sequences (trivial baseline 0.167).",
        "",
        markdown_table(summary, index=False),
        "",
    ]
    h = summary[summary["quantity"] == "h"].set_index(["stage", "cell"])
    for stage, words in (("init", "At initialisation"), ("trained", "After training")):
        if stage not in h.index.get_level_values(0):
            continue
        parts = [f"{cell} {h.loc[(stage, cell), 'log10 ratio']:+.1f}" for cell in h.loc[stage].index]
        lines.append(
            f"- {words}, log10 of the gradient-norm ratio over {L - 1} steps: " + ", ".join(parts) + "."
        )
    far_rows = frame[frame["distance"] == L - 1]
    for (stage, cell, quantity), g in far_rows.groupby(["stage", "cell", "quantity"], sort=False):
        per_seed = ", ".join(
            f"seed {s} {np.log10(r):+.1f}" if r > 0 else f"seed {s} 0 (underflow)"
            for s, r in zip(g["seed"], g["relative"], strict=True)
        )
        lines.append(f"- Per seed, {stage} {cell} `{quantity}`, log10 ratio over {L - 1} steps: {per_seed}.")
    c_rows = summary[summary["quantity"] == "c"]
    for _, row in c_rows.iterrows():
        lines.append(
            f"- LSTM cell state ({row['stage']}): ratio over {L - 1} steps {row[far]:.3g} "
            f"(log10 {row['log10 ratio']:+.1f})."
        )
    return summary, "\n".join(lines)


def _memory_md(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    summary = summarize_long_memory(frame)
    metric = "MSE" if frame["metric"].iloc[0] == "mse" else "error rate"
    baseline = frame["baseline"].iloc[0]
    threshold = frame["threshold"].iloc[0]
    lines = [
        f"Test {metric} per cell (rows) and lag (columns), mean over seeds {frame.attrs['seeds']}; "
        f"`ok` columns count the seeds with success ({metric} < {threshold:.4g} = 10% of the trivial "
        f"baseline {baseline:.4g}; measured on the test sets: "
        f"{frame['baseline_empirical'].mean():.4g}).",
        "",
        markdown_table(summary),
        "",
        "Epochs to success (first epoch whose validation error was below the threshold; `-`: never) "
        "and training seconds (wall / CPU) per run:",
        "",
    ]
    columns = ["cell", "lag", "seed", "test_error", "success", "epochs", "epochs_to_success"]
    detail = frame[[*columns, "seconds", "cpu_seconds"]].round({"seconds": 1, "cpu_seconds": 1})
    lines += [markdown_table(detail, index=False), ""]
    for lag in sorted(frame["lag"].unique()):
        part = frame[frame["lag"] == lag]
        verdicts = []
        for cell, g in part.groupby("cell", sort=False):
            verdicts.append(
                f"{cell} {g['test_error'].mean():.4g} ({int(g['success'].sum())}/{len(g)} succeed)"
            )
        lines.append(f"- lag {lag}: " + ", ".join(verdicts) + ".")
    return summary, "\n".join(lines)


def _clipping_md(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    summary = summarize_clipping(frame)
    a = frame.attrs
    lines = [
        f"tanh RNN, recurrent matrix = {a['spectral_radius']:g} x orthogonal, SGD lr={a['learning_rate']:g} "
        f"momentum={a['momentum']:g}, batch {a['batch_size']}, {a['max_epochs']} epochs on windows of "
        f"{a['window']} steps of {a['dataset']}; per seed the clipped and unclipped runs start from the "
        "same weights. MSE in standardized units; gradient norms before clipping; `max_applied_norm` is "
        "the largest norm the optimizer received.",
        "",
        markdown_table(summary, index=False),
        "",
    ]
    by = summary.groupby("setting", sort=False)
    parts = [
        f"{setting}: last-epoch MSE {g['last_epoch_mse'].mean():.3g} (mean of {len(g)} seeds), "
        f"largest raw gradient norm {g['max_grad_norm'].max():.3g}, largest applied "
        f"{g['max_applied_norm'].max():.3g}"
        for setting, g in by
    ]
    lines.append("- " + "; ".join(parts) + ".")
    return summary, "\n".join(lines)


def _convergence_md(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    summary = summarize_convergence(frame)
    a = frame.attrs
    lines = [
        f"One-step-ahead forecasting of {a['dataset']} from windows of {a['window']} values (standardized; "
        f"first {a['train_fraction']:.0%} trains, the rest validates), Adam lr={a['learning_rate']:g}, "
        f"batch {a['batch_size']}, {a['max_epochs']} epochs, hidden size {a['hidden_size']}; target: "
        f"training MSE <= {a['target_mse']:g}. Medians over seeds {a['seeds']}; seconds are training "
        "time (evaluation excluded).",
        "",
        markdown_table(summary),
        "",
    ]
    reached = summary.dropna(subset=["epochs_to_target"])
    if len(reached):
        fastest_epochs = reached["epochs_to_target"].idxmin()
        fastest_time = reached["seconds_to_target"].idxmin()
        lines.append(
            f"- Fewest epochs to the target: {fastest_epochs}; least time: {fastest_time}; "
            f"lowest validation MSE: {summary['best_val_mse'].idxmin()}."
        )
    return summary, "\n".join(lines)


def _cost_md(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    cols = [
        "cell",
        "hidden_size",
        "blas_threads",
        "n_params_layer",
        "n_params",
        "seconds_per_epoch",
        "cpu_seconds_per_epoch",
        "ms_per_batch",
        "predict_seconds",
        "time_vs_rnn",
    ]
    summary = frame[cols]
    a = frame.attrs
    lines = [
        f"One training epoch (Adam, batch {a['batch_size']}) over {a['n_samples']} adding-problem sequences "
        f"of {a['seq_len']} steps (2 features), and one forward pass over them; medians of {a['repeats']} "
        "interleaved repeats. `n_params_layer` = G*H*(D+H+2) (G = 1 RNN, 3 GRU, 4 LSTM), `n_params` adds "
        "the head (H+1).",
        "",
        markdown_table(summary, index=False),
    ]
    return summary, "\n".join(lines)


@dataclass(frozen=True)
class _Spec:
    title: str
    run: Callable[..., pd.DataFrame]
    section: Callable[[pd.DataFrame], tuple[pd.DataFrame, str]]
    plot: str
    seeds: int  # how many seeds the experiment uses by default
    parallel: bool = True


def _specs() -> dict[str, _Spec]:
    return {
        "gradient-flow": _Spec(
            "Gradient flow (vanishing gradients)", gradient_flow, _gradient_flow_md, "plot_gradient_flow", 3
        ),
        "memory": _Spec("Long-range memory (adding problem)", long_memory, _memory_md, "plot_long_memory", 2),
        "clipping": _Spec("Exploding gradients and clipping", clipping, _clipping_md, "plot_clipping", 3),
        "convergence": _Spec(
            "Convergence on a real series", convergence, _convergence_md, "plot_convergence", 3
        ),
        "cost": _Spec("Cost: parameters and time", cost, _cost_md, "plot_cost", 1, parallel=False),
    }


def source_revision() -> str:
    """Which code made a result: tsrnn's version and, in a git checkout, its commit (with
    "+ local changes" when the package's files differ from it).

    Only the package counts: results and figures written into the checkout by an earlier run
    (``docs/results/``, say) are not code, and do not mark the later runs.
    """
    import subprocess

    from .._version import __version__

    where = os.path.dirname(os.path.abspath(__file__))
    package = os.path.dirname(where)
    try:
        commit = subprocess.run(
            ["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--untracked-files=no", "--", package],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"tsrnn {__version__} (not a git checkout: commit unknown)"
    return f"tsrnn {__version__} at commit {commit}" + (" + local changes" if dirty else "")


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished (reaped) children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _stop_workers() -> None:
    # Reap joblib's worker processes so their CPU time is counted (RUSAGE_CHILDREN).
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def run_experiment(
    name: str,
    out_dir: str,
    *,
    quick: bool = False,
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
    command: str = "",
    task: str = "adding",
    n_seeds: int | None = None,
    lags=None,
    forget_bias: float | None = None,
    blas_threads=(1,),
) -> dict:
    """Run experiment ``name`` and write ``NAME.csv``, ``NAME_summary.csv``, ``NAME.md``, ``NAME.png``.

    Seeds are ``seed, seed+1, ...``: ``n_seeds`` of them, by default as many as the experiment
    uses (one in quick mode); ``cost`` uses ``seed`` only. ``task``, ``lags`` and
    ``forget_bias`` go to the memory experiment. ``blas_threads``: BLAS threads per training
    run (one value), or for ``cost`` the thread counts to compare. Returns a dict with the
    frame, the summary, the markdown section, the written file names and the wall and CPU
    seconds.
    """
    specs = _specs()
    if name not in specs:
        raise ValueError(f"experiment must be one of {list(specs)}, got {name!r}.")
    spec = specs[name]
    kwargs: dict = {"quick": quick, "progress": progress}
    threads = (blas_threads,) if isinstance(blas_threads, int) else tuple(blas_threads)
    if name == "cost":
        kwargs["seed"] = seed
        kwargs["blas_threads"] = threads
    else:
        if len(threads) != 1:
            raise ValueError(
                f"blas_threads must be one value for {name} (a list compares thread counts in cost only), "
                f"got {list(threads)}."
            )
        kwargs["blas_threads"] = threads[0]
        count = n_seeds if n_seeds is not None else (1 if quick else spec.seeds)
        kwargs["seeds"] = tuple(range(seed, seed + count))
        kwargs["n_jobs"] = n_jobs
    if name == "memory":
        kwargs["task"] = task
        kwargs["lags"] = lags
        kwargs["forget_bias"] = forget_bias
    os.makedirs(out_dir, exist_ok=True)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    frame = spec.run(**kwargs)
    if spec.parallel and n_jobs > 1:
        _stop_workers()
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    summary, body = spec.section(frame)
    slug = name.replace("-", "_")
    frame.to_csv(os.path.join(out_dir, f"{slug}.csv"), index=False)
    summary.to_csv(os.path.join(out_dir, f"{slug}_summary.csv"), index=name in ("memory", "convergence"))
    written = [f"{slug}.csv", f"{slug}_summary.csv"]
    figure = None
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never open a window
        import matplotlib.pyplot as plt

        from . import _plotting

        fig = getattr(_plotting, spec.plot)(frame, path=os.path.join(out_dir, f"{slug}.png"))
        plt.close(fig)
        figure = f"{slug}.png"
        written.append(figure)
    except ImportError:
        pass
    title = spec.title if name != "memory" else f"Long-range memory ({task} task)"
    if name == "memory" and forget_bias is not None:
        title += f", LSTM forget-gate bias {forget_bias:g}"
    section = [f"## {title}", ""]
    if command:
        section += [f"Command: `{command}`", ""]
    section += [
        body,
        "",
        f"Run time: {wall:.1f} s wall, {cpu:.1f} s CPU (this process and its workers); "
        f"jobs={n_jobs if spec.parallel else 1}, BLAS threads per run="
        f"{','.join(str(t) for t in threads)}, quick={quick}.",
        "",
        f"Generated from {source_revision()}.",
    ]
    if figure:
        section += ["", f"![{title}]({figure})"]
    markdown = "\n".join(section) + "\n"
    with open(os.path.join(out_dir, f"{slug}.md"), "w", encoding="utf-8") as fh:
        fh.write(markdown)
    written.append(f"{slug}.md")
    return {
        "frame": frame,
        "summary": summary,
        "markdown": markdown,
        "files": written,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
    }
