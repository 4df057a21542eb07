"""compare(): backtest several forecasters on one series and rank them."""

from __future__ import annotations

import warnings

import pandas as pd

from .._parallel import TaskFailed, run_tasks
from .._validation import check_choice, check_positive_int
from ..forecasting._base import check_series
from ._backtest import _check_forecaster, _run_task, check_backtest_args, collect, plan_tasks
from ._registry import MODELS, default_model_names, make_forecaster
from ._season import infer_seasonal_period
from .metrics import summarize

__all__ = ["compare", "default_horizon", "resolve_forecasters", "training_devices"]

_DEVICE_PARAM = "estimator__device"


def default_horizon(seasonal_period: int | None) -> int:
    """One season ahead when there is a season, else 10 steps."""
    return int(seasonal_period) if seasonal_period and seasonal_period > 1 else 10


def resolve_forecasters(
    forecasters, seasonal_period: int | None, horizon: int | None = None
) -> dict[str, object]:
    """Turn ``None`` / names / a dict / a list of forecasters into ``{name: forecaster}``.

    ``None`` means the defaults of :func:`default_model_names`; named models are built for
    ``horizon``.
    """
    if forecasters is None:
        return {
            name: make_forecaster(name, seasonal_period, horizon)
            for name in default_model_names(seasonal_period)
        }
    if isinstance(forecasters, str):
        forecasters = [forecasters]
    if isinstance(forecasters, dict):
        items = list(forecasters.items())
    elif isinstance(forecasters, (list, tuple)):
        items = []
        for f in forecasters:
            items.append(
                (f, make_forecaster(f, seasonal_period, horizon)) if isinstance(f, str) else (None, f)
            )
    else:
        raise TypeError(
            "forecasters must be None (the defaults), a list of model names "
            f"({list(MODELS)}) or forecasters, or a dict name -> forecaster;"
            f" got {type(forecasters).__name__}."
        )
    out: dict[str, object] = {}
    for name, f in items:
        if isinstance(f, str):
            f = make_forecaster(f, seasonal_period, horizon)
        _check_forecaster(f)
        base = name if name is not None else type(f).__name__
        if not isinstance(base, str):
            raise TypeError(f"model names must be strings, got {base!r}.")
        unique, i = base, 2
        while unique in out:
            unique, i = f"{base}_{i}", i + 1
        out[unique] = f
    if not out:
        raise ValueError("forecasters is empty; give at least one model.")
    return out


def training_devices(models: dict, device: str | None = None) -> tuple[dict, dict[str, str]]:
    """Apply ``device`` to the models that have one (the recurrent ones) and say where each trains.

    Returns the models (those changed are clones: the caller's objects are left alone) and
    ``{name: device label}`` for every model with a ``device`` parameter, e.g. "cpu" or
    "cuda (NVIDIA A100-SXM4-40GB)"; a device that cannot run here is labelled with the reason
    (the model then fails in the backtest with that error).
    """
    from sklearn.base import clone

    from ..nn._device import device_description, resolve_device

    out, devices = {}, {}
    for name, forecaster in models.items():
        params = forecaster.get_params() if hasattr(forecaster, "get_params") else {}
        if _DEVICE_PARAM in params:
            if device is not None and params[_DEVICE_PARAM] != device:
                forecaster = clone(forecaster).set_params(**{_DEVICE_PARAM: device})
            try:
                devices[name] = device_description(resolve_device(forecaster.get_params()[_DEVICE_PARAM]))
            except (RuntimeError, ValueError) as exc:
                devices[name] = f"unavailable ({str(exc).split('. ')[0]})"
        out[name] = forecaster
    return out, devices


