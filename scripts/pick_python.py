"""Print the Python that ``make`` builds sandex's virtual environments with.

``python3`` itself, unless it loads ``libpython`` as a shared library and another CPython of
the same version on this machine has it linked in (and can make a venv and compile the core:
``venv``, ``ensurepip``, ``Python.h``). A shared ``libpython`` built without
``-fno-semantic-interposition`` calls its own functions through the PLT and cannot inline
across its files: on the machine of ``docs/performance.md`` ("The interpreter") the same core
ran 7.5 % more commands/s and the REST path 20 % more requests/s on Debian's CPython 3.11
(linked in, profile-guided) than on a pyenv build of 3.11 (shared, no profile).

``make PYTHON=python3 ...`` (or any path) overrides the choice. The reason goes to stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import NamedTuple

DEFAULT = "python3"
_PROBE = (
    "import importlib.util, os, sys, sysconfig\n"
    "maps = '/proc/self/maps'\n"
    "shared = any('libpython' in line for line in open(maps)) if os.path.exists(maps) else None\n"
    "ok = all(importlib.util.find_spec(m) for m in ('venv', 'ensurepip'))\n"
    "ok = ok and os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))\n"
    "print(os.path.realpath(sys.executable), '%d.%d' % sys.version_info[:2],\n"
    "      sys.implementation.name, shared, ok, sys.version.split()[0])\n"
)


class Build(NamedTuple):
    """What a Python is (``probe``)."""

    path: str  # its executable's real path
    version: str  # X.Y
    name: str  # sys.implementation.name
    shared: bool | None  # libpython a shared library in it (None: cannot tell)
    ok: bool  # can make a venv and build the core
    full: str  # its full version


def probe(python: str) -> Build | None:
    """What ``python`` is; ``None`` if it does not run."""
    try:
        out = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True,
                             timeout=30, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    if len(out) != 6:
        return None
    path, version, name, shared, ok, full = out
    return Build(path, version, name, {"True": True, "False": False}.get(shared), ok == "True",
                 full)


def candidates(version: str) -> list[str]:
    """Every ``python<version>`` on ``PATH`` and in the usual system directories, in order."""
    dirs = [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin", "/usr/local/bin"]
    found = []
    for directory in dirs:
        path = shutil.which(f"python{version}", path=directory) if directory else None
        if path and path not in found:
            found.append(path)
    return found


def pick() -> str:
    first = probe(DEFAULT)
    if first is None or first.name != "cpython" or first.shared is not True:
        return DEFAULT  # not CPython, libpython linked in already, or cannot tell
    for candidate in candidates(first.version):
        other = probe(candidate)
        if other is not None and other.path != first.path and other.name == "cpython" \
                and other.shared is False and other.ok:
            print(f"sandex: using {other.path} (CPython {other.full}, libpython linked in) "
                  f"rather than python3 ({first.path}, CPython {first.full}, libpython "
                  f"shared): the same code runs faster on it (docs/performance.md, "
                  f"\"The interpreter\"); "
                  f"make PYTHON=python3 to use python3", file=sys.stderr)
            return other.path
    return DEFAULT


if __name__ == "__main__":
    print(pick())
