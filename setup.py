"""Builds the compiled core: the modules of ``sandex.native.COMPILED``, compiled with
Cython from the same ``.py`` files that run uncompiled (their ``.pxd`` files give the types).

Everything else is in ``pyproject.toml``. Without Cython or a working C compiler the build
says why and goes on: the package installs and runs the pure-Python modules.

The C compiler gets Python's own flags (``sysconfig``'s ``CFLAGS``) and ``EXTRA_CFLAGS``, each
kept only if the compiler accepts it. ``SANDEX_PGO=1`` (``make pgo``) builds profile-guided:
an instrumented build, the committed training run ``bench/pgo_train.py`` on it, then the
build again with its profile; any step that fails leaves the plain build and says why
(``docs/performance.md``, "Build flags and profile-guided optimisation (issue 18)").
"""

from __future__ import annotations

import ast
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
# sandex/native.py is the one list of the compiled modules (read, not imported)
_NATIVE = (HERE / "sandex" / "native.py").read_text()
COMPILED: tuple[str, ...] = ast.literal_eval(
    _NATIVE.split("COMPILED = ", 1)[1].split(")", 1)[0] + ")")


# flags beyond Python's own, each dropped (and said) if the compiler refuses it; more from
# SANDEX_CFLAGS (to measure one: $CFLAGS would replace Python's own). -O3 whatever Python was
# built with (Debian's CPython says -O2: +2.4 % instructions a command). Calls into
# libpython through the GOT, not a PLT stub: 5,080 -> 5,042 instructions a command
EXTRA_CFLAGS = ("-O3", "-fno-plt", "-fno-semantic-interposition", "-fvisibility=hidden")
# Debian's CFLAGS bring -fstack-protector-strong: a canary checked at the return of every
# function with a local array or a local whose address is taken (most of Cython's: the
# arguments' arrays). The modules named here read no bytes from outside the process, only
# Python objects and C integers (the engine, the read models), so they are built without it;
# FIX's codec and framing, the journal's row reader and ``node.applying`` (its scanner parses
# the journal's lines in C) keep it. Build flags' second pass, docs/performance.md
NO_BYTES_READ = ("sandex.core.", "sandex.views.")
NO_BYTES_READ_CFLAGS = ("-fno-stack-protector",)
# ``binding=False`` for the engine's modules: their ``def`` and ``cpdef`` functions are plain
# builtin functions and method descriptors, which CPython 3.11's calls specialise
# (``PRECALL_BUILTIN_O``, ``..._METHOD_DESCRIPTOR_...``), not cyfunctions called through
# vectorcall; and ``always_allow_keywords=False``: a function of one argument (``apply``,
# ``Book.add``) is ``METH_O``, its argument not parsed for keywords (none of its callers names
# it). Nothing of the core is assigned as a method of a Python class (as ``Node.apply =
# applying.apply`` is: ``node.applying`` and the rest keep ``binding=True``)
UNBOUND = ("core.",)
PGO_ENV = "SANDEX_PGO"
PGO_DIR = HERE / "build" / "pgo"  # the instrumented build's counts (.gcda), one per module
PGO_TRAIN = HERE / "bench" / "pgo_train.py"


def _say(text: str) -> None:
    print(f"sandex: {text}", file=sys.stderr)


def accepted(flags: list[str], also: tuple[str, ...] = ()) -> list[str]:
    """The ``flags`` the C compiler accepts (a tiny file compiled with each, ``also`` and
    ``-Werror``); a refused one is dropped and said."""
    if not flags:
        return []
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    kept = []
    for flag in flags:
        try:
            done = subprocess.run([*compiler, "-Werror", "-fPIC", *also, flag, "-c", "-x", "c", "-",
                                   "-o", os.devnull], input=b"int f(int x) { return x + 1; }\n",
                                  capture_output=True, timeout=60)
            ok = done.returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            kept.append(flag)
        else:
            _say(f"the C compiler refuses {flag}: built without it")
    return kept


