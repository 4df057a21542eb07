"""Regenerate every figure in docs/figures and every generated block of the docs, in one command.

Run from the repository root, on a quiet machine (several runs measure time)::

    PYTHONPATH=. python docs/regenerate.py [--only TARGET ...] [--nice 10] [--jobs 2] [--list]

Each target runs its commands with their output in ``docs/results/<target>/`` and writes
``run.md`` there: every command, its wall time, the load average before and after it, and the
line "Generated from tsrnn X at commit SHA" ("+ local changes" when a file of the code that
produces results differed from the commit). Then the figures are copied to ``docs/figures/``
and every generated block of the Markdown pages is rewritten from its file. A generated block
is written as

    <!-- generated from docs/results/compare/sunspots.txt -->
    ...the file's text (in a code fence for a .txt file)...
    <!-- end generated -->

and ``tests/test_docs_generated.py`` checks that every block equals its file. The prose around
the blocks (and the figures the prose describes) is updated by hand from the new files: commit
before running, so that ``run.md`` names the commit of the code.

``--nice N`` lowers the priority of the training studies of ``rnn_vs_lstm`` only; the runs that
report times keep the priority this script was started with.

What this script does not rerun: the tables of ``benchmarks/RESULTS*.md`` and of the docs
that quote them (kernel, CUDA, panel and main-job timings, tuning rounds), which are
machine-specific measurements recorded with their own commands in those files.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path("docs") / "results"
FIGURES = ROOT / "docs" / "figures"
# The pages that may hold generated blocks.
PAGES = ("README.md", "docs/*.md", "benchmarks/*.md")
# What produces results: a difference here from the commit marks the run "+ local changes".
CODE = ("tsrnn", "benchmarks/*.py", "examples", "docs/regenerate.py")
BLOCK = re.compile(r"(<!-- generated from (\S+) -->\n)(.*?)(<!-- end generated -->)", re.DOTALL)


@dataclass(frozen=True)
class Step:
    """One command as a user types it (``tsrnn ...`` or ``python ...``); ``{out}`` is the
    target's folder (relative to the checkout) and ``{jobs}`` the ``--jobs`` of this script."""

    command: str
    stdout: str | None = None  # file in the target's folder that receives the command's output
    timing: bool = True  # reports times: never run with a lowered priority
    figures: tuple[tuple[str, str], ...] = ()  # (file in the target's folder, name in docs/figures)
    # (file written, heading in ``stdout``): the Markdown table under that heading, on its own
    tables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Target:
    description: str
    steps: tuple[Step, ...] = field(default_factory=tuple)
    needs: tuple[str, ...] = ()  # modules of an optional extra the steps import


def _experiment(folder: str, args: str, figure: tuple[str, str] | None = None, timing=False) -> Step:
    """A ``tsrnn experiment`` run into its own folder; the timing runs (cost) use one process."""
    jobs = "" if timing else " --jobs {jobs}"
    return Step(
        f"tsrnn experiment {args} --out {{out}}/{folder} --no-progress{jobs}",
        timing=timing,
        figures=(() if figure is None else ((f"{folder}/{figure[0]}.png", f"rnn_vs_lstm_{figure[1]}.png"),)),
    )


_ACCURACY = "python benchmarks/accuracy.py --half reporting"

TARGETS = {
    "compare": Target(
        "the main job on sunspots: the example output of docs/compare.md and its figures",
        (
            Step(
                "tsrnn compare --out {out}/sunspots --no-progress",
                stdout="sunspots.txt",
                figures=(("sunspots/forecasts.png", "compare_sunspots.png"),),
            ),
            Step(
                "tsrnn compare --quantiles 0.05,0.25,0.5,0.75,0.95 --out {out}/sunspots_fan --no-progress",
                stdout="sunspots_fan.txt",
                figures=(("sunspots_fan/forecasts.png", "compare_fan_sunspots.png"),),
            ),
        ),
    ),
    "estimators": Target(
        "the estimators' acceptance figures in docs/estimators.md",
        (Step("python examples/estimators_acceptance.py", stdout="estimators_acceptance.txt"),),
    ),
    "coverage": Target(
        "the coverage tables of docs/probabilistic.md",
        (
            Step(
                "python benchmarks/coverage.py",
                stdout="coverage.txt",
                tables=(("coverage.md", "series seeds"),),
            ),
            Step(
                "python benchmarks/short_series_coverage.py",
                stdout="short_series.txt",
                tables=(("short_series.md", "seeds"),),
            ),
        ),
    ),
    "interop": Target(
        "the skforecast backtest of docs/interop.md (needs pip install '.[interop]')",
        (Step("python benchmarks/interop_skforecast_sunspots.py", stdout="skforecast_sunspots.txt"),),
        needs=("skforecast", "sktime", "darts"),
    ),
    "fan_chart": Target(
        "the fan chart of docs/probabilistic.md",
        (
            Step(
                "python examples/fan_chart.py --out {out}",
                stdout="fan_chart.txt",
                figures=(("probabilistic_fan_sunspots.png", "probabilistic_fan_sunspots.png"),),
            ),
        ),
    ),
    "accuracy": Target(
        "the accuracy record on the reporting half (benchmarks/ACCURACY.md, docs/compare.md)",
        (
            Step(f"{_ACCURACY} --models naive,arima,ets,theta,hmm --jobs 1 --out {{out}}/base.csv"),
            Step(f"{_ACCURACY} --models rnn,lstm,gru,linear-ar --seeds 3 --jobs 2 --out {{out}}/rec.csv"),
            Step(
                f"{_ACCURACY} --summarize {{out}}/rec.csv,{{out}}/base.csv --figure {{out}}/ratios.png",
                stdout="summary.txt",
                figures=(("ratios.png", "accuracy_reporting.png"),),
                tables=(
                    ("relative_mase.md", "## Geometric-mean relative MASE"),
                    ("baselines.md", "## Baselines"),
                ),
            ),
        ),
    ),
    "several_seasons": Target(
        "the recurrent models with MSTL on every season, against the first season's STL (docs/compare.md)",
        (
            Step(
                "python benchmarks/several_seasons.py",
                stdout="several_seasons.txt",
                tables=(("tuning.md", "tuning:"), ("reporting.md", "reporting:")),
            ),
            Step(
                "python benchmarks/several_seasons.py --windows 5 --segments tuning",
                stdout="decision.txt",
                tables=(("decision.md", "tuning:"),),
            ),
        ),
    ),
    "daily_yearly": Target(
        "daily synthetic series with a yearly season held three times: both seasons or the weekly alone"
        " (docs/compare.md)",
        (
            Step(
                "python benchmarks/daily_yearly.py",
                stdout="daily_yearly.txt",
                tables=(
                    ("random_walk.md", "random walk:"),
                    ("trend_ar1.md", "trend + AR(1):"),
                    ("flat.md", "flat:"),
                ),
            ),
        ),
    ),
    "panels": Target(
        "the global GRU, local GRUs and ARIMA on four panels (docs/panels.md), the fertility figure",
        (
            Step(
                "python benchmarks/panels_accuracy.py --panels grunfeld macrodata synthetic fertility"
                " --figure {out}/fertility.png",
                stdout="panels.txt",
                figures=(("fertility.png", "panels_fertility.png"),),
            ),
        ),
    ),
    "rnn_vs_lstm": Target(
        "every study of docs/rnn_vs_lstm.md (one folder per tsrnn experiment run)",
        (
            _experiment("gradient_flow", "gradient-flow", ("gradient_flow", "gradient_flow")),
            _experiment("memory", "memory", ("memory", "memory")),
            _experiment("memory_lag100", "memory --lags 100 --seeds 5"),
            _experiment("memory_copy", "memory --task copy --seeds 1", ("memory", "memory_copy")),
            _experiment(
                "memory_copy_forget_bias5", "memory --task copy --seeds 1 --lags 100,200 --forget-bias 5"
            ),
            _experiment("clipping", "clipping", ("clipping", "clipping")),
            _experiment("convergence", "convergence", ("convergence", "convergence")),
            _experiment("cost", "cost", ("cost", "cost"), timing=True),
            _experiment("cost_threads", "cost --blas-threads 1,2", ("cost", "cost_threads"), timing=True),
        ),
    ),
}


def _expand(command: str, out: Path, jobs: int) -> str:
    return command.replace("{out}", str(out)).replace("{jobs}", str(jobs))


def source_revision() -> str:
    """The commit of the checkout, with "+ local changes" when a file of :data:`CODE` differs."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "an unknown commit (not a git checkout)"
    from tsrnn import __version__

    return f"tsrnn {__version__} at commit {commit}" + (" + local changes" if dirty else "")


def markdown_table(text: str, heading: str) -> str:
    """The Markdown table that follows the first line starting with ``heading`` in ``text``."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        raise ValueError(f"no heading starting with {heading!r} in the output")
    rows = [line for line in lines[start + 1 :] if line.strip()]
    table = []
    for line in rows:
        if not line.startswith("|"):
            break
        table.append(line)
    if not table:
        raise ValueError(f"no table under {heading!r}")
    return "\n".join(table) + "\n"


