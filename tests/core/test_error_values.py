"""The core's hot C functions answer an error by a value their callers test without a call
(the twenty-fifth pass): each is declared ``int ... except -1`` (0, or -1 on an error) where
a ``void ... except *`` made every compiled call site call ``PyErr_Occurred()`` after it.
An error raised inside one still reaches the caller unchanged, through every C frame
between (both builds)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sandex.core.records import unlink
from tests.support.venue_kit import two_traders

CORE = Path(__file__).resolve().parents[2] / "sandex" / "core"

# the functions this pass changed, by module: every one ``int ... except -1``
_CHANGED = {
    "book": ("add", "remove", "drop_level", "forget", "_sift_up", "_push", "_pop"),
    "engine": ("_place", "_refuse", "_place_market", "_place_checked", "_accept", "_start",
               "_trigger_stops", "_cancel_order", "_cancel_resting"),
    "lifecycle": ("rest", "cancel", "close", "retire"),
    "matching": ("take", "_close_filled", "_finish_taker", "_trade", "_settle_wide",
                 "_settle", "shrink"),
    "records": ("link", "unlink", "accept_tally"),
}


def _declarations(module: str) -> dict[str, str]:
    """Each ``cdef``/``cpdef`` function's declaration in ``module``'s ``.pxd``, one line."""
    text = (CORE / f"{module}.pxd").read_text()
    joined = re.sub(r",\s*\n\s*", ", ", text)  # continuation lines joined
    found = {}
    for line in joined.splitlines():
        m = re.match(r"\s*c(?:p)?def (?:inline )?[\w ]+?\*?\s*(\w+)\(.*\)(.*)$", line)
        if m:
            found[m.group(1)] = line.strip()
    return found


def test_no_core_function_makes_its_callers_call_pyerr_occurred() -> None:
    for pxd in sorted(CORE.glob("*.pxd")):
        assert "except *" not in pxd.read_text(), pxd.name
    for module, names in _CHANGED.items():
        declared = _declarations(module)
        for name in names:
            line = declared[name]
            assert re.match(r"c(?:p)?def int \w+\(", line), line
            assert line.endswith("except -1"), line


def test_an_error_crosses_the_c_frames_unchanged() -> None:
    """A resting order taken off its profile's live list behind the engine's back: its
    cancel's ``unlink`` (through ``_cancel_order``, ``_cancel_resting``, ``close`` and
    ``retire``, all C calls when compiled) raises the ``KeyError`` it always raised."""
    v = two_traders()
    order_id, _ = v.buy("alice", "100.00", "1")
    engine = v.engine
    order = engine._live[order_id]
    profile = engine.profiles["alice"]
    unlink(profile, order)
    with pytest.raises(KeyError) as raised:
        unlink(profile, order)  # the Python entry point: the same error
    assert raised.value.args == (order_id,)
    with pytest.raises(KeyError) as raised:
        v.cancel("alice", order_id)
    assert raised.value.args == (order_id,)
