"""``sandex.node.applying._feed`` reads a ``Matched``'s fields once for the three views:
compiled from its slots, uncompiled with one ``astuple``. Both name the same fields, the
struct's first 13 in their order (``_sequence``: not used), so a field added or moved
fails here, not in a wrong read."""

from __future__ import annotations

import ast
from pathlib import Path

from sandex.core import Matched
from sandex.node import applying


def _feed() -> ast.FunctionDef:
    source = Path(applying.__file__).parent / "applying.py"  # compiled: __file__ is the .so
    tree = ast.parse(source.read_text())
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                and n.name == "_feed")


def _assignment(function: ast.FunctionDef, call: str) -> ast.Assign:
    return next(n for n in ast.walk(function) if isinstance(n, ast.Assign)
                and isinstance(n.targets[0], ast.Tuple) and call in ast.dump(n.value))


def test_the_astuple_unpack_names_the_matched_fields_in_order() -> None:
    unpack = _assignment(_feed(), "astuple")
    names = [target.id.lstrip("_")  # type: ignore[attr-defined]
             for target in unpack.targets[0].elts]  # (``_sequence``: not used)
    assert tuple(names) == Matched.__struct_fields__[:len(names)]
    assert ast.unparse(unpack.value) == f"astuple(event)[:{len(names)}]"


def test_the_slot_reads_are_the_astuple_unpack() -> None:
    function = _feed()
    unpack = _assignment(function, "astuple")
    slots = next(n for n in ast.walk(function) if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.Tuple) and "field" in ast.dump(n.value))
    assert ast.dump(slots.targets[0]) == ast.dump(unpack.targets[0])
    assert [ast.unparse(value) for value in slots.value.elts] == [
        f"field(event, _MATCHED[{i}])" for i in range(len(slots.value.elts))]