def run_target(name: str, target: Target, jobs: int, nice: int) -> tuple[list[str], list[tuple[Path, str]]]:
    """Run one target's steps; return the lines of its ``run.md`` table and its figures."""
    out = RESULTS / name
    (ROOT / out).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rows, figures = [], []
    for step in target.steps:
        shown = _expand(step.command, out, jobs)
        program, *args = shlex.split(shown)
        argv = [sys.executable, *args] if program == "python" else [sys.executable, "-m", program, *args]
        niceness = 0 if step.timing else nice
        print(shown, flush=True)
        load0, t0 = os.getloadavg()[0], time.perf_counter()
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.PIPE if step.stdout else None,
            text=True,
            preexec_fn=(lambda n=niceness: os.nice(n)) if niceness else None,
        )
        wall, load1 = time.perf_counter() - t0, os.getloadavg()[0]
        if step.stdout:
            print(done.stdout, end="")
            (ROOT / out / step.stdout).write_text(done.stdout, encoding="utf-8")
            for file, heading in step.tables:
                (ROOT / out / file).write_text(markdown_table(done.stdout, heading), encoding="utf-8")
        rows.append(
            f"| `{shown}` | {wall:.0f} | {load0:.1f} | {load1:.1f} | "
            f"{'normal' if not niceness else f'nice {niceness}'} |"
        )
        figures += [(ROOT / out / source, target_name) for source, target_name in step.figures]
    return rows, figures


def machine() -> str:
    """The processor's name (from /proc/cpuinfo where there is one) and the logical CPU count."""
    name = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        name = names[0] if names else name
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} logical CPUs"


def write_run_md(name: str, target: Target, rows: list[str], revision: str, argv: list[str]) -> None:
    lines = [
        f"# docs/results/{name}: {target.description}",
        "",
        f"Command: `{' '.join(['PYTHONPATH=. python docs/regenerate.py', *argv])}`",
        "",
        "| command | wall s | load before | load after | priority |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Machine: {machine()}. Generated from {revision}.",
        "",
    ]
    (ROOT / RESULTS / name / "run.md").write_text("\n".join(lines), encoding="utf-8")


def generated_blocks(text: str):
    """``(match, source path)`` of every generated block in a page's ``text``."""
    return [(m, m.group(2)) for m in BLOCK.finditer(text)]


def block_text(source: str) -> str:
    """What a generated block holds: the file's text, fenced when it is not Markdown."""
    content = (ROOT / source).read_text(encoding="utf-8")
    return content if source.endswith(".md") else f"```\n{content}```\n"


def refresh_pages() -> list[str]:
    """Rewrite every generated block from its file; return the pages changed."""
    changed = []
    for pattern in PAGES:
        for page in sorted(ROOT.glob(pattern)):
            text = page.read_text(encoding="utf-8")
            new = BLOCK.sub(lambda m: m.group(1) + block_text(m.group(2)) + m.group(4), text)
            if new != text:
                page.write_text(new, encoding="utf-8")
                changed.append(str(page.relative_to(ROOT)))
    return changed


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(TARGETS), help="run only these targets")
    parser.add_argument("--nice", type=int, default=0, help="niceness added for the training studies")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of the rnn_vs_lstm studies")
    parser.add_argument("--list", action="store_true", help="print the targets and their commands, then exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name}: {target.description}")
            for step in target.steps:
                print("   ", _expand(step.command, RESULTS / name, args.jobs))
        return 0
    revision = source_revision()
    copies = []
    for name in args.only or TARGETS:
        missing = [m for m in TARGETS[name].needs if importlib.util.find_spec(m) is None]
        if missing:
            message = f"{name} needs {', '.join(missing)}: pip install '.[interop]'"
            if args.only:
                parser.error(message)
            print(f"skipped {message}", flush=True)
            continue
        rows, figures = run_target(name, TARGETS[name], args.jobs, args.nice)
        write_run_md(name, TARGETS[name], rows, revision, argv)
        copies += figures
    # Copied last: a figure is a tracked file, but it is not code, and no later run reads it.
    for source, name in copies:
        shutil.copyfile(source, FIGURES / name)
        print(f"copied {source.relative_to(ROOT)} to docs/figures/{name}")
    for page in refresh_pages():
        print(f"rewrote the generated blocks of {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
