"""Synthetic tasks: structure checked directly, statistics against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.datasets import make_adding_problem, make_copy_memory


def test_adding_problem_structure_and_target():
    X, y = make_adding_problem(500, 40, random_state=0)
    assert X.shape == (500, 40, 2) and y.shape == (500,)
    markers = X[:, :, 1]
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    first = markers.argmax(axis=1)
    second = 39 - markers[:, ::-1].argmax(axis=1)
    assert np.all(first < 20) and np.all(second >= 20)
    np.testing.assert_allclose(y, (X[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert X[:, :, 0].min() >= 0.0 and X[:, :, 0].max() <= 1.0


def test_adding_problem_baseline_mse_is_one_sixth():
    """Predicting the mean gives MSE = Var(U1 + U2) = 2/12 (Monte-Carlo, 5 standard errors)."""
    _, y = make_adding_problem(200_000, 4, random_state=1, dtype=np.float64)
    mse = np.mean((y - 1.0) ** 2)
    se = np.std((y - 1.0) ** 2) / np.sqrt(y.size)
    assert abs(mse - 1 / 6) < 5 * se
    assert abs(y.mean() - 1.0) < 5 * y.std() / np.sqrt(y.size)


def test_adding_problem_reproducible_and_validated():
    a = make_adding_problem(10, 8, random_state=3)
    b = make_adding_problem(10, 8, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="seq_len must be at least 2"):
        make_adding_problem(10, 1)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        make_adding_problem(0, 10)


def test_copy_memory_label_is_first_symbol():
    X, y = make_copy_memory(300, lag=7, n_symbols=5, random_state=0)
    assert X.shape == (300, 8, 6)
    np.testing.assert_array_equal(X[:, 0, :5].argmax(axis=1), y)
    np.testing.assert_array_equal(X[:, 0, :5].sum(axis=1), 1.0)
    assert not X[:, 1:7].any()  # blanks between the symbol and the recall flag
    np.testing.assert_array_equal(X[:, 7, 5], 1.0)
    assert set(np.unique(y)) == set(range(5))
