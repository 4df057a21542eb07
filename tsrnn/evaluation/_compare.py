"""compare(): backtest several forecasters on one series and rank them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._parallel import TaskFailed, run_tasks
from .._validation import check_choice, check_positive_int
from ..estimators import find_recurrent, kernels_needed, with_device
from ..forecasting import check_forecaster_interface, check_series, is_panel, to_panel
from ..nn import compile_kernels, resolve_backend
from ._backtest import _run_task, check_backtest_args, check_quantiles, collect, plan_tasks
from ._registry import MODELS, default_model_names, make_forecaster
from ._season import infer_seasonal_period, infer_seasonal_periods
from .metrics import summarize

__all__ = ["compare", "default_horizon", "resolve_forecasters", "training_devices"]


def default_horizon(seasonal_period: int | None) -> int:
    """One season ahead when there is a season, else 10 steps."""
    return int(seasonal_period) if seasonal_period and seasonal_period > 1 else 10


DEFAULT_WINDOWS = 5


def fit_windows(
    n: int, horizon: int, n_windows: int, step: int | None, season: int, fixed: tuple[bool, bool]
) -> tuple[int, int, str | None]:
    """``(horizon, n_windows, note)`` that fit a series of ``n`` values.

    What the caller left at its default (``fixed = (horizon given, n_windows given)``) shrinks
    until the first window trains on at least ``max(2 season, 10)`` values (two full seasons),
    or on half the series when even that is out of reach: first the number of windows (down
    to 1), then the horizon (down to 1 step). ``note`` says what changed, or is ``None``. A ValueError (from
    :func:`~tsrnn.evaluation.backtest`'s window check) when not even one window fits.
    """

    need = max(2 * season, 10)
    if n - 1 < need:  # not even one step after two seasons: train on half the series
        need = n // 2

    def fits(h, w):
        s = h if step is None else step
        first_train = n - h - (w - 1) * s
        return first_train >= max(need, 2)

    horizon_fixed, windows_fixed = fixed
    h, w = horizon, n_windows
    while not fits(h, w) and not windows_fixed and w > 1:
        w -= 1
    while not fits(h, w) and not horizon_fixed and h > 1:
        h -= 1
    if not fits(h, w):
        h, w = horizon, n_windows  # let the window check explain what does not fit
    if (h, w) == (horizon, n_windows):
        return h, w, None
    plural = lambda k, word: f"{k} {word}{'s' if k != 1 else ''}"  # noqa: E731
    return (
        h,
        w,
        (
            f"{n} observations are too few for {plural(n_windows, 'window')} of {plural(horizon, 'step')}: "
            f"using {plural(w, 'window')} of {plural(h, 'step')}."
        ),
    )


def resolve_forecasters(
    forecasters, seasonal_period: int | None, seasonal_periods=None, horizon: int | None = None
) -> dict[str, object]:
    """Turn ``None`` / names / a dict / a list of forecasters into ``{name: forecaster}``.

    ``None`` means the defaults of :func:`default_model_names`. Named models are built for the
    seasonal period (and every season in ``seasonal_periods``, see :func:`make_forecaster`)
    and for ``horizon``.
    """

    def make(name):
        return make_forecaster(name, seasonal_period, seasonal_periods, horizon)

    if forecasters is None:
        return {name: make(name) for name in default_model_names(seasonal_period)}
    if isinstance(forecasters, str):
        forecasters = [forecasters]
    if isinstance(forecasters, dict):
        items = list(forecasters.items())
    elif isinstance(forecasters, (list, tuple)):
        items = []
        for f in forecasters:
            items.append((f, make(f)) if isinstance(f, str) else (None, f))
    else:
        raise TypeError(
            "forecasters must be None (the defaults), a list of model names "
            f"({list(MODELS)}) or forecasters, or a dict name -> forecaster;"
            f" got {type(forecasters).__name__}."
        )
    out: dict[str, object] = {}
    for name, f in items:
        if isinstance(f, str):
            f = make(f)
        check_forecaster_interface(f)
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


def training_devices(models: dict, device=None) -> tuple[dict, dict[str, str]]:
    """Apply ``device`` to the recurrent models and say where each trains.

    The recurrent models are those with a tsrnn recurrent estimator anywhere in them
    (:func:`tsrnn.estimators.find_recurrent`: a ``Forecaster``, also with its default
    estimator, a ``PerSeriesForecaster`` of one, ...). Returns the models (those changed are
    clones: the caller's objects are left alone) and ``{name: device label}`` for every
    recurrent model, e.g. "cpu" or "cuda (NVIDIA A100-SXM4-40GB)"; a device that cannot run
    here is labelled with the reason (the model then fails in the backtest with that error).
    ``device`` is a name of :data:`tsrnn.nn.DEVICES`, a resolved :class:`tsrnn.nn.Backend`,
    or None (each model keeps its own).
    """
    backend = None if device is None else resolve_backend(device)
    out, devices = {}, {}
    for name, forecaster in models.items():
        if backend is not None:
            forecaster = with_device(forecaster, backend.name)
        labels = []
        for est in find_recurrent(forecaster).values():
            try:
                label = (backend or resolve_backend(est.device)).label
            except (RuntimeError, ValueError) as exc:
                label = f"unavailable ({str(exc).split('. ')[0]})"
            if label not in labels:
                labels.append(label)
        if labels:
            devices[name] = ", ".join(labels)
        out[name] = forecaster
    return out, devices


def _call(fn, *args):
    """``fn(*args)``: lets one task stream mix kernel compilation and backtest windows."""
    return fn(*args)


def submission_order(models: dict, plans: dict, kernels: list[tuple[str, str]]) -> list[str]:
    """The order in which compare hands the models' tasks to the workers.

    The results do not depend on it (every task is independent and seeds itself); the wall
    time does. The kernel compilation goes first (on a first run it takes longest, and the
    workers compile different cells at once), then the statistical models that take a second
    or so per window (they fit while the kernels compile), then the recurrent models, cell by
    cell in the order their kernels compile, and the quick models last, so that the last tasks
    are short and no worker waits long for another.
    """
    cells = {cell: i for i, (cell, _) in enumerate(kernels)}

    def key(name: str):
        found = find_recurrent(models[name])
        spec = MODELS.get(name)
        if found:
            first = min((cells.get(est._cell_name(), len(cells)) for est in found.values()), default=0)
            return (1, first)
        return (2, 0) if spec is not None and spec.quick else (0, 0)

    return sorted(plans, key=key)  # stable: the models' own order within a group


def compare(
    y,
    forecasters=None,
    horizon: int | None = None,
    n_windows: int | None = None,
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
    quantiles=None,
):
    """Backtest several forecasters on ``y`` and rank them by MASE.

    Parameters
    ----------
    y : pandas Series or DataFrame, or a panel
        The series, indexed by time. A panel (long DataFrame ``unique_id``, ``ds``, ``y`` or
        a dict of Series) is backtested on shared cutoff dates (see
        :func:`tsrnn.evaluation.backtest_panel`): the recurrent models as global
        :class:`~tsrnn.Forecaster`\\ s, the others fitted per series; metrics are averaged
        over windows and series (per series: :func:`tsrnn.evaluation.metrics.summarize_series`).
    forecasters : None, list or dict, default=None
        ``None``: naive, seasonal naive (only when the series has a season), ARIMA (automatic
        order), ETS (model selected by AICc), Theta, HMM (Markov-switching AR) and the
        recurrent RNN, LSTM and GRU forecasters.
        A list of names from :data:`tsrnn.evaluation.MODELS` and/or forecaster objects, or a
        dict ``{name: forecaster}``.
    horizon : int or None, default=None
        Steps forecast from each origin; ``None``: one season (the shortest), or 10 without a
        season.
    n_windows : int or None, default=None
        Forecast origins (see :func:`tsrnn.backtest`); ``None``: 5. When the series is too short
        for the defaults, what was left at its default shrinks, fewer windows first, then a
        shorter horizon, with a UserWarning (and ``summary.attrs["note"]``) saying so; an
        error only when not even one window fits.
    step : int or None, default=None
        Observations between origins (default ``horizon``).
    X : DataFrame, optional
        Exogenous regressors with a row for every timestamp of ``y``, given to the forecasters
        that use them (ARIMA, the recurrent ones); the naive and HMM baselines forecast from
        ``y`` alone.
    seasonal_period : int or None, default=None
        Season length for the seasonal naive, seasonal ARIMA and the MASE scale. ``None``
        infers it from the index frequency (12 monthly, 4 quarterly, 52 weekly, 7 daily, 24
        hourly, 48 half-hourly; none for yearly data such as sunspots); 1 means no season.
        With ``None``, sub-daily and daily indexes also bring a second season (weekly, or
        yearly for daily data; see :func:`~tsrnn.evaluation.infer_seasonal_periods`), which
        ARIMA, ETS, Theta and the recurrent models remove by MSTL when the first window has
        two full cycles of it. With fewer than four, a UserWarning (and
        ``summary.attrs["season_note"]``) says that MSTL estimates it poorly and how to keep
        the shortest season alone.
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
    device : {"cpu", "reference", "cuda", "auto"}, Backend or None, default=None
        Where the recurrent models train: every tsrnn recurrent estimator in a model
        (:func:`tsrnn.estimators.find_recurrent`, including a ``Forecaster``'s default
        estimator and those inside a ``PerSeriesForecaster``) gets this ``device``; None keeps
        each model's own setting; "cuda" without a usable GPU raises a RuntimeError naming
        the fix. ``summary.attrs["devices"]`` records, per recurrent model, where it trained.
    quantiles : sequence of float or None, default=None
        Levels of the quantile forecasts each model records and the ``crps`` column scores
        (see :func:`tsrnn.backtest`); None: ``(1 - coverage) / 2``, 0.5 and
        ``(1 + coverage) / 2``.

    Returns
    -------
    summary : DataFrame
        One row per model (index ``model``), ranked by MASE: ``mase, mae, rmse, smape,
        coverage, width, crps, winkler, fit_time, predict_time, n_windows`` (metrics per
        window averaged over windows; see :mod:`tsrnn.evaluation.metrics`).
    results : DataFrame
        Only with ``return_results=True``: the concatenated :func:`tsrnn.backtest` frames.
    """
    if is_panel(y):
        return _compare_panel(
            y,
            forecasters,
            horizon,
            n_windows,
            step,
            X,
            seasonal_period,
            refit,
            n_jobs,
            errors,
            return_results,
            device,
        )
    check_series(y, "y")
    check_choice(errors, "errors", ("warn", "raise"))
    season, periods = _seasons(y.index, seasonal_period)
    horizon, n_windows, note = _shrink_to_fit(len(y), horizon, n_windows, step, season)
    # Arguments are checked once, up front: an error inside the loop belongs to one model.
    horizon, n_windows, _, group_size, X, coverage, _, starts = check_backtest_args(
        y, horizon, n_windows, step, refit, X, coverage, season or 1
    )
    levels = check_quantiles(quantiles, coverage)
    if note is not None:
        warnings.warn(note, UserWarning, stacklevel=2)
    # Seasons the first window's training data holds twice (the others cannot be estimated).
    periods = tuple(p for p in periods if p > 1 and 2 * p <= starts[0]) if season else ()
    season_note = _few_cycles(periods, season, starts[0])
    if season_note is not None:
        warnings.warn(season_note, UserWarning, stacklevel=2)
    models = resolve_forecasters(forecasters, season, periods, horizon)
    if device is not None:
        # Resolved once: an unknown name or device="cuda" without a usable GPU is one clear
        # error, up front.
        device = resolve_backend(device)
    models, devices = training_devices(models, device)

    # A model's failure is caught in its own tasks and reported, unless errors="raise".
    failed: dict[str, str] = {}
    plans = {}
    for name, forecaster in models.items():
        # Exogenous columns go to the models that use them; the others forecast from y.
        x_model = X if getattr(forecaster, "_supports_exog", True) else None
        try:
            plans[name] = plan_tasks(
                forecaster, y, x_model, horizon, starts, group_size, coverage, name, season or 1, levels
            )
        except Exception as exc:
            if errors == "raise":
                raise
            failed[name] = f"{type(exc).__name__}: {exc}"
    bar = {"total": len(models) * n_windows, "disable": not progress}
    done = _run_plans(models, plans, n_jobs, errors, failed, bar)
    for name in failed:
        warnings.warn(f"model {name!r} failed and is left out: {failed[name]}", RuntimeWarning, stacklevel=2)
    frames = [done[name] for name in plans if name in done]  # in the order of the models
    if not frames:
        raise RuntimeError(f"every model failed: {failed}")
    results = pd.concat(frames, ignore_index=True)
    summary = summarize(results)
    summary.attrs["failed"] = failed
    summary.attrs["horizon"] = int(horizon)
    summary.attrs["quantiles"] = list(levels)
    summary.attrs["seasonal_period"] = season
    summary.attrs["seasonal_periods"] = periods
    summary.attrs["note"] = note
    summary.attrs["season_note"] = season_note
    summary.attrs["devices"] = {name: label for name, label in devices.items() if name in summary.index}
    return (summary, results) if return_results else summary


#: A longer season that the first window holds fewer times than this gets a warning: with two or
#: three cycles, MSTL's component of it keeps much of the last cycle's noise and of a wandering
#: level, and repeating that cycle misleads every decomposed model (docs/compare.md).
FEW_CYCLES = 4


def _few_cycles(periods: tuple, season: int | None, n_first: int) -> str | None:
    """The warning for the longer seasons that ``n_first`` training values hold only 2-3 times."""
    few = [p for p in periods if p != season and n_first < FEW_CYCLES * p]
    if not few:
        return None
    held = ", ".join(f"the {p:g}-step season {n_first / p:.1f} times" for p in few)
    return (
        f"the first window's training data holds {held}: MSTL estimates such a season poorly, "
        f"and the decomposed models' intervals come out too narrow (docs/compare.md, 'A yearly "
        f"season held two or three times'). Pass seasonal_period={season} (the CLI's "
        f"--seasonal-period {season}) to keep only the shortest season."
    )


def _seasons(index: pd.Index, seasonal_period) -> tuple[int | None, tuple]:
    """The season (None without one) and every seasonal period of a series with ``index``:
    inferred from it, or the one given."""
    if seasonal_period is None:
        periods = infer_seasonal_periods(index)
        season = infer_seasonal_period(index)
    else:
        season = check_positive_int(seasonal_period, "seasonal_period")
        periods = (season,)
    return (season if season and season > 1 else None), periods


def _shrink_to_fit(n: int, horizon, n_windows, step, season: int | None) -> tuple:
    """``(horizon, n_windows, note)``: the defaults filled in and, on a short series, what was
    left at its default shrunk (:func:`fit_windows`); values of the wrong type pass through
    unchanged for :func:`check_backtest_args` to name."""
    fixed = (horizon is not None, n_windows is not None)
    horizon = default_horizon(season) if horizon is None else horizon
    n_windows = DEFAULT_WINDOWS if n_windows is None else n_windows
    integers = isinstance(horizon, (int, np.integer)) and isinstance(n_windows, (int, np.integer))
    if integers and horizon > 0 and n_windows > 0 and (step is None or isinstance(step, (int, np.integer))):
        return fit_windows(n, int(horizon), int(n_windows), step, season or 1, fixed)
    return horizon, n_windows, None


def _run_plans(models: dict, plans: dict, n_jobs, errors: str, failed: dict, bar: dict) -> dict:
    """Run every model's planned tasks and tidy each model's results as soon as its last task
    is back; returns ``{name: results}``, and records a failed model's error in ``failed``.

    Every (model, refit group[, series]) is one task, all submitted at once, so ``n_jobs``
    workers (or a Dask cluster) stay busy across models; the kernel sets the recurrent models
    need are compiled (or loaded) first, by the same workers.
    """
    from tqdm.auto import tqdm

    kernels = kernels_needed(models.values())
    order = submission_order(models, plans, kernels)
    calls = [(compile_kernels, cell, dtype, "cpu") for cell, dtype in kernels]
    calls += [(_run_task, *args) for name in order for args in plans[name][0]]
    owners = [None] * len(kernels) + [name for name in order for _ in plans[name][0]]
    outputs: dict[str, list] = {name: [] for name in plans}
    done: dict[str, pd.DataFrame] = {}
    with tqdm(desc="compare", unit="window", **bar) as pbar:
        if kernels:
            pbar.set_postfix_str("compiling the recurrent kernels (first run only)")
        stream = run_tasks(_call, calls, n_jobs, capture=errors != "raise")
        for name, result in zip(owners, stream):
            if name is None:  # a kernel set compiled (or loaded from the cache)
                if isinstance(result, TaskFailed):
                    raise result.error
                continue
            outputs[name].append(result)
            if len(outputs[name]) < len(plans[name][0]):
                continue
            pbar.set_postfix_str(name)
            errors_of = [r.error for r in outputs[name] if isinstance(r, TaskFailed)]
            try:
                if errors_of:
                    raise errors_of[0]
                done[name] = collect(outputs[name], plans[name][1], pbar)
            except Exception as exc:  # one broken model must not lose the others' results
                if errors == "raise":
                    raise
                failed[name] = f"{type(exc).__name__}: {exc}"
            outputs[name] = []  # free the forecasts once tidied
    return done


def _compare_panel(
    y,
    forecasters,
    horizon,
    n_windows,
    step,
    X,
    seasonal_period,
    refit,
    n_jobs,
    errors,
    return_results,
    device,
):
    """:func:`compare` on a panel."""
    from ._panel_backtest import compare_panel

    check_choice(errors, "errors", ("warn", "raise"))
    season, _ = _seasons(to_panel(y).index[0], seasonal_period)
    horizon = default_horizon(season) if horizon is None else horizon
    models = resolve_forecasters(forecasters, season, horizon=horizon)
    models, devices = training_devices(models, device)
    n_windows = DEFAULT_WINDOWS if n_windows is None else n_windows
    results, failed = compare_panel(
        y, models, horizon, n_windows, step, X, season or 1, refit, n_jobs, errors
    )
    summary = summarize(results)
    summary.attrs["failed"] = failed
    summary.attrs["horizon"] = int(horizon)
    summary.attrs["seasonal_period"] = season
    summary.attrs["devices"] = {name: label for name, label in devices.items() if name in summary.index}
    return (summary, results) if return_results else summary
