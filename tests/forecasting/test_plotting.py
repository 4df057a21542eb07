"""plot_forecast draws the data it is given (checked on the matplotlib artists)."""

from __future__ import annotations

import matplotlib  # part of the test extra
import numpy as np
import pandas as pd

matplotlib.use("Agg")


def test_plot_forecast_lines_and_band():
    import matplotlib.pyplot as plt

    from tsrnn.forecasting import plot_forecast

    history = pd.Series([1.0, 2.0, 3.0], index=pd.period_range("2000", periods=3, freq="Y"))
    future = pd.period_range("2003", periods=2, freq="Y")
    forecast = pd.Series([4.0, 5.0], index=future)
    interval = pd.DataFrame({"lower": [3.5, 4.0], "upper": [4.5, 6.0]}, index=future)
    ax = plot_forecast(history, forecast, interval, coverage=0.9, title="t")
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["history"].get_ydata(), [1.0, 2.0, 3.0])
    # the forecast line starts at the last observation
    np.testing.assert_array_equal(lines["forecast"].get_ydata(), [3.0, 4.0, 5.0])
    assert list(lines["forecast"].get_xdata()) == list(
        pd.to_datetime(["2002-01-01", "2003-01-01", "2004-01-01"])
    )
    band = [c for c in ax.collections if c.get_label() == "90% interval"]
    assert len(band) == 1
    ys = band[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == 3.0 and ys.max() == 6.0
    plt.close("all")
