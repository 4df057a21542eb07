"""Figures of the experiments (matplotlib, an optional dependency imported only here, lazily)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_clipping", "plot_convergence", "plot_cost", "plot_gradient_flow", "plot_long_memory"]

COLORS = {"rnn_tanh": "tab:red", "rnn_relu": "tab:orange", "lstm": "tab:blue", "gru": "tab:green"}
# Distinct markers and sizes keep cells visible where their curves coincide.
MARKERS = {"rnn_tanh": ("o", 6), "rnn_relu": ("D", 5), "lstm": ("s", 9), "gru": ("^", 6)}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError("the experiment figures need matplotlib: pip install 'tsrnn[plot]'") from None
    return plt


def _color(cell: str) -> str:
    return COLORS.get(cell, "tab:gray")


def _save(fig, path):
    """Write ``fig`` to ``path`` (if given) as a small PNG: 128-colour palette when Pillow is there."""
    if path is None:
        return fig
    if str(path).lower().endswith(".png"):
        try:
            import io

            from PIL import Image  # a matplotlib dependency

            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
            buffer.seek(0)
            image = Image.open(buffer).convert("RGB")
            # Line plots use few colours: a palette keeps them exact at a third of the size.
            image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
            return fig
        except ImportError:  # pragma: no cover - Pillow ships with matplotlib
            pass
    fig.savefig(path, dpi=90, bbox_inches="tight")
    return fig


def plot_gradient_flow(frame: pd.DataFrame, path=None):
    """``||dloss/dh_t|| / ||dloss/dh_{L-1}||`` against the distance, per cell; one panel per stage.

    Lines are geometric means over seeds; the LSTM cell-state gradient is dashed.
    """
    plt = _pyplot()
    stages = list(dict.fromkeys(frame["stage"]))
    fig, axes = plt.subplots(1, len(stages), figsize=(5.2 * len(stages), 3.8), sharey=True, squeeze=False)
    for ax, stage in zip(axes[0], stages):
        part = frame[frame["stage"] == stage]
        for (cell, quantity), group in part.groupby(["cell", "quantity"], sort=False):
            curve = group.groupby("distance")["relative"].apply(lambda r: float(np.exp(np.mean(np.log(r)))))
            label = f"{cell} dL/dh" if quantity == "h" else f"{cell} dL/dc"
            ax.plot(
                curve.index,
                curve.to_numpy(),
                color=_color(cell),
                linestyle="-" if quantity == "h" else "--",
                label=label,
            )
        ax.set_yscale("log")
        ax.set_xlabel("distance to the loss, L-1-t (steps)")
        ax.set_title("at initialisation" if stage == "init" else "after training")
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("gradient norm / norm at distance 0")
    axes[0][-1].legend(fontsize=8)
    L = int(frame["distance"].max()) + 1
    fig.suptitle(f"Gradient flow on the {frame['task'].iloc[0]} problem, L={L}", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def plot_long_memory(frame: pd.DataFrame, path=None):
    """Test error against lag per cell (mean over seeds, seeds as dots), baseline and success line.

    MSE on a log axis; error rates (copy task) on a linear one.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for cell, group in frame.groupby("cell", sort=False):
        mean = group.groupby("lag")["test_error"].mean()
        marker, size = MARKERS.get(cell, ("o", 6))
        ax.plot(mean.index, mean.to_numpy(), marker=marker, markersize=size, color=_color(cell), label=cell)
        if group["seed"].nunique() > 1:
            ax.scatter(group["lag"], group["test_error"], color=_color(cell), alpha=0.35, s=12)
    baseline = float(frame["baseline"].iloc[0])
    threshold = float(frame["threshold"].iloc[0])
    ax.axhline(baseline, color="k", linestyle=":", label=f"trivial baseline {baseline:.3g}")
    ax.axhline(threshold, color="k", linestyle="--", label=f"success < {threshold:.3g}")
    ax.set_xscale("log")
    if frame["metric"].iloc[0] == "mse":
        ax.set_yscale("log")
    else:  # error rates are often exactly 0: a linear axis shows them
        ax.set_ylim(-0.03, 1.0)
    lags = sorted(frame["lag"].unique())
    ax.set_xticks(lags)
    ax.set_xticklabels([str(v) for v in lags])
    ax.minorticks_off()
    metric = "test MSE" if frame["metric"].iloc[0] == "mse" else "test error rate"
    ax.set_xlabel("lag (sequence length)" if frame["task"].iloc[0] == "adding" else "lag (steps)")
    ax.set_ylabel(metric)
    ax.set_title(f"Long-range memory: {frame['task'].iloc[0]} task")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_clipping(frame: pd.DataFrame, path=None):
    """Batch loss and gradient norm (before clipping) over training, clipped vs unclipped."""
    plt = _pyplot()
    fig, (ax_loss, ax_norm) = plt.subplots(2, 1, figsize=(7.0, 5.6), sharex=True)
    colors = {}
    palette = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    for (setting, seed), group in frame.groupby(["setting", "seed"], sort=False):
        color = colors.setdefault(setting, palette[len(colors) % len(palette)])
        first = seed == frame["seed"].iloc[0]
        kw = {"color": color, "alpha": 0.9 if first else 0.35, "linewidth": 0.9}
        label = setting if first else None
        ax_loss.plot(group["batch"], group["loss"], label=label, **kw)
        ax_norm.plot(group["batch"], group["grad_norm"], label=label, **kw)
    clip = frame.attrs.get("clip_norm")
    if clip is not None:
        ax_norm.axhline(clip, color="k", linestyle="--", linewidth=0.8, label=f"threshold {clip:g}")
    for ax in (ax_loss, ax_norm):
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    ax_loss.set_ylabel("batch MSE")
    ax_norm.set_ylabel("gradient norm before clipping")
    ax_norm.set_xlabel("batch")
    ax_loss.legend(fontsize=8)
    ax_norm.legend(fontsize=8)
    radius = frame.attrs.get("spectral_radius")
    title = "Exploding gradients: tanh RNN"
    if radius is not None:
        title += f", recurrent spectral radius {radius:g}"
    ax_loss.set_title(title + " (faint: other seeds)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_convergence(frame: pd.DataFrame, path=None):
    """Training MSE against epochs and against seconds per cell (median over seeds), target line."""
    plt = _pyplot()
    fig, (ax_epoch, ax_time) = plt.subplots(1, 2, figsize=(10.0, 3.8), sharey=True)
    for cell, group in frame.groupby("cell", sort=False):
        by_epoch = group.groupby("epoch")[["train_mse", "val_mse", "seconds"]].median()
        ax_epoch.plot(by_epoch.index, by_epoch["train_mse"], color=_color(cell), label=f"{cell} train")
        ax_epoch.plot(
            by_epoch.index, by_epoch["val_mse"], color=_color(cell), linestyle=":", label=f"{cell} validation"
        )
        ax_time.plot(by_epoch["seconds"], by_epoch["train_mse"], color=_color(cell), label=cell)
    target = frame.attrs.get("target_mse")
    for ax in (ax_epoch, ax_time):
        if target is not None:
            ax.axhline(target, color="k", linestyle="--", linewidth=0.8, label=f"target {target:g}")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    ax_epoch.set_xlabel("epoch")
    ax_time.set_xlabel("training seconds (wall)")
    ax_epoch.set_ylabel("MSE (standardized)")
    ax_epoch.legend(fontsize=7, ncol=2)
    ax_time.legend(fontsize=8)
    fig.suptitle(f"Convergence on {frame.attrs.get('dataset', 'the series')} (median of seeds)", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def plot_cost(frame: pd.DataFrame, path=None):
    """Parameters and seconds per training epoch against hidden size, per cell."""
    plt = _pyplot()
    fig, (ax_p, ax_t) = plt.subplots(1, 2, figsize=(10.0, 3.6))
    threads = sorted(frame["blas_threads"].unique())
    for cell, group in frame.groupby("cell", sort=False):
        one = group[group["blas_threads"] == threads[0]]
        ax_p.plot(one["hidden_size"], one["n_params"], marker="o", color=_color(cell), label=cell)
        for t, style in zip(threads, ["-", "--", ":"]):
            part = group[group["blas_threads"] == t]
            label = cell if len(threads) == 1 else f"{cell}, {t} BLAS thread(s)"
            ax_t.plot(
                part["hidden_size"],
                part["seconds_per_epoch"],
                marker="o",
                linestyle=style,
                color=_color(cell),
                label=label,
            )
    for ax in (ax_p, ax_t):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sorted(frame["hidden_size"].unique()))
        ax.set_xticklabels([str(h) for h in sorted(frame["hidden_size"].unique())])
        ax.minorticks_off()
        ax.set_xlabel("hidden size H")
        ax.grid(True, alpha=0.3)
    ax_p.set_ylabel("parameters (with head)")
    ax_t.set_ylabel("seconds per training epoch")
    n, L = int(frame["n_samples"].iloc[0]), int(frame["seq_len"].iloc[0])
    ax_t.set_title(f"{n} sequences of {L} steps, batch {int(frame['batch_size'].iloc[0])}", fontsize=10)
    ax_p.legend(fontsize=8)
    ax_t.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)
