"""The recurrent estimators: learning, inputs and outputs, training options, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from tsrnn import (
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    RNNClassifier,
    RNNRegressor,
)

# Short runs end at max_iter on purpose; the tests about that warning catch it explicitly.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_size=8, max_iter=5, random_state=0)


def windows(series, width):
    """Rows of ``width`` past values and the value that follows each."""
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], width)
    return np.ascontiguousarray(X), series[width:]


def noisy_sine(n=500, period=25, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.sin(2 * np.pi * t / period) + noise * rng.normal(size=n)


def memory_task(n, length, seed):
    """Two classes that differ only in the first step (+1 or -1); the rest is N(0, 1) noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, length, 1))
    X[:, 0, 0] = np.where(y == 1, 1.0, -1.0)
    return X, y


# ----------------------------------------------------------------------------- learning


def test_lstm_regressor_forecasts_a_noisy_sine_on_a_held_out_tail():
    X, y = windows(noisy_sine(), 20)
    cut = int(0.8 * len(X))
    model = LSTMRegressor(hidden_size=16, random_state=0).fit(X[:cut], y[:cut])
    r2 = model.score(X[cut:], y[cut:])
    # The noise (sd 0.1 on a unit sine, variance 0.5) caps R^2 near 1 - 0.01 / 0.51 = 0.98.
    assert r2 > 0.95, r2


def test_lstm_classifier_remembers_the_first_step():
    X_train, y_train = memory_task(300, 20, seed=0)
    X_test, y_test = memory_task(200, 20, seed=1)
    clf = LSTMClassifier(hidden_size=16, random_state=0).fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    assert accuracy > 0.9, accuracy


# ----------------------------------------------------------------------------- inputs / outputs


def test_2d_and_3d_inputs_give_the_same_model():
    rng = np.random.default_rng(0)
    X3 = rng.normal(size=(40, 6, 2))
    y = X3[:, -1, 0] - X3[:, 0, 1]
    a = RecurrentRegressor("gru", **FAST).fit(X3, y)
    b = RecurrentRegressor("gru", input_size=2, **FAST).fit(X3.reshape(40, 12), y)
    np.testing.assert_array_equal(a.predict(X3), b.predict(X3.reshape(40, 12)))
    assert (a.n_timesteps_, a.input_size_, a.n_features_in_) == (6, 2, 6)
    assert (b.n_timesteps_, b.input_size_, b.n_features_in_) == (6, 2, 12)


def test_standardization_is_undone_in_predict():
    # Targets in thousands and an input offset: the standardized problem is the same one,
    # so predictions scale exactly with the targets.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 8))
    y = X[:, -1] + 0.5 * X[:, 0]
    # early stopping holds out the last 10 %, so the statistics come from the first 54 samples
    held_out = dict(dtype="float64", early_stopping=True, **FAST)
    small = RecurrentRegressor("lstm", **held_out).fit(X, y)
    big = RecurrentRegressor("lstm", **held_out).fit(X * 50 + 300, y * 1000 + 5000)
    np.testing.assert_allclose(big.predict(X * 50 + 300), small.predict(X) * 1000 + 5000, rtol=1e-9)
    assert abs(big.target_mean_[0] - np.mean(y[:54] * 1000 + 5000)) < 1e-6  # training part only
    raw = RecurrentRegressor("lstm", standardize=False, **FAST).fit(X, y)
    assert raw.input_mean_ is None and raw.target_mean_ is None


def test_multi_output_targets():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 10))
    Y = np.stack([X[:, -1], X[:, -2], X[:, -1] * 2], axis=1)
    model = RNNRegressor(**FAST).fit(X, Y)
    assert model.predict(X).shape == (50, 3) and model.n_outputs_ == 3
    column = RNNRegressor(**FAST).fit(X, Y[:, :1])
    assert column.predict(X).shape == (50, 1)


def test_dataframe_input_records_feature_names():
    X = pd.DataFrame(np.random.default_rng(3).normal(size=(30, 4)), columns=["t-3", "t-2", "t-1", "t0"])
    y = X["t0"].to_numpy()
    model = GRURegressor(**FAST).fit(X, y)
    np.testing.assert_array_equal(model.feature_names_in_, X.columns)
    assert model.predict(X).shape == (30,)


