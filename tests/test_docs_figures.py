"""The accuracy figures the README and docs/compare.md quote are those of the recorded
benchmark run (the reporting-half table of benchmarks/ACCURACY.md), so the prose cannot drift
from the record when either changes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELLS = ("rnn", "lstm", "gru")
BASELINES = ("naive", "arima", "ets", "theta", "hmm")


def recorded() -> dict[str, dict[str, str]]:
    """``{cell: {baseline: "mean"}}`` from the 'all' rows of ACCURACY.md's reporting table."""
    text = (ROOT / "benchmarks" / "ACCURACY.md").read_text()
    section = text.split("## Results: the reporting half (the record)")[1]
    out = {}
    for cell in CELLS:
        row = re.search(rf"^\| {cell} \| all \| 21 \| (.+) \|$", section, re.MULTILINE)
        assert row, f"no 'all' row for {cell} in the reporting table"
        means = [cell_text.split("±")[0].strip() for cell_text in row.group(1).split("|")]
        out[cell] = dict(zip(BASELINES, means))
    return out


def test_readme_quotes_the_recorded_reporting_figures():
    figures = recorded()
    readme = " ".join((ROOT / "README.md").read_text().split())  # line breaks as spaces
    for baseline, words in [
        ("theta", "against Theta"),
        ("hmm", "against the Markov-switching HMM"),
        ("naive", "against the naive forecast"),
        ("ets", "against the automatic ETS"),
        ("arima", "against the automatic ARIMA"),
    ]:
        quoted = " / ".join(figures[cell][baseline] for cell in CELLS)
        assert f"{quoted} {words}" in readme, (baseline, quoted)


def test_compare_docs_table_is_the_recorded_one():
    figures = recorded()
    text = (ROOT / "docs" / "compare.md").read_text()
    for cell, label in zip(CELLS, ("rnn (tanh)", "lstm", "gru")):
        row = re.search(rf"^\| {re.escape(label)} \| (.+) \|$", text, re.MULTILINE)
        assert row, label
        means = [c.split("±")[0].strip() for c in row.group(1).split("|")]
        assert means == [figures[cell][b] for b in BASELINES], (cell, means)
