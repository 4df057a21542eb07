"""The forecasting recipe of the recurrent models: STL deseasonalising against statsmodels' STL,
window normalisation and the window rule against hand computations, the recipe on a simulated
seasonal series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.neighbors import KNeighborsRegressor
from statsmodels.tsa.seasonal import STL

from tsrnn import Forecaster, GRURegressor
from tsrnn.forecasting import RecurrentForecaster, TargetTransform, input_window


def seasonal_series(n: int = 60, period: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 0.3 * t + 5 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.3, n)


def test_window_rule_by_hand():
    # ceil(1.25 * max(season, horizon)) with a season, ceil(2 * horizon) without; at least 2
    assert input_window(12, 12) == 15  # 1.25 * 12 = 15
    assert input_window(6) == 12  # no season: 2 * 6
    assert input_window(6, 1) == 12  # a season of 1 is none
    assert input_window(6, factor=1.25) == 8  # 7.5 -> 8
    assert input_window(8, 4) == 10
    assert input_window(18, 12) == 23  # 22.5 -> 23
    assert input_window(1) == 2


@pytest.mark.parametrize("log", [False, True])
def test_stl_deseasonalise_round_trip_against_statsmodels(log):
    y = seasonal_series()[:, None]
    n, p = len(y), 12
    tr = TargetTransform(log=log, stl_period=p, standardize=True).fit(y)
    level = np.log(y[:, 0]) if log else y[:, 0]
    seasonal = STL(level, period=p, robust=True).fit().seasonal  # the oracle
    expected = (level - seasonal - np.mean(level - seasonal)) / np.std(level - seasonal)
    np.testing.assert_allclose(tr.transform(y)[:, 0], expected, rtol=1e-10, atol=1e-10)
    # inverse at the end of the data: z back to the level, plus the season one period back
    z = np.array(
        [[[0.1], [-0.2], [0.3], [0.0], [1.0], [0.5], [0.2], [0.1], [0.0], [0.3], [0.2], [0.1], [0.4]]]
    )
    out = tr.inverse(z, y, np.array([n]))[0, :, 0]
    mean, sd = np.mean(level - seasonal), np.std(level - seasonal)
    k = np.arange(13)
    hand = z[0, :, 0] * sd + mean + seasonal[n + k - p * (k // p + 1)]
    np.testing.assert_allclose(out, np.exp(hand) if log else hand, rtol=1e-10)
    # a transformed window maps back to the observed values exactly (inside the data)
    zin = tr.transform(y)[None, n - 13 : n - 1]
    back = tr.inverse(zin, y, np.array([n - 13]))[0, :, 0]
    in_sample = level[n - 13 : n - 1] - seasonal[n - 13 : n - 1] + seasonal[n - 13 + np.arange(12) - 12]
    np.testing.assert_allclose(back, np.exp(in_sample) if log else in_sample, rtol=1e-10)


@pytest.mark.parametrize("normalize", ["last", "mean", "drift"])
def test_window_normalisation_extrapolates_a_trend(normalize):
    # A nearest-neighbour regressor cannot forecast beyond the levels it saw; relative to the
    # window's level every window of a straight line is the same, so with normalisation it
    # continues the line exactly: y[t] = 3 + 2 t.
    y = pd.Series(3.0 + 2.0 * np.arange(40))
    knn = KNeighborsRegressor(n_neighbors=1)
    for strategy, horizon in (("direct", 5), ("recursive", None)):
        f = Forecaster(
            knn, window=4, strategy=strategy, horizon=horizon, standardize=False, normalize=normalize
        )
        pred = f.fit(y).predict(5).to_numpy()
        np.testing.assert_allclose(pred, 3.0 + 2.0 * np.arange(40, 45), rtol=1e-12)
    plain = Forecaster(knn, window=4, standardize=False).fit(y).predict(5).to_numpy()
    assert np.all(plain <= y.max())  # without it the forecast stays inside the training range


def test_drift_normalisation_continues_each_window_s_line_by_hand():
    """A network that outputs 0 after ``normalize="drift"`` forecasts the line through its
    window's first and last values: by hand, for the direct model at once, and for the
    recursive one step by step with the window moving over its own forecasts."""
    y = pd.Series(np.arange(30.0) ** 2)
    w, h = 4, 5
    direct = Forecaster(
        DummyRegressor(strategy="constant", constant=np.zeros(h)),
        window=w, strategy="direct", horizon=h, standardize=False, normalize="drift",
    ).fit(y)  # fmt: skip
    last, slope = 29.0**2, (29.0**2 - 26.0**2) / (w - 1)
    np.testing.assert_allclose(direct.predict(h).to_numpy(), last + slope * np.arange(1, h + 1), rtol=1e-12)
    recursive = Forecaster(
        DummyRegressor(strategy="constant", constant=0.0),
        window=w, strategy="recursive", standardize=False, normalize="drift",
    ).fit(y)  # fmt: skip
    buf = list(y.to_numpy())
    for _ in range(h):
        buf.append(buf[-1] + (buf[-1] - buf[-w]) / (w - 1))
    np.testing.assert_allclose(recursive.predict(h).to_numpy(), buf[-h:], rtol=1e-12)


def test_recipe_forecasts_a_seasonal_series():
    y = pd.Series(seasonal_series(96), index=pd.period_range("2000-01", periods=96, freq="M"))
    train, test = y.iloc[:-12], y.iloc[-12:].to_numpy()
    est = GRURegressor(hidden_size=8, max_iter=30, early_stopping=True)
    f = RecurrentForecaster(est, horizon=12, seasonal_period=12, n_models=2, random_state=0).fit(train)
    assert f.window_ == 15 and len(f.forecasters_) == 2
    assert {m.random_state for m in f.forecasters_} == {0, 1}
    assert f.deseasonalized_  # a strong yearly season: STL is used
    pred = f.predict(12)
    assert pred.index.equals(test_index := y.index[-12:]), test_index
    members = np.stack([m.predict(12).to_numpy() for m in f.forecasters_])
    np.testing.assert_allclose(pred.to_numpy(), np.median(members, axis=0))
    # the seasonal naive forecast misses the trend (0.3 a month, 3.6 a year); the recipe follows it
    snaive = train.iloc[-12:].to_numpy()
    assert np.mean(np.abs(pred.to_numpy() - test)) < 0.5 * np.mean(np.abs(snaive - test))
    iv = f.predict_interval(12, coverage=0.8)
    assert np.all(iv["lower"].to_numpy() <= pred.to_numpy()) and np.all(
        pred.to_numpy() <= iv["upper"].to_numpy()
    )


def test_refit_trains_on_every_window_for_the_epochs_the_tail_chose():
    # Oracle: the same steps by hand. An early-stopping Forecaster picks the epoch of the lowest
    # loss on its held-out tail; a second one, without early stopping, trains that many epochs on
    # every window. The recipe with refit=True must forecast exactly what the second one does.
    y = pd.Series(seasonal_series(72), index=pd.period_range("2000-01", periods=72, freq="M"))
    est = GRURegressor(hidden_size=4, max_iter=25, n_iter_no_change=5, early_stopping=True)
    f = RecurrentForecaster(
        est, horizon=6, window=8, strategy="direct", log=False, deseasonalize=False, refit=True, n_models=1
    ).fit(y)
    same = dict(
        window=8, strategy="direct", horizon=6, log=False, normalize="last", linear="aicc", random_state=0
    )
    first = Forecaster(est, **same).fit(y)
    curve = first.estimator_.validation_loss_curve_
    assert len(curve) > 0
    best = int(np.argmin(curve)) + 1
    by_hand = Forecaster(
        GRURegressor(hidden_size=4, max_iter=best, n_iter_no_change=5, early_stopping=False), **same
    ).fit(y)
    member = f.forecasters_[0].estimator_
    assert member.early_stopping is False and member.n_iter_ <= best
    assert len(member.validation_loss_curve_) == 0  # no tail held out: every window trained on
    np.testing.assert_allclose(f.predict(6).to_numpy(), by_hand.predict(6).to_numpy(), rtol=1e-12)


def test_a_list_of_estimators_is_an_ensemble_of_cells():
    y = pd.Series(seasonal_series(60))
    cells = [GRURegressor(hidden_size=4, max_iter=5), GRURegressor(hidden_size=3, max_iter=5)]
    f = RecurrentForecaster(cells, horizon=4, n_models=2, random_state=1).fit(y)
    sizes = [m.estimator_.hidden_size for m in f.forecasters_]
    assert sizes == [4, 3, 4, 3]  # every estimator n_models times
    assert [m.random_state for m in f.forecasters_] == [4, 5, 6, 7]  # distinct across random_state
    members = np.stack([m.predict(4).to_numpy() for m in f.forecasters_])
    np.testing.assert_allclose(f.predict(4).to_numpy(), np.median(members, axis=0))
    with pytest.raises(ValueError, match="empty list"):
        RecurrentForecaster([], horizon=4).fit(y)
    with pytest.raises(TypeError, match="refit"):
        RecurrentForecaster(cells[0], horizon=4, refit="yes").fit(y)


def test_strategy_auto_is_recursive_without_a_season_and_direct_with_one():
    est = GRURegressor(hidden_size=4, max_iter=5)
    y = pd.Series(seasonal_series(60))
    f = RecurrentForecaster(est, horizon=4, strategy="auto", log=False, n_models=1).fit(y)
    # oracle: the recursive Forecaster built by hand with the recipe's window rule
    by_hand = Forecaster(
        est,
        window=input_window(4),
        strategy="recursive",
        log=False,
        normalize="last",
        linear="aicc",
        random_state=0,
    ).fit(y)
    assert f.strategy_ == "recursive" and f.horizon_ is None
    np.testing.assert_allclose(f.predict(6).to_numpy(), by_hand.predict(6).to_numpy(), rtol=1e-12)
    g = RecurrentForecaster(est, horizon=4, seasonal_period=12, strategy="auto").fit(y)
    assert g.strategy_ == "direct" and g.forecasters_[0].horizon == 4
    # by default the median of three networks, seeded 0, 1, 2
    assert [m.random_state for m in g.forecasters_] == [0, 1, 2]
    members = np.stack([m.predict(4).to_numpy() for m in g.forecasters_])
    np.testing.assert_allclose(g.predict(4).to_numpy(), np.median(members, axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match="strategy must be"):
        RecurrentForecaster(est, horizon=4, strategy="both").fit(y)
