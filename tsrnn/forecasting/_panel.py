"""Panels: many series in long format, one global (or one local per series) window model.

A panel is a set of series identified by ``unique_id``, each regular in time but of its own
length and start. It arrives as a long DataFrame (columns ``unique_id``, ``ds``, ``y``, the
names configurable) or as a dict ``{id: Series}``. Covariates come in the same long format:

- *future* covariates (``X``): known over the horizon; window step ``s`` carries their values at
  ``s + 1`` (recursive strategy) or ``s`` plus a decoder step at the target time (direct);
- *past* covariates: known only up to the forecast origin; window step ``s`` carries their
  values at ``s``; never needed for the horizon;
- *static* covariates: one row per series, repeated at every step (categories one-hot encoded);
- *calendar* features built from the timestamps, as future covariates.

The windows of all series are indexed, not copied: a sample is ``(series, origin, step ahead)``
and its features are gathered on demand, so training can stream mini-batches drawn across
series when the whole design matrix would not fit in ``max_window_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from .._parallel import run_tasks
from .._scaling import moments
from .._state import check_array, check_choice, check_int, check_keys, check_vector, fail, register
from .._time_index import regular_offset
from ._base import check_horizon, check_time_index, future_index
from ._transforms import TargetTransform

__all__ = [
    "CALENDAR_FEATURES",
    "Panel",
    "calendar_features",
    "is_panel",
    "to_long",
    "to_panel",
]

SCOPES = ("global", "local")
CALENDAR_ENCODINGS = ("cyclic", "onehot")
#: calendar feature -> (period, function of the index giving 0-based values)
CALENDAR_FEATURES: dict[str, tuple[int, object]] = {
    "month": (12, lambda ix: ix.month - 1),
    "quarter": (4, lambda ix: ix.quarter - 1),
    "dayofweek": (7, lambda ix: ix.day_of_week),
    "day": (31, lambda ix: ix.day - 1),
    "dayofyear": (366, lambda ix: ix.day_of_year - 1),
    "weekofyear": (53, lambda ix: _week(ix) - 1),
    "hour": (24, lambda ix: ix.hour),
    "minute": (60, lambda ix: ix.minute),
}


def _show(label) -> str:
    """A timestamp or id for an error message (NumPy scalars as plain Python values)."""
    return repr(label.item() if isinstance(label, np.generic) else label)


def _week(index) -> np.ndarray:
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    return np.asarray(index.isocalendar().week, dtype=np.int64)


# -- parsing ---------------------------------------------------------------------------------


@dataclass
class Panel:
    """Series of a panel: ``ids[i]`` has ``values[i]`` (float64, 1-D) on ``index[i]``."""

    ids: list
    values: list[np.ndarray]
    index: list[pd.Index]
    step: object = None  # pandas offset (dates/periods) or int (integer time)

    def subset(self, ids) -> Panel:
        pos = {u: i for i, u in enumerate(self.ids)}
        keep = [pos[u] for u in ids]
        return Panel(
            [self.ids[i] for i in keep],
            [self.values[i] for i in keep],
            [self.index[i] for i in keep],
            self.step,
        )

    def up_to(self, cutoff) -> Panel:
        """Each series' observations at or before ``cutoff`` (series with none are dropped)."""
        ids, values, index = [], [], []
        for u, v, ix in zip(self.ids, self.values, self.index):
            n = int(ix.searchsorted(cutoff, side="right"))
            if n:
                ids.append(u)
                values.append(v[:n])
                index.append(ix[:n])
        return Panel(ids, values, index, self.step)


def is_panel(y, id_col: str = "unique_id", time_col: str = "ds") -> bool:
    """Whether ``y`` is a panel: a dict of Series or a long DataFrame with id and time columns."""
    if isinstance(y, Panel):
        return True
    if isinstance(y, dict):
        return True
    return isinstance(y, pd.DataFrame) and id_col in y.columns and time_col in y.columns


