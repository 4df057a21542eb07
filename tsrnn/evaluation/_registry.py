"""Named forecasters for :func:`tsrnn.compare` and ``tsrnn compare --models``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MODELS", "default_model_names", "make_forecaster", "prepare_workers"]

#: What compare's worker processes import before their first task: the module of the task
#: function, which the first task would import anyway (and with it scikit-learn, pandas and the
#: estimators); the statistical models import their statsmodels pieces when they first fit.
WORKER_MODULES = ("tsrnn.evaluation._compare",)


def prepare_workers(n_jobs: int | None):
    """Start ``n_jobs`` worker processes for :func:`tsrnn.compare` in the background.

    They import :data:`WORKER_MODULES` (the modules the first task would import) while the
    caller loads its data and builds the models; ``compare(..., n_jobs=n_jobs)`` then reuses
    them. Returns a thread to ``join`` before calling compare, or None (one job, or not
    joblib's process pool).
    """
    from .._parallel import prestart

    return prestart(n_jobs, WORKER_MODULES)


@dataclass(frozen=True)
class ModelSpec:
    description: str
    # (seasonal period or None, horizon or None) -> forecaster
    factory: Callable[[int | None, int | None], object]
    needs_season: bool = False
    recurrent: bool = False
    # Longest season the model handles itself; longer ones, or several, are removed first by
    # STL/MSTL (DeseasonalizedForecaster). None: the model gets the season as it is.
    max_season: float | None = None
    # A fraction of a second per window: compare runs it after the costlier models, so that
    # the last tasks to finish are short ones and no worker waits long for another.
    quick: bool = False


def _naive(m, horizon):
    from ..baselines import NaiveForecaster

    return NaiveForecaster()


def _snaive(m, horizon):
    from ..baselines import NaiveForecaster

    return NaiveForecaster(seasonal_period=m)


def _drift(m, horizon):
    from ..baselines import NaiveForecaster

    return NaiveForecaster(drift=True)


def _arima(m, horizon):
    from ..baselines import ARIMAForecaster

    return ARIMAForecaster(seasonal_period=m)


def _ets(m, horizon):
    from ..baselines import ETSForecaster

    return ETSForecaster(seasonal_period=m)


def _theta(m, horizon):
    from ..baselines import ThetaForecaster

    return ThetaForecaster(seasonal_period=m)


def _hmm(m, horizon):
    from ..baselines import HMMForecaster

    return HMMForecaster()


#: ``ModelSpec.max_season`` of a model that handles one season of any length itself (the Theta
#: method's test and decomposition, the recurrent recipe's STL) but not several at once.
ONE_SEASON = float("inf")

#: Training windows of compare's recurrent models (see Forecaster's max_windows).
MAX_WINDOWS = 1000


def _recurrent(cell: str) -> Callable[[int | None, int | None], object]:
    def factory(m, horizon):
        from ..forecasting import RecurrentForecaster, recipe_estimator

        # The recipe's defaults were chosen on the tuning half of benchmarks/accuracy.py
        # (benchmarks/ACCURACY.md). At most MAX_WINDOWS training windows keep the cost bounded
        # on long series.
        est = recipe_estimator(cell)
        return RecurrentForecaster(est, horizon=horizon, seasonal_period=m, max_windows=MAX_WINDOWS)

    return factory


def _linear_ar(m, horizon):
    from sklearn.dummy import DummyRegressor

    # the recurrent recipe with its network replaced by the training mean of the linear part's
    # residuals (zero): what the linear autoregression on the normalised window does alone
    return _recurrent("gru")(m, horizon).set_params(estimator=DummyRegressor())


def _recurrent_ensemble(m, horizon):
    from ..forecasting import RecurrentForecaster, recipe_estimator

    # the median of the three cells' forecasts, each network built as in _recurrent
    cells = [recipe_estimator(c) for c in ("rnn_tanh", "lstm", "gru")]
    return RecurrentForecaster(cells, horizon=horizon, seasonal_period=m, max_windows=MAX_WINDOWS)


MODELS: dict[str, ModelSpec] = {
    "naive": ModelSpec("last value", _naive, quick=True),
    "snaive": ModelSpec("seasonal naive (last season repeated)", _snaive, needs_season=True, quick=True),
    "drift": ModelSpec("last value plus average change", _drift, quick=True),
    "arima": ModelSpec("ARIMA, order selected automatically", _arima, max_season=12),
    "ets": ModelSpec("exponential smoothing (ETS), model selected by AICc", _ets, max_season=24, quick=True),
    "theta": ModelSpec(
        "Theta method (SES with drift), seasonality tested", _theta, max_season=ONE_SEASON, quick=True
    ),
    "hmm": ModelSpec("hidden Markov model: 2-regime Markov-switching AR(2)", _hmm),
    "rnn": ModelSpec("Elman RNN (tanh)", _recurrent("rnn_tanh"), recurrent=True, max_season=ONE_SEASON),
    "lstm": ModelSpec("LSTM", _recurrent("lstm"), recurrent=True, max_season=ONE_SEASON),
    "gru": ModelSpec("GRU", _recurrent("gru"), recurrent=True, max_season=ONE_SEASON),
    "rnn-ensemble": ModelSpec(
        "median of the Elman RNN, LSTM and GRU forecasts",
        _recurrent_ensemble,
        recurrent=True,
        max_season=ONE_SEASON,
    ),
    "linear-ar": ModelSpec(
        "the recurrent recipe without its network: the linear autoregression alone",
        _linear_ar,
        quick=True,
        max_season=ONE_SEASON,
    ),
}


def default_model_names(seasonal_period: int | None) -> list[str]:
    """The models :func:`tsrnn.compare` runs by default (seasonal naive only with a season)."""
    names = ["naive"]
    if seasonal_period and seasonal_period > 1:
        names.append("snaive")
    return [*names, "arima", "ets", "theta", "hmm", "rnn", "lstm", "gru"]


def make_forecaster(
    name: str, seasonal_period: int | None = None, seasonal_periods=None, horizon: int | None = None
):
    """A fresh forecaster for a registered model name (see :data:`MODELS`).

    ``seasonal_periods`` (e.g. ``(48, 336)`` for half-hourly data) lists every season of the
    series. ARIMA with a season longer than 12 and ETS with one longer than 24 forecast the STL
    seasonally adjusted series, never with a seasonal AR of order 48. With several seasons,
    every model but the naive ones and the HMM forecasts the MSTL seasonally adjusted series
    with its variant without a season: ARIMA, ETS, Theta and the recurrent models alike
    (:class:`~tsrnn.forecasting.DeseasonalizedForecaster`; docs/compare.md, "Several seasons").
    ``horizon`` is the forecast horizon the model is built for (the recurrent models fit one
    multi-output network for it); ``None`` lets each model choose (one season, or 10 steps).
    """
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {list(MODELS)}.")
    spec = MODELS[name]
    m = seasonal_period if seasonal_period and seasonal_period > 1 else None
    if spec.needs_season and m is None:
        raise ValueError(
            f"model {name!r} needs a seasonal period, but this series has none (its index frequency "
            "implies no calendar season); pass seasonal_period (CLI: --seasonal-period) or drop it."
        )
    from ..forecasting import DeseasonalizedForecaster, check_periods

    periods = check_periods(seasonal_periods) or ((m,) if m else ())
    if spec.max_season is not None and periods and (len(periods) > 1 or periods[0] > spec.max_season):
        return DeseasonalizedForecaster(spec.factory(None, horizon), periods)
    return spec.factory(m, horizon)
