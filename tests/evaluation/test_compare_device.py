"""compare() and `tsrnn compare` say which device trained the recurrent models."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pytest

from tsrnn import NaiveForecaster, compare
from tsrnn.cli import main
from tsrnn.estimators import GRURegressor
from tsrnn.forecasting import Forecaster


@pytest.fixture
def no_gpu(monkeypatch):
    if importlib.util.find_spec("numba_cuda") is not None:
        from numba import cuda

        monkeypatch.setattr(cuda, "is_available", lambda: False)


@pytest.fixture
def y():
    t = np.arange(48)
    return pd.Series(10 + np.sin(t / 3) + 0.1 * np.cos(t), index=pd.RangeIndex(48))


def test_compare_records_the_training_device(y, no_gpu):
    gru = Forecaster(GRURegressor(hidden_size=3, max_iter=2, random_state=0), window=6)
    models = {"naive": NaiveForecaster(), "gru": gru}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = compare(y, forecasters=models, horizon=3, n_windows=1)
        assert summary.attrs["devices"] == {"gru": "cpu"}  # only models that have a device
        auto = compare(y, forecasters=models, horizon=3, n_windows=1, device="auto")
    assert auto.attrs["devices"] == {"gru": "cpu"}
    np.testing.assert_array_equal(auto["mase"].to_numpy(), summary["mase"].to_numpy())
    assert gru.get_params()["estimator__device"] == "cpu"  # the caller's model is not modified
    with pytest.raises(RuntimeError, match=r"pip install 'tsrnn\[cuda\]'"):
        compare(y, forecasters=models, horizon=3, n_windows=1, device="cuda")
    with pytest.raises(ValueError, match="device"):
        compare(y, forecasters=models, horizon=3, n_windows=1, device="tpu")


def test_cli_prints_the_training_device(tmp_path, capsys, no_gpu, y):
    path = tmp_path / "series.csv"
    pd.DataFrame({"t": np.arange(len(y)), "v": y.to_numpy()}).to_csv(path, index=False)
    args = ["compare", "--csv", str(path), "--time-col", "t", "--target", "v", "--horizon", "2"]
    args += ["--windows", "1", "--no-progress", "--models", "naive,rnn"]
    assert main([*args, "--device", "auto"]) == 0
    out = capsys.readouterr().out
    assert "device: the recurrent models (rnn) trained on cpu" in out
    assert main([*args, "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda" in err and "pip install 'tsrnn[cuda]'" in err and len(err.splitlines()) == 1
    # without recurrent models there is no device line
    assert main([*args[:-1], "naive"]) == 0
    assert "device:" not in capsys.readouterr().out


def test_device_reaches_a_default_estimator_and_a_per_series_forecaster(y):
    from tsrnn.estimators import find_recurrent, with_device
    from tsrnn.forecasting import PerSeriesForecaster

    default = Forecaster(window=6)
    per_series = PerSeriesForecaster(Forecaster(GRURegressor(hidden_size=3), window=6))
    nested_default = PerSeriesForecaster(Forecaster(window=6))
    assert list(find_recurrent(default)) == ["estimator"]
    assert list(find_recurrent(per_series)) == ["forecaster__estimator"]
    assert list(find_recurrent(nested_default)) == ["forecaster__estimator"]
    assert find_recurrent(NaiveForecaster()) == {}
    for model in (default, per_series, nested_default):
        moved = with_device(model, "reference")
        assert moved is not model  # a clone: the caller's model is left alone
        (est,) = find_recurrent(moved).values()
        assert est.device == "reference"
        (original,) = find_recurrent(model).values()
        assert original.device == "cpu"
    # The default made explicit is the default: same class and parameters but the device.
    explicit = find_recurrent(with_device(default, "reference"))["estimator"]
    assert explicit.get_params() == {
        **find_recurrent(default)["estimator"].get_params(),
        "device": "reference",
    }
    assert with_device(per_series, "cpu") is per_series  # nothing to change


def test_device_reaches_an_ensembles_networks_a_pipeline_and_a_decomposed_model():
    """Lists and tuples of estimators (an ensemble, a pipeline's steps) are walked too, and
    with_device rebuilds them with only the recurrent estimators changed."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from tsrnn.estimators import LSTMRegressor, find_recurrent, with_device
    from tsrnn.evaluation import make_forecaster

    ensemble = make_forecaster("rnn-ensemble", 48, (48, 336), horizon=48)
    paths = ["forecaster__estimator[0]", "forecaster__estimator[1]", "forecaster__estimator[2]"]
    assert list(find_recurrent(ensemble)) == paths
    assert [e.cell for e in find_recurrent(ensemble).values()] == ["rnn_tanh", "lstm", "gru"]
    scaler = StandardScaler()
    piped = Forecaster(make_pipeline(scaler, LSTMRegressor(hidden_size=3)), window=6)
    assert list(find_recurrent(piped)) == ["estimator__steps[1][1]"]
    for model in (ensemble, piped):
        moved = with_device(model, "reference")
        assert moved is not model
        devices = [e.device for e in find_recurrent(moved).values()]
        assert devices == ["reference"] * len(find_recurrent(model))
        assert all(e.device == "cpu" for e in find_recurrent(model).values())  # left alone
        assert with_device(moved, "reference") is moved  # nothing left to change
    # the pipeline keeps its other step and its structure
    steps = with_device(piped, "reference").estimator.steps
    assert [name for name, _ in steps] == ["standardscaler", "lstmregressor"]
    assert type(steps[0][1]) is StandardScaler and steps[0][1] is not scaler


def test_compare_applies_the_device_to_every_recurrent_model(no_gpu):
    from tsrnn.estimators import find_recurrent
    from tsrnn.evaluation._compare import training_devices
    from tsrnn.forecasting import PerSeriesForecaster

    models = {
        "naive": NaiveForecaster(),
        "default": Forecaster(window=6),
        "per_series": PerSeriesForecaster(Forecaster(GRURegressor(hidden_size=3), window=6)),
    }
    moved, devices = training_devices(models, "reference")
    assert devices == {"default": "reference", "per_series": "reference"}
    assert moved["naive"] is models["naive"]
    for name in ("default", "per_series"):
        assert [e.device for e in find_recurrent(moved[name]).values()] == ["reference"]
    _, kept = training_devices(models)  # None: each model keeps its own device
    assert kept == {"default": "cpu", "per_series": "cpu"}
