"""rows_to_sequences against rows written out element by element from a known sequence."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.estimators import rows_to_sequences


def _row(seq: np.ndarray, static: np.ndarray, order: str, layout: str) -> list[float]:
    """One flat row written the way the frameworks document their columns (no reshapes)."""
    steps, lagged = seq.shape
    lag_index = range(steps) if order == "oldest_first" else range(steps - 1, -1, -1)
    out = []
    if layout == "interleaved":
        for t in lag_index:
            out.extend(seq[t, f] for f in range(lagged))
    else:
        for f in range(lagged):
            out.extend(seq[t, f] for t in lag_index)
    return out + list(static)


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("layout", ["interleaved", "blocked"])
@pytest.mark.parametrize(("lagged", "n_static"), [(1, 0), (3, 0), (1, 1), (2, 2)])
def test_every_layout_gives_the_step_major_sequence(order, layout, lagged, n_static):
    rng = np.random.default_rng(0)
    n, steps = 4, 5
    seq = rng.normal(size=(n, steps, lagged))
    static = rng.normal(size=(n, n_static))
    X = np.array([_row(seq[i], static[i], order, layout) for i in range(n)])
    got = rows_to_sequences(
        X, lagged + n_static, input_order=order, feature_layout=layout, static_features=n_static
    )
    expected = np.concatenate([seq, np.repeat(static[:, None, :], steps, axis=1)], axis=2)
    assert got.shape == (n, steps, lagged + n_static)
    np.testing.assert_array_equal(got, expected)


def test_skforecast_row_with_one_exogenous_column():
    # ForecasterRecursive(lags=3) with one exog: columns lag_1, lag_2, lag_3, x (x at the target time)
    X = np.array([[3.0, 2.0, 1.0, 9.0]])
    got = rows_to_sequences(X, 2, input_order="newest_first", static_features=1)
    np.testing.assert_array_equal(got[0], [[1.0, 9.0], [2.0, 9.0], [3.0, 9.0]])


def test_defaults_keep_the_plain_reshape():
    X = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(rows_to_sequences(X), X[:, :, None])
    np.testing.assert_array_equal(rows_to_sequences(X, 2)[1], [[6, 7], [8, 9], [10, 11]])


def test_channels_first_panels():
    rng = np.random.default_rng(1)
    panel = rng.normal(size=(3, 2, 7))  # sktime: (instances, variables, time)
    got = rows_to_sequences(panel, channels_first=True)
    for i in range(3):
        for t in range(7):
            np.testing.assert_array_equal(got[i, t], panel[i, :, t])
    np.testing.assert_array_equal(rows_to_sequences(panel.transpose(0, 2, 1)), got)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_order": "newest"}, "input_order must be one of"),
        ({"feature_layout": "stacked"}, "feature_layout must be one of"),
        ({"input_size": 2, "static_features": 2}, "must exceed static_features"),
        ({"input_size": 4}, "not a multiple of input_size=4"),
        ({"channels_first": True}, "channels_first=True describes 3-D"),
    ],
)
def test_bad_layouts_name_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rows_to_sequences(np.zeros((2, 6)), **kwargs)


def test_static_columns_need_2d_rows():
    with pytest.raises(ValueError, match="static_features=0 or pass 2-D"):
        rows_to_sequences(np.zeros((2, 3, 1)), static_features=1)


FAST = {"hidden_size": 4, "max_iter": 5, "random_state": 0}
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _rows_of(seq, static, order, layout):
    return np.array([_row(seq[i], static[i], order, layout) for i in range(len(seq))])


def test_estimator_layout_parameters_fit_the_same_model_as_the_default_layout(tmp_path):
    from tsrnn import GRURegressor, load, save

    rng = np.random.default_rng(2)
    n, steps = 60, 6
    seq = rng.normal(size=(n, steps, 1))
    static = rng.normal(size=(n, 1))
    y = seq[:, -1, 0] + static[:, 0]
    # oracle: the default layout on the rows written interleaved, oldest first, static repeated
    full = np.concatenate([seq, np.repeat(static[:, None], steps, axis=1)], axis=2)
    reference = GRURegressor(input_size=2, **FAST).fit(full.reshape(n, -1), y)
    framework_rows = _rows_of(seq, static, "newest_first", "blocked")  # skforecast with one exog
    model = GRURegressor(
        input_size=2, input_order="newest_first", feature_layout="blocked", static_features=1, **FAST
    ).fit(framework_rows, y)
    np.testing.assert_array_equal(model.predict(framework_rows), reference.predict(full.reshape(n, -1)))
    assert model.n_features_in_ == steps + 1 and model.n_timesteps_ == steps and model.input_size_ == 2
    save(model, tmp_path / "m.tsrnn")
    np.testing.assert_array_equal(
        load(tmp_path / "m.tsrnn").predict(framework_rows), model.predict(framework_rows)
    )
    with pytest.raises(ValueError, match="expecting 7 features"):
        model.predict(framework_rows[:, 1:])


def test_estimator_channels_first_panels(tmp_path):
    from tsrnn import GRURegressor, load, save

    rng = np.random.default_rng(3)
    panel = rng.normal(size=(40, 2, 5))  # sktime: (instances, variables, time)
    y = panel[:, 0, -1] - panel[:, 1, 0]
    reference = GRURegressor(**FAST).fit(panel.transpose(0, 2, 1), y)
    model = GRURegressor(channels_first=True, **FAST).fit(panel, y)
    np.testing.assert_array_equal(model.predict(panel), reference.predict(panel.transpose(0, 2, 1)))
    save(model, tmp_path / "m.tsrnn")
    np.testing.assert_array_equal(load(tmp_path / "m.tsrnn").predict(panel), model.predict(panel))
