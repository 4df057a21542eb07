"""`tsrnn experiment`: files written per experiment, the summary, one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn.cli import main

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("gradient_flow", "memory", "clipping", "convergence", "cost")


@pytest.mark.slow
def test_experiment_all_quick_writes_every_file(tmp_path, capsys):
    out = tmp_path / "exp"
    code = main(["experiment", "all", "--out", str(out), "--quick", "--jobs", "1", "--no-progress"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "[1/5] gradient-flow" in stdout and "[5/5] cost" in stdout and "done: 5 experiment(s)" in stdout
    for name in NAMES:
        for suffix in (".csv", "_summary.csv", ".md"):
            assert (out / f"{name}{suffix}").stat().st_size > 0
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and 3_000 < len(png) < 200_000
    summary = (out / "summary.md").read_text()
    command = f"tsrnn experiment all --out {out} --quick --jobs 1 --no-progress"
    assert summary.count(f"Command: `{command}`") == 1 + 5  # the header and every section
    assert summary.count("\n## ") == 5 and "Total:" in summary and "s CPU" in summary

    # The markdown table shows the numbers of the CSV (generated, not typed in).
    memory = pd.read_csv(out / "memory.csv")
    table = pd.read_csv(out / "memory_summary.csv", index_col="cell")
    for _, row in memory.iterrows():
        assert table.loc[row["cell"], f"L={row['lag']}"] == pytest.approx(row["test_error"])
    md = (out / "memory.md").read_text()
    first = memory.iloc[0]
    assert f"| {first['cell']} | {first['test_error']:.4g} |" in md

    flow = pd.read_csv(out / "gradient_flow.csv")
    assert set(flow["stage"]) == {"init", "trained"} and set(flow["quantity"]) == {"h", "c"}
    cost = pd.read_csv(out / "cost.csv")
    assert (cost["n_params"] > cost["n_params_layer"]).all()
    clip = pd.read_csv(out / "clipping.csv")
    assert np.all(clip.loc[clip["setting"] != "unclipped", "clipped_grad_norm"] <= 1 + 1e-6)


def test_experiment_single_and_seed(tmp_path, capsys):
    out = tmp_path / "one"
    args = ["--out", str(out), "--quick", "--seed", "5", "--seeds", "2", "--lags", "6,9", "--jobs", "1"]
    code = main(["experiment", "memory", *args, "--no-progress"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "memory.csv", "memory.md", "memory.png", "memory_summary.csv",
    ]  # fmt: skip
    frame = pd.read_csv(out / "memory.csv")
    assert sorted(frame["seed"].unique()) == [5, 6] and sorted(frame["lag"].unique()) == [6, 9]
    assert len(frame) == 3 * 2 * 2  # cells x lags x seeds
    assert "wrote" in capsys.readouterr().out


def test_experiment_copy_task(tmp_path):
    out = tmp_path / "copy"
    args = ["--task", "copy", "--out", str(out), "--quick", "--jobs", "1", "--no-progress"]
    assert main(["experiment", "memory", *args]) == 0
    assert set(pd.read_csv(out / "memory.csv")["metric"]) == {"error_rate"}
    assert "(copy task)" in (out / "memory.md").read_text()


def test_experiment_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert main(["experiment", "cost", "--out", str(afile), "--quick"]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "sorting", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    for bad in (
        ["--seed", "-1"],
        ["--lags", "1,10"],
        ["--lags", "ten"],
        ["--seeds", "0"],
        ["--blas-threads", "0"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(["experiment", "memory", "--out", str(tmp_path), *bad])
        assert exc.value.code == 2
    assert "--blas-threads" in capsys.readouterr().err
    # A list of thread counts is for cost only.
    assert main(["experiment", "memory", "--out", str(tmp_path), "--quick", "--blas-threads", "1,2"]) == 2
    assert "cost only" in capsys.readouterr().err


def test_cost_compares_blas_thread_counts(tmp_path):
    out = tmp_path / "threads"
    assert (
        main(["experiment", "cost", "--out", str(out), "--quick", "--blas-threads", "1,2", "--no-progress"])
        == 0
    )
    frame = pd.read_csv(out / "cost.csv")
    assert sorted(frame["blas_threads"].unique()) == [1, 2] and len(frame) == 3 * 2 * 2
    # The parameter count does not depend on the threads.
    counts = frame.pivot_table(index=["cell", "hidden_size"], columns="blas_threads", values="n_params")
    np.testing.assert_array_equal(counts[1], counts[2])


@pytest.mark.slow
def test_python_dash_m_runs_the_experiment_command(tmp_path):
    out = tmp_path / "m"
    # A bare environment, except the Numba cache this session compiled into (when it is not the
    # package's own): without it the child would compile every kernel again.
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    if "NUMBA_CACHE_DIR" in os.environ:
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    proc = subprocess.run(
        [sys.executable, "-m", "tsrnn", "experiment", "cost", "--out", str(out), "--quick", "--no-progress"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "cost.csv").exists() and "cost:" in proc.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_results_name_their_commit_and_only_code_changes_mark_them(tmp_path):
    """The commit a result names is git's HEAD (asked independently); a changed file outside
    the package (results, docs) leaves it clean, a changed file of the package marks it."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "tsrnn", repo / "tsrnn", ignore=shutil.ignore_patterns("__pycache__", "*.nb[ic]"))
    (repo / "README.md").write_text("a checkout\n")

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        return done.stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "snapshot")
    head = git("rev-parse", "HEAD")

    def revision() -> str:
        code = "from tsrnn.experiments._report import source_revision; print(source_revision())"
        env = {"PYTHONPATH": str(repo), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert revision().endswith(f"at commit {head}")
    with open(repo / "README.md", "a") as readme:  # not code: still clean
        readme.write("changed\n")
    assert revision().endswith(f"at commit {head}")
    with open(repo / "tsrnn" / "_version.py", "a") as source:  # code: marked
        source.write("# changed\n")
    assert revision().endswith(f"at commit {head} + local changes")