def test_classifier_labels_probabilities_and_multiclass():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(90, 5, 1))
    names = np.array(["down", "flat", "up"])
    y = names[np.digitize(X[:, -1, 0], [-0.4, 0.4])]
    clf = RecurrentClassifier("gru", hidden_size=8, max_iter=30, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, names)
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), names[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert set(clf.predict(X)) <= set(names)


# ----------------------------------------------------------------------------- training options


def test_early_stopping_validates_on_the_last_fraction_in_order():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 6))
    y = X[:, -1] + 0.1 * rng.normal(size=100)
    params = dict(
        hidden_size=8,
        max_iter=15,
        n_iter_no_change=100,
        validation_fraction=0.2,
        early_stopping=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RecurrentRegressor("gru", **params).fit(X, y)
        # Change only the last 20 targets: training must be unaffected, validation not.
        y_other = y.copy()
        y_other[80:] = rng.normal(size=20)
        other = RecurrentRegressor("gru", **params).fit(X, y_other)
    assert model.loss_curve_ == other.loss_curve_
    assert model.validation_scores_ != other.validation_scores_
    # The restored weights are those of the lowest validation loss, and their validation
    # score is R^2 on exactly the last 20 samples.
    best = int(np.argmin(model.validation_loss_curve_))
    assert model.best_validation_score_ == model.validation_scores_[best]
    assert r2_score(y[80:], model.predict(X[80:])) == pytest.approx(model.best_validation_score_, abs=1e-5)
    assert len(model.validation_scores_) == len(model.loss_curve_) == model.n_iter_ == 15


@pytest.mark.parametrize("loss", ["squared_error", "gaussian"])
def test_blocked_validation_holds_out_the_end_of_each_tenth(loss):
    # 200 samples, 20 held out: validation_split="blocked" holds out samples 18-19, 38-39,
    # ..., 198-199 (the last 2 of each tenth); "auto" means it for a distributional loss only
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 6))
    y = X[:, -1] + 0.1 * rng.normal(size=200)
    held = np.concatenate([np.arange(20 * k + 18, 20 * k + 20) for k in range(10)])
    kept = np.setdiff1d(np.arange(200), held)
    params = dict(
        hidden_size=8, max_iter=12, n_iter_no_change=100, early_stopping=True, random_state=0, dtype="float64"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RecurrentRegressor("gru", loss=loss, validation_split="blocked", **params).fit(X, y)
        auto = RecurrentRegressor("gru", loss=loss, **params).fit(X, y)
        # Changing only the held-out targets leaves training untouched, not validation
        y_other = y.copy()
        y_other[held] = rng.normal(size=held.size)
        other = RecurrentRegressor("gru", loss=loss, validation_split="blocked", **params).fit(X, y_other)
    assert model.loss_curve_ == other.loss_curve_
    assert model.validation_loss_curve_ != other.validation_loss_curve_
    assert (auto.loss_curve_ == model.loss_curve_) == (loss == "gaussian")
    # the target statistics come from the kept samples only
    assert model.target_mean_[0] == pytest.approx(np.mean(y[kept]), abs=1e-12)
    # the restored weights' validation R^2, and (Gaussian) their mean negative log-likelihood
    # in standardized units, on exactly the held-out samples (computed here with scipy)
    assert r2_score(y[held], model.predict(X[held])) == pytest.approx(model.best_validation_score_, abs=1e-9)
    if loss == "gaussian":
        from scipy import stats

        dist = model.predict_distribution(X[held])
        s = model.target_scale_[0]
        nll = -np.mean(stats.norm.logpdf(y[held] / s, dist["mean"] / s, dist["scale"] / s))
        assert nll == pytest.approx(min(model.validation_loss_curve_), rel=1e-9)


def test_early_stopping_stops_and_warns_only_at_max_iter():
    X, y = windows(noisy_sine(200), 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = RecurrentRegressor(
            "rnn_tanh", hidden_size=8, n_iter_no_change=3, early_stopping=True, random_state=0
        ).fit(X, y)
    assert model.stop_reason_ == "early_stopping" and model.n_iter_ < 200
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        RecurrentRegressor("rnn_tanh", hidden_size=8, max_iter=2, random_state=0).fit(X, y)


def test_too_few_samples_for_early_stopping_trains_on_everything_with_a_warning():
    X, y = np.random.default_rng(6).normal(size=(8, 3)), np.arange(8.0)
    with pytest.warns(UserWarning, match="without early stopping"):
        model = RecurrentRegressor(hidden_size=4, max_iter=3, early_stopping=True, random_state=0).fit(X, y)
    assert model.validation_scores_ == []


@pytest.mark.parametrize(("n", "held_out"), [(990, False), (991, True)])
def test_auto_early_stopping_needs_100_validation_samples(n, held_out):
    # early_stopping="auto" (the default) validates only when ceil(0.1 * n) >= 100 samples are
    # held out: ceil(99.0) = 99 for 990 samples, ceil(99.1) = 100 for 991
    X = np.random.default_rng(7).normal(size=(n, 2))
    y = X[:, 0].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "too few samples" warning either
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RecurrentRegressor(hidden_size=2, max_iter=2, batch_size=256, random_state=0).fit(X, y)
    assert len(model.validation_scores_) == (2 if held_out else 0)


def test_partial_fit_epochs_equal_fit_epochs():
    # Same seed: partial_fit k times walks the same path as fit(max_iter=k) without early stopping.
    X, y = windows(noisy_sine(120), 8)
    params = dict(hidden_size=8, early_stopping=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = RecurrentRegressor("lstm", max_iter=3, **params).fit(X, y)
    inc = RecurrentRegressor("lstm", **params)
    for _ in range(3):
        inc.partial_fit(X, y)
    np.testing.assert_array_equal(inc.predict(X), full.predict(X))
    assert inc.n_iter_ == 3 and inc.loss_curve_ == full.loss_curve_


def test_classifier_partial_fit_needs_classes_first():
    X, y = memory_task(40, 5, seed=0)
    clf = LSTMClassifier(hidden_size=4)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:20], np.zeros(20, int), classes=[0, 1])  # a batch may miss a class
    clf.partial_fit(X[20:], y[20:])
    assert list(clf.classes_) == [0, 1] and clf.n_iter_ == 2
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X, y + 5)


