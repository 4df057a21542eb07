"""Real datasets: values equal statsmodels' raw data, indexes are proper time indexes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from tsrnn import datasets
from tsrnn.forecasting import future_index


def test_list():
    table = datasets.list()
    assert list(table.index) == ["sunspots", "co2", "co2_monthly", "nile", "elnino", "macrodata"]
    assert list(table.columns) == ["description", "source"]
    assert table["description"].str.len().min() > 20
    assert table["source"].str.contains("statsmodels").all()


def test_sunspots():
    y = datasets.load("sunspots")
    raw = sm.datasets.sunspots.load_pandas().data
    assert isinstance(y.index, pd.PeriodIndex) and y.index.freqstr == "Y-DEC"
    assert len(y) == 309 and y.index[0] == pd.Period("1700", "Y") and y.index[-1] == pd.Period("2008", "Y")
    np.testing.assert_array_equal(y.to_numpy(), raw["SUNACTIVITY"].to_numpy())
    np.testing.assert_array_equal(y.index.year, raw["YEAR"].astype(int).to_numpy())
    assert y.name == "sunspots"
    assert "sunspot" in y.attrs["description"].lower() and "statsmodels" in y.attrs["source"]
    assert future_index(y.index, 2)[0] == pd.Period("2009", "Y")


def test_nile_and_elnino():
    nile = datasets.load("nile")
    assert (
        isinstance(nile.index, pd.PeriodIndex)
        and nile.index[0] == pd.Period("1871", "Y")
        and len(nile) == 100
    )
    np.testing.assert_array_equal(nile.to_numpy(), sm.datasets.nile.load_pandas().data["volume"].to_numpy())
    el = datasets.load("elnino")
    raw = sm.datasets.elnino.load_pandas().data
    assert el.index.freqstr == "M" and el.index[0] == pd.Period("1950-01", "M") and len(el) == 12 * len(raw)
    # Row = year, columns = months: March 1951 is row 1, the third month column.
    assert el.loc[pd.Period("1951-03", "M")] == raw.iloc[1, 3]


def test_co2_weekly_and_monthly():
    co2 = datasets.load("co2")
    assert isinstance(co2.index, pd.DatetimeIndex) and co2.index.freqstr == "W-SAT"
    assert co2.isna().sum() > 0  # gaps are kept in the raw weekly series
    monthly = datasets.load("co2_monthly")
    assert monthly.index.freqstr == "MS" and not monthly.isna().any()
    assert monthly.index[0] == pd.Timestamp("1958-03-01") and monthly.index[-1] == pd.Timestamp("2001-12-01")
    # A month with readings is their mean.
    june_1990 = co2.loc["1990-06"].mean()
    assert monthly.loc["1990-06-01"] == pytest.approx(june_1990)


def test_macrodata():
    frame = datasets.load("macrodata")
    assert isinstance(frame, pd.DataFrame) and frame.index.freqstr == "Q-DEC"
    assert frame.index[0] == pd.Period("1959Q1", "Q") and "realgdp" in frame.columns
    gdp = datasets.load("macrodata.realgdp")
    raw = sm.datasets.macrodata.load_pandas().data
    np.testing.assert_array_equal(gdp.to_numpy(), raw["realgdp"].to_numpy())
    assert gdp.name == "macrodata.realgdp" and gdp.attrs["name"] == "macrodata.realgdp"


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("moon", ValueError, "unknown dataset 'moon'"),
        ("sunspots.x", ValueError, "unknown dataset"),
        ("macrodata.nothing", ValueError, "macrodata has no column 'nothing'"),
        (3, TypeError, "name must be a string"),
    ],
)
def test_errors(name, error, match):
    with pytest.raises(error, match=match):
        datasets.load(name)
