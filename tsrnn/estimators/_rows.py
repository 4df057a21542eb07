"""How a flat row of lagged values becomes the ``(n, time, features)`` sequence a network reads.

Forecasting frameworks hand a regressor one flat row per sample, laid out their own way. The
layout is described by four settings (the estimator parameters of the same names), shown on a
row with 3 lags of a target ``y`` and of a covariate ``x`` plus one static column ``s``
(``t`` is the time of the target; ``y3`` means ``y[t-3]``)::

    input_order     feature_layout   static_features   the row
    "oldest_first"  "interleaved"    0                 [y3 x3 | y2 x2 | y1 x1]       (tsrnn's own)
    "oldest_first"  "blocked"        0                 [y3 y2 y1 | x3 x2 x1]         (sktime, darts)
    "newest_first"  "blocked"        0                 [y1 y2 y3 | x1 x2 x3]         (skforecast)
    "newest_first"  "blocked"        1                 [y1 y2 y3 | s]                (skforecast + exog)

Every one of them becomes the same step-major sequence, oldest step first, with the static
column repeated at every step::

    step 0: [y3 x3 (s)]    step 1: [y2 x2 (s)]    step 2: [y1 x1 (s)]

``input_size`` counts the features per step including the static ones (here 2, or 2 with
``y`` lags and one static column), so ``n_columns = (input_size - static_features) *
n_timesteps + static_features``. A 3-D array is already ``(n, time, features)``, or
``(n, features, time)`` with ``channels_first=True`` (sktime's panels).
"""

from __future__ import annotations

import numpy as np

from .._validation import describe

__all__ = ["FEATURE_LAYOUTS", "INPUT_ORDERS", "rows_to_sequences"]

INPUT_ORDERS = ("oldest_first", "newest_first")
FEATURE_LAYOUTS = ("interleaved", "blocked")


def rows_to_sequences(
    X: np.ndarray,
    input_size: int | None = None,
    *,
    input_order: str = "oldest_first",
    feature_layout: str = "interleaved",
    static_features: int = 0,
    channels_first: bool = False,
) -> np.ndarray:
    """Turn flat rows (or a 3-D panel) into batch-first, step-major ``(n, n_timesteps, input_size)``.

    Parameters
    ----------
    X : ndarray of shape (n, n_columns) or (n, n_timesteps, input_size)
        Flat rows laid out as the other parameters say, or a 3-D array (``(n, input_size,
        n_timesteps)`` with ``channels_first=True``).
    input_size : int, optional
        Features per time step, the static ones included; None means 1 for 2-D ``X`` (plus
        ``static_features``) and is read from 3-D ``X``.
    input_order : {"oldest_first", "newest_first"}, default="oldest_first"
        Order of the lags within a row (or block): ``"newest_first"`` is skforecast's
        ``lag_1, lag_2, ...``. The result is always oldest first, so the recurrence ends on
        the newest value.
    feature_layout : {"interleaved", "blocked"}, default="interleaved"
        ``"interleaved"``: one step after another, the step's features together (step-major).
        ``"blocked"``: one block of lags per feature, ``[f1 lags..., f2 lags...]``.
    static_features : int, default=0
        Number of trailing columns holding one value per row (an exogenous value at the
        target time, a series code) that are repeated at every step, after the lagged
        features. 2-D ``X`` only.
    channels_first : bool, default=False
        3-D ``X`` is ``(n, input_size, n_timesteps)`` (sktime's panels) instead of
        ``(n, n_timesteps, input_size)``.

    Returns
    -------
    ndarray of shape (n, n_timesteps, input_size)
        The sequences; a view of ``X`` where the layout allows, else a copy.

    Examples
    --------
    >>> import numpy as np
    >>> row = np.array([[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]])  # y lags then x lags, newest first
    >>> rows_to_sequences(row, 2, input_order="newest_first", feature_layout="blocked")[0]
    array([[ 3., 30.],
           [ 2., 20.],
           [ 1., 10.]])
    """
    check_row_layout(input_order, feature_layout, static_features, channels_first)
    if X.ndim == 3:
        if static_features:
            raise ValueError(
                f"static_features={static_features} describes columns of 2-D rows, but X is 3-D "
                f"{describe(X)}; set static_features=0 or pass 2-D rows."
            )
        X3 = X.transpose(0, 2, 1) if channels_first else X
        if input_size is not None and input_size != X3.shape[2]:
            where = "X.shape[1] (channels_first=True)" if channels_first else "X.shape[2]"
            raise ValueError(
                f"X is 3-D with {X3.shape[2]} features per step ({where}) but input_size="
                f"{input_size}; set input_size=None (it is read from 3-D X) or reshape X."
            )
        if X3.shape[1] < 1 or X3.shape[2] < 1:
            raise ValueError(f"X must have at least one time step and one feature, got {describe(X)}.")
        return X3[:, ::-1] if input_order == "newest_first" else X3
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_timesteps * input_size) or 3-D (n_samples, n_timesteps, "
            f"input_size), got {describe(X)}."
        )
    if channels_first:
        raise ValueError("channels_first=True describes 3-D panels (n, features, time), but X is 2-D.")
    d = 1 + static_features if input_size is None else input_size
    lagged = d - static_features
    if lagged < 1:
        raise ValueError(
            f"input_size={d} must exceed static_features={static_features}: every step needs at "
            "least one lagged feature. Raise input_size to the number of features per step (the "
            "static ones included)."
        )
    n_lag_cols = X.shape[1] - static_features
    if n_lag_cols < lagged or n_lag_cols % lagged:
        raise ValueError(
            f"X has {X.shape[1]} columns; with static_features={static_features} the "
            f"{n_lag_cols} columns before the static ones are not a multiple of input_size={d} "
            f"minus static_features ({lagged} lagged values per step). Fix input_size / "
            f"static_features or pass 3-D X of shape (n_samples, n_timesteps, input_size)."
        )
    n, steps = X.shape[0], n_lag_cols // lagged
    lags = X[:, :n_lag_cols]
    if feature_layout == "blocked":
        seq = lags.reshape(n, lagged, steps).transpose(0, 2, 1)
    else:
        seq = lags.reshape(n, steps, lagged)
    if input_order == "newest_first":
        seq = seq[:, ::-1]
    if not static_features:
        return seq
    static = np.broadcast_to(X[:, None, n_lag_cols:], (n, steps, static_features))
    return np.concatenate([seq, static], axis=2)


def check_row_layout(input_order, feature_layout, static_features, channels_first) -> None:
    """Validate the four layout settings, with errors that list the valid values."""
    if input_order not in INPUT_ORDERS:
        raise ValueError(
            f"input_order must be one of {INPUT_ORDERS} (the order of the lags in a row), got "
            f"{input_order!r}."
        )
    if feature_layout not in FEATURE_LAYOUTS:
        raise ValueError(
            f"feature_layout must be one of {FEATURE_LAYOUTS} ('interleaved': [x0f0, x0f1, x1f0, ...]; "
            f"'blocked': [f0 lags..., f1 lags...]), got {feature_layout!r}."
        )
    if isinstance(static_features, bool) or not isinstance(static_features, (int, np.integer)):
        raise TypeError(f"static_features must be a non-negative int, got {static_features!r}.")
    if static_features < 0:
        raise ValueError(f"static_features must be >= 0, got {static_features}.")
    if not isinstance(channels_first, (bool, np.bool_)):
        raise TypeError(f"channels_first must be True or False, got {channels_first!r}.")