def _as_time_index(values, name: str) -> pd.Index:
    index = pd.Index(values)
    if isinstance(index.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(index)
    if pd.api.types.is_datetime64_any_dtype(index.dtype):
        return pd.DatetimeIndex(index)
    if pd.api.types.is_integer_dtype(index.dtype):
        return index
    raise TypeError(
        f"the time column of {name} must hold dates, periods or integers, got dtype {index.dtype}; "
        f"convert it with pd.to_datetime(...)."
    )


def _infer_step(indexes: list[pd.Index], freq):
    first = indexes[0]
    if freq is not None:
        if isinstance(first, (pd.DatetimeIndex, pd.PeriodIndex)):
            return pd.tseries.frequencies.to_offset(freq)
        return int(freq)
    if isinstance(first, pd.PeriodIndex):
        return first.freq
    if isinstance(first, pd.DatetimeIndex):
        for ix in sorted(indexes, key=len, reverse=True):
            if (offset := regular_offset(ix)) is not None:
                return offset
        raise ValueError(
            "no regular frequency can be inferred from the timestamps of any series (is a series "
            "gappy?); pass freq=..., e.g. Forecaster(..., freq='D')."
        )
    diffs = [np.diff(ix.to_numpy()) for ix in indexes if len(ix) > 1]
    diffs = np.concatenate(diffs) if diffs else np.array([1])
    step = int(diffs[diffs > 0].min()) if (diffs > 0).any() else 1
    return step


def _check_regular(uid, index: pd.Index, step, name: str) -> None:
    """Raise a ValueError naming the series and its first missing timestamp."""
    if len(index) < 2:
        return
    if isinstance(index, pd.PeriodIndex):
        expected = pd.period_range(index[0], index[-1], freq=step)
    elif isinstance(index, pd.DatetimeIndex):
        expected = pd.date_range(index[0], index[-1], freq=step, tz=index.tz)
    else:
        expected = pd.Index(np.arange(int(index[0]), int(index[-1]) + 1, step))
    if len(expected) == len(index) and expected.equals(index):
        return
    missing = expected.difference(index)
    if len(missing):
        before = index[index < missing[0]][-1]
        raise ValueError(
            f"series {_show(uid)} of {name} has missing timestamps: the first gap is at {_show(missing[0])} "
            f"(after {_show(before)}), {len(missing)} missing in all at the step {_show(step)}. Fill them "
            f"(e.g. resample the series to its frequency and interpolate) before fitting."
        )
    off = index.difference(expected)
    raise ValueError(
        f"series {_show(uid)} of {name} has timestamps off the regular grid of step {_show(step)}, the first "
        f"{_show(off[0])}; resample it to one frequency."
    )


def _check_values(uid, values: np.ndarray, index: pd.Index, name: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"series {_show(uid)} of {name} has {int(bad.sum())} NaN or infinite value(s), the first at "
            f"{_show(index[int(np.argmax(bad))])}; fill them first (e.g. interpolate)."
        )


def to_panel(
    y, id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y", freq=None, name="y"
) -> Panel:
    """Parse a long DataFrame or a dict of Series into a :class:`Panel`, checking every series.

    Series keep their order of first appearance. Each series must be regular at the panel's
    frequency (``freq``, or the one found from the timestamps); a hole inside a series is a
    ValueError naming the series and its first missing timestamp.
    """
    if isinstance(y, Panel):
        return y
    ids, values, indexes = [], [], []
    if isinstance(y, dict):
        if not y:
            raise ValueError(f"{name} is an empty dict; it needs at least one series.")
        for uid, s in y.items():
            if not isinstance(s, pd.Series):
                raise TypeError(
                    f"{name}[{_show(uid)}] must be a pandas Series indexed by time, got {type(s).__name__}."
                )
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                raise TypeError(f"series {_show(uid)} of {name} is not numeric (dtype {s.dtype}).")
            if len(s) == 0:
                raise ValueError(f"series {_show(uid)} of {name} is empty.")
            check_time_index(s.index, f"series {_show(uid)} of {name}")
            ids.append(uid)
            values.append(s.to_numpy(dtype=np.float64, na_value=np.nan))
            indexes.append(_as_time_index(s.index, name))
    elif isinstance(y, pd.DataFrame):
        missing = [c for c in (id_col, time_col, target_col) if c not in y.columns]
        if missing:
            raise ValueError(
                f"{name} in long format needs the columns {[id_col, time_col, target_col]}, but "
                f"{missing} are absent (columns: {list(y.columns)}); rename them or pass "
                f"id_col=/time_col=/target_col=."
            )
        target = y[target_col]
        if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
            raise TypeError(f"column {target_col!r} of {name} is not numeric (dtype {target.dtype}).")
        if len(y) == 0:
            raise ValueError(f"{name} is empty; it needs at least one observation.")
        frame = y[[id_col, time_col, target_col]]
        for uid, g in frame.groupby(id_col, sort=False):
            g = g.sort_values(time_col, kind="stable")
            index = _as_time_index(g[time_col].to_numpy(), name)
            if index.has_duplicates:
                raise ValueError(
                    f"series {_show(uid)} of {name} has duplicated timestamps (first: "
                    f"{_show(index[index.duplicated()][0])}); aggregate them first."
                )
            ids.append(uid)
            values.append(g[target_col].to_numpy(dtype=np.float64, na_value=np.nan))
            indexes.append(index)
    else:
        raise TypeError(
            f"{name} must be a long DataFrame with columns {[id_col, time_col, target_col]} or a "
            f"dict of Series, got {type(y).__name__}."
        )
    kinds = {type(ix).__name__ if not pd.api.types.is_integer_dtype(ix.dtype) else "int" for ix in indexes}
    if len(kinds) > 1:
        raise TypeError(f"the series of {name} are indexed by different kinds of time ({sorted(kinds)}).")
    step = _infer_step(indexes, freq)
    for uid, v, ix in zip(ids, values, indexes):
        _check_values(uid, v, ix, name)
        _check_regular(uid, ix, step, name)
    return Panel(ids, values, indexes, step)


def to_long(ids, indexes, values, id_col: str, time_col: str, target_col: str) -> pd.DataFrame:
    """A long DataFrame from per-series labels and values."""
    if not ids:
        return pd.DataFrame({id_col: [], time_col: [], target_col: []})
    lengths = [len(ix) for ix in indexes]
    times = indexes[0].append(list(indexes[1:])) if len(indexes) > 1 else indexes[0]
    return pd.DataFrame(
        {
            id_col: np.repeat(np.array(ids, dtype=object), lengths),
            time_col: times,
            target_col: np.concatenate(values) if values else np.array([]),
        }
    )


def future_labels(index: pd.Index, horizon: int, step) -> pd.Index:
    return future_index(index, horizon, None if isinstance(step, (int, np.integer)) else step)


# -- covariates ------------------------------------------------------------------------------


class Covariates:
    """A long covariate frame split by series: ``{id: frame indexed by time}``."""

    def __init__(self, X, id_col: str, time_col: str, name: str, columns: list | None = None):
        if not isinstance(X, pd.DataFrame) or id_col not in X.columns or time_col not in X.columns:
            raise TypeError(
                f"{name} must be a long DataFrame with columns {id_col!r}, {time_col!r} and one "
                f"column per covariate, got {type(X).__name__}"
                + (f" with columns {list(X.columns)}" if isinstance(X, pd.DataFrame) else "")
                + "."
            )
        cols = [c for c in X.columns if c not in (id_col, time_col)]
        if columns is not None:
            if set(cols) != set(columns):
                raise ValueError(
                    f"{name} must have the covariate columns it was fit with, {columns}; got {cols}."
                )
            cols = list(columns)
        if not cols:
            raise ValueError(f"{name} has no covariate column besides {id_col!r} and {time_col!r}.")
        bad = [c for c in cols if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])]
        if bad:
            raise TypeError(f"{name} has non-numeric column(s) {bad}; encode them as numbers first.")
        self.name = name
        self.columns = cols
        self.parts = {}
        for uid, g in X.groupby(id_col, sort=False):
            frame = g.set_index(pd.Index(_as_time_index(g[time_col].to_numpy(), name)))[cols]
            if frame.index.has_duplicates:
                raise ValueError(
                    f"{name} has duplicated timestamps for series {_show(uid)} (first: "
                    f"{_show(frame.index[frame.index.duplicated()][0])})."
                )
            self.parts[uid] = frame

    def rows(self, uid, index: pd.Index, what: str = "") -> np.ndarray:
        """Values ``(len(index), p)`` of series ``uid`` at ``index``; a clear error when missing."""
        frame = self.parts.get(uid)
        if frame is None:
            raise ValueError(
                f"{self.name} has no rows for series {_show(uid)}{what}; it needs one per timestamp."
            )
        missing = index.difference(frame.index)
        if len(missing):
            raise ValueError(
                f"{self.name} lacks series {_show(uid)} at {len(missing)} timestamp(s){what}, the first "
                f"{_show(missing[0])}; it needs a row for every timestamp from {_show(index[0])} "
                f"to {_show(index[-1])}."
            )
        out = frame.loc[index].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(out)
        if bad.any():
            raise ValueError(
                f"{self.name} has NaN for series {_show(uid)} at "
                f"{_show(index[int(np.argmax(bad.any(axis=1)))])}; fill it."
            )
        return out


class StaticEncoder:
    """One row per series -> numbers: numeric columns standardised, categorical ones one-hot."""

    def fit(self, S, id_col: str) -> StaticEncoder:
        S = self._frame(S, id_col)
        self.id_col = id_col
        self.numeric = [
            c
            for c in S.columns
            if pd.api.types.is_numeric_dtype(S[c]) and not pd.api.types.is_bool_dtype(S[c])
        ]
        self.categories = {
            c: pd.Index(pd.unique(S[c].astype(object))) for c in S.columns if c not in self.numeric
        }
        self.columns = list(S.columns)
        num = S[self.numeric].to_numpy(dtype=np.float64) if self.numeric else np.zeros((len(S), 0))
        self.mean, self.scale = moments(num, axis=0) if num.shape[1] else (np.zeros(0), np.ones(0))
        return self

    @staticmethod
    def _frame(S, id_col: str) -> pd.DataFrame:
        if not isinstance(S, pd.DataFrame):
            raise TypeError(
                f"static_covariates must be a DataFrame with one row per series (indexed by "
                f"{id_col!r} or with an {id_col!r} column), got {type(S).__name__}."
            )
        if id_col in S.columns:
            S = S.set_index(id_col)
        if S.index.has_duplicates:
            raise ValueError(
                f"static_covariates has several rows for series {_show(S.index[S.index.duplicated()][0])}."
            )
        return S

    @property
    def width(self) -> int:
        return len(self.numeric) + sum(len(c) for c in self.categories.values())

    def rows(self, S, ids) -> np.ndarray:
        S = self._frame(S, self.id_col)
        missing = [u for u in ids if u not in S.index]
        if missing:
            raise ValueError(
                f"static_covariates has no row for series {_show(missing[0])} "
                f"({len(missing)} series missing); "
                "give one row per series."
            )
        if set(S.columns) != set(self.columns):
            raise ValueError(f"static_covariates must have the columns it was fit with, {self.columns}.")
        S = S.loc[list(ids)]
        parts = []
        if self.numeric:
            num = S[self.numeric].to_numpy(dtype=np.float64)
            if not np.isfinite(num).all():
                raise ValueError("static_covariates has NaN in a numeric column; fill it.")
            parts.append((num - self.mean) / self.scale)
        for c, cats in self.categories.items():
            codes = cats.get_indexer(S[c].astype(object))
            if (codes < 0).any():
                bad = S[c].iloc[int(np.argmax(codes < 0))]
                raise ValueError(
                    f"static_covariates column {c!r} has the category {_show(bad)}, unseen in fit."
                )
            parts.append(np.eye(len(cats))[codes])
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(ids), 0))


