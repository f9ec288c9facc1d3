"""Whether the core runs compiled, and the switch that forces its pure-Python modules.

``setup.py`` compiles the modules of ``COMPILED`` with Cython (their ``.pxd`` files give the
types) when the machine has a C compiler; the same ``.py`` files run uncompiled otherwise.
The pure-Python modules are used instead of built extensions when:

* ``SANDEX_PURE_PYTHON=1`` is set (the twin tests and CI run the core both ways), or
* a module's ``.py`` is newer than its extension (a stale build: never run old code).

``sandex.core`` imports this module first, so the choice is made before any of them is
imported. It uses only the standard library.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PURE_ENV = "SANDEX_PURE_PYTHON"
# the hot model, the hot events' builders (``core.emit``), the matching and settlement
# paths, replayed liquidity and the order checks (``core.validation``: the orders off the
# engine's fast path), in import order (under ``sandex``), then the node's apply path
# (recovery, a standby): the read models it feeds (``views.fills``, ``ledger``, ``market``,
# ``orders``, and ``views.history``: their history lists, which the garbage collector does
# not walk) and ``sandex.node.applying``, then FIX's per-message work: the decoder, the
# framing loop (the market data fan-out, order entry's reports) and the ExecutionReports
# (``codec``, ``reports`` and ``reporter`` have no .pxd: they compile as plain Python, but
# ``codec``'s byte loops are C)
COMPILED = ("core.records", "core.book", "core.stops", "core.product", "core.sink",
            "core.state", "core.holds", "core.emit", "core.lifecycle", "core.matching",
            "core.replay", "core.validation", "core.engine", "views.history", "views.fills",
            "views.ledger", "views.market", "views.orders", "node.applying", "api.fix.codec",
            "api.fix.framing", "api.fix.reports", "api.fix.reporter")
_HERE = Path(__file__).resolve().parent
_PACKAGE = "sandex"


def _extension(name: str) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = _HERE / f"{name.replace('.', '/')}{suffix}"
        if path.exists():
            return path
    return None


def _why_pure() -> str | None:
    """Why the pure-Python modules run (``None``: the compiled ones do)."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return f"{PURE_ENV} is set"
    for name in COMPILED:
        built = _extension(name)
        if built is None:
            return ("the compiled extension is not built (no C compiler or Cython at install; "
                    "`make test` or `pip install -e .` builds it)")
        source = f"{name.replace('.', '/')}.py"
        if (_HERE / source).stat().st_mtime > built.stat().st_mtime:
            return f"sandex/{source} is newer than its build (`make test` rebuilds it)"
    return None


class _SourceOnly:
    """A meta-path finder that loads the compiled modules from their ``.py`` files."""

    names = frozenset(f"{_PACKAGE}.{name}" for name in COMPILED)

    @classmethod
    def find_spec(cls, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in cls.names or not path:
            return None
        loader = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, loader).find_spec(fullname, target)
            if spec is not None:
                return spec
        return None


WHY_PURE = _why_pure()
if WHY_PURE is not None and _SourceOnly not in sys.meta_path:
    sys.meta_path.insert(0, _SourceOnly)


def compiled() -> bool:
    """True when the core's hot modules run as compiled extensions (Python's import system
    prefers an extension to a ``.py`` of the same name; the finder above forces the source)."""
    return WHY_PURE is None


def describe() -> str:
    """One line for the start-up banner: how the core runs."""
    return "compiled (Cython extension)" if WHY_PURE is None else f"pure Python, slower: {WHY_PURE}"
