"""Probabilistic forecasts: the regressor's distributions, the Forecaster's quantiles, sample
paths and intervals, checked against closed forms, Monte-Carlo, statsmodels and coverage on
simulated series with known distributions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tsrnn import Forecaster, RecurrentRegressor
from tsrnn.evaluation import metrics

SMALL = dict(cell="gru", hidden_size=8, max_iter=60, learning_rate=0.01, random_state=0)


def ar1(n: int, noise: str = "gaussian", seed: int = 0, phi: float = 0.7) -> np.ndarray:
    """AR(1) with Gaussian, Student-t(4) or level-dependent Gaussian noise."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(1, n):
        if noise == "gaussian":
            e = rng.normal()
        elif noise == "student_t":
            e = rng.standard_t(4)
        else:  # the noise scale grows with the level
            e = (0.5 + 0.5 * abs(y[t - 1])) * rng.normal()
        y[t] = phi * y[t - 1] + e
    return y


def windows(y: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.lib.stride_tricks.sliding_window_view(y[:-1], width)
    return X, y[width:]


@pytest.fixture(scope="module")
def gaussian_forecaster():
    y = pd.Series(ar1(1200))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Forecaster(RecurrentRegressor(loss="gaussian", **SMALL), window=5, random_state=0).fit(y), y


# -- the regressor --------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["gaussian", "student_t", "quantile"])
def test_regressor_distribution_quantiles_and_samples(loss):
    X, y = windows(ar1(600, seed=1), 4)
    est = RecurrentRegressor(loss=loss, quantiles=(0.05, 0.5, 0.95), **SMALL).fit(X, y)
    assert est.probabilistic_
    dist = est.predict_distribution(X[:50])
    q = est.predict_quantiles(X[:50], (0.05, 0.25, 0.5, 0.75, 0.95))
    assert q.shape == (50, 5) and np.all(np.diff(q, axis=1) >= 0)
    point = est.predict(X[:50])
    if loss == "gaussian":
        np.testing.assert_allclose(point, dist["mean"])
        np.testing.assert_allclose(
            q, stats.norm.ppf([0.05, 0.25, 0.5, 0.75, 0.95], dist["mean"][:, None], dist["scale"][:, None])
        )
    elif loss == "student_t":
        np.testing.assert_allclose(point, dist["loc"])
        assert np.all(dist["df"] > 2)
        expect = stats.t.ppf(
            [0.05, 0.5, 0.95], dist["df"][:, None], dist["loc"][:, None], dist["scale"][:, None]
        )
        np.testing.assert_allclose(q[:, [0, 2, 4]], expect, rtol=1e-10)
    else:
        np.testing.assert_allclose(point, dist["q0.5"])
        np.testing.assert_allclose(
            q[:, [0, 2, 4]], np.column_stack([dist[k] for k in ("q0.05", "q0.5", "q0.95")])
        )
    draws = est.sample(X[:2], 4000, random_state=0)
    assert draws.shape == (2, 4000)
    # Monte-Carlo: the share of draws below each quantile is its level (within 4.5 standard
    # errors); the quantile head samples between its lowest and highest levels only
    for k, tau in enumerate((0.05, 0.25, 0.5, 0.75, 0.95)):
        expect = (tau - 0.05) / 0.9 if loss == "quantile" else tau
        share = (draws < q[:2, k : k + 1]).mean(axis=1)
        assert np.all(np.abs(share - expect) <= 4.5 * np.sqrt(max(expect * (1 - expect), 1e-4) / 4000))


def test_multi_output_and_point_losses():
    X, y = windows(ar1(400, seed=2), 4)
    Y = np.column_stack([y, 2 * y + 1])
    est = RecurrentRegressor(loss="gaussian", **SMALL).fit(X, Y)
    assert est.network_.output_size == 4 and est.predict(X[:3]).shape == (3, 2)
    assert est.predict_quantiles(X[:3], (0.1, 0.9)).shape == (3, 2, 2)
    assert est.predict_distribution(X[:3])["scale"].shape == (3, 2)
    for loss in ("absolute_error", "huber"):
        point = RecurrentRegressor(loss=loss, **SMALL).fit(X, y)
        assert not point.probabilistic_ and point.predict(X[:3]).shape == (3,)
        with pytest.raises(ValueError, match="point forecast"):
            point.predict_quantiles(X[:3])
    with pytest.raises(ValueError, match=r"spanning 0\.5"):
        RecurrentRegressor(loss="quantile", quantiles=(0.1, 0.3), **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        RecurrentRegressor(loss="poisson", **SMALL).fit(X, y)


def test_warm_start_keeps_the_loss_and_persistence_round_trips(tmp_path):
    import tsrnn

    X, y = windows(ar1(300, seed=3), 4)
    est = RecurrentRegressor(loss="student_t", **{**SMALL, "max_iter": 5}).fit(X, y)
    path = tmp_path / "model.tsrnn"
    tsrnn.save(est, path)
    back = tsrnn.load(path)
    np.testing.assert_array_equal(
        back.predict_quantiles(X[:5], (0.1, 0.9)), est.predict_quantiles(X[:5], (0.1, 0.9))
    )
    est.set_params(warm_start=True, loss="gaussian")
    with pytest.raises(ValueError, match="loss"):
        est.fit(X, y)


# -- the Forecaster -------------------------------------------------------------------------------


def test_one_step_quantiles_are_the_heads_and_paths_match_its_crps(gaussian_forecaster):
    f, y = gaussian_forecaster
    est, tr = f.estimator_, f.transform_
    window = (y.to_numpy()[-5:] - tr.mean_[0]) / tr.scale_[0]
    dist = est.predict_distribution(window[None, :])
    mean = dist["mean"][0] * tr.scale_[0] + tr.mean_[0]
    sd = dist["scale"][0] * tr.scale_[0]
    q = f.predict_quantiles(1, quantiles=(0.05, 0.5, 0.95))
    np.testing.assert_allclose(q.to_numpy()[0], stats.norm.ppf([0.05, 0.5, 0.95], mean, sd), rtol=1e-6)
    assert q.index[0] == y.index[-1] + 1
    # CRPS of the simulated one-step paths against the closed-form Gaussian CRPS, for a few
    # possible outcomes; the tolerance is 4 Monte-Carlo standard errors (from 20 batches)
    paths = f.sample_paths(1, n_paths=20_000, random_state=1).to_numpy()[0]
    for outcome in (mean - 2 * sd, mean, mean + 0.7 * sd):
        exact = metrics.gaussian_crps(outcome, mean, sd)
        batches = [metrics.crps_from_samples(np.array(outcome), b) for b in paths.reshape(20, -1)]
        estimate = metrics.crps_from_samples(np.array(outcome), paths)
        assert abs(estimate - exact) < 4 * np.std(batches, ddof=1) / np.sqrt(20)


@pytest.mark.parametrize("normalize", ["last", "mean"])
def test_quantiles_and_paths_of_a_window_normalised_model_are_around_its_forecast(normalize):
    """The head sees windows minus their level, as in training; the level goes back on its
    quantiles and draws (the point forecast's rule), by hand from the head's distribution."""
    y = pd.Series(50 + np.cumsum(ar1(400, seed=6)))  # a random walk far from zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = Forecaster(RecurrentRegressor(loss="gaussian", **SMALL), window=5, normalize=normalize).fit(y)
    tr = f.transform_
    window = (y.to_numpy()[-5:] - tr.mean_[0]) / tr.scale_[0]
    level = window[-1] if normalize == "last" else window.mean()
    dist = f.estimator_.predict_distribution((window - level)[None, :])
    mean = (dist["mean"][0] + level) * tr.scale_[0] + tr.mean_[0]
    sd = dist["scale"][0] * tr.scale_[0]
    assert f.predict(1).iloc[0] == pytest.approx(mean, rel=1e-9)
    q = f.predict_quantiles(1, quantiles=(0.05, 0.5, 0.95))
    np.testing.assert_allclose(q.to_numpy()[0], stats.norm.ppf([0.05, 0.5, 0.95], mean, sd), rtol=1e-6)
    draws = f.sample_paths(1, n_paths=20_000, random_state=0).to_numpy()[0]
    assert abs(draws.mean() - mean) < 4 * sd / np.sqrt(len(draws))
    # the direct strategy: every step's quantiles around its point forecast
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = Forecaster(
            RecurrentRegressor(loss="gaussian", **SMALL),
            window=5,
            normalize=normalize,
            strategy="direct",
            horizon=3,
        ).fit(y)
    np.testing.assert_allclose(d.predict_quantiles(3, quantiles=(0.5,))[0.5], d.predict(3), rtol=1e-9)


def test_multi_step_quantiles_from_sample_paths(gaussian_forecaster):
    f, _ = gaussian_forecaster
    paths = f.sample_paths(4, n_paths=2000, random_state=3)
    assert paths.shape == (4, 2000) and paths.index.equals(f.predict(4).index)
    q = f.predict_quantiles(4, quantiles=(0.1, 0.5, 0.9), n_paths=2000, random_state=3)
    np.testing.assert_allclose(q.to_numpy(), np.quantile(paths.to_numpy(), [0.1, 0.5, 0.9], axis=1).T)
    assert np.all(np.diff(q.to_numpy(), axis=1) > 0)
    # the spread grows with the horizon, as the AR(1)'s does (sigma^2 (1 + phi^2 + ...))
    width = (q[0.9] - q[0.1]).to_numpy()
    assert width[-1] > width[0]
    iv = f.predict_interval(4, 0.8, method="model", n_paths=2000, random_state=3)
    np.testing.assert_allclose(iv.to_numpy(), q[[0.1, 0.9]].to_numpy())
    with pytest.raises(ValueError, match="method must be one of"):
        f.predict_interval(2, 0.8, method="bootstrap")


def test_point_regressors_fall_back_to_conformal_and_refuse_paths():
    y = pd.Series(ar1(300, seed=4))
    f = Forecaster(RecurrentRegressor(**{**SMALL, "max_iter": 5}), window=5).fit(y)
    q = f.predict_quantiles(3, quantiles=(0.05, 0.5, 0.95))
    iv = f.predict_interval(3, 0.9)
    np.testing.assert_allclose(q[[0.05, 0.95]].to_numpy(), iv.to_numpy())
    np.testing.assert_allclose(q[0.5].to_numpy(), f.predict(3).to_numpy())
    for call in (lambda: f.sample_paths(3), lambda: f.predict_interval(3, 0.9, method="model")):
        with pytest.raises(ValueError, match="predicts a distribution"):
            call()
    direct = Forecaster(
        RecurrentRegressor(loss="gaussian", **{**SMALL, "max_iter": 5}),
        window=5,
        strategy="direct",
        horizon=3,
        diff=1,
    ).fit(y)
    with pytest.raises(ValueError, match="strategy='recursive'"):
        direct.predict_quantiles(3)
    with pytest.raises(ValueError, match="recursive"):
        direct.sample_paths(3)


def test_direct_strategy_quantiles_per_step():
    y = pd.Series(ar1(500, seed=5))
    f = Forecaster(
        RecurrentRegressor(loss="quantile", quantiles=(0.1, 0.5, 0.9), **SMALL),
        window=5,
        strategy="direct",
        horizon=3,
    ).fit(y)
    q = f.predict_quantiles(3, quantiles=(0.1, 0.5, 0.9)).to_numpy()
    assert q.shape == (3, 3) and np.all(np.diff(q, axis=1) > 0)
    np.testing.assert_allclose(q[:, 1], f.predict(3).to_numpy())


# -- coverage on simulated series -----------------------------------------------------------------

N_CAL, N_TEST = 1000, 2000
#: large batches: smoother likelihood gradients, so early stopping does not keep an early,
#: still too narrow scale (batch_size=32 left the Gaussian head 4 points short at 80 %)
COVERAGE_FIT = {**SMALL, "batch_size": 128, "max_iter": 150}
N_TRAIN = 2 * N_CAL
COVERAGES = (0.8, 0.9, 0.95)
LEVELS = (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975)
#: Series seeds, fixed before any setting was chosen: settings are compared on the tuning
#: seeds (benchmarks/coverage.py --seeds tuning); the coverage is reported and tested on the
#: others (docs/probabilistic.md)
TUNING_SEEDS = (10, 11, 12, 13, 14, 15, 16, 17)
REPORT_SEEDS = (100, 101, 102, 103, 104)
#: the methods whose coverage is measured: (loss, method)
HEADS = (("gaussian", "model"), ("student_t", "model"), ("quantile", "cqr"))
#: the coverage measured in the last run (printed with -s; docs/probabilistic.md shows them)
MEASURED: dict = {}


def one_step_quantiles(estimator, tr, y: np.ndarray, origins: np.ndarray, window: int, levels) -> np.ndarray:
    """One-step quantiles ``(len(origins), K)`` of a fitted pipeline (no differencing), vectorised."""
    X = (y[origins[:, None] - window + np.arange(window)] - tr.mean_[0]) / tr.scale_[0]
    return estimator.predict_quantiles(X, levels) * tr.scale_[0] + tr.mean_[0]


def true_quantiles(noise: str, y: np.ndarray, origins: np.ndarray, levels, phi: float = 0.7) -> np.ndarray:
    """The one-step quantiles of the process that generated ``y`` (see :func:`ar1`)."""
    prev = y[origins - 1][:, None]
    if noise == "student_t":
        return phi * prev + stats.t.ppf(levels, 4)
    sd = 1.0 if noise == "gaussian" else 0.5 + 0.5 * np.abs(prev)
    return phi * prev + sd * stats.norm.ppf(levels)


def interval_index(c: float) -> tuple[int, int]:
    """Positions in ``LEVELS`` of the ends of the central ``c`` interval."""
    return LEVELS.index(round((1 - c) / 2, 3)), LEVELS.index(round((1 + c) / 2, 3))


def rolling_coverage(
    noise: str, seed: int, loss: str, method: str, check_public_path: bool = False, **change
) -> dict:
    """Coverage of one fit's 80/90/95 % intervals over ``N_TEST`` rolling one-step forecasts.

    The forecaster is fitted once on the first ``N_TRAIN`` steps of the series (for CQR the
    last ``N_CAL`` of them are the calibration stretch); its interval from every origin after
    them is the one ``update`` + ``predict_interval(1, c, method=...)`` would give, computed
    vectorised (``check_public_path`` checks that at the first origins); ``change`` overrides
    estimator settings of ``COVERAGE_FIT``. Returns the share of covered values per level, the
    one-step quantiles and the epochs trained.
    """
    y = ar1(N_TRAIN + N_TEST, noise=noise, seed=seed)
    series = pd.Series(y)
    origins = np.arange(N_TRAIN, N_TRAIN + N_TEST)
    truth = y[origins]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = Forecaster(
            RecurrentRegressor(loss=loss, quantiles=LEVELS, **{**COVERAGE_FIT, **change}),
            window=5,
            calibration_size=N_CAL,
            random_state=0,
        ).fit(series[:N_TRAIN])
        if method == "cqr":
            f.predict_interval(1, 0.9, method="cqr")  # fits the copy that CQR forecasts with
            est, tr = f.calibration_model_.estimator, f.calibration_model_.transform
        else:
            est, tr = f.estimator_, f.transform_
        q = one_step_quantiles(est, tr, y, origins, 5, LEVELS)
        out = {"quantiles": q, "epochs": est.n_iter_}
        radius = {}
        for c in COVERAGES:
            lo, hi = interval_index(c)
            iv = f.predict_interval(1, c, method=method).to_numpy()[0]
            # the public path at the first origin: the model interval, or it +- one radius
            r = q[0, lo] - iv[0]
            assert iv[1] - q[0, hi] == pytest.approx(r, abs=1e-9)
            if method == "model":
                assert r == pytest.approx(0.0, abs=1e-9)
            radius[c] = r
            out[c] = np.mean((truth >= q[:, lo] - r) & (truth <= q[:, hi] + r))
        if check_public_path:  # ... and at the next origins, through update
            for k in (1, 2):
                f.update(series.iloc[N_TRAIN + k - 1 : N_TRAIN + k])
                iv = f.predict_interval(1, 0.9, method=method).to_numpy()[0]
                np.testing.assert_allclose(
                    iv, [q[k, 1] - radius[0.9], q[k, 5] + radius[0.9]], rtol=1e-9, atol=1e-9
                )
    return out


def gaussian_on_student_t_coverage(c: float, df: float = 4.0) -> float:
    """Coverage of the central ``c`` interval of the Gaussian with the variance of t(df) noise.

    What a Gaussian head fitted by maximum likelihood to Student-t(4) innovations converges to
    (its variance is the noise variance, ``df / (df - 2)``): the interval is too wide in the
    middle of a heavy-tailed distribution, so it over-covers at 80 % whatever the training.
    """
    half = stats.norm.ppf((1 + c) / 2) * np.sqrt(df / (df - 2))
    return 2 * stats.t.cdf(half, df) - 1


@pytest.mark.slow
@pytest.mark.parametrize("noise", ["gaussian", "student_t", "level"])
def test_coverage_over_rolling_origins(noise):
    """5 series (the report seeds) x 2000 rolling one-step forecasts each, 80/90/95 % intervals.

    Pooled over the 10 000 forecasts, each method whose family describes the noise is within
    3 points of nominal (the acceptance target). Tolerance: the pooled coverage of a
    calibrated method has a binomial standard error of at most 0.4 points over 10 000
    forecasts, and fit-to-fit differences add to it (single fits on the tuning seeds are
    1.44 points from nominal in root mean square, test-set sampling included: at most 0.65
    over 5 fits): 3 points is more than 4 standard errors. Each single fit (2000 forecasts:
    binomial error 0.9 points at 80 %, plus the fit's own) must be within 6 points. The
    Gaussian head on Student-t(4) noise is misspecified; its coverage is checked against
    what the variance-matched Gaussian gives in closed form.
    """
    results = {}
    for i, seed in enumerate(REPORT_SEEDS):
        for loss, method in HEADS:
            run = rolling_coverage(noise, seed, loss, method, check_public_path=i == 0)
            assert np.all(np.diff(run["quantiles"], axis=1) > 0)  # no crossing in any forecast
            for c in COVERAGES:
                results.setdefault((loss, method, c), []).append(run[c])
    MEASURED[noise] = results
    print(
        f"\n{noise}: "
        + ", ".join(f"{l}/{m} {c:.0%}: {100 * np.mean(v):.1f}" for (l, m, c), v in results.items())
    )
    for (loss, method, c), shares in results.items():
        target = c
        if noise == "student_t" and loss == "gaussian":
            target = gaussian_on_student_t_coverage(c)
        assert abs(np.mean(shares) - target) <= 0.03, f"{loss} {method} {c:.0%}: pooled {np.mean(shares):.3f}"
        assert np.max(np.abs(np.array(shares) - target)) <= 0.06, f"{loss} {method} {c:.0%}: {shares}"


@pytest.mark.parametrize("loss", ["gaussian", "student_t", "quantile"])
def test_default_heads_hold_out_on_a_short_series_and_cover(loss):
    """300 values of a Gaussian AR(1) give 295 windows, far below the 1 000 samples from which
    ``early_stopping="auto"`` holds out for the point losses; the distributional heads hold out
    anyway. Oracle: the process's own one-step 90 % interval covers 90 % of new values. Over
    1 000 values the binomial error is 0.95 points, and five report-seed fits covered 88.5-89.7 %
    pooled (benchmarks/short_series_coverage.py), so 8 points is a wide margin; trained to the
    end on every window, as before, these heads covered 35-42 %."""
    window, n_train, n_test = 5, 300, 1000
    y = ar1(n_train + n_test, seed=REPORT_SEEDS[0])
    extra = {"quantiles": (0.05, 0.5, 0.95)} if loss == "quantile" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = Forecaster(RecurrentRegressor(loss=loss, random_state=0, **extra), window=window, random_state=0)
        f.fit(pd.Series(y[:n_train]))
    est, tr = f.estimator_, f.transform_
    assert len(est.validation_scores_) == est.n_iter_ > 0  # validated every epoch
    origins = np.arange(n_train, n_train + n_test)
    X = (y[origins[:, None] - window + np.arange(window)] - tr.mean_[0]) / tr.scale_[0]
    q = est.predict_quantiles(X, (0.05, 0.95)) * tr.scale_[0] + tr.mean_[0]
    inside = np.mean((y[origins] >= q[:, 0]) & (y[origins] <= q[:, 1]))
    assert abs(inside - 0.9) <= 0.08, inside
    # the point losses keep the rule: no hold-out below 100 held-out samples
    point = RecurrentRegressor(random_state=0, max_iter=3).fit(X[:295], y[n_train : n_train + 295])
    assert point.validation_scores_ == []


# -- quantile loss against linear quantile regression ---------------------------------------------


@pytest.mark.slow
def test_quantile_head_beats_quantreg_on_a_nonlinear_heteroscedastic_ar():
    """y_t = 2 sin(y_{t-1}) + (0.2 + 0.6 |y_{t-1}|) e_t: the quantiles are nonlinear in the past."""
    from statsmodels.regression.quantile_regression import QuantReg

    rng = np.random.default_rng(0)
    n = 3000
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 2 * np.sin(y[t - 1]) + (0.2 + 0.6 * abs(y[t - 1])) * rng.normal()
    X, target = windows(y, 3)
    split = 2000
    levels = (0.1, 0.5, 0.9)
    est = RecurrentRegressor(
        loss="quantile", quantiles=levels, **{**SMALL, "hidden_size": 16, "max_iter": 100}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X[:split], target[:split])
    q_rnn = est.predict_quantiles(X[split:], levels)
    design = np.column_stack([np.ones(len(X)), X])
    q_lin = np.column_stack(
        [design[split:] @ QuantReg(target[:split], design[:split]).fit(q=tau).params for tau in levels]
    )
    rnn = metrics.pinball_loss(target[split:], q_rnn, levels)
    lin = metrics.pinball_loss(target[split:], q_lin, levels)
    MEASURED["quantreg"] = (rnn, lin)
    print(f"\nheld-out mean pinball loss: recurrent quantile head {rnn:.4f}, QuantReg {lin:.4f}")
    assert rnn <= lin
