"""The one shared list of kernel test cases, used by every backend's tests."""

from __future__ import annotations

import numpy as np

from tsrnn import functional as F
from tsrnn._layout import CELLS

CELL_NAMES = tuple(CELLS)

# (N, L, D, H): the degenerate sizes 1, odd sizes, H larger and smaller than D.
SHAPES = [
    (1, 1, 1, 1),
    (2, 3, 1, 1),
    (1, 4, 2, 3),
    (3, 5, 4, 2),
    (2, 6, 3, 5),
    (4, 2, 5, 7),
]

CASES = [(cell, shape) for cell in CELL_NAMES for shape in SHAPES]


def case_id(case) -> str:
    cell, (n, length, d, h) = case
    return f"{cell}-N{n}-L{length}-D{d}-H{h}"


def make_problem(cell: str, shape, dtype=np.float64, seed: int = 0):
    """Random weights, input, initial state and upstream gradients for one case.

    Weights are drawn at a larger scale than the default init so that the gates are not
    all near 0.5 and every term of the backward pass matters.
    """
    n, length, d, h = shape
    rng = np.random.default_rng(seed)
    weights = F.init_weights(cell, d, h, random_state=seed, dtype=dtype)
    weights = {k: (v + rng.normal(scale=0.3, size=v.shape)).astype(dtype) for k, v in weights.items()}
    x = rng.normal(size=(n, length, d)).astype(dtype)
    h0 = rng.normal(scale=0.5, size=(n, h)).astype(dtype)
    c0 = rng.normal(scale=0.5, size=(n, h)).astype(dtype) if cell == "lstm" else None
    g_out = rng.normal(size=(n, length, h)).astype(dtype)
    g_h = rng.normal(size=(n, h)).astype(dtype)
    g_c = rng.normal(size=(n, h)).astype(dtype) if cell == "lstm" else None
    return weights, x, h0, c0, g_out, g_h, g_c


def final_state_grad(cell, g_h, g_c):
    return (g_h, g_c) if cell == "lstm" else g_h


# The CPU kernels against the NumPy reference, relative to the largest |expected| entry: both
# compute in the given dtype, in different summation orders (and FMA contractions on the CPU).
CPU_TOLERANCE = {np.float64: 1e-10, np.float32: 2e-5}


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| relative to the largest |expected| (at least 1e-3)."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-3)
    return float(np.max(np.abs(actual - expected), initial=0.0)) / scale