def test_warm_start_continues_and_refuses_a_changed_architecture():
    X, y = windows(noisy_sine(120), 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RecurrentRegressor(
            "gru", hidden_size=8, max_iter=4, early_stopping=False, warm_start=True
        ).fit(X, y)
        first = model.predict(X)
        model.fit(X, y)
    assert model.n_iter_ == 8 and len(model.loss_curve_) == 8
    assert not np.array_equal(first, model.predict(X))
    model.set_params(hidden_size=16)
    with pytest.raises(ValueError, match="hidden_size 8 -> 16"):
        model.fit(X, y)


def test_sgd_solver_weight_decay_and_clip_value_train():
    X, y = windows(noisy_sine(150), 10)
    model = RecurrentRegressor(
        "rnn_tanh", solver="sgd", learning_rate=0.05, momentum=0.9, weight_decay=1e-3, clip_value=0.5,
        hidden_size=8, max_iter=60, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    assert model.score(X, y) > 0.8


def test_stacked_bidirectional_dropout_network_trains():
    X, y = windows(noisy_sine(200), 12)
    model = RecurrentRegressor(
        "lstm", hidden_size=8, num_layers=2, bidirectional=True, dropout=0.2, max_iter=40, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.score(X, y) > 0.8
    assert "weight_hh_l1_reverse" in model.to_torch_state_dict()


def test_dropout_without_a_second_layer_warns():
    X, y = windows(noisy_sine(60), 5)
    with pytest.warns(UserWarning, match="num_layers=1 it has no"):
        RecurrentRegressor(dropout=0.5, **FAST).fit(X, y)


def test_divergence_is_reported_with_what_to_try():
    X, y = windows(noisy_sine(100), 5)
    model = RNNRegressor("relu", solver="sgd", learning_rate=1e8, clip_norm=None, standardize=False, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(X, y * 1e6)
        except ValueError as exc:
            assert "learning_rate" in str(exc) and "clip_norm" in str(exc)
            assert not hasattr(model, "params_")  # no half-fitted model left behind
            return
    assert model.stop_reason_ == "diverged"
    assert np.all(np.isfinite(model.params_))


def test_reference_device_trains_like_the_cpu_kernels():
    X, y = windows(noisy_sine(80), 6)
    params = dict(hidden_size=4, max_iter=3, early_stopping=False, dtype="float64", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu = RecurrentRegressor("gru", **params).fit(X, y)
        ref = RecurrentRegressor("gru", device="reference", **params).fit(X, y)
    np.testing.assert_allclose(ref.predict(X), cpu.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_float32_predictions_do_not_depend_on_the_batch(cell):
    X, y = windows(noisy_sine(200), 10)
    model = RecurrentRegressor(cell, bidirectional=True, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    whole = model.predict(X)
    one_by_one = np.array([model.predict(X[i : i + 1])[0] for i in range(0, len(X), 7)])
    np.testing.assert_array_equal(one_by_one, whole[::7])
    np.testing.assert_array_equal(model.predict(X[::-1]), whole[::-1])


# ----------------------------------------------------------------------------- progress output


def test_verbose_shows_a_progress_bar_and_quiet_prints_nothing(capsys):
    X, y = windows(noisy_sine(60), 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        RecurrentRegressor("gru", verbose=0, hidden_size=4, max_iter=3, random_state=0).fit(X, y)
        quiet = capsys.readouterr()
        RecurrentRegressor(
            "gru", verbose=1, early_stopping=True, hidden_size=4, max_iter=3, random_state=0
        ).fit(X, y)
        loud = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    text = loud.err
    assert "3/3" in text and "loss=" in text and "val_score=" in text and "device=cpu" in text


# ----------------------------------------------------------------------------- errors


def test_input_errors_name_the_fix():
    X, y = windows(noisy_sine(60), 6)
    with pytest.raises(ValueError, match="not a multiple of input_size=4"):
        RecurrentRegressor(input_size=4, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="input_size=None"):
        RecurrentRegressor(input_size=2, **FAST).fit(X.reshape(-1, 6, 1), y)
    model = RecurrentRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="fitted on 2-D X"):
        model.predict(X.reshape(-1, 6, 1))
    with pytest.raises(ValueError, match="6 features"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match="hidden_size"):
        RecurrentRegressor(hidden_size=0).fit(X, y)
    with pytest.raises(ValueError, match="cell"):
        RecurrentRegressor(cell="transformer").fit(X, y)
    with pytest.raises(ValueError, match="2 classes"):
        RNNClassifier(**FAST).fit(X, np.zeros(len(X)))


# ----------------------------------------------------------------------------- convenience classes


@pytest.mark.parametrize(
    ("estimator", "cell"),
    [
        (LSTMRegressor(), "lstm"),
        (GRURegressor(), "gru"),
        (RNNRegressor(), "rnn_tanh"),
        (RNNRegressor("relu"), "rnn_relu"),
        (RNNClassifier(nonlinearity="relu"), "rnn_relu"),
    ],
)
def test_convenience_classes_fix_the_cell_without_exposing_it(estimator, cell):
    assert "cell" not in estimator.get_params()
    assert estimator._cell_name() == cell
    X, y = windows(noisy_sine(40), 4)
    if is_classifier(estimator):
        y = (y > 0).astype(int)
    fitted = clone(estimator).set_params(**FAST).fit(X, y)
    assert fitted.network_.cell == cell


def test_concurrent_predict_from_threads_matches_sequential():
    from concurrent.futures import ThreadPoolExecutor

    X, y = windows(noisy_sine(200), 10)
    model = RecurrentRegressor("gru", **FAST).fit(X, y)
    batches = [X[i : i + 37] for i in range(0, len(X), 37)] * 4
    expected = [model.predict(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(model.predict, batches))
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize(
    "dtypes", [(np.float32, np.float32), (np.float64, np.float32), (np.float64, np.float64)]
)
@pytest.mark.parametrize("shape", [(7,), (9, 1), (12, 3)])
def test_validation_r2_is_sklearns_to_the_bit(dtypes, shape):
    # oracle: sklearn.metrics.r2_score, which the per-epoch validation score replaces
    from tsrnn.estimators._regressor import r2

    rng = np.random.default_rng(len(shape) * 10 + shape[0])
    y = rng.normal(size=shape).astype(dtypes[0])
    cases = [y + rng.normal(size=shape).astype(dtypes[1]), y.astype(dtypes[1]), np.ones(shape, dtypes[1])]
    constant = np.full(shape, 2.0, dtypes[0])
    for pred in cases:
        assert r2(y, pred) == r2_score(y, pred)
        assert r2(constant, pred) == r2_score(constant, pred)