def calendar_features(index: pd.Index, calendar, encoding: str = "cyclic") -> np.ndarray:
    """Calendar features of the timestamps ``index``: ``(len(index), k)``.

    ``encoding="cyclic"``: ``sin`` and ``cos`` of ``2 pi v / period`` per feature;
    ``"onehot"``: one column per value of the period.
    """
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        raise TypeError(
            f"calendar features need dates (a DatetimeIndex or PeriodIndex time column), got "
            f"{type(index).__name__}; use calendar=None for integer time."
        )
    parts = []
    for feature in calendar:
        period, fn = CALENDAR_FEATURES[feature]
        v = np.asarray(fn(index), dtype=np.float64)
        if encoding == "cyclic":
            angle = 2 * np.pi * v / period
            parts.append(np.stack([np.sin(angle), np.cos(angle)], axis=1))
        else:
            parts.append(np.eye(period)[v.astype(np.int64)])
    return np.concatenate(parts, axis=1)


# -- the window engine -----------------------------------------------------------------------


@dataclass
class _Stack:
    """Series stacked end to end: one gather builds the windows of many series at once."""

    z: np.ndarray  # (T,) transformed target
    past: np.ndarray | None  # (T, p)
    future: np.ndarray | None  # (T, q)
    static: np.ndarray | None  # (n_series, s)
    ids: np.ndarray | None  # (n_series, k) one-hot
    starts: np.ndarray  # (n_series,) offset of each series in the stacked arrays

    def features(self, sid, pos, hs, window: int, direct: int) -> np.ndarray:
        """Inputs ``(N, window [+ 1], F)`` of the samples with origin ``pos`` (stacked position)."""
        n = len(pos)
        t = pos[:, None] - window + np.arange(window)
        parts = [self.z[t][..., None]]
        if self.past is not None:
            parts.append(self.past[t])
        if self.future is not None:
            parts.append(self.future[t] if direct else self.future[t + 1])
        per_series = []
        if self.static is not None:
            per_series.append(self.static[sid])
        if self.ids is not None:
            per_series.append(self.ids[sid])
        if per_series:
            rep = np.concatenate(per_series, axis=1)
            parts.append(np.broadcast_to(rep[:, None, :], (n, window, rep.shape[1])))
        if direct:
            parts.append(np.zeros((n, window, direct)))
        x = np.concatenate(parts, axis=2)
        if not direct:
            return x
        # the decoder step: covariates known at the target time and which step ahead it is
        dec = [np.zeros((n, 1))]
        if self.past is not None:
            dec.append(np.zeros((n, self.past.shape[1])))
        if self.future is not None:
            dec.append(self.future[pos + hs - 1])
        if per_series:
            dec.append(rep)
        dec.append(np.eye(direct)[hs - 1])
        return np.concatenate([x, np.concatenate(dec, axis=1)[:, None, :]], axis=1)


@dataclass
class GlobalModel:
    """One fitted network over windows of a set of series, with everything predict needs."""

    window: int
    direct: int  # 0: recursive one-step model; H: direct model with a decoder step per horizon
    transform_params: tuple  # (log, seasonal_period, diff, standardize)
    ids: list  # training series, in order (the one-hot id columns when series_id)
    series_id: bool
    past_mean: np.ndarray | None = None
    past_scale: np.ndarray | None = None
    future_mean: np.ndarray | None = None
    future_scale: np.ndarray | None = None
    static: StaticEncoder | None = None
    estimator: object = None
    n_samples: int = 0
    streamed: bool = False
    transforms: dict = field(default_factory=dict)

    def make_transform(self, values: np.ndarray, index: pd.Index, uid) -> TargetTransform:
        log, season, diff, standardize = self.transform_params
        t = TargetTransform(log, season, diff, standardize)
        try:
            return t.fit(values[:, None], index)
        except ValueError as exc:
            raise ValueError(f"series {_show(uid)}: {exc}") from exc

    def stack(self, series: list, pad: int) -> tuple[_Stack, list]:
        """Stack ``series`` (dicts with uid, values, past, future, static) with ``pad`` free steps."""
        zs, ps, fs, starts, transforms = [], [], [], [], []
        offset = 0
        for s in series:
            tr = s.get("transform") or self.make_transform(s["values"], s["index"], s["uid"])
            transforms.append(tr)
            n = len(s["values"])
            z = np.empty(n + pad)
            z[:n] = tr.transform(s["values"][:, None])[:, 0]
            z[n:] = np.nan
            zs.append(z)
            if self.past_mean is not None:
                p = np.zeros((n + pad, len(self.past_mean)))
                p[:n] = (s["past"][:n] - self.past_mean) / self.past_scale
                ps.append(p)
            if self.future_mean is not None:
                f = np.zeros((n + pad, len(self.future_mean)))
                rows = min(len(s["future"]), n + pad)
                f[:rows] = (s["future"][:rows] - self.future_mean) / self.future_scale
                fs.append(f)
            starts.append(offset)
            offset += n + pad
        static = None
        if self.static is not None:
            static = np.stack([s["static"] for s in series])
        ids = None
        if self.series_id:
            pos = {u: i for i, u in enumerate(self.ids)}
            unseen = [s["uid"] for s in series if s["uid"] not in pos]
            if unseen:
                raise ValueError(
                    f"series {_show(unseen[0])} was not seen in fit, and series_id=True gives each "
                    "training series its own input column; fit with series_id=False to forecast "
                    "series never seen in training."
                )
            ids = np.eye(len(self.ids))[[pos[s["uid"]] for s in series]]
        st = _Stack(
            np.concatenate(zs),
            np.concatenate(ps) if ps else None,
            np.concatenate(fs) if fs else None,
            static,
            ids,
            np.asarray(starts, dtype=np.int64),
        )
        return st, transforms

    @property
    def lost(self) -> int:
        """Leading steps of every series the transforms consume (seasonal and ordinary differences)."""
        return (self.transform_params[1] or 0) + self.transform_params[2]

    def _stack_for(self, series: list, horizon: int) -> tuple[_Stack, list, np.ndarray]:
        """The stacked series with ``horizon`` free steps, their transforms and end positions."""
        for s in series:
            if len(s["values"]) < self.lost + self.window:
                raise ValueError(
                    f"series {_show(s['uid'])} has {len(s['values'])} observations, too few to forecast "
                    f"from: the window needs {self.window} (+ {self.lost} lost to differencing)."
                )
        st, transforms = self.stack(series, horizon)
        ends = st.starts + np.array([len(s["values"]) for s in series])
        return st, transforms, ends

    def exact_quantiles(self, horizon: int) -> bool:
        """Whether each step's quantiles follow from the head without simulation: one step of
        the recursive model, or the direct model without differencing (the inverse transform is
        then increasing step by step)."""
        return self.lost == 0 if self.direct else horizon == 1

    def quantiles(self, series: list, horizon: int, levels: np.ndarray, n_paths: int, rng) -> list:
        """Forecast quantiles on the original scale, one array ``(horizon, K)`` per series.

        From the head where :meth:`exact_quantiles`; otherwise the empirical quantiles of
        :meth:`paths` (recursive) or a ValueError (direct with differencing).
        """
        if not self.exact_quantiles(horizon):
            if self.direct:
                raise ValueError(
                    "with strategy='direct' and differencing, the quantiles of each step's change "
                    "do not add up to quantiles of the level; use strategy='recursive' (sample "
                    "paths), diff=0, or predict_interval(..., method='conformal')."
                )
            return [
                np.moveaxis(np.quantile(p, levels, axis=0), 0, -1)
                for p in self.paths(series, horizon, n_paths, rng)
            ]
        st, transforms, ends = self._stack_for(series, horizon)
        m, k = len(series), len(levels)
        sid = np.repeat(np.arange(m), horizon)
        hs = np.tile(np.arange(1, horizon + 1), m)
        x = st.features(sid, ends[sid], hs, self.window, self.direct)
        qz = np.asarray(self.estimator.predict_quantiles(x.reshape(len(x), -1), levels), dtype=np.float64)
        qz = qz.reshape(m, horizon, k)
        out = []
        for j, s in enumerate(series):
            v = s["values"][:, None]
            inv = [
                transforms[j].inverse(qz[j, :, i][None, :, None], v, np.array([len(v)]))[0, :, 0]
                for i in range(k)
            ]
            out.append(np.stack(inv, axis=-1))
        return out

    def paths(self, series: list, horizon: int, n_paths: int, rng) -> list:
        """Sample paths on the original scale, one array ``(n_paths, horizon)`` per series.

        Each step draws from the head and feeds the draw back into the window (recursive model
        only). The draws of all series and paths come from ``rng`` in one stream, series by
        series and path by path, so a panel of one series draws what the single-series
        :meth:`Forecaster.sample_paths` draws.
        """
        if self.direct:
            raise ValueError(
                "sample paths feed each draw back into the window, which needs strategy='recursive'; "
                "the direct strategy has no recurrence to feed."
            )
        st, transforms, ends = self._stack_for(series, horizon)
        m, w = len(series), self.window
        span = w + horizon
        # one block per (series, path): the series' last window and room for the horizon
        take = np.repeat((ends - w)[:, None] + np.arange(span), n_paths, axis=0)
        owner = np.repeat(np.arange(m), n_paths)
        rows = m * n_paths
        sub = _Stack(
            st.z[take].reshape(-1),
            None if st.past is None else st.past[take].reshape(rows * span, -1),
            None if st.future is None else st.future[take].reshape(rows * span, -1),
            None if st.static is None else st.static[owner],
            None if st.ids is None else st.ids[owner],
            np.arange(rows, dtype=np.int64) * span,
        )
        pos = sub.starts + w
        sid, ones = np.arange(rows), np.ones(rows, dtype=np.int64)
        for k in range(horizon):
            x = sub.features(sid, pos + k, ones, w, 0)
            draw = np.asarray(self.estimator.sample(x.reshape(rows, -1), 1, rng), dtype=np.float64)
            sub.z[pos + k] = draw.reshape(rows)
        zp = sub.z.reshape(rows, span)[:, w:].reshape(m, n_paths, horizon)
        out = []
        for j, s in enumerate(series):
            v = s["values"][:, None]
            out.append(transforms[j].inverse(zp[j][:, :, None], v, np.full(n_paths, len(v)))[:, :, 0])
        return out

    def forecast(self, series: list, horizon: int) -> list[np.ndarray]:
        """Forecasts on the original scale, one array ``(horizon,)`` per series, from its end."""
        st, transforms, ends = self._stack_for(series, horizon)
        m = len(series)
        sid = np.arange(m)
        if self.direct:
            sid_all = np.repeat(sid, horizon)
            hs = np.tile(np.arange(1, horizon + 1), m)
            x = st.features(sid_all, ends[sid_all], hs, self.window, self.direct)
            zf = _predict(self.estimator, x).reshape(m, horizon)
        else:
            zf = np.empty((m, horizon))
            for k in range(horizon):
                x = st.features(sid, ends + k, np.ones(m, dtype=np.int64), self.window, 0)
                zf[:, k] = _predict(self.estimator, x)
                st.z[ends + k] = zf[:, k]
        out = []
        for j, s in enumerate(series):
            v = s["values"][:, None]
            out.append(transforms[j].inverse(zf[j][None, :, None], v, np.array([len(v)]))[0, :, 0])
        return out


