"""The calendar season of a time index (12 for monthly data, ...), for seasonal naive and MASE."""

from __future__ import annotations

import pandas as pd

from .._time_index import regular_offset

__all__ = ["infer_seasonal_period", "infer_seasonal_periods", "regular_offset"]

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


def _calendar_period(offset) -> int | None:
    for classes, period in _SEASONS:
        if isinstance(offset, classes):
            return period if getattr(offset, "n", 1) == 1 else None
    return None


def infer_seasonal_periods(index: pd.Index) -> tuple[float, ...]:
    """All seasonal periods the index frequency implies, the shortest first (empty: none).

    Steps of a minute or more that divide a day have a daily and a weekly cycle: half-hourly
    ``(48, 336)``, hourly ``(24, 168)``, 15-minute ``(96, 672)``. Daily data has a weekly and
    a yearly cycle, ``(7, 365.25)``. Monthly ``(12,)``, quarterly ``(4,)``, weekly ``(52,)``,
    business-daily ``(5,)``; yearly data, irregular multiples such as ``"2MS"`` and integer
    indexes none (pass the period explicitly if the series has one).
    """
    offset = regular_offset(index)
    if offset is None:
        return ()
    if isinstance(offset, pd.offsets.Day) and offset.n == 1:
        return (7, 365.25)
    if isinstance(offset, pd.offsets.Tick) and not isinstance(offset, pd.offsets.Day):
        step, day = pd.Timedelta(offset), pd.Timedelta(days=1)
        if pd.Timedelta(minutes=1) <= step < day and day % step == pd.Timedelta(0):
            per_day = int(day // step)
            return (per_day, 7 * per_day)
        return ()
    period = _calendar_period(offset)
    return (period,) if period else ()


def infer_seasonal_period(index: pd.Index) -> int | None:
    """Season length implied by the index frequency, or ``None`` when there is no calendar season.

    The shortest of :func:`infer_seasonal_periods`: monthly -> 12, quarterly -> 4, weekly -> 52,
    daily -> 7, business-daily -> 5, hourly -> 24, half-hourly -> 48 (a day of steps for any
    step of a minute or more that divides a day). Yearly data, multiples such as ``"2MS"``,
    other frequencies and integer indexes -> ``None`` (there is no season to infer: pass
    ``seasonal_period`` explicitly if the series has one).
    """
    periods = infer_seasonal_periods(index)
    return int(periods[0]) if periods else None
