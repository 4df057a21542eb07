"""The training loop: mini-batch epochs, clipping, early stopping, divergence handling.

:func:`train` works on a :class:`~tsrnn.nn.RecurrentNetwork`, its flat parameter vector, an
optimizer from :mod:`tsrnn.nn._optim` and time-major data. It records what happened in a
:class:`History`, which the estimators expose as fitted attributes.

Definitions
-----------
- Epoch loss (``History.loss_curve``): the mean of the per-batch training losses weighted by
  batch size, i.e. the mean loss over the epoch's samples, each measured on the weights
  before that batch's update (dropout active).
- Gradient norm (``History.grad_norm_curve``): for each batch, the global Euclidean norm of
  the gradient of that batch's loss over all parameters, before value/norm clipping and
  before weight decay; the curve holds the mean over the epoch's batches.
- Per-batch record (``train(..., record_batches=True)``): ``History.batch_losses`` and
  ``History.batch_grad_norms`` hold every batch's loss and gradient norm (as above, before
  its update), ``History.batch_clipped_grad_norms`` the norm of the gradient after clipping
  (what the optimizer received, before weight decay). Batches of a diverged epoch are kept,
  the non-finite one last, so a divergence is visible in the record.
- Clipping order: value clipping first (``clip_value``), then global-norm clipping
  (``clip_norm``), so the applied gradient never exceeds ``clip_norm`` in norm.
- Validation: after every epoch the network (no dropout) is evaluated on the validation
  data: its loss (the training loss function, ``History.validation_losses``) and, for
  information, a score such as R^2 or accuracy (``History.validation_scores``).
- Improvement: with validation data, an epoch improves when its validation LOSS is below
  the best so far by more than ``tol``; without, when its training loss is. The loss is
  monitored rather than the score because it keeps moving while a coarse score such as
  accuracy sits on a plateau. Training stops after ``n_iter_no_change`` consecutive epochs
  without improvement. With validation data the weights of the lowest validation loss are
  restored at the end (whether training stopped early or reached ``max_epochs``).
- Divergence: a non-finite batch loss or gradient norm, or a non-finite validation loss,
  stops training at once. The weights go back to the best-validation weights if there are
  any, otherwise to the weights at the start of the failing epoch; a
  :class:`TrainingDivergedWarning` says what to try. If no epoch ever completed with a
  finite loss, a ``ValueError`` is raised instead.
- Interruption (Ctrl-C, i.e. ``KeyboardInterrupt``): the epoch in progress is abandoned and
  the weights go back to the best-validation weights if there are any, otherwise to the
  weights after the last completed epoch; training then stops with ``stop_reason
  "interrupted"`` and a :class:`TrainingInterruptedWarning`, leaving a usable model. When no
  epoch has completed yet (nothing to keep), or inside :func:`abort_on_interrupt` (used by
  loops over many fits, such as a backtest, that the user wants to stop as a whole), the
  weights are restored the same way and the ``KeyboardInterrupt`` is raised again.
- Callback (``train(..., callback=f)``): after every completed epoch, ``f(history, params)``
  may watch further metrics and stop training (``stop_reason "callback"``); the studies in
  :mod:`tsrnn.experiments` run their own stopping rules this way, in this one loop.

Where the arrays live is the business of a *trainer*: :class:`HostTrainer` runs
:func:`run_epoch` on the NumPy arrays themselves (``device="cpu"``/``"reference"``);
:class:`tsrnn.nn._cuda.DeviceTrainer` keeps data, weights and optimizer state on the GPU for
the whole call (``device="cuda"``) and gives the same per-epoch numbers. Everything above
(bookkeeping, early stopping, divergence, best weights) is this module's, for both.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._parallel import abort_on_interrupt, interrupt_aborts
from .._state import check_array, check_int, check_keys, fail, register
from ._optim import clip_by_global_norm, clip_by_value, global_norm

__all__ = [
    "History",
    "TrainingDivergedWarning",
    "TrainingInterruptedWarning",
    "abort_on_interrupt",
    "run_epoch",
    "train",
]


class TrainingDivergedWarning(ConvergenceWarning):
    """Training stopped because the loss or the gradient became NaN or infinite."""


class TrainingInterruptedWarning(UserWarning):
    """Training was interrupted (Ctrl-C); the model keeps the best weights reached so far."""


@dataclass
class History:
    """Per-epoch record of training, kept across ``partial_fit``/``warm_start`` calls.

    ``best_loss``, ``best_validation_loss``, ``best_validation_score``, ``best_params`` and
    ``n_no_improvement`` refer to the current call of :func:`train` when it is told to reset
    them; ``best_validation_score`` is the score of the epoch with the lowest validation loss
    (the weights that are restored).
    """

    loss_curve: list[float] = field(default_factory=list)
    validation_losses: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    grad_norm_curve: list[float] = field(default_factory=list)
    batch_losses: list[float] = field(default_factory=list)
    batch_grad_norms: list[float] = field(default_factory=list)
    batch_clipped_grad_norms: list[float] = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_loss: float = math.inf
    best_validation_score: float | None = None
    best_params: np.ndarray | None = None
    n_iter: int = 0
    n_no_improvement: int = 0
    stop_reason: str | None = None

    def reset_stopping(self) -> None:
        self.best_loss = math.inf
        self.best_validation_loss = math.inf
        self.best_validation_score = None
        self.best_params = None
        self.n_no_improvement = 0
        self.stop_reason = None

    # -- persisted state (see tsrnn._state); the estimator checks best_params against its weights --

    def _get_state(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _set_state(self, state: dict) -> None:
        check_keys("History", state, [f.name for f in fields(self)])
        for f in fields(self):
            value = state[f.name]
            if f.name.endswith(("curve", "losses", "scores", "norms")):
                if not (isinstance(value, list) and all(_is_number(v) for v in value)):
                    fail(f"History.{f.name}", "is not a list of numbers")
            elif f.name in ("n_iter", "n_no_improvement"):
                check_int(value, f"History.{f.name}", 0)
            elif f.name == "best_params":
                if value is not None:
                    check_array(value, "History.best_params", ndim=1)
            elif f.name == "stop_reason":
                if value is not None and not isinstance(value, str):
                    fail("History.stop_reason", "is not a string")
            elif not (_is_number(value) or (value is None and f.name == "best_validation_score")):
                fail(f"History.{f.name}", "is not a number")
        self.__dict__.update(state)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


register(History)


def run_epoch(
    network,
    params: np.ndarray,
    grad: np.ndarray,
    optimizer,
    loss,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    batch_size: int,
    rng,
    shuffle: bool = True,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    batch_log: History | None = None,
) -> tuple[float, float, bool]:
    """One pass over time-major ``X (L, n, D)`` and ``Y (n, ...)`` in mini-batches.

    Returns ``(mean loss, mean gradient norm, finite)``; on the first non-finite batch loss or
    gradient it returns at once ``(that batch's loss, its gradient norm, False)``, before
    that batch's update. With ``batch_log``, every batch's loss and gradient norms (before
    and after clipping) are appended to its ``batch_*`` lists.
    """
    n = X.shape[1]
    batch_size = min(batch_size, n)
    order = rng.permutation(n) if shuffle else np.arange(n)
    batches: dict[int, np.ndarray] = {}
    total, norms = 0.0, []
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        xb = batches.get(idx.size)
        if xb is None:
            xb = batches[idx.size] = np.empty((X.shape[0], idx.size, X.shape[2]), X.dtype)
        np.take(X, idx, axis=1, out=xb)
        value, _ = network.loss_and_grad(params, xb, Y[idx], loss, training=True, rng=rng, grad=grad)
        norm = global_norm(grad)
        if not (math.isfinite(value) and math.isfinite(norm)):
            if batch_log is not None:
                batch_log.batch_losses.append(value)
                batch_log.batch_grad_norms.append(norm)
                batch_log.batch_clipped_grad_norms.append(math.nan)  # no update was made
            return value, norm, False
        if clip_value is not None:
            clip_by_value(grad, clip_value)
        if clip_norm is not None:
            clip_by_global_norm(grad, clip_norm)
        if batch_log is not None:
            batch_log.batch_losses.append(value)
            batch_log.batch_grad_norms.append(norm)
            clipped = norm if clip_value is None and clip_norm is None else global_norm(grad)
            batch_log.batch_clipped_grad_norms.append(clipped)
        optimizer.step(params, grad)
        total += value * idx.size
        norms.append(norm)
    return total / n, float(np.mean(norms)), True


class HostTrainer:
    """Training state in host memory: ``params`` itself is updated in place."""

    def __init__(self, network, params, optimizer, loss, X, Y, validation):
        self.network, self.params, self.optimizer, self.loss = network, params, optimizer, loss
        self.X, self.Y = X, Y
        self.X_val = None if validation is None else validation[0]
        self.grad = np.empty_like(params)

    def run_epoch(
        self, *, batch_size, rng, shuffle, clip_norm, clip_value, batch_log=None
    ) -> tuple[float, float, bool]:
        return run_epoch(
            self.network,
            self.params,
            self.grad,
            self.optimizer,
            self.loss,
            self.X,
            self.Y,
            batch_size=batch_size,
            rng=rng,
            shuffle=shuffle,
            clip_norm=clip_norm,
            clip_value=clip_value,
            batch_log=batch_log,
        )

    def validation_output(self) -> np.ndarray:
        return self.network.predict(self.params, self.X_val)

    def snapshot(self) -> np.ndarray:
        return self.params.copy()

    def restore(self, snapshot) -> None:
        self.params[...] = snapshot

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


def _trainer(network, *args):
    if getattr(network, "on_device", False):
        from ._cuda import DeviceTrainer

        return DeviceTrainer(network, *args)
    return HostTrainer(network, *args)


def _progress(verbose: int, total: int, description: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not verbose, desc=description, unit="epoch", leave=True)


def train(
    network,
    params: np.ndarray,
    optimizer,
    loss,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    max_epochs: int,
    batch_size: int,
    rng,
    history: History | None = None,
    shuffle: bool = True,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    validation: tuple | None = None,
    tol: float = 1e-4,
    n_iter_no_change: int = 10,
    check_convergence: bool = True,
    reset_stopping: bool = True,
    record_batches: bool = False,
    verbose: int = 0,
    description: str = "",
    callback: Callable[[History, np.ndarray], bool | None] | None = None,
) -> History:
    """Train ``params`` in place for up to ``max_epochs`` epochs.

    Parameters
    ----------
    network : RecurrentNetwork
    params : ndarray of shape (n_params,)
        Updated in place (and restored to the best/last finite weights, see module docstring).
    optimizer : object with ``step(params, grad)``
        With a network on ``device="cuda"``: :class:`~tsrnn.nn.Adam` or :class:`~tsrnn.nn.SGD`
        (their state is used on the device and written back at the end).
    loss : callable ``(output, target) -> (value, d_output)``
        On ``device="cuda"``: :func:`~tsrnn.nn.mse_loss` or
        :func:`~tsrnn.nn.softmax_cross_entropy` (computed by their device twins).
    X : ndarray of shape (L, n, D), time-major
    Y : ndarray of shape (n, O) (regression) or (n,) of class codes
    max_epochs, batch_size : int
    rng : RandomState
        Shuffling and dropout.
    history : History, optional
        Appended to (a new one when omitted).
    shuffle : bool, default=True
        Shuffle the training samples every epoch.
    clip_norm, clip_value : float or None
    validation : tuple ``(X_val, Y_val, score)``, optional
        Enables early stopping on the validation loss and best-weight restoration;
        ``score(output, Y_val) -> float`` is recorded alongside (e.g. R^2 or accuracy).
    tol, n_iter_no_change : float, int
    check_convergence : bool, default=True
        Apply the stopping rule and warn with ``ConvergenceWarning`` at ``max_epochs``.
        ``partial_fit`` runs one epoch with this off.
    reset_stopping : bool, default=True
        Start the stopping bookkeeping afresh (a new ``fit``); off for ``partial_fit``.
    record_batches : bool, default=False
        Also record every batch's loss and gradient norm before and after clipping in
        ``history.batch_losses``, ``batch_grad_norms``, ``batch_clipped_grad_norms``
        (for studies of exploding gradients; off by default to keep models small).
    verbose : int, default=0
        ``>= 1``: a tqdm progress bar with the epoch, loss, validation score and device.
    description : str
        Label of the progress bar.
    callback : callable ``(history, params) -> bool``, optional
        Called after every completed epoch with the history so far and ``params`` holding
        that epoch's weights (on a GPU they are copied back to the host first); it must not
        change them. A true result stops training (``history.stop_reason = "callback"``).
        Studies use it to watch their own metrics epoch by epoch in this one loop.

    Returns
    -------
    History
    """
    history = History() if history is None else history
    if reset_stopping:
        history.reset_stopping()
    trainer = _trainer(network, params, optimizer, loss, X, Y, validation)
    bar = _progress(verbose, max_epochs, description)
    stop = "max_iter"
    # Overflow on the way to a divergence is detected and reported by the loop itself
    # (with advice); NumPy's own floating-point warnings would only add noise.
    with np.errstate(over="ignore", invalid="ignore"):
        start_params = trainer.snapshot()
        completed_before = history.n_iter
        try:
            for _ in range(max_epochs):
                start_params = trainer.snapshot()
                value, norm, finite = trainer.run_epoch(
                    batch_size=batch_size,
                    rng=rng,
                    shuffle=shuffle,
                    clip_norm=clip_norm,
                    clip_value=clip_value,
                    batch_log=history if record_batches else None,
                )
                score = val_loss = None
                if finite and validation is not None:
                    _, Y_val, score_fn = validation
                    val_out = trainer.validation_output()
                    val_loss = float(loss(val_out, Y_val)[0])
                    score = float(score_fn(val_out, Y_val))
                    finite = math.isfinite(val_loss)
                if not finite:
                    stop = "diverged"
                    what = f"loss={value!r}, gradient norm={norm!r}"
                    if val_loss is not None:
                        what += f", validation loss={val_loss!r}"
                    _diverged(history, trainer, start_params, what)
                    break

                history.n_iter += 1
                history.loss_curve.append(value)
                history.grad_norm_curve.append(norm)
                if val_loss is not None:
                    history.validation_losses.append(val_loss)
                    history.validation_scores.append(score)
                    improved = val_loss < history.best_validation_loss - tol
                    if val_loss < history.best_validation_loss:
                        history.best_validation_loss = val_loss
                        history.best_validation_score = score
                        history.best_params = trainer.snapshot()
                else:
                    improved = value < history.best_loss - tol
                history.best_loss = min(history.best_loss, value)
                history.n_no_improvement = 0 if improved else history.n_no_improvement + 1

                postfix = {"loss": f"{value:.4g}"}
                if val_loss is not None:
                    postfix["val_loss"] = f"{val_loss:.4g}"
                    postfix["val_score"] = f"{score:.4g}"
                postfix["device"] = network.device
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
                if callback is not None:
                    trainer.finish()  # the host params now hold this epoch's weights
                    if callback(history, params):
                        stop = "callback"
                        break
                if check_convergence and history.n_no_improvement >= n_iter_no_change:
                    stop = "early_stopping" if validation is not None else "converged"
                    break
            if validation is not None and history.best_params is not None and stop != "diverged":
                trainer.restore(history.best_params)
            # Only now are the trained weights (and optimizer state) written back to the host
            # arrays (a no-op on the host); on the device a failed call leaves them as they were.
            trainer.finish()
        except KeyboardInterrupt:
            stop = "interrupted"
            keep_going = _interrupted(history, trainer, start_params, completed_before)
            trainer.finish()
            if not keep_going:
                raise
        finally:
            bar.close()
            # A snapshot is only needed within a call; do not keep (or pickle) it.
            history.best_params = None
            trainer.close()

    history.stop_reason = stop
    if stop == "max_iter" and check_convergence:
        warnings.warn(
            f"Stochastic optimizer: maximum iterations ({max_epochs}) reached and the optimization "
            "hasn't converged yet; raise max_iter or learning_rate.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return history


def _interrupted(history: History, trainer, start_params, completed_before: int) -> bool:
    """After Ctrl-C: restore the best (or last completed-epoch) weights; whether to keep going.

    Returns False when the interrupt must propagate (nothing trained, or
    :func:`abort_on_interrupt`), True after warning that the model was kept.
    """
    # The interrupt may have landed in the middle of an optimizer step: never keep those weights.
    if history.best_params is not None:
        trainer.restore(history.best_params)
        kept = f"the weights with the lowest validation loss (of {history.n_iter} epochs)"
    else:
        trainer.restore(start_params)
        kept = f"the weights after epoch {history.n_iter}"
    history.best_params = None
    if history.n_iter == 0 or interrupt_aborts():
        return False
    if history.n_iter == completed_before:
        kept = "the weights it had before this call (no epoch completed)"
    warnings.warn(
        f"training was interrupted (KeyboardInterrupt) in epoch {history.n_iter + 1}; stopped and kept "
        f"{kept}. The model is usable; fit again (or partial_fit / warm_start=True) to train further.",
        TrainingInterruptedWarning,
        stacklevel=4,
    )
    return True


def _diverged(history: History, trainer, start_params, what: str) -> None:
    """Restore the last finite weights after a divergence, or raise if there are none."""
    advice = (
        "lower learning_rate (e.g. by 10x), set clip_norm (e.g. 1.0) or clip_value, keep "
        "standardize=True, or use a smaller hidden_size"
    )
    if history.n_iter == 0:
        raise ValueError(
            f"training diverged in its first epoch ({what}) and no finite weights were ever "
            f"reached; {advice}."
        )
    if history.best_params is not None:
        trainer.restore(history.best_params)
        kept = "the weights with the lowest validation loss"
    else:
        trainer.restore(start_params)
        kept = f"the weights after epoch {history.n_iter}"
    warnings.warn(
        f"training diverged in epoch {history.n_iter + 1} ({what}); stopped and kept {kept}. "
        f"To train further, {advice}.",
        TrainingDivergedWarning,
        stacklevel=4,
    )
