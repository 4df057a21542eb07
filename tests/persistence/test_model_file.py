"""tsrnn.save/load: round trips of every model, and what is refused on save and on load."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import tsrnn._persistence as persistence
from tsrnn import (
    ARIMAForecaster,
    ETSForecaster,
    Forecaster,
    GRURegressor,
    HMMForecaster,
    LSTMClassifier,
    LSTMRegressor,
    NaiveForecaster,
    PerSeriesForecaster,
    RecurrentForecaster,
    RecurrentRegressor,
    RNNRegressor,
    ThetaForecaster,
    fit_many,
    load,
    save,
)
from tsrnn.forecasting import DeseasonalizedForecaster

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def windows(n=60, width=6, seed=0):
    rng = np.random.default_rng(seed)
    s = np.sin(np.arange(n + width) / 3) + 0.1 * rng.normal(size=n + width)
    X = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(s[:-1], width)[:n])
    return X, s[width : width + n]


def monthly(n=60, seed=0, **kw):
    rng = np.random.default_rng(seed)
    values = 10 + np.sin(2 * np.pi * np.arange(n) / 12) + 0.1 * rng.normal(size=n)
    return pd.Series(values, index=pd.date_range("2000-01-01", periods=n, freq="MS", **kw), name="y")


def small(cls=GRURegressor, **kw):
    return cls(**{"hidden_size": 5, "max_iter": 3, "random_state": 0, **kw})


@pytest.fixture
def fitted_regressor():
    X, y = windows()
    return small(num_layers=2, bidirectional=True).fit(X, y), X, y


# -- round trips ---------------------------------------------------------------------------------


def test_regressor_round_trip_predicts_and_trains_on_identically(tmp_path, fitted_regressor):
    est, X, y = fitted_regressor
    save(est, tmp_path / "m.tsrnn")
    back = load(tmp_path / "m.tsrnn")
    assert type(back) is type(est) and back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    for attr in ("loss_curve_", "validation_scores_", "n_iter_", "stop_reason_", "n_features_in_"):
        assert getattr(back, attr) == getattr(est, attr)
    # the optimizer moments and the random stream are saved too: partial_fit continues identically
    est.partial_fit(X, y)
    back.partial_fit(X, y)
    np.testing.assert_array_equal(back.params_, est.params_)


@pytest.mark.parametrize(
    "make",
    [
        lambda: small(RNNRegressor, nonlinearity="relu", dtype="float64", solver="sgd"),
        lambda: small(RecurrentRegressor, cell="lstm", dtype=np.float32, standardize=False),
        lambda: small(RecurrentRegressor, cell="gru", random_state=np.random.RandomState(3)),
    ],
    ids=["rnn-relu-float64-sgd", "lstm-unstandardized", "gru-randomstate"],
)
def test_regressor_variants_round_trip(tmp_path, make):
    X, y = windows()
    est = make().fit(X[:, :, None], np.column_stack([y, -y]))  # 3-D X, two outputs
    save(est, tmp_path / "m")
    back = load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(X[:, :, None]), est.predict(X[:, :, None]))


def test_classifier_with_string_labels_round_trip(tmp_path):
    X, y = windows()
    labels = np.where(y > 0.3, "up", np.where(y < -0.3, "down", "flat"))
    est = small(LSTMClassifier).fit(X, labels)
    save(est, tmp_path / "c.tsrnn")
    back = load(tmp_path / "c.tsrnn")
    np.testing.assert_array_equal(back.classes_, est.classes_)
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


def test_unfitted_estimator_round_trip(tmp_path):
    est = small(RNNRegressor, nonlinearity="relu")
    save(est, tmp_path / "u")
    back = load(tmp_path / "u")
    assert back.get_params() == est.get_params() and not hasattr(back, "params_")


@pytest.mark.parametrize(
    "series",
    [
        lambda: monthly(),
        lambda: monthly(tz="Europe/Paris"),
        lambda: monthly().to_period("M"),
        lambda: monthly().reset_index(drop=True).rename(None),
        lambda: pd.DataFrame({"a": monthly(), 3: monthly(seed=1)}),
    ],
    ids=["datetime", "datetime-tz", "period", "range-unnamed", "frame-mixed-labels"],
)
def test_forecaster_round_trip(tmp_path, series):
    y = series()
    f = Forecaster(small(), window=6).fit(y)
    f.predict_interval(3)  # fits the calibration model, which is saved too
    save(f, tmp_path / "f")
    back = load(tmp_path / "f")
    pd.testing.assert_frame_equal(back.predict_interval(4), f.predict_interval(4))
    fc, fc_back = f.predict(5), back.predict(5)
    assert type(fc_back) is type(fc) and fc_back.index.equals(fc.index)
    np.testing.assert_array_equal(fc_back.to_numpy(), fc.to_numpy())


def test_forecaster_with_exog_direct_and_updates_round_trip(tmp_path):
    y = monthly(72)
    X = pd.DataFrame({"x": np.cos(np.arange(80))}, index=pd.date_range("2000-01-01", periods=80, freq="MS"))
    f = Forecaster(small(), window=6, strategy="direct", horizon=3, diff=1).fit(y.iloc[:66], X=X.iloc[:66])
    f.update(y.iloc[66:], X_new=X.iloc[66:72])
    save(f, tmp_path / "f")
    back = load(tmp_path / "f")
    future = X.iloc[72:75]
    pd.testing.assert_series_equal(back.predict(3, X=future), f.predict(3, X=future))
    assert back.estimator_ is back._model.estimator  # shared objects stay shared


def test_naive_and_per_series_round_trip(tmp_path):
    frame = pd.DataFrame({"a": monthly(), "b": monthly(seed=2) * 3})
    many = fit_many(NaiveForecaster(seasonal_period=12, drift=True), frame)
    save(many, tmp_path / "n")
    back = load(tmp_path / "n")
    pd.testing.assert_frame_equal(back.predict_interval(7), many.predict_interval(7))
    assert back["b"].drift_ == many["b"].drift_


@pytest.mark.parametrize(
    "make",
    [
        lambda: ARIMAForecaster(order=(2, 1, 1)),
        lambda: ARIMAForecaster(order=(1, 0, 0), seasonal_order=(1, 0, 0, 12), trend="c"),
        lambda: ARIMAForecaster(seasonal_period=12, max_p=2, max_q=2),
        lambda: HMMForecaster(),
        lambda: HMMForecaster(k_regimes=2, order=1, switching_variance=True, trend="n"),
        lambda: PerSeriesForecaster(ARIMAForecaster(order=(1, 1, 0))),
        lambda: ETSForecaster(),
        lambda: ETSForecaster(seasonal_period=12, error="mul", seasonal="mul"),
        lambda: ThetaForecaster(seasonal_period=12),
        lambda: ThetaForecaster(method="multiplicative", theta=3.0),
        lambda: DeseasonalizedForecaster(ARIMAForecaster(order=(1, 0, 0)), (12, 6)),
        lambda: DeseasonalizedForecaster(PerSeriesForecaster(NaiveForecaster(drift=True)), 12),
    ],
    ids=[
        "arima-211",
        "sarima",
        "arima-auto",
        "hmm",
        "hmm-variance",
        "per-series-arima",
        "ets-auto",
        "ets-mam",
        "theta-seasonal",
        "theta-mul",
        "deseasonalized-mstl-arima",
        "deseasonalized-per-series",
    ],
)
def test_statistical_forecasters_round_trip_through_their_parameters(tmp_path, make):
    """ARIMA/HMM/ETS/Theta are stored as data (fitted parameters and series), rebuilt by statsmodels."""
    y = monthly(90)
    frame = pd.DataFrame({"a": y, "b": monthly(90, seed=3) * 2}) if "PerSeries" in repr(make()) else y
    f = make().fit(frame)
    save(f, tmp_path / "m")
    back = load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.predict_interval(6), f.predict_interval(6))  # identical
    np.testing.assert_array_equal(back.predict(6).to_numpy(), f.predict(6).to_numpy())
    # the rebuilt model moves forward as the original does, and saves again after the update
    nxt = (
        monthly(94)
        if not isinstance(frame, pd.DataFrame)
        else pd.DataFrame({"a": monthly(94), "b": monthly(94)})
    ).iloc[90:]
    f.update(nxt)
    back.update(nxt)
    np.testing.assert_array_equal(back.predict(3).to_numpy(), f.predict(3).to_numpy())
    save(back, tmp_path / "m", overwrite=True)
    again = load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_interval(3).to_numpy(), f.predict_interval(3).to_numpy())


def test_arima_with_exog_round_trip(tmp_path):
    y = monthly(72)
    X = pd.DataFrame({"x": np.cos(np.arange(80))}, index=pd.date_range("2000-01-01", periods=80, freq="MS"))
    f = ARIMAForecaster(order=(1, 0, 0)).fit(y, X=X.iloc[:72])
    save(f, tmp_path / "a")
    back = load(tmp_path / "a")
    future = X.iloc[72:76]
    pd.testing.assert_series_equal(back.predict(4, X=future), f.predict(4, X=future))


# -- what is refused on save ---------------------------------------------------------------------


def test_foreign_models_are_refused_with_advice(tmp_path):
    y = monthly()
    for model, needle in (
        (Forecaster(Ridge(), window=6).fit(y), "Ridge"),
        (PerSeriesForecaster(Forecaster(Ridge(), window=6)), "Ridge"),
    ):
        with pytest.raises(TypeError, match=needle) as info:
            save(model, tmp_path / "x")
        assert "joblib.dump" in str(info.value)
    assert not os.listdir(tmp_path)  # nothing half-written
    with pytest.raises(TypeError, match="stores tsrnn models"):
        save(np.zeros(3), tmp_path / "x")


def test_existing_file_is_kept_unless_overwrite(tmp_path, fitted_regressor):
    est, X, _ = fitted_regressor
    path = tmp_path / "m.tsrnn"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save(est, path)
    assert path.read_bytes() == b"precious"
    save(est, path, overwrite=True)
    np.testing.assert_array_equal(load(path).predict(X), est.predict(X))


def test_a_crash_during_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    X, y = windows()
    old, new = small().fit(X, y), small(random_state=1).fit(X, y)
    path = tmp_path / "m.tsrnn"
    save(old, path)
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = {"n": 0}

    def crash_midway(fh, arr, **kw):
        calls["n"] += 1
        if calls["n"] == 3:  # a few arrays already written: the disk fills up, or the process dies
            fh.write(b"partial")
            raise OSError(28, "No space left on device")
        return real(fh, arr, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", crash_midway)
    with pytest.raises(OSError, match="No space"):
        save(new, path, overwrite=True)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.tsrnn"]
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path).predict(X), old.predict(X))


# -- what is refused on load ---------------------------------------------------------------------


def cut_array(name: str, keep: slice):
    """An ``edit_members`` for :func:`rewrite`: the array member ``name`` cut to ``[keep]``."""

    def edit(members):
        key = f"{persistence.ARRAYS}{name}.npy"
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.lib.format.read_array(io.BytesIO(members[key]))[keep])
        members[key] = buf.getvalue()

    return edit


def rewrite(path, edit_meta=None, edit_members=None, fix_digest=False):
    """Rewrite a model file: edit its JSON and/or its members, optionally recomputing the digest."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members[persistence.META])
    if edit_meta:
        edit_meta(meta)
    if edit_members:
        edit_members(members)
    if fix_digest:  # what someone who edits the file on purpose would do
        arrays = {
            name[len(persistence.ARRAYS) : -len(".npy")]: np.lib.format.read_array(io.BytesIO(data))
            for name, data in members.items()
            if name.startswith(persistence.ARRAYS)
        }
        content_json = json.dumps(meta["content"], sort_keys=True, allow_nan=False)
        meta["sha256"] = persistence._digest(content_json, arrays)
    members[persistence.META] = json.dumps(meta).encode()
    write_members(path, members)


