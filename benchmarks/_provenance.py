"""The first line of a benchmark's output: the machine, the Python and the commit it ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_header(details: str) -> str:
    """``"Machine: x86_64, 2 cores, Python 3.11.7; commit abc1234; <details>"``."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"commit {commit or '?'}; {details}"
    )
