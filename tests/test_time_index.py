"""The step of a time index: the index's own frequency, else the one its timestamps follow."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from tsrnn._time_index import regular_offset

DAILY = pd.date_range("2020-01-01", periods=10, freq="D")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.period_range("2000-01", periods=5, freq="M"), pd.offsets.MonthEnd()),
        (DAILY, pd.offsets.Day()),
        (pd.DatetimeIndex(list(DAILY)), pd.offsets.Day()),  # freq dropped: inferred again
        (pd.DatetimeIndex(["2020-01-01", "2020-02-01", "2020-03-01"]), pd.offsets.MonthBegin()),
        (pd.DatetimeIndex(["2020-01-06 00:00", "2020-01-06 01:00", "2020-01-06 02:00"]), pd.offsets.Hour()),
        (pd.DatetimeIndex(["2020-01-01", "2020-01-02"]), None),  # two timestamps: no step to infer
        (pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05"]), None),  # a gap
        (pd.RangeIndex(5), None),
    ],
)
def test_regular_offset_reads_or_infers_the_step_without_warnings(index, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas 3 warns about infer_freq's future return type
        offset = regular_offset(index)
    assert offset == expected
