"""setup.py's flags: a flag the C compiler refuses is dropped and said, never fails the build;
each pass of a profile-guided build gives a module its flags afresh."""

from __future__ import annotations

import importlib.util
import shutil
import sysconfig
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup_py(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """setup.py as a module: neither ``setup()`` nor Cython runs."""
    import setuptools

    monkeypatch.setattr(setuptools, "setup", lambda **kw: None)
    try:
        import Cython.Build
    except ImportError:
        pass
    else:
        monkeypatch.setattr(Cython.Build, "cythonize", lambda *a, **kw: [])
    spec = importlib.util.spec_from_file_location("sandex_setup", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


needs_cc = pytest.mark.skipif(
    shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]) is None,
    reason="no C compiler")


@needs_cc
def test_a_refused_flag_is_dropped_and_said(setup_py: ModuleType,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert setup_py.accepted(["-O2", "-fsandex-no-such-flag"]) == ["-O2"]
    assert "refuses -fsandex-no-such-flag" in capsys.readouterr().err
    assert setup_py.accepted([]) == []


def test_each_pass_gives_a_module_its_flags_afresh(setup_py: ModuleType,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    seen: list[tuple[list[str], list[str]]] = []

    def build_extension(self: Any, ext: Any) -> None:
        seen.append((list(ext.extra_compile_args), list(ext.extra_link_args)))

    monkeypatch.setattr(build_ext, "build_extension", build_extension)
    command = setup_py.OptionalBuildExt(Distribution())
    ext = Extension("sandex.x", ["x.c"], extra_compile_args=["-DX"])
    command.flags = ("-fno-plt",)
    command.stage = (("-fprofile-generate",), ("-fprofile-generate",))
    command.build_extension(ext)
    command.stage = (("-fprofile-use",), ())
    command.build_extension(ext)
    assert seen == [(["-DX", "-fno-plt", "-fprofile-generate"], ["-fprofile-generate"]),
                    (["-DX", "-fno-plt", "-fprofile-use"], [])]


def test_a_module_that_does_not_compile_is_counted(setup_py: ModuleType,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    def build_extension(self: Any, ext: Any) -> None:
        raise RuntimeError("no")

    monkeypatch.setattr(build_ext, "build_extension", build_extension)
    command = setup_py.OptionalBuildExt(Distribution())
    command.build_extension(Extension("sandex.core.book", ["book.c"]))
    assert command.failures == 1
    assert "could not compile sandex.core.book" in capsys.readouterr().err


def test_only_the_modules_that_read_no_bytes_lose_the_stack_protector(
        setup_py: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    seen: dict[str, list[str]] = {}

    def build_extension(self: Any, ext: Any) -> None:
        seen[ext.name] = list(ext.extra_compile_args)

    monkeypatch.setattr(build_ext, "build_extension", build_extension)
    command = setup_py.OptionalBuildExt(Distribution())
    command.flags = ("-O3",)
    command.no_bytes_flags = ("-fno-stack-protector",)
    for name in ("sandex.core.engine", "sandex.views.orders", "sandex.node.applying",
                 "sandex.api.fix.codec", "sandex.journal.rows"):
        command.build_extension(Extension(name, ["x.c"]))
    assert seen == {"sandex.core.engine": ["-fno-stack-protector", "-O3"],
                    "sandex.views.orders": ["-fno-stack-protector", "-O3"],
                    "sandex.node.applying": ["-O3"], "sandex.api.fix.codec": ["-O3"],
                    "sandex.journal.rows": ["-O3"]}


def test_the_core_compiles_without_binding_the_rest_with(setup_py: ModuleType,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("Cython.Build")
    import Cython.Build

    calls: list[tuple[list[str], dict[str, object]]] = []

    def cythonize(modules: list[Any], **kw: Any) -> list[object]:
        if "compiler_directives" in kw:  # the compiled modules' calls, not the journal's rows
            calls.append((list(modules), dict(kw["compiler_directives"])))
        return []

    monkeypatch.setattr(Cython.Build, "cythonize", cythonize)
    setup_py.extensions()
    binding = {module: directives["binding"] for modules, directives in calls
               for module in modules}
    keywords = {module: directives["always_allow_keywords"] for modules, directives in calls
                for module in modules}
    compiled = {f"sandex/{name.replace('.', '/')}.py": name for name in setup_py.COMPILED}
    assert set(compiled) <= set(binding)
    for path, name in compiled.items():
        assert binding[path] is keywords[path] is not name.startswith("core."), name
    # Node.apply is node.applying's function, bound as a method: it needs a cyfunction
    assert binding["sandex/node/applying.py"] is True
