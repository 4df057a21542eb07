"""The `tsrnn compare` command: outputs on sunspots, CSV input, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn import datasets
from tsrnn.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_compare_on_sunspots_writes_table_csv_markdown_and_png(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "compare",
            "--models",
            "naive,arima,hmm",
            "--windows",
            "2",
            "--quantiles",
            "0.05,0.25,0.5,0.75,0.95",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    stdout = capsys.readouterr().out
    assert "tsrnn compare: sunspots (309 observations)" in stdout
    for name in ("naive", "arima", "hmm"):
        assert f" {name} " in stdout
    assert "MASE" in stdout and "sMAPE" in stdout and "coverage" in stdout and "fit s" in stdout
    assert "no calendar season" in stdout
    assert "CRPS" in stdout and "Winkler" in stdout and "quantiles 0.05, 0.25, 0.5, 0.75, 0.95" in stdout
    for line in stdout.splitlines():
        if any(f" {name} " in line for name in ("naive", "arima", "hmm")):
            assert " - " not in line  # every model has a CRPS and a Winkler score

    results = pd.read_csv(out / "results.csv")
    assert set(results["model"]) == {"naive", "arima", "hmm"}
    assert len(results) == 3 * 2 * 10  # models x windows x horizon (10 for yearly data)
    # The truth in the CSV is the data: the last window ends with 2008.
    sun = datasets.load("sunspots")
    last = results[(results["model"] == "naive") & (results["window"] == 1)]
    np.testing.assert_allclose(last["y_true"].to_numpy(), sun.to_numpy()[-10:])
    assert last["timestamp"].tolist() == list(range(1999, 2009))
    assert [c for c in results.columns if c.startswith("q")] == ["q0.05", "q0.25", "q0.5", "q0.75", "q0.95"]
    assert results[["q0.05", "q0.95"]].notna().all().all()

    md = (out / "summary.md").read_text()
    assert "| rank | model | MASE |" in md and "Command: `tsrnn compare --models naive,arima,hmm" in md
    assert md.count("\n| ") == 2 + 3  # header, alignment, three models

    png = (out / "forecasts.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_compare_csv_input(tmp_path, capsys):
    y = datasets.load("co2_monthly").iloc[-96:]
    path = tmp_path / "co2.csv"
    pd.DataFrame({"month": y.index.strftime("%Y-%m-%d"), "ppm": y.to_numpy()}).to_csv(path, index=False)
    args = ["--csv", str(path), "--time-col", "month", "--target", "ppm", "--models", "naive,snaive"]
    code = main(["compare", *args, "--windows", "2", "--no-progress"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "seasonal period: 12" in stdout and "snaive" in stdout
    assert "best: snaive" in stdout  # the seasonal naive ranks first on this seasonal series


def test_compare_csv_integer_time_column(tmp_path, capsys):
    path = tmp_path / "years.csv"
    pd.DataFrame({"year": np.arange(1900, 1960), "v": np.sin(np.arange(60.0))}).to_csv(path, index=False)
    args = ["--csv", str(path), "--time-col", "year", "--target", "v", "--models", "naive"]
    assert main(["compare", *args, "--horizon", "3", "--windows", "2", "--no-progress"]) == 0


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["compare", "--dataset", "macrodata"], "has several columns"),
        (["compare", "--dataset", "macrodata.nope"], "macrodata has no column 'nope'"),
        (["compare", "--models", "naive,prophet"], "unknown model(s) ['prophet']"),
        (["compare", "--horizon", "0"], "expected a positive integer, got '0'"),
        (["compare", "--windows", "many"], "expected a positive integer"),
        (["compare", "--coverage", "95"], "strictly between 0 and 1"),
        (["compare", "--quantiles", "0.5,0.1"], "increasing probabilities"),
        (["compare", "--bogus"], "unrecognized arguments: --bogus"),
        (["compare", "--windows", "400"], "too few"),  # not even at one step
        (["compare", "--dataset", "sunspots", "--models", "snaive"], "needs a seasonal period"),
        (["compare", "--csv", "/nonexistent/file.csv", "--time-col", "t", "--target", "y"], "no such file"),
        (["compare", "--csv", "x.csv"], "--csv needs --time-col"),
        (["compare", "--target", "y"], "--time-col, --target and --freq go with --csv"),
        (["compare", "--dataset", "nile", "--csv", "a.csv", "--time-col", "t", "--target", "y"], "not both"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_2(args, message, capsys):
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "--dataset", "nope"],
        ["compare", "--models", "naive,prophet"],
        ["compare", "--csv", "/nonexistent/file.csv", "--time-col", "t", "--target", "y"],
        ["compare", "--csv", "x.csv"],
    ],
)
def test_arguments_that_need_no_data_fail_before_the_workers_start(args, capsys, monkeypatch):
    """These errors cost no worker processes: compare checks them before it starts any."""
    import tsrnn.evaluation

    started = []
    monkeypatch.setattr(tsrnn.evaluation, "prepare_workers", lambda jobs: started.append(jobs))
    assert main(args) == 2
    assert started == []
    assert "Traceback" not in capsys.readouterr().err


GAPPY = "t,y\n2020-01-01,1\n2020-01-05,2\n2020-01-06,3\n"
TEXT_VALUE = "t,y\n2020-01-01,1\n2020-01-02,oops\n2020-01-03,3\n"


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("t,y\n2020-01-01,1\n2020-01-02,2\n", ["--target", "value"], "--target 'value' is not a column"),
        (GAPPY, ["--target", "y"], "pass --freq"),
        (GAPPY, ["--target", "y", "--freq", "D"], "do not follow --freq"),
        ("t,y\nmonday,1\ntuesday,2\n", ["--target", "y"], "does not hold dates"),
        (TEXT_VALUE, ["--target", "y"], "non-numeric value(s), the first in data row 2"),
        ("", ["--target", "y"], "cannot read"),
    ],
)
def test_bad_csv_files(tmp_path, capsys, content, extra, message):
    path = _write(tmp_path, "data.csv", content)
    code = main(["compare", "--csv", path, "--time-col", "t", *extra, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_module_entry_point_reports_errors_without_traceback():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "tsrnn", "compare", "--dataset", "nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("tsrnn compare: error: unknown dataset 'nope'")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_selftest_subcommand_still_listed(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "selftest" in out and "compare" in out


def test_without_matplotlib_the_tables_are_still_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    out = tmp_path / "run"
    code = main(["compare", "--models", "naive", "--windows", "1", "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    assert (out / "results.csv").exists() and (out / "summary.md").exists()
    assert not (out / "forecasts.png").exists()
    assert "matplotlib is not installed" in err and "tsrnn[plot]" in err


def test_every_model_failing_is_one_line_and_exit_code_1(tmp_path, capsys):
    path = tmp_path / "short.csv"
    pd.DataFrame({"t": np.arange(30), "v": np.r_[np.zeros(29), 1.0]}).to_csv(path, index=False)
    args = ["--csv", str(path), "--time-col", "t", "--target", "v", "--models", "hmm"]
    code = main(["compare", *args, "--horizon", "2", "--windows", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "every model failed" in err and "Traceback" not in err


def test_compare_on_a_36_month_series_shrinks_the_windows_and_prints_a_table(tmp_path, capsys):
    path = tmp_path / "m36.csv"
    t = np.arange(36)
    y = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(size=36)
    dates = pd.date_range("2020-01-01", periods=36, freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "value": y}).to_csv(path, index=False)
    args = ["--csv", str(path), "--time-col", "date", "--target", "value"]
    args += ["--models", "naive,snaive,theta"]
    code = main(["compare", *args, "--no-progress", "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0
    # 5 windows of 12 need 84 values (60 to test, 24 to train on: two seasons).
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: 36 observations are too few for 5 windows of 12 steps: using 1 window of 12 steps."
    ]
    assert " snaive " in out and " theta " in out and "MASE" in out
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    assert results["window"].nunique() == 1 and len(results) == 3 * 12
    # The horizon shrinks too when even one window of a season does not fit (20 values: half).
    short = tmp_path / "m20.csv"
    pd.DataFrame({"date": dates[:20], "value": y[:20]}).to_csv(short, index=False)
    short_args = ["--csv", str(short), "--time-col", "date", "--target", "value", "--models", "naive"]
    code = main(["compare", *short_args, "--no-progress", "--out", str(tmp_path / "run20")])
    out = capsys.readouterr().out
    assert code == 0 and "using 1 window of 10 steps" in out
    # Explicit settings are kept: then it is an error, as before.
    code = main(["compare", *args, "--windows", "5", "--horizon", "12", "--no-progress"])
    assert code == 2 and "too few for n_windows=5" in capsys.readouterr().err


def test_compare_default_jobs_is_bit_identical_to_one_job(tmp_path, monkeypatch):
    """--jobs defaults to the number of cores (two here); the forecasts equal a serial run's bit for bit."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    args = ["compare", "--models", "naive,arima,theta,hmm", "--windows", "2", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "default")]) == 0
    assert main([*args, "--jobs", "1", "--out", str(tmp_path / "one")]) == 0
    a = pd.read_csv(tmp_path / "default" / "results.csv")
    b = pd.read_csv(tmp_path / "one" / "results.csv")
    timing = ["fit_time", "predict_time"]
    pd.testing.assert_frame_equal(a.drop(columns=timing), b.drop(columns=timing), check_exact=True)


