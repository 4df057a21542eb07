"""Named forecasters for :func:`tsrnn.compare` and ``tsrnn compare --models``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MODELS", "default_model_names", "make_forecaster"]


@dataclass(frozen=True)
class ModelSpec:
    description: str
    factory: Callable[[int | None], object]  # seasonal period (None: no season) -> forecaster
    needs_season: bool = False
    recurrent: bool = False
    # Longest season the model handles itself; longer ones, or several, are removed first by
    # STL/MSTL (DeseasonalizedForecaster). None: the model gets the season as it is.
    max_season: float | None = None


def _naive(m):
    from ..baselines import NaiveForecaster

    return NaiveForecaster()


def _snaive(m):
    from ..baselines import NaiveForecaster

    return NaiveForecaster(seasonal_period=m)


def _drift(m):
    from ..baselines import NaiveForecaster

    return NaiveForecaster(drift=True)


def _arima(m):
    from ..baselines import ARIMAForecaster

    return ARIMAForecaster(seasonal_period=m)


def _ets(m):
    from ..baselines import ETSForecaster

    return ETSForecaster(seasonal_period=m)


def _theta(m):
    from ..baselines import ThetaForecaster

    return ThetaForecaster(seasonal_period=m)


def _hmm(m):
    from ..baselines import HMMForecaster

    return HMMForecaster()


#: Training windows of compare's recurrent models (see Forecaster's max_windows).
MAX_WINDOWS = 1000


def _recurrent(cell: str) -> Callable[[int | None], object]:
    def factory(m):
        # Imported lazily: the recurrent estimators and the Forecaster wrapper live in their own
        # modules, and the baselines must work without them.
        from ..estimators import RecurrentRegressor
        from ..forecasting import Forecaster

        # Input window: two seasons when there is one, else 24 steps (two ~11-year solar cycles
        # on yearly sunspots). Differencing chosen per series by KPSS tests at 1% (a trend such
        # as CO2's is removed; a stationary cycle such as the sunspots' is kept). These defaults
        # were checked over 5 seeds on sunspots against other windows, sizes and learning rates
        # (docs/compare.md).
        window = 2 * m if m else 24
        # At most 1000 training windows (evenly spaced, the latest included): on a long series
        # (4,032 half-hourly values: 3,900 overlapping windows) the training cost stays bounded.
        return Forecaster(
            RecurrentRegressor(cell=cell, random_state=0), window=window, diff="auto", max_windows=MAX_WINDOWS
        )

    return factory


MODELS: dict[str, ModelSpec] = {
    "naive": ModelSpec("last value", _naive),
    "snaive": ModelSpec("seasonal naive (last season repeated)", _snaive, needs_season=True),
    "drift": ModelSpec("last value plus average change", _drift),
    "arima": ModelSpec("ARIMA, order selected automatically", _arima, max_season=12),
    "ets": ModelSpec("exponential smoothing (ETS), model selected by AICc", _ets, max_season=24),
    "theta": ModelSpec("Theta method (SES with drift), seasonality tested", _theta, max_season=float("inf")),
    "hmm": ModelSpec("hidden Markov model: 2-regime Markov-switching AR(2)", _hmm),
    "rnn": ModelSpec("Elman RNN (tanh)", _recurrent("rnn_tanh"), recurrent=True),
    "lstm": ModelSpec("LSTM", _recurrent("lstm"), recurrent=True),
    "gru": ModelSpec("GRU", _recurrent("gru"), recurrent=True),
}


def default_model_names(seasonal_period: int | None) -> list[str]:
    """The models :func:`tsrnn.compare` runs by default (seasonal naive only with a season)."""
    names = ["naive"]
    if seasonal_period and seasonal_period > 1:
        names.append("snaive")
    return [*names, "arima", "ets", "theta", "hmm", "rnn", "lstm", "gru"]


def make_forecaster(name: str, seasonal_period: int | None = None, seasonal_periods=None):
    """A fresh forecaster for a registered model name (see :data:`MODELS`).

    ``seasonal_periods`` (e.g. ``(48, 336)`` for half-hourly data) lists every season of the
    series; ARIMA with a season longer than 12, ETS longer than 24, and ARIMA, ETS and Theta
    with several seasons forecast the STL/MSTL seasonally adjusted series
    (:class:`~tsrnn.forecasting.DeseasonalizedForecaster`), never with a seasonal AR of order 48.
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
        return DeseasonalizedForecaster(spec.factory(None), periods)
    return spec.factory(m)
