"""The comparison's text and markdown tables: each column keeps one number of decimals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrnn.evaluation import format_table, to_markdown


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mase": [0.912, 3.5734],
            "mae": [16.04, 162.66],
            "rmse": [20.0, 0.5],
            "smape": [41.6, 7.0],
            "coverage": [0.98, 0.74],
            "width": [0.0, 0.0],
            "crps": [np.nan, np.nan],
            "winkler": [1234.56, 7.0],
            "fit_time": [0.227, 0.00011],
            "predict_time": [12.0, np.nan],
        },
        index=["hmm", "theta"],
    )


def test_columns_line_up_on_one_number_of_decimals():
    rows = [line.split() for line in format_table(_summary()).splitlines()]
    assert rows[0] == [
        "rank", "model", "MASE", "MAE", "RMSE", "sMAPE", "%", "coverage", "width", "CRPS",
        "Winkler", "fit", "s", "predict", "s",
    ]  # fmt: skip
    # By hand: MAE's largest value 162.66 has three digits before the point, so four
    # significant digits leave one decimal for the whole column; RMSE's 20.0 leaves two;
    # sMAPE's 41.6 one of three; an all-zero column keeps three; Winkler's 1234.56 none.
    # MASE keeps three decimals and the times three significant digits each, trailing zeros
    # included (12.0, not 12).
    hmm = ["1", "hmm", "0.912", "16.0", "20.00", "41.6", "98%", "0.000", "-", "1235", "0.227", "12.0"]
    theta = ["2", "theta", "3.573", "162.7", "0.50", "7.0", "74%", "0.000", "-", "7", "0.000110", "-"]
    assert rows[2:] == [hmm, theta]


def test_markdown_table_has_the_same_cells():
    lines = to_markdown(_summary()).splitlines()
    assert lines[1].startswith("| ---: | :--- | ---: |")
    assert lines[2] == "| 1 | hmm | 0.912 | 16.0 | 20.00 | 41.6 | 98% | 0.000 | - | 1235 | 0.227 | 12.0 |"
