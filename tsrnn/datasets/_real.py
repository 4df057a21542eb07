"""Real series that ship inside installed packages (statsmodels), with proper time indexes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class _Dataset:
    description: str
    source: str
    loader: Callable[[], pd.Series | pd.DataFrame]


# Each loader imports its own dataset module: ``statsmodels.api`` would import all of
# statsmodels to read one small file.


def _sunspots() -> pd.Series:
    import pandas as pd
    from statsmodels.datasets import sunspots

    df = sunspots.load_pandas().data
    index = pd.period_range(start=str(int(df["YEAR"].iloc[0])), periods=len(df), freq="Y")
    return pd.Series(df["SUNACTIVITY"].to_numpy(dtype=float), index=index, name="sunspots")


def _co2() -> pd.Series:
    from statsmodels.datasets import co2

    s = co2.load_pandas().data["co2"].astype(float)
    s.name = "co2"
    return s


def _co2_monthly() -> pd.Series:
    # Monthly means of the weekly series; the few months without any reading are interpolated.
    s = _co2().resample("MS").mean().interpolate(method="linear")
    s.name = "co2_monthly"
    return s


def _nile() -> pd.Series:
    import pandas as pd
    from statsmodels.datasets import nile

    df = nile.load_pandas().data
    index = pd.period_range(start=str(int(df["year"].iloc[0])), periods=len(df), freq="Y")
    return pd.Series(df["volume"].to_numpy(dtype=float), index=index, name="nile")


def _elnino() -> pd.Series:
    import pandas as pd
    from statsmodels.datasets import elnino

    df = elnino.load_pandas().data
    values = df.drop(columns="YEAR").to_numpy(dtype=float).ravel()  # row = year, columns = months
    index = pd.period_range(start=f"{int(df['YEAR'].iloc[0])}-01", periods=values.size, freq="M")
    return pd.Series(values, index=index, name="elnino")


def _macrodata() -> pd.DataFrame:
    import pandas as pd
    from statsmodels.datasets import macrodata

    df = macrodata.load_pandas().data
    start = f"{int(df['year'].iloc[0])}Q{int(df['quarter'].iloc[0])}"
    index = pd.period_range(start=start, periods=len(df), freq="Q")
    return df.drop(columns=["year", "quarter"]).astype(float).set_axis(index)


_DATASETS: dict[str, _Dataset] = {
    "sunspots": _Dataset(
        "Yearly mean sunspot number, 1700-2008 (309 values); nonlinear, with an ~11-year cycle.",
        "statsmodels.datasets.sunspots (National Geophysical Data Center)",
        _sunspots,
    ),
    "co2": _Dataset(
        "Weekly atmospheric CO2 at Mauna Loa (ppmv), 1958-2001, with gaps (NaN weeks): "
        "resample, e.g. y.resample('MS').mean().interpolate(), before fitting.",
        "statsmodels.datasets.co2 (Scripps Institution of Oceanography)",
        _co2,
    ),
    "co2_monthly": _Dataset(
        "Monthly mean atmospheric CO2 at Mauna Loa (ppmv), 1958-03 to 2001-12 (526 values): the weekly "
        "'co2' series averaged by month, empty months linearly interpolated; trend plus a yearly cycle.",
        "statsmodels.datasets.co2 (Scripps Institution of Oceanography), resampled by tsrnn",
        _co2_monthly,
    ),
    "nile": _Dataset(
        "Yearly flow volume of the Nile at Aswan, 1871-1970 (100 values), with a level shift in 1898.",
        "statsmodels.datasets.nile (Cobb 1978)",
        _nile,
    ),
    "elnino": _Dataset(
        "Monthly sea surface temperature in the El Nino region (deg C), 1950-2010.",
        "statsmodels.datasets.elnino (NOAA)",
        _elnino,
    ),
    "macrodata": _Dataset(
        "US quarterly macroeconomic series, 1959Q1-2009Q3 (DataFrame; load 'macrodata.<column>' "
        "for one series, e.g. 'macrodata.realgdp', 'macrodata.unemp', 'macrodata.infl').",
        "statsmodels.datasets.macrodata (Federal Reserve, BLS, BEA)",
        _macrodata,
    ),
}


def dataset_names() -> list[str]:
    """The names :func:`load` knows (without importing pandas)."""
    return list(_DATASETS)


def check_dataset_name(name: str) -> None:
    """Raise the error :func:`load` raises for ``name``, without loading anything (or
    importing pandas): a name that is not a string, or not one :func:`load` knows."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}.")
    base, _, column = name.partition(".")
    if base not in _DATASETS or (column and base != "macrodata"):
        raise ValueError(
            f"unknown dataset {name!r}; choose one of {sorted(_DATASETS)} (or 'macrodata.<column>')."
        )


def list_datasets() -> pd.DataFrame:
    """The real datasets :func:`load` knows, with a description and the source of each."""
    import pandas as pd

    rows = [(name, d.description, d.source) for name, d in _DATASETS.items()]
    return pd.DataFrame(rows, columns=["name", "description", "source"]).set_index("name")


def load(name: str) -> pd.Series | pd.DataFrame:
    """Load a real time series as pandas with a proper time index.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets` (``sunspots``, ``co2``, ``co2_monthly``, ``nile``,
        ``elnino``, ``macrodata``), or ``macrodata.<column>`` for one macroeconomic series.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        ``sunspots`` and ``nile`` have a yearly ``PeriodIndex``, ``elnino`` a monthly one,
        ``macrodata`` a quarterly one, ``co2`` a weekly ``DatetimeIndex`` (with NaN gaps) and
        ``co2_monthly`` a monthly (month start) ``DatetimeIndex`` without gaps. The description
        and source are in ``.attrs``.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> y = datasets.load("sunspots")
    >>> y.index[0], len(y)
    (Period('1700', 'Y-DEC'), 309)
    """
    check_dataset_name(name)
    base, _, column = name.partition(".")
    meta = _DATASETS[base]
    data = meta.loader()
    if column:
        if column not in data.columns:
            raise ValueError(f"macrodata has no column {column!r}; columns: {list(data.columns)}.")
        data = data[column].rename(name)
    data.attrs.update(name=name, description=meta.description, source=meta.source)
    return data
