"""A generated group run and published as a user would (child processes of the CLI), for the tests
and the screenshots of docs/dashboards.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def publish(landing: Path, warehouse: Path, serving: Path) -> Path:
    """``nightly.publish`` in a child process, with the settings of a deployment: the serving file."""
    environment = os.environ | {
        "RECEIVABLES_WAREHOUSE": str(warehouse),
        "RECEIVABLES_SERVING": str(serving),
        "RECEIVABLES_ENTITIES": str(landing / "entities.yml"),
        "RECEIVABLES_LANDING": str(landing),
    }
    subprocess.run(
        [sys.executable, "-c", "from receivables import nightly; nightly.publish(nightly.settings())"],
        check=True,
        env=environment,
        timeout=600,
    )
    return serving