def compare(
    y,
    forecasters=None,
    horizon: int | None = None,
    n_windows: int = 5,
    step: int | None = None,
    X=None,
    seasonal_period: int | None = None,
    coverage: float = 0.9,
    refit: bool | int = True,
    n_jobs: int | None = None,
    progress: bool = False,
    errors: str = "warn",
    return_results: bool = False,
    device: str | None = None,
):
    """Backtest several forecasters on ``y`` and rank them by MASE.

    Parameters
    ----------
    y : pandas Series or DataFrame
        The series, indexed by time.
    forecasters : None, list or dict, default=None
        ``None``: naive, seasonal naive (only when the series has a season), ARIMA (automatic
        order), ETS (model selected by AICc), Theta, HMM (Markov-switching AR) and the
        recurrent RNN, LSTM and GRU forecasters.
        A list of names from :data:`tsrnn.evaluation.MODELS` and/or forecaster objects, or a
        dict ``{name: forecaster}``.
    horizon : int or None, default=None
        Steps forecast from each origin; ``None``: one season, or 10 without a season.
    n_windows : int, default=5
        Forecast origins (see :func:`tsrnn.backtest`).
    step : int or None, default=None
        Observations between origins (default ``horizon``).
    X : DataFrame, optional
        Exogenous regressors with a row for every timestamp of ``y``, given to the forecasters
        that use them (ARIMA, the recurrent ones); the naive and HMM baselines forecast from
        ``y`` alone.
    seasonal_period : int or None, default=None
        Season length for the seasonal naive, seasonal ARIMA and the MASE scale. ``None``
        infers it from the index frequency (12 monthly, 4 quarterly, 52 weekly, 7 daily, 24
        hourly; none for yearly data such as sunspots); 1 means no season.
    coverage : float, default=0.9
        Nominal coverage of the prediction intervals.
    refit : bool or int, default=True
        See :func:`tsrnn.backtest`.
    n_jobs : int or None, default=None
        Parallel jobs (joblib) over every model's refit groups of windows (and series, for a
        :class:`~tsrnn.PerSeriesForecaster`), all at once. Inside ``with
        joblib.parallel_backend("dask"):`` they run on a Dask cluster. Results do not depend
        on ``n_jobs`` or the backend.
    progress : bool, default=False
        One progress bar (tqdm) over all models and windows.
    errors : {"warn", "raise"}, default="warn"
        A model whose backtest fails is dropped with a warning (its error in
        ``summary.attrs["failed"]``), or the error is raised.
    return_results : bool, default=False
        Also return the tidy backtest results of all models.
    device : {"cpu", "cuda", "auto"} or None, default=None
        Where the recurrent models train (their ``estimator__device``); None keeps each
        model's own setting; "cuda" without a usable GPU raises a RuntimeError naming the
        fix. ``summary.attrs["devices"]`` records, per model that has a device, where it
        trained.

    Returns
    -------
    summary : DataFrame
        One row per model (index ``model``), ranked by MASE: ``mase, mae, rmse, smape,
        coverage, width, fit_time, predict_time, n_windows`` (metrics per window averaged over
        windows; see :mod:`tsrnn.evaluation.metrics`).
    results : DataFrame
        Only with ``return_results=True``: the concatenated :func:`tsrnn.backtest` frames.
    """
    from tqdm.auto import tqdm

    from ..estimators import warm_up

    check_series(y, "y")
    check_choice(errors, "errors", ("warn", "raise"))
    if seasonal_period is None:
        season = infer_seasonal_period(y.index)
    else:
        season = check_positive_int(seasonal_period, "seasonal_period")
    season = season if season and season > 1 else None
    horizon = default_horizon(season) if horizon is None else horizon
    # Arguments are checked once, up front: an error inside the loop belongs to one model.
    horizon, n_windows, _, group_size, X, coverage, _, starts = check_backtest_args(
        y, horizon, n_windows, step, refit, X, coverage, season or 1
    )
    models = resolve_forecasters(forecasters, season, horizon)
    if device is not None:
        from ..nn._device import resolve_device

        check_choice(device, "device", ("cpu", "reference", "cuda", "auto"))
        resolve_device(device)  # device="cuda" without a usable GPU: one clear error, up front
    models, devices = training_devices(models, device)

    # Every (model, refit group[, series]) is one task, all submitted at once, so n_jobs
    # workers (or a Dask cluster) stay busy across models; a model's failure is caught in its
    # own tasks and reported, unless errors="raise".
    plans, frames, failed = {}, [], {}

    def fail(name: str, exc: Exception) -> None:
        failed[name] = f"{type(exc).__name__}: {exc}"
        warnings.warn(f"model {name!r} failed and is left out: {failed[name]}", RuntimeWarning, stacklevel=3)

    for name, forecaster in models.items():
        # Exogenous columns go to the models that use them; the others forecast from y.
        x_model = X if getattr(forecaster, "_supports_exog", True) else None
        try:
            plans[name] = plan_tasks(
                forecaster, y, x_model, horizon, starts, group_size, coverage, name, season or 1
            )
        except Exception as exc:
            if errors == "raise":
                raise
            fail(name, exc)
    tasks = [args for args, _ in plans.values()]
    owners = [name for name, (args, _) in plans.items() for _ in args]
    capture = errors != "raise"
    outputs: dict[str, list] = {name: [] for name in plans}
    with tqdm(total=len(models) * n_windows, disable=not progress, desc="compare", unit="window") as pbar:
        pbar.set_postfix_str("compiling the recurrent kernels (first run only)")
        warm_up(models.values())
        stream = run_tasks(_run_task, [a for args in tasks for a in args], n_jobs, capture=capture)
        for name, result in zip(owners, stream):
            outputs[name].append(result)
            if len(outputs[name]) < len(plans[name][0]):
                continue
            pbar.set_postfix_str(name)
            errors_of = [r.error for r in outputs[name] if isinstance(r, TaskFailed)]
            try:
                if errors_of:
                    raise errors_of[0]
                frames.append(collect(outputs[name], plans[name][1], pbar))
            except Exception as exc:  # one broken model must not lose the others' results
                if errors == "raise":
                    raise
                fail(name, exc)
            outputs[name] = []  # free the forecasts once tidied
    if not frames:
        raise RuntimeError(f"every model failed: {failed}")
    results = pd.concat(frames, ignore_index=True)
    summary = summarize(results)
    summary.attrs["failed"] = failed
    summary.attrs["horizon"] = int(horizon)
    summary.attrs["seasonal_period"] = season
    summary.attrs["devices"] = {name: label for name, label in devices.items() if name in summary.index}
    return (summary, results) if return_results else summary
