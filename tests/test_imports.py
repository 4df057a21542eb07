"""The package's import structure, read from the source (AST): imports point down the layers
and no module reaches into another package's private module."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "tsrnn"

# Lowest first; a module may import from its own layer or a lower one. The root package's
# private modules (tsrnn/_layout.py, _validation.py, ...) are the shared ground floor;
# functional.py is the user-facing twin of nn over the same kernels.
LAYERS = [
    {
        "_layout",
        "_validation",
        "_scaling",
        "_version",
        "_lazy",
        "_state",
        "_stattests",
        "_time_index",
        "_parallel",
        "datasets",
    },
    {"kernels"},
    {"nn", "functional"},
    {"estimators"},
    {"forecasting", "experiments"},
    {"baselines", "evaluation", "interop", "_persistence"},
    {"cli", "__init__", "__main__"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}

# Known violations, none left (the PTX tool left the package for benchmarks/cuda_codegen.py;
# nn/_cuda.py takes what it needs from kernels.cuda's public names). An entry that no longer
# violates fails the test below, so the list only shrinks.
PENDING: set[str] = set()


def unit(parts: tuple[str, ...]) -> str:
    """The layer unit of a module: its top-level package or root module under tsrnn."""
    return parts[1] if len(parts) > 1 else "__init__"


def imports(source: str, parts: tuple[str, ...]):
    """``(line, imported module parts)`` for every tsrnn import in ``source``, at any depth
    (imports inside functions count)."""
    package = parts[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = (*base, *(node.module.split(".") if node.module else ()))
            else:
                module = tuple((node.module or "").split("."))
            if module[0] != "tsrnn":
                continue
            for alias in node.names:
                sub = ROOT.parent.joinpath(*module, alias.name)
                is_module = sub.with_suffix(".py").exists() or (sub / "__init__.py").exists()
                yield node.lineno, (*module, alias.name) if is_module else module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tsrnn":
                    yield node.lineno, tuple(alias.name.split("."))


def violations(where: str, source: str, parts: tuple[str, ...]) -> tuple[list[str], list[str]]:
    private, upward = [], []
    me = unit(parts)
    for line, target in imports(source, parts):
        other = unit(target)
        if other == me:
            continue
        if any(p.startswith("_") for p in target[2:]):
            private.append(f"{where}:{line} imports {'.'.join(target)}")
        if LAYER[other] > LAYER[me]:
            upward.append(f"{where}:{line} ({me}) imports {'.'.join(target)} ({other})")
    return private, upward


@functools.cache
def scan() -> dict[str, tuple[list[str], list[str]]]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        where = "/".join(parts) + ".py"
        out[where] = violations(where, path.read_text(), parts)
    return out


def test_every_module_is_in_a_layer():
    units = {unit(tuple(w[:-3].split("/"))) for w in scan()}
    assert units <= set(LAYER), f"place these in LAYERS: {sorted(units - set(LAYER))}"


def test_no_module_imports_another_packages_private_module():
    found = [v for w, (private, _) in scan().items() if w not in PENDING for v in private]
    assert not found, "export these from the package's __init__ and import them from there:\n" + "\n".join(
        found
    )


def test_imports_point_down_the_layers():
    found = [v for w, (_, upward) in scan().items() if w not in PENDING for v in upward]
    assert not found, "imports running up the layers:\n" + "\n".join(found)


def test_pending_entries_still_violate():
    result = scan()
    stale = [w for w in PENDING if w not in result or result[w] == ([], [])]
    assert not stale, f"fixed, so remove from PENDING: {stale}"


@pytest.mark.parametrize(
    ("source", "private", "upward"),
    [
        ("from ..kernels.cuda._layer import forward\n", 1, 0),
        ("def f():\n    from ..estimators import BaseRecurrent\n", 0, 1),
        ("from ..estimators import _base\n", 1, 1),
        ("import tsrnn.forecasting._base\n", 1, 1),
        (
            "from ..kernels import get_backend\nfrom .._layout import CELLS\nfrom ._ops import NumpyOps\n",
            0,
            0,
        ),
    ],
)
def test_the_scan_finds_what_it_should(source, private, upward):
    found = violations("probe", source, ("tsrnn", "nn", "_probe"))
    assert (len(found[0]), len(found[1])) == (private, upward)
