"""A generated group run and published as a user would (child processes of the CLI), for the tests
and the screenshots of docs/dashboards.md."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path


def publish(warehouse: Path, serving: Path, as_of: date) -> Path:
    """``receivables publish`` in a child process, as the main command publishes: the serving file."""
    subprocess.run(
        [sys.executable, "-m", "receivables.cli", "publish", "--warehouse", str(warehouse), "--serving",
         str(serving), "--as-of", as_of.isoformat()],
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return serving
