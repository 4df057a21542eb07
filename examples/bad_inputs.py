"""Try every kind of bad input at every public entry point and tabulate what happens.

Each case builds a small input with one defect (NaN, a short series, text in a column,
duplicated timestamps, ...) and hands it to the estimators, ``make_windows``, the
``Forecaster``, the baselines, ``backtest``, ``compare``, ``fit_many`` and the command line.
The table records the exception and its message, or for inputs that must work (a constant
series, values around 1e12 or 1e-12) the forecast, checked against what it should be.

    python examples/bad_inputs.py                          # print the table (markdown)
    python examples/bad_inputs.py --write docs/reliability.md   # refresh the table in the docs

Runs in about half a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

import tsrnn
from tsrnn import (
    ARIMAForecaster,
    Forecaster,
    HMMForecaster,
    NaiveForecaster,
    RecurrentRegressor,
    backtest,
    compare,
    fit_many,
    make_windows,
)
from tsrnn.cli import main as cli_main

START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"
N = 48


def series(n: int = N, level: float = 10.0, scale: float = 1.0, seed: int = 0) -> pd.Series:
    """A monthly series: a yearly cycle plus noise, ``level + scale * (...)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = level + scale * (np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=n))
    return pd.Series(values, index=pd.date_range("2000-01-01", periods=n, freq="MS"), name="y")


