"""The uncompiled side of a twin test: a script run by a fresh interpreter with
``SANDEX_PURE_PYTHON=1``, its JSON output read back, to compare with the compiled side's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sandex import native

ROOT = Path(__file__).resolve().parents[2]


def pure_python_side(script: str, timeout: float) -> Any:
    """What ``script`` prints (one JSON document), run uncompiled from the repository's root."""
    env = {**os.environ, native.PURE_ENV: "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