def _predict(estimator, x: np.ndarray) -> np.ndarray:
    return np.asarray(estimator.predict(x.reshape(len(x), -1)), dtype=np.float64).reshape(-1)


def _time_keys(series: list, step) -> list[np.ndarray]:
    """Per series, the integer position of each timestamp on the panel's common time grid."""
    firsts = [s["index"][0] for s in series]
    origin = min(firsts)
    out = []
    for s, first in zip(series, firsts):
        if isinstance(s["index"], pd.PeriodIndex):
            shift = (first - origin).n // step.n
        elif isinstance(s["index"], pd.DatetimeIndex):
            shift = len(pd.date_range(origin, first, freq=step)) - 1
        else:
            shift = (int(first) - int(origin)) // int(step)
        out.append(shift + np.arange(len(s["values"])))
    return out


def fit_global(
    series: list,
    step,
    *,
    window: int,
    direct: int,
    transform_params,
    series_id: bool,
    static,
    make_estimator,
    max_window_bytes: int,
    random_state,
) -> GlobalModel:
    """Fit one model on the windows of every series (see the module docstring)."""
    model = GlobalModel(
        window, direct, transform_params, [s["uid"] for s in series], series_id, static=static
    )
    if series and series[0].get("past") is not None:
        model.past_mean, model.past_scale = moments(np.concatenate([s["past"] for s in series]), axis=0)
    if series and series[0].get("future") is not None:
        model.future_mean, model.future_scale = moments(
            np.concatenate([s["future"][: len(s["values"])] for s in series]), axis=0
        )
    st, transforms = model.stack(series, 0)
    model.transforms = {s["uid"]: t for s, t in zip(series, transforms)}
    lost = (transform_params[1] or 0) + transform_params[2]
    horizon = max(direct, 1)
    sids, poss, keys = [], [], []
    for j, (s, key) in enumerate(zip(series, _time_keys(series, step))):
        n = len(s["values"])
        origins = np.arange(lost + window, n - horizon + 1)
        sids.append(np.full(len(origins), j))
        poss.append(st.starts[j] + origins)
        keys.append(key[origins] if len(origins) else np.zeros(0, dtype=np.int64))
    sid, pos, key = np.concatenate(sids), np.concatenate(poss), np.concatenate(keys)
    if len(sid) < 2:
        shortest = min(len(s["values"]) for s in series)
        raise ValueError(
            f"the series are too short for window={window} (+ horizon {horizon}, + {lost} lost to "
            f"differencing): {len(sid)} training window(s) (the shortest series has {shortest} "
            "observations). Use a shorter window or longer series."
        )
    if direct:
        sid = np.repeat(sid, direct)
        pos = np.repeat(pos, direct)
        key = np.repeat(key, direct)
        hs = np.tile(np.arange(1, direct + 1), len(sid) // direct)
    else:
        hs = np.ones(len(sid), dtype=np.int64)
    # time order (the estimator's early-stopping hold-out is the last samples: the latest times)
    order = np.argsort(key + hs - 1, kind="stable")
    sid, pos, hs = sid[order], pos[order], hs[order]
    y = st.z[pos + hs - 1]
    probe = st.features(sid[:1], pos[:1], hs[:1], window, direct)
    est = make_estimator(probe.shape[2])
    model.estimator = est
    model.n_samples = len(sid)
    nbytes = probe.nbytes * len(sid)
    if nbytes <= max_window_bytes:
        est.fit(st.features(sid, pos, hs, window, direct).reshape(len(sid), -1), y)
        return model
    # streaming: each epoch visits every window once, in chunks drawn across series
    if not hasattr(est, "partial_fit"):
        raise ValueError(
            f"the {len(sid)} training windows take {nbytes / 2**20:.0f} MiB, more than "
            f"max_window_bytes={max_window_bytes}, and {type(est).__name__} has no partial_fit to "
            "train on them chunk by chunk; raise max_window_bytes or use tsrnn's recurrent regressors."
        )
    params = est.get_params()
    epochs = int(params.get("max_iter", 10))
    batch = int(params.get("batch_size", 32))
    chunk = max(batch, (max_window_bytes // probe.nbytes) // batch * batch)
    rng = np.random.default_rng(random_state)
    model.streamed = True
    for _ in range(epochs):
        perm = rng.permutation(len(sid))
        for lo in range(0, len(perm), chunk):
            sel = perm[lo : lo + chunk]
            est.partial_fit(
                st.features(sid[sel], pos[sel], hs[sel], window, direct).reshape(len(sel), -1), y[sel]
            )
    return model


def _fit_local_task(fit_kwargs: dict, series: dict, step) -> GlobalModel:
    return fit_global([series], step, **fit_kwargs)


def fit_local(series: list, step, n_jobs, diffs: list, **fit_kwargs) -> dict:
    """One model per series (differenced ``diffs[i]`` times), fitted in parallel through joblib."""
    tasks = []
    for s, d in zip(series, diffs):
        log, season, _, standardize = fit_kwargs["transform_params"]
        tasks.append(({**fit_kwargs, "transform_params": (log, season, int(d), standardize)}, s, step))
    return dict(zip([s["uid"] for s in series], run_tasks(_fit_local_task, tasks, n_jobs)))


__all__ += ["Covariates", "GlobalModel", "StaticEncoder", "fit_global", "fit_local"]


# -- Forecaster on panels ----------------------------------------------------------------------


def _merge(old: Covariates | None, new: Covariates | None) -> Covariates | None:
    """Covariates of ``new`` where given, else those of ``old`` (same columns)."""
    if new is None or old is None:
        return new if old is None else old
    if set(new.columns) != set(old.columns):
        raise ValueError(
            f"{new.name} must have the covariate columns it was fit with, {old.columns}; got {new.columns}."
        )
    merged = Covariates.__new__(Covariates)
    merged.name, merged.columns = new.name, old.columns
    merged.parts = dict(old.parts)
    for uid, frame in new.parts.items():
        frame = frame[old.columns]
        merged.parts[uid] = frame.combine_first(old.parts[uid]) if uid in old.parts else frame
    return merged


@dataclass
class PanelState:
    """What a Forecaster fitted on a panel keeps: the data, the covariates and the model(s)."""

    panel: Panel
    scope: str
    future: Covariates | None
    past: Covariates | None
    static_frame: pd.DataFrame | None
    static: StaticEncoder | None
    calendar: tuple
    encoding: str
    model: GlobalModel | None  # scope="global"
    models: dict | None  # scope="local": id -> GlobalModel
    horizon: int  # direct horizon, 0 for recursive


def _series(state_like: dict, panel: Panel, pad: int, future, past, static_frame) -> list[dict]:
    """Per-series inputs of the window engine (covariate rows looked up and checked)."""
    calendar, encoding, static = state_like["calendar"], state_like["encoding"], state_like["static"]
    out = []
    static_rows = static.rows(static_frame, panel.ids) if static is not None else None
    for j, (uid, v, ix) in enumerate(zip(panel.ids, panel.values, panel.index)):
        s = {"uid": uid, "values": v, "index": ix, "past": None, "future": None, "static": None}
        if future is not None or calendar:
            labels = ix.append(future_labels(ix, pad, panel.step)) if pad else ix
            what = f" (the forecast needs it up to {_show(labels[-1])})" if pad else ""
            cols = []
            if future is not None:
                cols.append(future.rows(uid, labels, what))
            if calendar:
                cols.append(calendar_features(labels, calendar, encoding))
            s["future"] = np.concatenate(cols, axis=1)
        if past is not None:
            s["past"] = past.rows(uid, ix)
        if static_rows is not None:
            s["static"] = static_rows[j]
        out.append(s)
    return out


def _calendar_tuple(calendar) -> tuple:
    return () if calendar is None else ((calendar,) if isinstance(calendar, str) else tuple(calendar))


def check_panel_params(forecaster) -> None:
    """The panel-only parameters of a Forecaster."""
    f = forecaster
    if f.scope not in SCOPES:
        raise ValueError(
            f"scope must be one of {SCOPES} ('global': one model on the windows of every series; "
            f"'local': one model per series), got {f.scope!r}."
        )
    if f.calendar is not None:
        cal = (f.calendar,) if isinstance(f.calendar, str) else tuple(f.calendar)
        bad = [c for c in cal if c not in CALENDAR_FEATURES]
        if bad:
            raise ValueError(f"calendar features {bad} are unknown; choose from {list(CALENDAR_FEATURES)}.")
    if f.calendar_encoding not in CALENDAR_ENCODINGS:
        raise ValueError(
            f"calendar_encoding must be one of {CALENDAR_ENCODINGS}, got {f.calendar_encoding!r}."
        )
    unsupported = {"normalize": "none", "stl_period": None, "linear": False}
    for name, default in unsupported.items():
        if getattr(f, name) != default:
            raise ValueError(
                f"{name}={getattr(f, name)!r} is not available on panels yet; pass {name}={default!r} "
                "or fit each series on its own."
            )
    m = f.max_window_bytes
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"max_window_bytes must be a positive number of bytes, got {m!r}.")


def transform_choice(f, series: list, ids, log: bool | None = None) -> tuple:
    """``(log, diff)`` for training ``series``: ``log`` (``"auto"``: every series positive;
    given: kept) and the differencing order, global (the largest) or a dict id -> order for
    local models."""
    if log is None:
        log = f._choose_log(*(s["values"] for s in series))
    diffs = [f._select_diff(s["values"][:, None], log) for s in series]
    # one model shares one transform chain; local models difference each series as it needs
    return log, max(diffs) if f.scope == "global" else dict(zip(ids, diffs))


def fit_models(f, series: list, step, static, choice: tuple) -> tuple:
    """``(global model, None)`` or ``(None, {id: local model})`` fitted on ``series``;
    ``choice`` is :func:`transform_choice`'s ``(log, diff)``."""
    log, diff = choice
    diffs = [diff[s["uid"]] for s in series] if isinstance(diff, dict) else [diff] * len(series)
    kwargs = {
        "window": int(f.window),
        "direct": int(f.horizon) if f.strategy == "direct" else 0,
        "transform_params": (bool(log), f.seasonal_period, max(diffs), bool(f.standardize)),
        "series_id": bool(f.series_id) and f.scope == "global",
        "static": static,
        "make_estimator": f._make_estimator,
        "max_window_bytes": int(f.max_window_bytes),
        "random_state": f.random_state,
    }
    if f.scope == "global":
        return fit_global(series, step, **kwargs), None
    return None, fit_local(series, step, None, diffs=diffs, **kwargs)


def fit_panel(f, y, X=None, past_covariates=None, static_covariates=None):
    """``Forecaster.fit`` on a panel (long DataFrame or dict of Series)."""
    f._validate_params()
    f._check_params()
    check_panel_params(f)
    names = (f.id_col, f.time_col)
    panel = to_panel(y, f.id_col, f.time_col, f.target_col, f.freq)
    future = None if X is None else Covariates(X, *names, "X")
    past = None if past_covariates is None else Covariates(past_covariates, *names, "past_covariates")
    if past is not None and f.strategy != "direct":
        raise ValueError(
            "past_covariates are unknown after the forecast origin, so a recursive model cannot feed "
            "them beyond the first step; use strategy='direct', horizon=H."
        )
    static = None
    if static_covariates is not None:
        static = StaticEncoder().fit(static_covariates, f.id_col)
    calendar = _calendar_tuple(f.calendar)
    if calendar and not isinstance(panel.index[0], (pd.DatetimeIndex, pd.PeriodIndex)):
        raise TypeError(
            "calendar features need dates in the time column; use calendar=None for integer time."
        )
    ctx = {"calendar": calendar, "encoding": f.calendar_encoding, "static": static}
    series = _series(ctx, panel, 0, future, past, static_covariates)
    f.log_, f.diff_ = transform_choice(f, series, panel.ids)
    direct = int(f.horizon) if f.strategy == "direct" else 0
    model, models = fit_models(f, series, panel.step, static, (f.log_, f.diff_))
    for stale in ("estimator_", "panel_calibration_"):
        f.__dict__.pop(stale, None)
    if model is not None:
        f.estimator_ = model.estimator
    f.panel_ = PanelState(
        panel,
        f.scope,
        future,
        past,
        static_covariates,
        static,
        calendar,
        f.calendar_encoding,
        model,
        models,
        direct,
    )
    f.n_series_ = len(panel.ids)
    f.horizon_ = direct or None
    return f


def panel_series(f, horizon, y=None, X=None, past_covariates=None, static_covariates=None):
    """The panel to forecast from (the training data, or ``y``) and its per-series inputs."""
    state: PanelState = f.panel_
    horizon = check_horizon(horizon)
    if state.horizon and horizon > state.horizon:
        raise ValueError(
            f"this Forecaster uses strategy='direct' fitted for horizon={state.horizon}, so it cannot "
            f"forecast {horizon} steps; refit with horizon={horizon} or use strategy='recursive'."
        )
    names = (f.id_col, f.time_col)
    if y is None:
        panel = state.panel
    else:
        panel = to_panel(y, f.id_col, f.time_col, f.target_col, state.panel.step, name="y")
        if panel.step != state.panel.step:
            raise ValueError(
                f"y has the time step {panel.step!r}, the forecaster was fit at {state.panel.step!r}."
            )
    if X is not None and state.future is None:
        raise ValueError("the forecaster was fit without future covariates X; pass X=None.")
    if past_covariates is not None and state.past is None:
        raise ValueError("the forecaster was fit without past_covariates; pass past_covariates=None.")
    future = _merge(state.future, None if X is None else Covariates(X, *names, "X", state.future.columns))
    past = _merge(
        state.past,
        None
        if past_covariates is None
        else Covariates(past_covariates, *names, "past_covariates", state.past.columns),
    )
    static_frame = state.static_frame
    if static_covariates is not None:
        if state.static is None:
            raise ValueError("the forecaster was fit without static_covariates; pass static_covariates=None.")
        new = StaticEncoder._frame(static_covariates, f.id_col)
        old = StaticEncoder._frame(state.static_frame, f.id_col)
        static_frame = pd.concat([new, old[~old.index.isin(new.index)]])
    ctx = {"calendar": state.calendar, "encoding": state.encoding, "static": state.static}
    return panel, _series(ctx, panel, horizon, future, past, static_frame)


def by_model(state: PanelState, series: list, method) -> list:
    """``method(model, series)`` of the global model, or of each series' local model, per series."""
    if state.scope == "global":
        return method(state.model, series)
    out = []
    for s in series:
        local = state.models.get(s["uid"])
        if local is None:
            raise ValueError(
                f"series {_show(s['uid'])} was not seen in fit, and scope='local' has one model per "
                "training series; use scope='global' to forecast new series."
            )
        out.extend(method(local, [s]))
    return out


def predict_panel(f, horizon, y=None, X=None, past_covariates=None, static_covariates=None) -> pd.DataFrame:
    """``Forecaster.predict`` on a panel: a long DataFrame of forecasts."""
    panel, series = panel_series(f, horizon, y, X, past_covariates, static_covariates)
    forecasts = by_model(f.panel_, series, lambda model, ss: model.forecast(ss, horizon))
    return long_frame(f, panel, horizon, np.stack(forecasts)[:, :, None], [f.target_col])


def long_frame(f, panel: Panel, horizon: int, values: np.ndarray, columns: list) -> pd.DataFrame:
    """``values (n_series, horizon, k)`` as a long DataFrame: id, time and ``columns``."""
    labels = [future_labels(ix, horizon, panel.step) for ix in panel.index]
    out = to_long(panel.ids, labels, [np.zeros(horizon)] * len(panel.ids), f.id_col, f.time_col, "_")
    out = out.drop(columns="_")
    flat = values.reshape(len(panel.ids) * horizon, -1)
    for k, c in enumerate(columns):
        out[c] = flat[:, k]
    return out


def calibration_forecasts(f, horizon: int) -> dict:
    """Per training series, ``(actual, forecast)`` arrays ``(n_origins, horizon)`` of a copy of the
    panel model fitted on every series without its calibration stretch (its last
    ``calibration_size`` steps), forecasting from every origin in that stretch with ``horizon``
    observed values after it (the single-series conformal procedure, series by series)."""
    state: PanelState = f.panel_
    ctx = {"calendar": state.calendar, "encoding": state.encoding, "static": state.static}
    series = _series(ctx, state.panel, 0, state.future, state.past, state.static_frame)
    c = f.calibration_size
    cuts, fits = [], []
    for s in series:
        n = len(s["values"])
        size = round(float(c) * n) if isinstance(c, (float, np.floating)) else int(c)
        if size < horizon:
            raise ValueError(
                f"calibration_size={c!r} holds out {size} of the {n} steps of series {_show(s['uid'])}, "
                f"fewer than the horizon {horizon}: no calibration origin has {horizon} observed steps "
                f"after it. Increase calibration_size or forecast fewer steps."
            )
        cuts.append(n - size)
        fits.append(_truncated(s, n - size))
    # diff="auto"'s test made again on the truncated series (no statistic of the calibration
    # stretch shapes the model that forecasts it); the log keeps the panel's choice, since the
    # copy takes the log of every window it forecasts from
    choice = transform_choice(f, fits, [s["uid"] for s in fits], log=f.log_)
    models = fit_models(f, fits, state.panel.step, state.static, choice)
    origins, actual = [], []
    for s, cut in zip(series, cuts):
        n = len(s["values"])
        os_ = np.arange(cut, n - horizon + 1)
        origins.append([_truncated(s, o) for o in os_])
        actual.append(s["values"][os_[:, None] + np.arange(horizon)])
    cal = PanelState(
        state.panel, state.scope, None, None, None, None, (), "cyclic", models[0], models[1], state.horizon
    )
    flat = [h for hs in origins for h in hs]
    fc = by_model(cal, flat, lambda model, ss: model.forecast(ss, horizon))
    out, at = {}, 0
    for s, hs, a in zip(series, origins, actual):
        out[s["uid"]] = (a, np.asarray(fc[at : at + len(hs)]).reshape(len(hs), horizon))
        at += len(hs)
    return out


def _truncated(s: dict, n: int) -> dict:
    """Series ``s`` observed up to (not including) step ``n``; future covariates kept."""
    return {
        **s,
        "values": s["values"][:n],
        "index": s["index"][:n],
        "past": None if s["past"] is None else s["past"][:n],
    }


# -- persisted state (see tsrnn._state) --------------------------------------------------------
#
# A panel Forecaster's file holds the series (values and timestamps), the covariate frames as
# arrays, the encoders and the fitted network(s). Every size is checked against the arrays the
# file holds before anything is built from it; nothing is rebuilt whose size the file only
# claims (timestamps are kept as stored, never regenerated from a claimed span).

_ID_TYPES = (str, int, float, np.integer, np.floating)


def _storable_ids(ids, where: str) -> list:
    bad = [u for u in ids if isinstance(u, (bool, np.bool_)) or not isinstance(u, _ID_TYPES)]
    if bad:
        raise TypeError(
            f"{where} holds the series id {bad[0]!r} of type {type(bad[0]).__name__}; the model file "
            "stores string or numeric ids only (rename the series, or use joblib for this model)"
        )
    return [u.item() if isinstance(u, np.generic) else u for u in ids]


def _check_ids(ids, where: str) -> list:
    if not isinstance(ids, list) or not ids:
        fail(where, "is not a non-empty list of series ids")
    if any(isinstance(u, bool) or not isinstance(u, (str, int, float)) for u in ids):
        fail(where, "holds an id that is not a string or a number")
    if len(set(ids)) != len(ids):
        fail(where, "holds a series id twice")
    return ids


def _check_time_index(index, where: str, n: int | None = None) -> pd.Index:
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) and not (
        isinstance(index, pd.Index) and pd.api.types.is_integer_dtype(index.dtype)
    ):
        fail(where, "is not an index of dates, periods or integers")
    if n is not None and len(index) != n:
        fail(where, f"has {len(index)} timestamps for {n} values")
    if not (index.is_monotonic_increasing and index.is_unique):
        fail(where, "is not strictly increasing")
    return index


def _check_list(value, where: str, n: int | None = None) -> list:
    if not isinstance(value, list) or (n is not None and len(value) != n):
        fail(where, "is not a list of one entry per series" if n is not None else "is not a list")
    return value


def _panel_get_state(self: Panel) -> dict:
    return {
        "ids": _storable_ids(self.ids, "the panel"),
        "values": list(self.values),
        "index": list(self.index),
        "step": self.step,
    }


def _panel_set_state(self: Panel, state: dict) -> None:
    where = "Panel"
    check_keys(where, state, ["ids", "values", "index", "step"])
    ids = _check_ids(state["ids"], f"{where}.ids")
    m = len(ids)
    values = _check_list(state["values"], f"{where}.values", m)
    index = _check_list(state["index"], f"{where}.index", m)
    for j, (v, ix) in enumerate(zip(values, index)):
        check_array(v, f"{where}.values[{j}]", ndim=1)
        if v.dtype != np.float64 or len(v) == 0:
            fail(f"{where}.values[{j}]", "is not a non-empty float64 series")
        _check_time_index(ix, f"{where}.index[{j}]", len(v))
    kinds = {type(ix) if isinstance(ix, (pd.DatetimeIndex, pd.PeriodIndex)) else int for ix in index}
    if len(kinds) != 1:
        fail(f"{where}.index", "mixes kinds of time")
    step = state["step"]
    if kinds == {int}:
        check_int(step, f"{where}.step", 1)
    elif not isinstance(step, pd.offsets.BaseOffset):
        fail(f"{where}.step", "is not a pandas offset")
    self.__init__(ids, values, index, step)


Panel._get_state = _panel_get_state
Panel._set_state = _panel_set_state


def _covariates_get_state(self: Covariates) -> dict:
    ids = list(self.parts)
    return {
        "name": self.name,
        "columns": _storable_ids(self.columns, f"the columns of {self.name}"),
        "ids": _storable_ids(ids, self.name),
        "times": [self.parts[u].index for u in ids],
        "values": [self.parts[u].to_numpy(dtype=np.float64, na_value=np.nan) for u in ids],
    }


def _covariates_set_state(self: Covariates, state: dict) -> None:
    where = "Covariates"
    check_keys(where, state, ["name", "columns", "ids", "times", "values"])
    if state["name"] not in ("X", "past_covariates"):
        fail(f"{where}.name", "is not 'X' or 'past_covariates'")
    columns = _check_ids(state["columns"], f"{where}.columns")
    ids = _check_ids(state["ids"], f"{where}.ids")
    times = _check_list(state["times"], f"{where}.times", len(ids))
    values = _check_list(state["values"], f"{where}.values", len(ids))
    parts = {}
    for uid, ix, v in zip(ids, times, values):
        _check_time_index(ix, f"{where}.times", None)
        check_array(v, f"{where}.values", (len(ix), len(columns)), finite=False)
        parts[uid] = pd.DataFrame(v, index=ix, columns=columns)
    self.name, self.columns, self.parts = state["name"], columns, parts


Covariates._get_state = _covariates_get_state
Covariates._set_state = _covariates_set_state

_STATIC_STATE = ("id_col", "numeric", "categories", "columns", "mean", "scale")


def _static_get_state(self: StaticEncoder) -> dict:
    state = {name: getattr(self, name) for name in _STATIC_STATE}
    state["columns"] = _storable_ids(self.columns, "the static covariate columns")
    state["numeric"] = _storable_ids(self.numeric, "the static covariate columns")
    state["categories"] = {c: self.categories[c] for c in _storable_ids(list(self.categories), "columns")}
    return state


def _static_set_state(self: StaticEncoder, state: dict) -> None:
    where = "StaticEncoder"
    check_keys(where, state, _STATIC_STATE)
    if not isinstance(state["id_col"], str):
        fail(f"{where}.id_col", "is not a string")
    columns = _check_list(state["columns"], f"{where}.columns")
    numeric = _check_list(state["numeric"], f"{where}.numeric")
    categories = state["categories"]
    if not isinstance(categories, dict) or any(not isinstance(c, pd.Index) for c in categories.values()):
        fail(f"{where}.categories", "is not a mapping of columns to their categories")
    if len(set(columns)) != len(columns) or set(numeric) | set(categories) != set(columns):
        fail(where, "its numeric and categorical columns are not its columns")
    if set(numeric) & set(categories):
        fail(where, "a column is both numeric and categorical")
    check_vector(state["mean"], f"{where}.mean", len(numeric))
    check_vector(state["scale"], f"{where}.scale", len(numeric), positive=True)
    self.__dict__.update(state)


StaticEncoder._get_state = _static_get_state
StaticEncoder._set_state = _static_set_state

_MODEL_STATE = tuple(f.name for f in fields(GlobalModel))


def _global_get_state(self: GlobalModel) -> dict:
    state = {name: getattr(self, name) for name in _MODEL_STATE}
    state["ids"] = _storable_ids(self.ids, "the panel")
    keys = _storable_ids(list(self.transforms), "the panel")
    state["transforms"] = dict(zip(keys, self.transforms.values()))
    return state


def _global_set_state(self: GlobalModel, state: dict) -> None:
    from ..estimators import BaseRecurrent

    where = "GlobalModel"
    check_keys(where, state, _MODEL_STATE)
    window = check_int(state["window"], f"{where}.window", 1)
    direct = check_int(state["direct"], f"{where}.direct", 0)
    params = state["transform_params"]
    if not (
        isinstance(params, tuple)
        and len(params) == 4
        and isinstance(params[0], bool)
        and isinstance(params[3], bool)
        and (params[1] is None or check_int(params[1], f"{where}.seasonal_period", 1))
        and check_int(params[2], f"{where}.diff", 0) >= 0
    ):
        fail(f"{where}.transform_params", "is not (log, seasonal_period, diff, standardize)")
    ids = _check_ids(state["ids"], f"{where}.ids")
    for name in ("series_id", "streamed"):
        if not isinstance(state[name], bool):
            fail(f"{where}.{name}", "is not a bool")
    check_int(state["n_samples"], f"{where}.n_samples", 0)
    widths = []
    for kind in ("past", "future"):
        mean, scale = state[f"{kind}_mean"], state[f"{kind}_scale"]
        if (mean is None) != (scale is None):
            fail(where, f"{kind}_mean and {kind}_scale must both be set or both be None")
        size = 0
        if mean is not None:
            size = mean.shape[0] if isinstance(mean, np.ndarray) and mean.ndim == 1 and mean.size else -1
            check_vector(mean, f"{where}.{kind}_mean", size)
            check_vector(scale, f"{where}.{kind}_scale", size, positive=True)
        widths.append(size)
    static = state["static"]
    if static is not None and not isinstance(static, StaticEncoder):
        fail(f"{where}.static", "is not a static covariate encoder")
    transforms = state["transforms"]
    if not isinstance(transforms, dict) or not set(transforms) <= set(ids):
        fail(f"{where}.transforms", "is not a mapping of training series to their transforms")
    for t in transforms.values():
        if not isinstance(t, TargetTransform) or t.mean_.shape != (1,):
            fail(f"{where}.transforms", "holds something other than one series' transform")
        if (t.log, t.seasonal_period, t.diff, t.standardize) != params:
            fail(f"{where}.transforms", "do not match transform_params")
    est = state["estimator"]
    if not (isinstance(est, BaseRecurrent) and hasattr(est, "params_")):
        fail(f"{where}.estimator", "is not a fitted tsrnn recurrent estimator")
    features = 1 + sum(widths) + (static.width if static is not None else 0) + direct
    features += len(ids) if state["series_id"] else 0
    if est.n_timesteps_ != window + (1 if direct else 0) or est.input_size_ != features:
        fail(f"{where}.estimator", "does not read the windows this model builds")
    self.__dict__.update(state)


GlobalModel._get_state = _global_get_state
GlobalModel._set_state = _global_set_state

_STATE_FIELDS = tuple(f.name for f in fields(PanelState))


def _static_frame_state(frame, id_col: str) -> dict | None:
    if frame is None:
        return None
    S = StaticEncoder._frame(frame, id_col)
    return {
        "ids": _storable_ids(list(S.index), "static_covariates"),
        "columns": _storable_ids(list(S.columns), "the static covariate columns"),
        "data": [pd.Index(S[c].to_numpy()) for c in S.columns],
    }


def _panel_state_get_state(self: PanelState) -> dict:
    state = {name: getattr(self, name) for name in _STATE_FIELDS}
    id_col = self.static.id_col if self.static is not None else "unique_id"
    state["static_frame"] = _static_frame_state(self.static_frame, id_col)
    if self.models is not None:
        keys = _storable_ids(list(self.models), "the panel")
        state["models"] = dict(zip(keys, self.models.values()))
    return state


def _panel_state_set_state(self: PanelState, state: dict) -> None:
    where = "PanelState"
    check_keys(where, state, _STATE_FIELDS)
    panel = state["panel"]
    if not isinstance(panel, Panel):
        fail(f"{where}.panel", "is not a panel")
    scope = check_choice(state["scope"], f"{where}.scope", SCOPES)
    check_choice(state["encoding"], f"{where}.encoding", CALENDAR_ENCODINGS)
    calendar = state["calendar"]
    if not isinstance(calendar, tuple) or any(c not in CALENDAR_FEATURES for c in calendar):
        fail(f"{where}.calendar", "is not a tuple of calendar features")
    if calendar and not isinstance(panel.index[0], (pd.DatetimeIndex, pd.PeriodIndex)):
        fail(f"{where}.calendar", "needs dates")
    horizon = check_int(state["horizon"], f"{where}.horizon", 0)
    future, past, static = state["future"], state["past"], state["static"]
    for name, cov, label in (("future", future, "X"), ("past", past, "past_covariates")):
        if cov is not None and (not isinstance(cov, Covariates) or cov.name != label):
            fail(f"{where}.{name}", f"is not the {label} covariates")
    if static is not None and not isinstance(static, StaticEncoder):
        fail(f"{where}.static", "is not a static covariate encoder")
    frame = state["static_frame"]
    if (frame is None) != (static is None):
        fail(f"{where}.static_frame", "must be present exactly when static covariates are")
    if frame is not None:
        if not isinstance(frame, dict) or set(frame) != {"ids", "columns", "data"}:
            fail(f"{where}.static_frame", "is not a table")
        ids = _check_ids(frame["ids"], f"{where}.static_frame.ids")
        columns = _check_ids(frame["columns"], f"{where}.static_frame.columns")
        data = _check_list(frame["data"], f"{where}.static_frame.data")
        if len(data) != len(columns) or any(not isinstance(d, pd.Index) or len(d) != len(ids) for d in data):
            fail(f"{where}.static_frame", "does not hold one value per series in each column")
        if set(columns) != set(static.columns):
            fail(f"{where}.static_frame", "does not have the encoder's columns")
        frame = pd.DataFrame(dict(zip(columns, [d.to_numpy() for d in data])), index=pd.Index(ids))
    q = (0 if future is None else len(future.columns)) + _calendar_width(calendar, state["encoding"])
    p = 0 if past is None else len(past.columns)
    model, models = state["model"], state["models"]
    if scope == "global":
        if not isinstance(model, GlobalModel) or models is not None:
            fail(f"{where}.model", "a global panel model needs one fitted model")
        fitted = [model]
    else:
        if model is not None or not isinstance(models, dict) or list(models) != panel.ids:
            fail(f"{where}.models", "a local panel model needs one fitted model per series")
        fitted = list(models.values())
        for uid, local in models.items():
            if not isinstance(local, GlobalModel) or local.ids != [uid] or local.series_id:
                fail(f"{where}.models", f"the model of series {uid!r} is not that series' model")
    for fm in fitted:
        sizes = tuple(0 if m is None else len(m) for m in (fm.past_mean, fm.future_mean))
        if sizes != (p, q) or fm.direct != horizon or (fm.static is None) != (static is None):
            fail(f"{where}.model", "does not read the covariates this panel holds")
        if static is not None and fm.static.width != static.width:
            fail(f"{where}.model", "does not read the static covariates this panel holds")
    self.__init__(
        panel, scope, future, past, frame, static, calendar, state["encoding"], model, models, horizon
    )


def _calendar_width(calendar: tuple, encoding: str) -> int:
    if encoding == "cyclic":
        return 2 * len(calendar)
    return sum(CALENDAR_FEATURES[c][0] for c in calendar)


PanelState._get_state = _panel_state_get_state
PanelState._set_state = _panel_state_set_state

for _cls in (Panel, Covariates, StaticEncoder, GlobalModel, PanelState):
    register(_cls)


def check_panel_state(f) -> None:
    """A Forecaster's restored panel fit agrees with its parameters (called by its ``_set_state``)."""
    where = "Forecaster"
    state = f.panel_
    if not isinstance(state, PanelState):
        fail(f"{where}.panel_", "is not a panel fit")
    try:
        check_panel_params(f)
    except (TypeError, ValueError) as exc:
        fail(where, f"invalid panel parameters ({exc})")
    direct = int(f.horizon) if f.strategy == "direct" else 0
    if state.scope != f.scope or state.horizon != direct or f.horizon_ != (direct or None):
        fail(f"{where}.panel_", "does not match the scope, strategy and horizon")
    if check_int(f.n_series_, f"{where}.n_series_", 1) != len(state.panel.ids):
        fail(f"{where}.n_series_", "does not match the panel")
    calendar = _calendar_tuple(f.calendar)
    if state.calendar != calendar or state.encoding != f.calendar_encoding:
        fail(f"{where}.panel_", "does not match the calendar parameters")
    models = [state.model] if state.scope == "global" else list(state.models.values())
    for model in models:
        log, season, _, standardize = model.transform_params
        if not isinstance(f.log_, bool) or (f.log != "auto" and f.log_ != bool(f.log)):
            fail(f"{where}.log_", "does not match log")
        if model.window != f.window or (log, season, standardize) != (
            f.log_,
            f.seasonal_period,
            bool(f.standardize),
        ):
            fail(f"{where}.panel_", "its model does not match the window and transform parameters")
    if state.scope == "global":
        check_int(f.diff_, f"{where}.diff_", 0)
        if (
            f.diff_ != state.model.transform_params[2]
            or getattr(f, "estimator_", None) is not state.model.estimator
        ):
            fail(where, "diff_/estimator_ are not those of the fitted panel model")
        if state.model.series_id != bool(f.series_id):
            fail(f"{where}.panel_", "does not match series_id")
    else:
        if "estimator_" in f.__dict__:
            fail(where, "a local panel fit has no single estimator_")
        if not isinstance(f.diff_, dict) or list(f.diff_) != state.panel.ids:
            fail(f"{where}.diff_", "is not one differencing order per series")
        for uid, d in f.diff_.items():
            if check_int(d, f"{where}.diff_", 0) != state.models[uid].transform_params[2]:
                fail(f"{where}.diff_", f"does not match the model of series {uid!r}")