def test_warmup_names_an_unknown_cell(capsys):
    assert main(["warmup", "--cells", "gru,transformer", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "unknown cell(s) ['transformer'] in --cells" in err and "lstm" in err


@pytest.mark.parametrize(
    ("cells", "dtype", "jobs", "expected"), [("gru", "float32", 4, 1), ("gru,lstm", "all", 3, 3)]
)
def test_warmup_starts_no_more_processes_than_kernel_sets(monkeypatch, cells, dtype, jobs, expected):
    """One process per (cell, dtype) set at most: 1 set with --jobs 4 compiles in this process,
    4 sets with --jobs 3 use 3 (the compile itself is replaced: only the job count is checked)."""
    from tsrnn import _parallel

    seen = {}

    def record(fn, calls, n_jobs):
        seen["n_jobs"], seen["calls"] = n_jobs, list(calls)
        return iter([None] * len(seen["calls"]))

    monkeypatch.setattr(_parallel, "run_tasks", record)
    assert main(["warmup", "--cells", cells, "--dtype", dtype, "--jobs", str(jobs), "--no-progress"]) == 0
    assert seen["n_jobs"] == expected
    assert len(seen["calls"]) == len(cells.split(",")) * (2 if dtype == "all" else 1)


def test_compare_prints_the_note_on_a_yearly_season_held_three_times(tmp_path, capsys):
    """1,155 days, 5 windows of 14: the first window holds 1,085 / 365.25 = 2.97 years."""
    path = tmp_path / "daily.csv"
    t = np.arange(1155)
    y = 100 + 3 * np.sin(2 * np.pi * t / 7) + 10 * np.sin(2 * np.pi * t / 365.25)
    dates = pd.date_range("2020-01-01", periods=1155, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "value": y}).to_csv(path, index=False)
    args = ["--csv", str(path), "--time-col", "date", "--target", "value", "--models", "snaive"]
    code = main(["compare", *args, "--horizon", "14", "--windows", "5", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0
    notes = [line for line in captured.out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "the 365.25-step season 3.0 times" in notes[0]
    assert "--seasonal-period 7" in notes[0]
    assert "raised" not in captured.err  # not counted among the models' warnings
