"""The types a replay's hot code tests events and commands against are module globals of
their own (compiled: C globals in the ``.pxd``, so a test is a pointer compare, not a module
dict lookup): each must be the type it stands for. Compiled, those globals are not Python
attributes, so the assignments are read from the source; uncompiled, the values too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sandex.core import (
    Activated,
    CancelOrder,
    Done,
    DoneReason,
    Duplicate,
    LedgerEntry,
    Matched,
    Opened,
    PlaceOrder,
    Received,
    Rejected,
    Side,
)
from sandex.node import applying
from sandex.views import fills, market

EXPECTED = {
    applying: {"_K_RECEIVED": "Received", "_K_DONE": "Done", "_K_OPENED": "Opened",
               "_K_MATCHED": "Matched", "_K_LEDGER_ENTRY": "LedgerEntry",
               "_K_ACTIVATED": "Activated", "_K_PLACE": "PlaceOrder",
               "_K_CANCEL": "CancelOrder", "_K_REJECTED": "Rejected",
               "_K_DUPLICATE": "Duplicate", "_K_CANCELED": "DoneReason.CANCELED"},
    fills: {"_FILL_TYPE": "Fill", "_BUY": "BUY", "_SELL": "SELL"},
    market: {"_TRADE_TYPE": "Trade"},
}
VALUES = {
    "_K_RECEIVED": Received, "_K_DONE": Done, "_K_OPENED": Opened, "_K_MATCHED": Matched,
    "_K_LEDGER_ENTRY": LedgerEntry, "_K_ACTIVATED": Activated, "_K_PLACE": PlaceOrder,
    "_K_CANCEL": CancelOrder, "_K_REJECTED": Rejected, "_K_DUPLICATE": Duplicate,
    "_K_CANCELED": DoneReason.CANCELED, "_FILL_TYPE": fills.Fill, "_BUY": Side.BUY,
    "_SELL": Side.SELL, "_TRADE_TYPE": market.Trade,
}


def _assigned(module: object) -> dict[str, str]:
    """Each module-level name assigned a plain name or attribute, and its source."""
    path = Path(module.__file__)  # type: ignore[attr-defined]
    source = path.with_name(path.name.split(".")[0] + ".py")  # compiled: the .so's .py
    found: dict[str, str] = {}
    for node in ast.parse(source.read_text()).body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            values = (node.value.elts if isinstance(node.value, ast.Tuple)
                      else [node.value] * len(names))
            for name, value in zip(names, values, strict=True):
                if isinstance(name, ast.Name):
                    found[name.id] = ast.unparse(value)
    return found


@pytest.mark.parametrize("module", list(EXPECTED), ids=lambda m: m.__name__)
def test_each_global_is_assigned_its_type(module: object) -> None:
    assigned = _assigned(module)
    for name, source in EXPECTED[module].items():  # type: ignore[index]
        assert assigned.get(name) == source, name


def test_each_global_is_its_type_uncompiled() -> None:
    for module, names in EXPECTED.items():
        if not module.__file__.endswith(".py"):  # type: ignore[attr-defined]
            continue  # compiled: C globals, not attributes
        for name in names:
            assert getattr(module, name) is VALUES[name], name
