"""Builds the compiled core: the modules of ``sandex.native.COMPILED``, compiled with
Cython from the same ``.py`` files that run uncompiled (their ``.pxd`` files give the types).

Everything else is in ``pyproject.toml``. Without Cython or a working C compiler the build
says why and goes on: the package installs and runs the pure-Python modules.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
# sandex/native.py is the one list of the compiled modules (read, not imported)
_NATIVE = (HERE / "sandex" / "native.py").read_text()
COMPILED: tuple[str, ...] = ast.literal_eval(
    _NATIVE.split("COMPILED = ", 1)[1].split(")", 1)[0] + ")")


def _say(text: str) -> None:
    print(f"sandex: {text}", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """``build_ext`` that never fails the install: a failed compile leaves pure Python. The
    modules compile in parallel, one per CPU, unless ``--parallel`` says otherwise."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers: run uncompiled
            _say(f"the compiled core was not built ({exc}); sandex runs as pure Python")

    def build_extension(self, ext: object) -> None:
        try:
            super().build_extension(ext)  # type: ignore[arg-type]
        except Exception as exc:
            name = getattr(ext, "name", ext)
            runs = ("the journal's rows are read with Python's sqlite3"
                    if name == "sandex.journal.rows" else "sandex runs as pure Python")
            _say(f"could not compile {name} ({exc}); {runs}")


def _journal_rows() -> list[object]:
    """``sandex.journal.rows``, the replay's reader of the journal's rows in C, where SQLite's
    header is (Debian's ``libsqlite3-dev``); else the journal reads with ``sqlite3``."""
    from setuptools import Extension
    include = os.environ.get("SQLITE3_INCLUDE", "/usr/include")
    if not (Path(include) / "sqlite3.h").exists():
        _say(f"no sqlite3.h in {include} (libsqlite3-dev): the journal's rows are read "
             "with Python's sqlite3")
        return []
    from Cython.Build import cythonize
    try:
        return list(cythonize([Extension("sandex.journal.rows", ["sandex/journal/rows.pyx"],
                                         include_dirs=[include], libraries=["sqlite3"])],
                              language_level=3, quiet=True))
    except Exception as exc:  # Cython refused it: the rest still builds
        _say(f"sandex/journal/rows.pyx did not compile ({exc}): the journal's rows are read "
             "with Python's sqlite3")
        return []


def extensions() -> list[object]:
    try:
        from Cython.Build import cythonize
    except ImportError:
        _say("Cython is not installed: the core is not compiled, sandex runs as pure Python")
        return []
    modules = [f"sandex/{name.replace('.', '/')}.py" for name in COMPILED]
    return list(cythonize(
        modules, language_level=3, quiet=True,
        compiler_directives={"binding": True, "annotation_typing": False})) + _journal_rows()


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