class OptionalBuildExt(build_ext):
    """``build_ext`` that never fails the install: a failed compile leaves pure Python. The
    modules compile in parallel, one per CPU, unless ``--parallel`` says otherwise."""

    flags: tuple[str, ...] = ()  # EXTRA_CFLAGS the compiler accepts
    no_bytes_flags: tuple[str, ...] = ()  # NO_BYTES_READ_CFLAGS the compiler accepts
    stage: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # PGO's flags: compile, link
    compiler_name: str | None = None
    failures = 0  # modules that did not compile, so far

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        try:
            self.flags = tuple(accepted(
                [*EXTRA_CFLAGS, *shlex.split(os.environ.get("SANDEX_CFLAGS", ""))]))
            self.no_bytes_flags = tuple(accepted(list(NO_BYTES_READ_CFLAGS)))
            if os.environ.get(PGO_ENV, "") not in ("", "0"):
                self.run_pgo()
            else:
                super().run()
        except Exception as exc:  # no compiler, missing headers: run uncompiled
            _say(f"the compiled core was not built ({exc}); sandex runs as pure Python")

    def one_pass(self, stage: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        """``build_ext.run`` with PGO's ``stage`` flags; again from the compiler's name (the
        run before left its compiler object there, which ``run`` cannot take)."""
        self.compiler = self.compiler_name
        self.stage = stage
        super().run()

    def run_pgo(self) -> None:
        """Instrumented build, training run, build with its profile; else the plain build."""
        started = time.monotonic()
        self.compiler_name = self.compiler
        self.force = True  # every module, each pass
        plain = "the plain build instead"
        if not self.inplace:
            _say(f"profile-guided build needs build_ext --inplace (make pgo): {plain}")
            self.one_pass(((), ()))
            return
        shutil.rmtree(PGO_DIR, ignore_errors=True)
        generate = accepted(["-fprofile-generate", "-fprofile-update=single"])
        # -fprofile-use warns of the tiny file's missing profile, as of a module never trained
        use = [*accepted(["-fprofile-use", "-fprofile-partial-training"],
                         also=("-Wno-missing-profile",)), "-Wno-missing-profile"]
        if len(generate) < 2 or "-fprofile-use" not in use:
            _say(f"the C compiler cannot build profile-guided: {plain}")
            self.one_pass(((), ()))
            return
        where = f"-fprofile-dir={PGO_DIR}"
        env = {**os.environ, "PYTHONPATH": str(HERE), "PYTHONHASHSEED": "0"}
        env.pop("SANDEX_PURE_PYTHON", None)
        try:
            self.one_pass(((*generate, where), (*generate, where)))
            done = subprocess.run([sys.executable, str(PGO_TRAIN)], cwd=HERE, env=env,
                                  timeout=900)
            if done.returncode != 0 or not any(PGO_DIR.rglob("*.gcda")):
                raise RuntimeError(f"{PGO_TRAIN.name} exited {done.returncode}")
            trained, failures = time.monotonic(), self.failures
            self.one_pass(((*use, where), ()))
            if self.failures > failures:  # its instrumented build would stay: none of them
                raise RuntimeError("a module did not compile with the profile")
        except Exception as exc:  # never leave the instrumented build in place
            _say(f"the profile-guided build failed ({exc}): {plain}")
            self.one_pass(((), ()))
            return
        _say(f"profile-guided build done in {time.monotonic() - started:.0f} s "
             f"(the last pass {time.monotonic() - trained:.0f} s)")

    def build_extension(self, ext: object) -> None:
        own = getattr(ext, "sandex_args", None)
        if own is None:  # the extension's own arguments, before any pass added to them
            own = (list(getattr(ext, "extra_compile_args", [])),
                   list(getattr(ext, "extra_link_args", [])))
            ext.sandex_args = own  # type: ignore[attr-defined]
        name = str(getattr(ext, "name", ext))
        mine = self.no_bytes_flags if name.startswith(NO_BYTES_READ) else ()
        ext.extra_compile_args = [*own[0], *mine, *self.flags,  # type: ignore[attr-defined]
                                  *self.stage[0]]
        ext.extra_link_args = [*own[1], *self.stage[1]]  # type: ignore[attr-defined]
        try:
            super().build_extension(ext)  # type: ignore[arg-type]
        except Exception as exc:
            self.failures += 1
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
    built: list[object] = []
    for unbound in (True, False):
        modules = [f"sandex/{name.replace('.', '/')}.py" for name in COMPILED
                   if name.startswith(UNBOUND) == unbound]
        built += cythonize(modules, language_level=3, quiet=True,
                           compiler_directives={"binding": not unbound,
                                                "always_allow_keywords": not unbound,
                                                "annotation_typing": False})
    return built + _journal_rows()


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
