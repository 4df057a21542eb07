"""Sliding windows over a series: the supervised-learning view every window model trains on.

The layout (documented once here and in :func:`make_windows`) is shared by the
:class:`~tsrnn.forecasting.Forecaster` and by users who build their own scikit-learn pipelines,
so both see exactly the same design matrices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_positive_int
from ._base import align_exog, check_series

__all__ = ["make_windows"]

MULTI_SERIES = ("global", "joint")


def check_multi_series(multi_series: str) -> str:
    if multi_series not in MULTI_SERIES:
        raise ValueError(
            f"multi_series must be one of {MULTI_SERIES} ('global': one model applied to every column "
            f"separately; 'joint': one model over all columns at once), got {multi_series!r}."
        )
    return multi_series


def n_step_features(n_series: int, n_exog: int, leads: int, multi_series: str, series_id: bool) -> int:
    """Number of features per window step (the ``input_size`` of a recurrent model)."""
    targets = n_series if multi_series == "joint" else 1
    ids = n_series if (multi_series == "global" and series_id) else 0
    return targets + n_exog * leads + ids


def exog_leads(x: np.ndarray, step_times: np.ndarray, leads: int) -> np.ndarray:
    """Exogenous values of the ``leads`` times after each window step: ``(N, window, leads * p)``.

    ``step_times`` ``(N, window)`` are the times of the target values in each window step; step
    ``s`` carries ``x[s + 1], ..., x[s + leads]`` (lead-major), so the last step of a window ending
    just before time ``t`` carries ``x[t], ..., x[t + leads - 1]``: the covariates of the targets.
    """
    idx = step_times[:, :, None] + 1 + np.arange(leads)
    out = x[idx]  # (N, window, leads, p)
    return out.reshape(out.shape[0], out.shape[1], -1)


def assemble(zwin: np.ndarray, xwin: np.ndarray | None, multi_series: str, series_id: bool) -> np.ndarray:
    """Per-step features ``(samples, window, F)`` from target windows ``zwin`` ``(N, window, m)``.

    ``joint``: one sample per window, features ``[all m targets, exogenous leads]``.
    ``global``: one sample per window and column, in time order (the windows of every column
    ending at the same time are adjacent, so the last rows are the latest times of all
    series), features ``[that column, exogenous leads, one-hot column id (if series_id)]``.
    """
    n, window, m = zwin.shape
    if multi_series == "joint":
        parts = [zwin] if xwin is None else [zwin, xwin]
        return np.concatenate(parts, axis=2)
    parts = [zwin.transpose(0, 2, 1)[..., None]]  # (N, m, window, 1)
    if xwin is not None:
        parts.append(np.broadcast_to(xwin[:, None], (n, m, *xwin.shape[1:])))
    if series_id:
        parts.append(np.broadcast_to(np.eye(m)[None, :, None, :], (n, m, window, m)))
    return np.concatenate(parts, axis=3).reshape(n * m, window, -1)


def stack_targets(targets: np.ndarray, multi_series: str) -> np.ndarray:
    """Targets ``(N, H, m)`` as model outputs: joint ``(N, H * m)`` step-major, global ``(N * m, H)``."""
    n, horizon, m = targets.shape
    if multi_series == "joint":
        return targets.reshape(n, horizon * m)
    return targets.transpose(0, 2, 1).reshape(n * m, horizon)


def unstack_outputs(pred: np.ndarray, n: int, horizon: int, m: int, multi_series: str) -> np.ndarray:
    """Inverse of :func:`stack_targets` for model predictions: back to ``(N, H, m)``."""
    pred = np.asarray(pred, dtype=np.float64)
    if multi_series == "joint":
        return pred.reshape(n, horizon, m)
    return pred.reshape(n, m, horizon).transpose(0, 2, 1)


def design(
    z: np.ndarray,
    x: np.ndarray | None,
    origins: np.ndarray,
    window: int,
    horizon: int,
    multi_series: str,
    series_id: bool,
    leads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows ending just before each origin and the ``horizon`` targets from it.

    ``z`` ``(n, m)``; ``x`` ``(n, p)`` or None; ``origins`` the time of the first target of each
    sample. Returns features ``(samples, window, F)`` and targets ``(N, horizon, m)``.
    """
    leads = horizon if leads is None else leads
    step_times = origins[:, None] - window + np.arange(window)
    zwin = z[step_times]
    xwin = None if x is None else exog_leads(x, step_times, leads)
    targets = z[origins[:, None] + np.arange(horizon)]
    return assemble(zwin, xwin, multi_series, series_id), targets


def _as_frame(y, name: str) -> tuple[np.ndarray, pd.Index, pd.Index, bool]:
    """Values ``(n, m)``, time index, column names and whether ``y`` was pandas."""
    if isinstance(y, (pd.Series, pd.DataFrame)):
        values, index = check_series(y, name)
        columns = y.columns if isinstance(y, pd.DataFrame) else pd.Index([y.name])
        return values, index, columns, True
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a pandas Series/DataFrame or a numeric array, got {type(y).__name__}."
        ) from exc
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (one series) or 2-D (n_timesteps, n_series), got shape {arr.shape}."
        )
    frame = pd.DataFrame(arr.reshape(len(arr), -1))
    values, index = check_series(frame, name)
    return values, index, frame.columns, False


