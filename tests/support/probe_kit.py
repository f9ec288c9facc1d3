"""A probe module compiled at test time: the way a test reaches a ``.pxd``'s ``cdef inline``
bodies, which no Python code can call (``test_peek.py``, ``test_event_int.py``)."""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def compile_probe(tmp_path_factory: pytest.TempPathFactory, name: str,
                  source: str) -> ModuleType:
    """``source`` (a ``.pyx`` that cimports from ``sandex``) built and imported as ``name``;
    skips the test without a C compiler or Cython."""
    if shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]) is None:
        pytest.skip("no C compiler")
    cython_build = pytest.importorskip("Cython.Build")
    from setuptools import Distribution, Extension  # type: ignore[import-untyped]
    from setuptools.command.build_ext import build_ext  # type: ignore[import-untyped]

    where = tmp_path_factory.mktemp(name)
    (where / f"{name}.pyx").write_text(source)
    extensions = cython_build.cythonize(
        [Extension(name, [str(where / f"{name}.pyx")])],
        include_path=[str(ROOT)], quiet=True, build_dir=str(where))
    command = build_ext(Distribution({"ext_modules": extensions}))
    command.build_lib = command.build_temp = str(where)
    command.ensure_finalized()
    command.run()
    sys.path.insert(0, str(where))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(where))
