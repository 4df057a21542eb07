"""Every generated block of the docs is the recorded file it names (``docs/regenerate.py``
writes both), so a page cannot drift from the run it quotes."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPEN = re.compile(r"^<!-- generated from (\S+) -->$")
CLOSE = "<!-- end generated -->"


def blocks():
    """``(page, source, lines between the markers)`` of every generated block."""
    found = []
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *(ROOT / "benchmarks").glob("*.md")]
    for page in pages:
        lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, line in enumerate(lines):
            if m := OPEN.match(line.rstrip("\n")):
                end = next(k for k in range(i + 1, len(lines)) if lines[k].startswith(CLOSE))
                found.append((page.relative_to(ROOT), m.group(1), "".join(lines[i + 1 : end])))
    return found


def test_every_generated_block_is_its_file():
    found = blocks()
    assert {source for _, source, _ in found} >= {
        "docs/results/compare/sunspots.txt",
        "docs/results/accuracy/relative_mase.md",
        "docs/results/accuracy/baselines.md",
        "docs/results/estimators/estimators_acceptance.txt",
        "docs/results/coverage/coverage.md",
        "docs/results/coverage/short_series.md",
    }
    for page, source, text in found:
        recorded = (ROOT / source).read_text(encoding="utf-8")
        expected = recorded if source.endswith(".md") else "```\n" + recorded + "```\n"
        assert text == expected, f"{page}: the block from {source} differs; run docs/regenerate.py"


def test_every_figure_in_docs_figures_is_made_by_the_regeneration():
    spec = importlib.util.spec_from_file_location("regenerate", ROOT / "docs" / "regenerate.py")
    regenerate = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = regenerate  # its dataclasses look their module up
    spec.loader.exec_module(regenerate)
    steps = [step for target in regenerate.TARGETS.values() for step in target.steps]
    made = {name for step in steps for _, name in step.figures}
    shown = {figure.name for figure in (ROOT / "docs" / "figures").glob("*.png")}
    assert shown <= made, f"docs/regenerate.py does not make {sorted(shown - made)}"
