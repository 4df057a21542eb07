"""The step of a time index, read from the index or inferred from its timestamps: shared by the
forecasters (future timestamps), the evaluation (calendar seasons) and the framework adapters."""

from __future__ import annotations

import pandas as pd

__all__ = ["regular_offset"]


def _infer_freq(index: pd.DatetimeIndex):
    """``pd.infer_freq`` without pandas' warning about its future return type (str or offset)."""
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            return pd.infer_freq(index)
    except KeyError:  # pandas without that option (OptionError subclasses KeyError): returns a str
        return pd.infer_freq(index)


def regular_offset(index: pd.Index):
    """The frequency of a Period/Datetime index as a pandas offset: the index's own, else the one
    its timestamps follow (three or more of them), else ``None`` (and for other indexes)."""
    if isinstance(index, pd.PeriodIndex):
        return index.freq
    if isinstance(index, pd.DatetimeIndex):
        if index.freq is not None:
            return index.freq
        inferred = _infer_freq(index) if len(index) >= 3 else None
        return None if inferred is None else pd.tseries.frequencies.to_offset(inferred)
    return None
