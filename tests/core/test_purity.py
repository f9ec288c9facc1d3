"""The core stays pure: no clock, randomness, I/O, JSON or floats (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import sandex.core

FORBIDDEN_MODULES = {"time", "random", "uuid", "os", "asyncio", "socket", "sqlite3", "json",
                     "datetime", "threading", "secrets", "pathlib", "io"}
CORE = Path(sandex.core.__file__).parent


def test_core_imports_nothing_impure_and_uses_no_float():
    offenders = []
    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            elif isinstance(node, ast.Name) and node.id == "float":
                names = ["float"]
            elif isinstance(node, ast.Constant) and isinstance(node.value, float):
                names = ["float literal"]
            else:
                continue
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names
                          if n in FORBIDDEN_MODULES or n.startswith("float")]
    assert offenders == []
