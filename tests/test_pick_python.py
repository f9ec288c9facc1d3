"""``scripts/pick_python.py``: the Python ``make`` builds the venvs with."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pick_python.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pick_python", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PICK = _script()
PYENV = PICK.Build("/opt/pyenv/3.11.7/bin/python3.11", "3.11", "cpython", True, True, "3.11.7")
DISTRO = PICK.Build("/usr/bin/python3.11", "3.11", "cpython", False, True, "3.11.2")


def _picked(monkeypatch: pytest.MonkeyPatch,
            probes: Mapping[str, tuple[object, ...] | None], found: list[str]) -> str:
    pick = _script()
    monkeypatch.setattr(pick, "probe", probes.get)
    monkeypatch.setattr(pick, "candidates", lambda version: found)
    return str(pick.pick())


def test_a_shared_libpython_gives_way_to_a_linked_in_one_of_its_version(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    probes = {"python3": PYENV, "/shims/python3.11": PYENV, "/usr/bin/python3.11": DISTRO}
    assert _picked(monkeypatch, probes, ["/shims/python3.11", "/usr/bin/python3.11"]) \
        == "/usr/bin/python3.11"
    assert "libpython linked in" in capsys.readouterr().err


@pytest.mark.parametrize("probes, found", [
    ({"python3": DISTRO}, ["/usr/bin/python3.11"]),  # linked in already
    ({"python3": PYENV}, ["/shims/python3.11"]),  # nothing else
    ({"python3": PYENV, "/usr/bin/python3.11": DISTRO._replace(ok=False)},
     ["/usr/bin/python3.11"]),  # no venv or no headers there
    ({"python3": PYENV, "/usr/bin/python3.11": DISTRO._replace(name="pypy")},
     ["/usr/bin/python3.11"]),  # not CPython
    ({"python3": PYENV._replace(shared=None), "/usr/bin/python3.11": DISTRO},
     ["/usr/bin/python3.11"]),  # cannot tell (no /proc)
    ({"python3": None}, []),  # python3 does not run: make says so itself
])
def test_otherwise_python3(monkeypatch: pytest.MonkeyPatch,
                           probes: Mapping[str, tuple[object, ...] | None],
                           found: list[str]) -> None:
    assert _picked(monkeypatch, probes, found) == "python3"


def test_the_probe_reads_this_python() -> None:
    pick = _script()
    seen = pick.probe(sys.executable)
    assert seen is not None
    assert seen.version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert seen.name == sys.implementation.name
    assert seen.full == sys.version.split()[0]
    assert pick.probe("/nonexistent/python") is None


def test_the_script_prints_one_runnable_python() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert len(out) == 1
    version = subprocess.run([out[0], "-c", "import sys; print(sys.version_info[0])"],
                             capture_output=True, text=True, check=True, timeout=60).stdout
    assert version.strip() == "3"