def write_members(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.fixture
def saved(tmp_path, fitted_regressor):
    est, X, _ = fitted_regressor
    path = tmp_path / "m.tsrnn"
    save(est, path)
    return path, est, X


def test_newer_format_version_is_refused_with_both_versions(saved):
    path, _, _ = saved

    def bump(meta):
        meta["format_version"] = persistence.FORMAT_VERSION + 1
        meta["tsrnn_version"] = "9.0"

    rewrite(path, bump)
    with pytest.raises(ValueError, match=r"tsrnn 9\.0 in model format version 3.*reads format version 2"):
        load(path)


def test_every_truncation_is_rejected_cleanly(saved):
    path, _, _ = saved
    data = path.read_bytes()
    cut = path.with_suffix(".cut")
    for size in sorted({*range(0, len(data), max(1, len(data) // 40)), len(data) - 1}):
        cut.write_bytes(data[:size])
        with pytest.raises(ValueError, match="not a valid tsrnn model file"):
            load(cut)


def test_flipped_bytes_are_rejected_cleanly(saved):
    path, _, _ = saved
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    damaged = path.with_suffix(".bad")
    for position in rng.choice(len(data), size=40, replace=False):
        copy = bytearray(data)
        copy[position] ^= 0xFF
        damaged.write_bytes(bytes(copy))
        try:
            model = load(damaged)
        except ValueError as exc:
            assert "tsrnn model file" in str(exc)
        else:  # a flip in ZIP bookkeeping that nothing reads (e.g. a timestamp) changes nothing
            np.testing.assert_array_equal(model.params_, load(path).params_)


def test_edited_content_fails_the_digest(saved):
    path, _, _ = saved

    def bigger(meta):
        meta["content"]["state"]["hidden_size"] = 64

    rewrite(path, bigger)
    with pytest.raises(ValueError, match="SHA-256"):
        load(path)


def test_edited_weights_fail_the_digest(saved):
    path, _, _ = saved

    def scale(members):
        for name, data in members.items():
            if name.startswith(persistence.ARRAYS) and len(data) > 300:
                members[name] = data[:-8] + b"\x00" * 8
                return

    rewrite(path, edit_members=scale)
    with pytest.raises(ValueError, match="SHA-256"):
        load(path)


def test_inconsistent_model_is_refused_even_with_a_valid_digest(saved):
    """A file edited on purpose (digest recomputed) still cannot make the kernels misread."""
    path, _, _ = saved

    with zipfile.ZipFile(path) as zf:
        weights = json.loads(zf.read(persistence.META))["content"]["state"]["params_"]["array"]

    rewrite(path, edit_members=cut_array(weights, slice(None, -10)), fix_digest=True)
    with pytest.raises(ValueError, match=r"params_: must be a float32 vector of \d+ weights"):
        load(path)

    def wider(meta):  # the fitted architecture claims more units than the weights hold
        for pair in meta["content"]["state"]["_fitted_config"]["dict"]:
            if pair[0] == "hidden_size":
                pair[1] = 64

    path2 = path.with_suffix(".2")
    path2.write_bytes(path.read_bytes())
    save(load_regressor_fresh(), path2, overwrite=True)
    rewrite(path2, wider, fix_digest=True)
    with pytest.raises(ValueError, match=r"params_: must be a float32 vector of \d+ weights"):
        load(path2)


def load_regressor_fresh():
    X, y = windows()
    return small().fit(X, y)


def test_foreign_classes_and_pickles_are_never_executed(saved, tmp_path):
    path, _, _ = saved
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    def swap_class(meta):
        meta["content"]["object"] = "system"

    rewrite(path, swap_class, fix_digest=True)
    with pytest.raises(ValueError, match="names a class 'system'"):
        load(path)

    # an object array (a pickle) smuggled in as the weights
    save(load_regressor_fresh(), path, overwrite=True)

    def smuggle(members):
        for name in list(members):
            if name.startswith(persistence.ARRAYS):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.array([Evil()], dtype=object), allow_pickle=True)
                members[name] = buf.getvalue()

    rewrite(path, edit_members=smuggle)
    with pytest.raises(ValueError, match="dtype object"):
        load(path)
    # and a plain pickle renamed
    pickled = tmp_path / "evil.tsrnn"
    pickled.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ValueError, match="not a complete ZIP archive"):
        load(pickled)
    assert not marker.exists()


def test_header_claiming_a_huge_array_is_refused_without_allocating(saved):
    path, _, _ = saved

    def huge(members):
        for name in list(members):
            if name.startswith(persistence.ARRAYS):
                header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
                header = header + b" " * (117 - len(header)) + b"\n"
                members[name] = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 8
                return

    rewrite(path, edit_members=huge)
    with pytest.raises(ValueError, match="claims 8000000000000 bytes"):
        load(path)


def test_other_files_are_rejected(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="not a complete ZIP"):
        load(empty)
    npz = tmp_path / "plain.npz"
    np.savez(npz, a=np.zeros(3))
    with pytest.raises(ValueError, match=r"no tsrnn\.json member"):
        load(npz)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing")


# -- pickle / joblib: the scikit-learn convention ------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Forecaster(small(), window=6),
        lambda: Forecaster(Ridge(), window=6, strategy="direct", horizon=3),
        lambda: NaiveForecaster(seasonal_period=12),
        lambda: ARIMAForecaster(order=(1, 0, 0)),
        lambda: HMMForecaster(),
        lambda: PerSeriesForecaster(NaiveForecaster(drift=True)),
    ],
    ids=["forecaster-gru", "forecaster-ridge-direct", "naive", "arima", "hmm", "per-series"],
)
def test_every_forecaster_pickles_and_joblib_dumps(tmp_path, make):
    y = monthly(80)
    f = make().fit(y)
    expected = f.predict_interval(3)
    again = pickle.loads(pickle.dumps(f))
    pd.testing.assert_frame_equal(again.predict_interval(3), expected)
    joblib.dump(f, tmp_path / "f.joblib")
    back = joblib.load(tmp_path / "f.joblib")
    pd.testing.assert_frame_equal(back.predict_interval(3), expected)
    # and an unpickled model keeps working: update then forecast, as the original does
    nxt = monthly(83).iloc[80:]
    pd.testing.assert_series_equal(back.update(nxt).predict(2), f.update(nxt).predict(2))


def test_a_file_written_before_validation_split_loads_with_the_tail_hold_out(saved):
    """Files of this format written before ``validation_split`` existed (their models held out
    the tail) still load, and predict what they predicted."""
    path, est, X = saved

    def drop(meta):
        del meta["content"]["state"]["validation_split"]

    rewrite(path, drop, fix_digest=True)
    old = load(path)
    assert old.validation_split == "tail"
    np.testing.assert_array_equal(old.predict(X), est.predict(X))


def test_forecaster_with_a_linear_part_round_trips_and_checks_its_shape(tmp_path):
    y = monthly(72)
    f = Forecaster(small(), window=6, normalize="last", linear=True).fit(y)
    save(f, tmp_path / "f")
    back = load(tmp_path / "f")
    np.testing.assert_array_equal(back.predict(4).to_numpy(), f.predict(4).to_numpy())
    np.testing.assert_array_equal(back._model.linear, f._model.linear)

    with zipfile.ZipFile(tmp_path / "f") as zf:
        meta = json.loads(zf.read(persistence.META))
    name = meta["content"]["state"]["_model"]["state"]["linear"]["array"]

    # a linear part one row short: it does not read this Forecaster's windows
    rewrite(tmp_path / "f", edit_members=cut_array(name, slice(1, None)), fix_digest=True)
    with pytest.raises(ValueError, match=r"linear"):
        load(tmp_path / "f")


@pytest.mark.parametrize(
    "make",
    [
        lambda: RecurrentForecaster(small(), horizon=3),
        lambda: RecurrentForecaster(
            [small(), small(LSTMRegressor)], horizon=4, seasonal_period=12, n_models=2
        ),
    ],
    ids=["one-network", "two-cells-two-seeds-seasonal"],
)
def test_recurrent_forecaster_round_trips_before_and_after_its_calibration(tmp_path, make):
    y = monthly(72) + 20.0  # positive: the recipe takes the log of a series without a season
    f = make().fit(y.iloc[:66])
    save(f, tmp_path / "f")  # before any interval: the calibration copy is fitted after loading
    back = load(tmp_path / "f")
    np.testing.assert_array_equal(back.predict(3).to_numpy(), f.predict(3).to_numpy())
    pd.testing.assert_frame_equal(back.predict_interval(3), f.predict_interval(3))
    f.update(y.iloc[66:])
    back.update(y.iloc[66:])
    np.testing.assert_array_equal(back.predict(3).to_numpy(), f.predict(3).to_numpy())
    assert back.predict(3).index.equals(f.predict(3).index)


def test_a_recurrent_forecaster_file_with_too_few_members_is_refused(tmp_path):
    f = RecurrentForecaster(small(), horizon=3, n_models=2).fit(monthly(60))
    save(f, tmp_path / "f")

    def three(meta):  # claims three networks while the file holds two
        meta["content"]["state"]["n_models"] = 3

    rewrite(tmp_path / "f", three, fix_digest=True)
    with pytest.raises(ValueError, match=r"forecasters_: must be a list of 3 fitted Forecasters"):
        load(tmp_path / "f")


def test_a_logged_forecaster_saved_before_its_calibration_gives_the_same_intervals(tmp_path):
    f = Forecaster(small(), window=6, log=True).fit(monthly(72) + 20.0)
    save(f, tmp_path / "f")
    pd.testing.assert_frame_equal(load(tmp_path / "f").predict_interval(3), f.predict_interval(3))


def test_a_deseasonalized_file_with_a_wrong_cycle_is_refused(tmp_path):
    f = DeseasonalizedForecaster(NaiveForecaster(), 12).fit(monthly(60))
    save(f, tmp_path / "f")
    with zipfile.ZipFile(tmp_path / "f") as zf:
        meta = json.loads(zf.read(persistence.META))
    name = meta["content"]["state"]["components_"][0]["state"]["cycles"][0]["array"]

    # a 12-month cycle of 11 values
    rewrite(tmp_path / "f", edit_members=cut_array(name, slice(1, None)), fix_digest=True)
    with pytest.raises(ValueError, match=r"SeasonalComponents.cycles\[0\]"):
        load(tmp_path / "f")