def exog(index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({"x": np.cos(np.arange(len(index)))}, index=index)


def rnn(**kw) -> RecurrentRegressor:
    return RecurrentRegressor("gru", hidden_size=4, max_iter=3, early_stopping=False, random_state=0, **kw)


def forecaster() -> Forecaster:
    return Forecaster(rnn(), window=6)


@dataclass
class Case:
    name: str  # what is wrong with the input
    entry: str  # the entry point called
    call: object  # () -> object; raises for bad input
    check: object = None  # for inputs that must work: result -> (ok, description)


def with_nan(y: pd.Series, at=(5, 9, 20)) -> pd.Series:
    y = y.copy()
    y.iloc[list(at)] = np.nan
    return y


def cli(csv_text: str, *extra: str) -> tuple[int, str]:
    """Run ``tsrnn compare`` on a CSV file with the given content; return (exit code, output)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.csv")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(csv_text)
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = cli_main(
                [
                    "compare",
                    "--csv",
                    path,
                    "--time-col",
                    "date",
                    "--target",
                    "y",
                    "--models",
                    "naive",
                    "--horizon",
                    "3",
                    "--windows",
                    "2",
                    "--no-progress",
                    *extra,
                ]
            )
    text = err.getvalue().strip() or out.getvalue().strip().splitlines()[-1]
    return code, text.replace(tmp + os.sep, "")  # the temporary directory changes every run


def to_csv(y: pd.Series) -> str:
    frame = pd.DataFrame({"date": [t.strftime("%Y-%m-%d") for t in y.index], "y": y.to_numpy()})
    return frame.to_csv(index=False)


class CLIFailed(Exception):
    pass


def cli_call(csv_text: str, *extra: str):
    code, text = cli(csv_text, *extra)
    if code != 0:
        raise CLIFailed(f"exit code {code}: {text}")
    return text


def cli_works(text: str):
    return True, text


def close_to(expected, rtol=1e-4):
    """A check: the forecast equals ``expected`` (array or callable of nothing) within ``rtol``."""

    def check(result):
        want = expected() if callable(expected) else expected
        got = np.asarray(result, dtype=float).ravel()
        want = np.broadcast_to(np.asarray(want, dtype=float).ravel(), got.shape)
        err = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))
        ok = bool(np.all(np.isfinite(got))) and err <= rtol
        return (
            ok,
            f"forecast {got[0]:.6g}, {got[1]:.6g}, ... ; max relative difference {err:.1e} (≤ {rtol:g})",
        )

    return check


def scaled_forecast(make, factor: float, horizon: int = 3):
    """The forecast of ``make()`` on the plain series, times ``factor`` (the scale-free answer)."""
    return lambda: make().fit(series()).predict(horizon).to_numpy() * factor


def cases() -> list[Case]:
    y = series()
    short = series(8)
    irregular = y.iloc[[0, 1, 2, 4, 7, 8, 10, 15, 16, 17, 20, 21, 25, 30, 31, 33, 40, 41, 44, 47]]
    dup = pd.concat([y.iloc[:20], y.iloc[19:]])
    unsorted = y.iloc[::-1]
    text = pd.DataFrame({"y": y, "label": ["a"] * len(y)})
    inf = y.copy()
    inf.iloc[7] = np.inf
    empty = y.iloc[:0]
    const = pd.Series(7.5, index=y.index, name="y")
    huge, tiny = series(level=10.0, scale=1.0) * 1e12, series(level=10.0, scale=1.0) * 1e-12
    x = exog(y.index)
    x_nan = x.copy()
    x_nan.iloc[3, 0] = np.nan
    Xw, yw = make_windows(y, 6)

    out: list[Case] = []

    def add(name, entry, call, check=None):
        out.append(Case(name, entry, call, check))

    # --- NaN / inf --------------------------------------------------------------------------
    nan_y = with_nan(y)
    add(
        "NaN in the target",
        "RecurrentRegressor.fit",
        lambda: rnn().fit(Xw, np.where(np.arange(len(yw)) == 4, np.nan, yw)),
    )
    Xbad = Xw.copy()
    Xbad[2, 3] = np.inf
    add("inf in the features", "RecurrentRegressor.fit", lambda: rnn().fit(Xbad, yw))
    add("NaN in the target", "make_windows", lambda: make_windows(nan_y, 6))
    add("NaN in the target", "Forecaster.fit", lambda: forecaster().fit(nan_y))
    add("inf in the target", "Forecaster.fit", lambda: forecaster().fit(inf))
    add("NaN in exogenous X", "Forecaster.fit", lambda: forecaster().fit(y, X=x_nan))
    add("NaN in the target", "NaiveForecaster.fit", lambda: NaiveForecaster().fit(nan_y))
    add("NaN in the target", "ARIMAForecaster.fit", lambda: ARIMAForecaster(order=(1, 0, 0)).fit(nan_y))
    add("NaN in the target", "HMMForecaster.fit", lambda: HMMForecaster().fit(nan_y))
    add("NaN in the target", "backtest", lambda: backtest(NaiveForecaster(), nan_y, horizon=3))
    add("NaN in the target", "compare", lambda: compare(nan_y, ["naive"], horizon=3))
    frame_nan = pd.DataFrame({"a": y, "b": nan_y})
    add("NaN in one of several series", "fit_many", lambda: fit_many(NaiveForecaster(), frame_nan))
    add("NaN in the target", "CLI compare --csv", lambda: cli_call(to_csv(nan_y)))
    # --- too short --------------------------------------------------------------------------
    add("series shorter than window + horizon", "make_windows", lambda: make_windows(short, 6, horizon=3))
    add("series shorter than window + 2", "Forecaster.fit", lambda: forecaster().fit(short.iloc[:7]))
    add(
        "series shorter than window + horizon",
        "Forecaster(strategy='direct').fit",
        lambda: Forecaster(rnn(), window=6, strategy="direct", horizon=3).fit(short),
    )
    add(
        "series too short for the model",
        "ARIMAForecaster.fit",
        lambda: ARIMAForecaster(order=(2, 1, 1)).fit(short.iloc[:3]),
    )
    add("series too short for the model", "HMMForecaster.fit", lambda: HMMForecaster().fit(short))
    add(
        "series too short for the backtest",
        "backtest",
        lambda: backtest(NaiveForecaster(), short, horizon=3, n_windows=5),
    )
    add("series too short for the model", "CLI compare --csv", lambda: cli_call(to_csv(short.iloc[:5])))
    # --- non-numeric ------------------------------------------------------------------------
    add("non-numeric column", "make_windows", lambda: make_windows(text, 6))
    add("non-numeric column", "Forecaster.fit", lambda: forecaster().fit(text))
    add("non-numeric column", "NaiveForecaster.fit", lambda: NaiveForecaster().fit(text))
    add(
        "non-numeric values",
        "RecurrentRegressor.fit",
        lambda: rnn().fit(Xw.astype(str).astype(object) + "x", yw),
    )
    add("non-numeric column", "backtest", lambda: backtest(NaiveForecaster(), text, horizon=3))
    add("non-numeric column", "fit_many", lambda: fit_many(NaiveForecaster(), text))
    bad_csv = to_csv(y).replace(f"{y.iloc[10]}", "n/a", 1)
    add("non-numeric value in the CSV", "CLI compare --csv", lambda: cli_call(bad_csv))
    # --- timestamps -------------------------------------------------------------------------
    add("duplicated timestamps", "Forecaster.fit", lambda: forecaster().fit(dup))
    add("duplicated timestamps", "make_windows", lambda: make_windows(dup, 6))
    add("duplicated timestamps", "ARIMAForecaster.fit", lambda: ARIMAForecaster(order=(1, 0, 0)).fit(dup))
    add("duplicated timestamps", "CLI compare --csv", lambda: cli_call(to_csv(dup)))
    add("unsorted timestamps", "Forecaster.fit", lambda: forecaster().fit(unsorted))
    add("unsorted timestamps", "HMMForecaster.fit", lambda: HMMForecaster().fit(unsorted))
    add("unsorted timestamps", "compare", lambda: compare(unsorted, ["naive"], horizon=3))
    add("unsorted timestamps", "CLI compare --csv", lambda: cli_call(to_csv(unsorted)))
    add("irregular index, no frequency", "Forecaster.fit", lambda: forecaster().fit(irregular))
    add("irregular index, no frequency", "NaiveForecaster.fit", lambda: NaiveForecaster().fit(irregular))
    add(
        "irregular index, no frequency",
        "backtest",
        lambda: backtest(NaiveForecaster(), irregular, horizon=3, n_windows=2),
    )
    add("irregular index, no frequency", "CLI compare --csv", lambda: cli_call(to_csv(irregular)))
    # --- exogenous --------------------------------------------------------------------------
    add("X does not cover y's index", "Forecaster.fit", lambda: forecaster().fit(y, X=x.iloc[5:]))
    add("X does not cover y's index", "make_windows", lambda: make_windows(y, 6, X=x.iloc[:-3]))
    add(
        "X does not cover y's index",
        "ARIMAForecaster.fit",
        lambda: ARIMAForecaster(order=(1, 0, 0)).fit(y, X=x.iloc[5:]),
    )
    add("X does not cover y's index", "backtest", lambda: backtest(forecaster(), y, horizon=3, X=x.iloc[:-2]))
    future = exog(pd.date_range(y.index[-1], periods=3, freq="MS"))  # starts one month too early
    add(
        "X does not cover the horizon",
        "Forecaster.predict",
        lambda: forecaster().fit(y, X=x).predict(3, X=future),
    )
    add(
        "X does not cover the horizon",
        "ARIMAForecaster.predict",
        lambda: ARIMAForecaster(order=(1, 0, 0)).fit(y, X=x).predict(3, X=future),
    )
    add("X missing at predict time", "Forecaster.predict", lambda: forecaster().fit(y, X=x).predict(3))
    # --- shapes at predict time -------------------------------------------------------------
    add(
        "wrong X shape at predict", "RecurrentRegressor.predict", lambda: rnn().fit(Xw, yw).predict(Xw[:, :5])
    )
    add(
        "3-D X at predict after 2-D fit",
        "RecurrentRegressor.predict",
        lambda: rnn().fit(Xw, yw).predict(Xw[:, :, None]),
    )
    add("1-D X at predict", "RecurrentRegressor.predict", lambda: rnn().fit(Xw, yw).predict(Xw[0]))
    add(
        "X with other columns at predict",
        "Forecaster.predict",
        lambda: (
            forecaster()
            .fit(y, X=x)
            .predict(
                3, X=exog(pd.date_range(y.index[-1], periods=4, freq="MS")[1:]).rename(columns={"x": "z"})
            )
        ),
    )
    nxt = series(N + 2).iloc[N:]
    add(
        "more y columns in update",
        "Forecaster.update",
        lambda: forecaster().fit(y).update(pd.DataFrame({"a": nxt, "b": nxt})),
    )
    add(
        "update that does not continue y",
        "Forecaster.update",
        lambda: forecaster().fit(y).update(y.iloc[-2:]),
    )
    # --- empty ------------------------------------------------------------------------------
    add("empty series", "Forecaster.fit", lambda: forecaster().fit(empty))
    add("empty series", "make_windows", lambda: make_windows(empty, 6))
    add("empty array", "RecurrentRegressor.fit", lambda: rnn().fit(np.empty((0, 6)), np.empty(0)))
    add("empty series", "NaiveForecaster.fit", lambda: NaiveForecaster().fit(empty))
    add("empty series", "backtest", lambda: backtest(NaiveForecaster(), empty, horizon=3))
    add("empty frame", "fit_many", lambda: fit_many(NaiveForecaster(), pd.DataFrame(index=y.index)))
    add("empty CSV", "CLI compare --csv", lambda: cli_call("date,y\n"))
    # --- must work --------------------------------------------------------------------------
    add(
        "constant series",
        "Forecaster.fit/predict",
        lambda: forecaster().fit(const).predict(3),
        close_to(7.5, 1e-2),
    )
    add(
        "constant series",
        "Forecaster(Ridge).fit/predict",
        lambda: Forecaster(Ridge(), window=6).fit(const).predict(3),
        close_to(7.5, 1e-9),
    )
    add(
        "constant series",
        "NaiveForecaster.fit/predict",
        lambda: NaiveForecaster().fit(const).predict(3),
        close_to(7.5, 0),
    )
    add(
        "constant series",
        "ARIMAForecaster.fit/predict",
        lambda: ARIMAForecaster().fit(const).predict(3),
        close_to(7.5, 1e-6),
    )
    add("constant series (no regimes)", "HMMForecaster.fit", lambda: HMMForecaster().fit(const))
    add("constant series", "CLI compare --csv", lambda: cli_call(to_csv(const)), cli_works)
    add(
        "constant window inputs",
        "RecurrentRegressor.fit/predict",
        lambda: rnn().fit(np.ones((20, 6)), np.full(20, 3.0)).predict(np.ones((2, 6))),
        close_to(3.0, 1e-2),
    )
    add(
        "values around 1e12",
        "Forecaster.fit/predict",
        lambda: forecaster().fit(huge).predict(3),
        close_to(scaled_forecast(forecaster, 1e12), 1e-5),
    )
    add(
        "values around 1e-12",
        "Forecaster.fit/predict",
        lambda: forecaster().fit(tiny).predict(3),
        close_to(scaled_forecast(forecaster, 1e-12), 1e-5),
    )
    add(
        "values around 1e12",
        "RecurrentRegressor.fit/predict",
        lambda: rnn().fit(Xw * 1e12, yw * 1e12).predict(Xw[-3:] * 1e12),
        close_to(lambda: rnn().fit(Xw, yw).predict(Xw[-3:]) * 1e12, 1e-5),
    )
    add(
        "values around 1e-12",
        "RecurrentRegressor.fit/predict",
        lambda: rnn().fit(Xw * 1e-12, yw * 1e-12).predict(Xw[-3:] * 1e-12),
        close_to(lambda: rnn().fit(Xw, yw).predict(Xw[-3:]) * 1e-12, 1e-5),
    )
    add(
        "values around 1e12",
        "NaiveForecaster.fit/predict",
        lambda: NaiveForecaster().fit(huge).predict(3),
        close_to(huge.iloc[-1], 0),
    )
    add(
        "values around 1e-12",
        "ARIMAForecaster.fit/predict",
        lambda: ARIMAForecaster(order=(1, 0, 0)).fit(tiny).predict(3),
        close_to(scaled_forecast(lambda: ARIMAForecaster(order=(1, 0, 0)), 1e-12), 1e-2),
    )
    add(
        "values around 1e12",
        "ARIMAForecaster.fit/predict",
        lambda: ARIMAForecaster(order=(1, 0, 0)).fit(huge).predict(3),
        close_to(scaled_forecast(lambda: ARIMAForecaster(order=(1, 0, 0)), 1e12), 1e-2),
    )
    add(
        "values around 1e12",
        "HMMForecaster.fit/predict",
        lambda: HMMForecaster(random_state=0).fit(huge).predict(3),
        close_to(scaled_forecast(lambda: HMMForecaster(random_state=0), 1e12), 1e-3),
    )
    add(
        "values around 1e-12",
        "HMMForecaster.fit/predict",
        lambda: HMMForecaster(random_state=0).fit(tiny).predict(3),
        close_to(scaled_forecast(lambda: HMMForecaster(random_state=0), 1e-12), 1e-3),
    )
    add("values around 1e-12", "CLI compare --csv", lambda: cli_call(to_csv(tiny)), cli_works)
    return out


def run(case: Case) -> tuple[str, bool]:
    """``(what happened, as expected)`` for one case."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = case.call()
        except CLIFailed as exc:
            return f"`{exc}`", case.check is None and "exit code 2" in str(exc)
        except (ValueError, TypeError) as exc:
            return f"{type(exc).__name__}: {exc}", case.check is None
        except Exception as exc:
            return f"**unexpected {type(exc).__name__}**: {exc}", False
    if case.check is None:
        return f"**accepted** (no error): {str(result)[:80]}", False
    if isinstance(result, str):  # the CLI: its last line
        return f"works: `{result}`", True
    ok, description = case.check(result)
    return ("works: " if ok else "**wrong result**: ") + description, ok


def table(rows: list[tuple[Case, str, bool]]) -> str:
    lines = ["| # | input | entry point | what happens |", "|---|---|---|---|"]
    for i, (case, outcome, ok) in enumerate(rows, 1):
        text = outcome.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {i} | {case.name} | `{case.entry}` | {text}{'' if ok else ' ⚠'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", type=Path, help=f"replace the table between {START} and {END} in this file"
    )
    args = parser.parse_args()
    rows = []
    for case in cases():
        outcome, ok = run(case)
        rows.append((case, outcome, ok))
        print(f"{'ok ' if ok else 'BAD'} {case.name} / {case.entry}: {outcome[:150]}", file=sys.stderr)
    text = table(rows)
    bad = sum(not ok for _, _, ok in rows)
    footer = (
        f"\n\n{len(rows)} cases, {bad} not as expected. Generated by `python examples/bad_inputs.py "
        f"--write docs/reliability.md` (tsrnn {tsrnn.__version__})."
    )
    if args.write:
        doc = args.write.read_text(encoding="utf-8")
        if START not in doc or END not in doc:
            sys.exit(f"{args.write} has no {START} ... {END} section to replace")
        head, rest = doc.split(START, 1)
        _, tail = rest.split(END, 1)
        args.write.write_text(f"{head}{START}\n{text}{footer}\n{END}{tail}", encoding="utf-8")
    else:
        print(text + footer)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
