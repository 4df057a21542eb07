"""tsrnn inside skforecast, sktime and darts: the row layouts they hand over, and an sktime forecaster.

Each framework turns a series into one flat row of lags per sample and hands it to a
scikit-learn regressor. A recurrent regressor must know how that row is laid out to read it as
a step-major sequence (oldest step first; see :func:`tsrnn.estimators.rows_to_sequences`).
The functions below return the estimator parameters for each framework's row, to be passed to
:class:`tsrnn.RecurrentRegressor` (or ``GRURegressor``, ...)::

    from tsrnn import RecurrentRegressor
    from tsrnn.interop import skforecast_layout

    RecurrentRegressor(cell="gru", random_state=0, **skforecast_layout(n_exog=1))

==========================================  =================================  ==============================
framework and settings                      row handed to the regressor        parameters
==========================================  =================================  ==============================
skforecast ``ForecasterRecursive``,         ``[lag_1 ... lag_L, exog...]``     ``skforecast_layout(n_exog)``
``ForecasterDirect`` (each step's model)    newest lag first, exog at the
                                            target time
skforecast                                  ``[lag_1 ... lag_L, level code,    ``skforecast_layout(n_exog,
``ForecasterRecursiveMultiSeries``          exog...]``; ``encoding="onehot"``  n_levels)``
                                            gives one code column per series
sktime ``make_reduction(...,                ``[y lags..., X1 lags..., ...]``   ``sktime_layout(n_exog)``
window_length=L)``, recursive or direct     oldest first, one block per column
darts ``SKLearnModel(lags=L,                ``[y lags..., past cov lags...,    ``darts_layout(n_lagged,
lags_past_covariates=L,                     future cov lags..., static]``      n_static)``
lags_future_covariates=...)``               oldest first
==========================================  =================================  ==============================

Notes per framework (``docs/interop.md`` has a runnable example for each):

- skforecast puts exogenous values at the target time after the lags: they become
  ``static_features``, repeated at every step. ``ForecasterDirect`` fits one regressor per step;
  each sees the same layout.
- sktime's tabular reduction puts each column's ``window_length`` past values in a block
  (exogenous values up to the last lag only). Its time-series-regressor reduction
  (``scitype="time-series-regressor"``) hands ``(n, columns, time)`` panels: use
  ``channels_first=True`` there.
- darts orders a covariate block lag-major across its components (``c0_lag-2, c1_lag-2,
  c0_lag-1, ...``), so a block is a blocked feature only with one component per covariate
  series; ``lags_past_covariates=L`` and ``lags_future_covariates=list(range(1 - L, 1))`` (the
  next value of each step, as tsrnn's own ``Forecaster`` does) give ``L`` lags each, and
  ``lags_future_covariates=[0]`` alone one static column.

:class:`SktimeForecaster` wraps :class:`tsrnn.Forecaster` as an sktime forecaster
(``fit(y, X, fh)``, ``predict(fh, X)``, ``predict_interval``, ``predict_quantiles``); it needs
``pip install "tsrnn[interop]"``, as the frameworks themselves do.
"""

from __future__ import annotations

from .._validation import check_non_negative_int

__all__ = ["SktimeForecaster", "darts_layout", "skforecast_layout", "sktime_layout"]


def skforecast_layout(n_exog: int = 0, n_levels: int = 0) -> dict:
    """Estimator parameters for skforecast's rows (``lag_1, ..., lag_L``, then static columns).

    Parameters
    ----------
    n_exog : int, default=0
        Exogenous columns (``exog``); skforecast appends their values at the target time.
    n_levels : int, default=0
        ``ForecasterRecursiveMultiSeries`` only: the series-code columns before the exogenous
        ones, 1 for ``encoding="ordinal"`` or ``"ordinal_category"``, the number of series for
        ``encoding="onehot"`` (a network reads one-hot codes better than an ordinal number).

    Returns
    -------
    dict
        ``input_order="newest_first"``, ``feature_layout="blocked"``, ``static_features`` and
        ``input_size`` (the network sees ``(n, L, 1 + n_levels + n_exog)``).
    """
    static = check_non_negative_int(n_exog, "n_exog") + check_non_negative_int(n_levels, "n_levels")
    return {
        "input_order": "newest_first",
        "feature_layout": "blocked",
        "static_features": static,
        "input_size": 1 + static,
    }


def sktime_layout(n_exog: int = 0) -> dict:
    """Estimator parameters for sktime's tabular reduction (``make_reduction``) rows.

    Parameters
    ----------
    n_exog : int, default=0
        Columns of ``X``; sktime gives each a block of ``window_length`` past values after the
        target's block, oldest first.

    Returns
    -------
    dict
        ``input_order="oldest_first"``, ``feature_layout="blocked"``, ``static_features=0``
        and ``input_size = 1 + n_exog``.
    """
    return {
        "input_order": "oldest_first",
        "feature_layout": "blocked",
        "static_features": 0,
        "input_size": 1 + check_non_negative_int(n_exog, "n_exog"),
    }


def darts_layout(n_lagged: int = 0, n_static: int = 0) -> dict:
    """Estimator parameters for darts ``SKLearnModel`` rows.

    Parameters
    ----------
    n_lagged : int, default=0
        Single-component covariate series with as many lags as the target (``lags=L`` and
        ``lags_past_covariates=L``, or ``lags_future_covariates`` with ``L`` lags).
    n_static : int, default=0
        Trailing columns with one value per row: a future covariate with one lag
        (``lags_future_covariates=[0]``) or darts' static covariates.

    Returns
    -------
    dict
        ``input_order="oldest_first"``, ``feature_layout="blocked"``, ``static_features`` and
        ``input_size = 1 + n_lagged + n_static``.
    """
    static = check_non_negative_int(n_static, "n_static")
    return {
        "input_order": "oldest_first",
        "feature_layout": "blocked",
        "static_features": static,
        "input_size": 1 + check_non_negative_int(n_lagged, "n_lagged") + static,
    }


def __getattr__(name: str):
    if name == "SktimeForecaster":
        try:
            from ._sktime import SktimeForecaster
        except ImportError as exc:
            raise ImportError(
                f"tsrnn.interop.SktimeForecaster needs sktime ({exc}); install it with "
                "pip install 'tsrnn[interop]'."
            ) from exc
        return SktimeForecaster
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