def make_windows(
    y,
    window: int,
    horizon: int = 1,
    X=None,
    *,
    multi_series: str = "global",
    series_id: bool = False,
    as_3d: bool = False,
    return_index: bool = False,
):
    """Cut a series into (window → next ``horizon`` values) training pairs.

    Sample ``i`` predicts the ``horizon`` values starting at time ``t_i`` from the ``window``
    values just before it, ``y[t_i - window], ..., y[t_i - 1]``; ``t_i`` runs over every time
    with a full window before it and a full horizon from it, so ``n - window - horizon + 1``
    samples per series, in time order.

    Parameters
    ----------
    y : pandas.Series, pandas.DataFrame or array-like
        The series, indexed by time (a 1-D array is one series, a 2-D array is
        ``(n_timesteps, n_series)``). NaN is an error: fill gaps first.
    window : int
        Number of past time steps in each sample.
    horizon : int, default=1
        Number of future values each sample predicts.
    X : pandas.DataFrame or array-like, optional
        Exogenous inputs with one row per time of ``y`` (a DataFrame is aligned on ``y``'s
        index by label; an array by position). Each window step also carries the values of
        ``X`` at the ``horizon`` times that FOLLOW it, so the last step of a sample carries
        ``X`` at the target times ``t_i, ..., t_i + horizon - 1``: known future covariates
        (calendar, prices, ...) at the time they act. Forecasting then needs ``X`` for the
        forecast horizon.
    multi_series : {"global", "joint"}, default="global"
        For several series: ``"global"`` windows each column separately and stacks them (one
        model shared by all series); rows stay in time order, the columns' windows ending at
        the same time adjacent (``(time, column)``), so a time-ordered split such as
        ``TimeSeriesSplit`` or a "last fraction" validation set never trains on the future of
        another series. ``"joint"`` puts all columns in every step and predicts all of them.
    series_id : bool, default=False
        With ``"global"``: append a one-hot column indicator to every step, so the shared
        model can tell the series apart.
    as_3d : bool, default=False
        Return ``X_windows`` as ``(n_samples, window, n_features)`` instead of flattened.
    return_index : bool, default=False
        Also return the time label of the FIRST target of each sample (for ``"global"`` with
        several series, a ``MultiIndex`` ``(time, column)``); for arrays, positions.

    Returns
    -------
    X_windows : ndarray of shape (n_samples, window * n_features)
        Flattened windows, step-major: columns ``[k * n_features : (k + 1) * n_features]``
        hold step ``k`` (oldest first), so ``X_windows.reshape(n, window, n_features)`` gives
        the sequence a recurrent model reads; ``RecurrentRegressor(input_size=n_features)``
        does exactly that reshape. Per step, the features are, in order: the target value(s)
        (1 column for ``"global"``, all ``m`` for ``"joint"``), the exogenous leads
        (``horizon`` blocks of the ``p`` columns of ``X``: lead 1's ``p`` values first), and
        the one-hot series id (``m`` columns, ``"global"`` with ``series_id=True`` only). So
        ``n_features = (1 or m) + p * horizon (+ m)``. With ``as_3d=True``, shape
        ``(n_samples, window, n_features)``.
    y_targets : ndarray of shape (n_samples,) or (n_samples, horizon * n_out)
        The targets, step-major (columns ``[k * n_out : (k + 1) * n_out]`` are step ``k + 1``
        ahead; ``n_out`` is 1 for ``"global"``, ``m`` for ``"joint"``); 1-D when
        ``horizon * n_out == 1``, as scikit-learn regressors expect.
    index : pandas.Index
        Only with ``return_index=True``: the time of the first target of each sample.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import make_windows
    >>> Xw, yw = make_windows(np.arange(6.0), window=3)
    >>> Xw
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> yw
    array([3., 4., 5.])
    """
    window = check_positive_int(window, "window")
    horizon = check_positive_int(horizon, "horizon")
    check_multi_series(multi_series)
    values, index, columns, is_pandas = _as_frame(y, "y")
    n, m = values.shape
    x = None
    if X is not None:
        if is_pandas or isinstance(X, (pd.Series, pd.DataFrame)):
            if not is_pandas:
                raise TypeError(
                    "X is a pandas object but y is an array: pass both as pandas or both as arrays."
                )
            x, _ = align_exog(X, index, "X")
        else:
            x, _ = _as_frame(X, "X")[:2]
            if len(x) != n:
                raise ValueError(f"X must have one row per time step of y ({n}), got {len(x)} rows.")
    n_samples = n - window - horizon + 1
    if n_samples < 1:
        raise ValueError(
            f"y has {n} time steps, too few for window={window} and horizon={horizon}: each sample "
            f"needs window + horizon = {window + horizon} steps. Use a shorter window or more data."
        )
    origins = np.arange(window, n - horizon + 1)
    features, targets = design(values, x, origins, window, horizon, multi_series, series_id)
    y_out = stack_targets(targets, multi_series)
    if y_out.shape[1] == 1:
        y_out = y_out[:, 0]
    X_out = features if as_3d else features.reshape(features.shape[0], -1)
    if not return_index:
        return X_out, y_out
    times = index[origins]
    if multi_series == "global" and m > 1:
        times = pd.MultiIndex.from_product([times, columns])
    return X_out, y_out, times
