"""The layer table of ``docs/architecture.md``, enforced on every import in ``sandex/``.

Imports point down the table (or stay within a row); the packages of the gateways row never
import each other; and there is no import cycle anywhere. Every import counts, including those
under ``if TYPE_CHECKING:`` and inside functions: a type-only or late import is still a
dependency a reader has to follow.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import sandex

ROOT = Path(sandex.__file__).parent
ARCHITECTURE = ROOT.parent / "docs" / "architecture.md"
SIBLINGS = "gateways"
"""The row of the table whose packages are siblings: none of them imports another."""

def layer_table() -> list[tuple[str, tuple[str, ...]]]:
    """``(layer, modules)`` rows of the "Layers" table, bottom first, as dotted names."""
    section = ARCHITECTURE.read_text().split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        packages = re.findall(r"`(sandex[\w/.]*)`", cells[1]) if len(cells) > 1 else []
        if packages:
            rows.append((cells[0], tuple(p.removesuffix(".py").removesuffix("/__init__")
                                         .replace("/", ".") for p in packages)))
    return rows


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for each sandex module ``name`` imports, wherever the import is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from a import b`` imports the module ``a.b`` if there is one, else names of ``a``.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "sandex" or target.startswith("sandex."):
                yield node.lineno, target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {target for _, target in imports(name, path, known) if target != name}
            for name, path in known.items()}


def layer_of(module: str, rows: list[tuple[str, tuple[str, ...]]]) -> tuple[int, str] | None:
    """The row index and table entry of ``module``: the longest entry that contains it (the
    package's own ``__init__``, ``sandex``, contains only itself)."""
    best: tuple[int, str] | None = None
    for index, (_, entries) in enumerate(rows):
        for entry in entries:
            inside = module.startswith(entry + ".") and entry != "sandex"
            if (module == entry or inside) and (
                    best is None or len(entry) > len(best[1])):
                best = (index, entry)
    return best


def test_the_table_lists_every_module_once():
    rows = layer_table()
    entries = [entry for _, row in rows for entry in row]
    assert len(entries) == len(set(entries)), "a package appears in two rows"
    assert SIBLINGS in [layer for layer, _ in rows]
    known = modules()
    assert [e for e in entries if e not in known] == [], "a table entry names no module"
    assert [m for m in known if layer_of(m, rows) is None] == []


def test_imports_point_down_and_gateways_are_siblings():
    rows = layer_table()
    known = modules()
    wrong = []
    for name, path in known.items():
        own = layer_of(name, rows)
        assert own is not None
        for line, target in imports(name, path, known):
            other = layer_of(target, rows)
            assert other is not None, f"{name} imports {target}, which is in no layer"
            upward = other[0] > own[0]
            cousins = (other[0] == own[0] and rows[own[0]][0] == SIBLINGS
                       and other[1] != own[1])
            if upward or cousins:
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} {name} -> {target} "
                             f"({rows[own[0]][0]} -> {rows[other[0]][0]})")
    assert wrong == []


def test_no_import_cycle():
    edges = graph()
    cycles = [sorted(group) for group in _strongly_connected(edges) if len(group) > 1]
    assert cycles == []


def test_the_checks_see_type_only_and_function_local_imports(tmp_path: Path):
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sandex.node\n"
              "def f():\n    from sandex.core import engine\n")
    path = tmp_path / "probe.py"
    path.write_text(source)
    known = {**modules(), "sandex.probe": path}
    assert sorted(t for _, t in imports("sandex.probe", path, known)) == [
        "sandex.core.engine", "sandex.node"]


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iterative (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups
