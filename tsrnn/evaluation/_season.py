"""The calendar season of a time index (12 for monthly data, ...), for seasonal naive and MASE."""

from __future__ import annotations

import warnings

import pandas as pd

__all__ = ["infer_seasonal_period", "regular_offset"]

# The cycle a forecaster of such data usually means: a year of months/quarters/weeks, a week of
# days, a day of hours. Yearly (and coarser or irregular multiples) data has no calendar season.
_SEASONS = (
    (
        (
            pd.offsets.MonthBegin,
            pd.offsets.MonthEnd,
            pd.offsets.BusinessMonthBegin,
            pd.offsets.BusinessMonthEnd,
        ),
        12,
    ),
    ((pd.offsets.QuarterBegin, pd.offsets.QuarterEnd, pd.offsets.BQuarterBegin, pd.offsets.BQuarterEnd), 4),
    ((pd.offsets.Week,), 52),
    ((pd.offsets.Day,), 7),
    ((pd.offsets.BusinessDay,), 5),
    ((pd.offsets.Hour,), 24),
)


def regular_offset(index: pd.Index):
    """The frequency of a Period/Datetime index as an offset (inferred if unset), or ``None``."""
    if isinstance(index, pd.PeriodIndex):
        return index.freq
    if isinstance(index, pd.DatetimeIndex):
        if index.freq is not None:
            return index.freq
        if len(index) < 3:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 announces a change of infer_freq's return type
            inferred = pd.infer_freq(index)
        return None if inferred is None else pd.tseries.frequencies.to_offset(inferred)
    return None


def infer_seasonal_period(index: pd.Index) -> int | None:
    """Season length implied by the index frequency, or ``None`` when there is no calendar season.

    Monthly -> 12, quarterly -> 4, weekly -> 52, daily -> 7, business-daily -> 5, hourly -> 24.
    Yearly data, multiples such as ``"2MS"``, other frequencies and integer indexes -> ``None``
    (there is no season to infer: pass ``seasonal_period`` explicitly if the series has one).
    """
    offset = regular_offset(index)
    if offset is None or getattr(offset, "n", 1) != 1:
        return None
    for classes, period in _SEASONS:
        if isinstance(offset, classes):
            return period
    return None
