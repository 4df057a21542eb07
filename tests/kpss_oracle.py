"""The KPSS level-stationarity test written from the paper: an oracle that shares no code with
statsmodels or tsrnn.

Kwiatkowski, Phillips, Schmidt and Shin (1992), "Testing the null hypothesis of stationarity
against the alternative of a unit root", J. Econometrics 54: the statistic of eq. (13) with the
Newey-West long-run variance of eq. (10) (Bartlett weights), and the critical values of their
Table 1 for the level-stationary case (eta_mu). The bandwidth is the one ``forecast::ndiffs``
uses (R's ``tseries::kpss.test(lshort=TRUE)``): ``floor(4 (n / 100)^(1/4))``.
"""

from __future__ import annotations

import numpy as np

#: Table 1, eta_mu: upper-tail critical values by significance level.
CRITICAL = {0.10: 0.347, 0.05: 0.463, 0.025: 0.574, 0.01: 0.739}


def kpss_level(x: np.ndarray, lags: int | None = None) -> float:
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if lags is None:
        lags = int(np.floor(4 * (n / 100) ** 0.25))
    e = x - x.mean()
    partial_sums = np.cumsum(e)
    long_run = np.dot(e, e) / n
    for s in range(1, lags + 1):
        long_run += 2 * (1 - s / (lags + 1)) * np.dot(e[s:], e[:-s]) / n
    return float(np.sum(partial_sums**2) / (n**2 * long_run))


def rejects_stationarity(x: np.ndarray, alpha: float) -> bool:
    return kpss_level(x) > CRITICAL[alpha]
