"""``wide.pxd``'s ``event_int`` (an event's sequence, trade id or entry id as a Python int,
from a ring of kept ints) against its twin (``wide.event_int``: the int itself): the same
value and type at every edge, and an int the caller still holds is never rewritten, however
many values follow (the ring reuses an int only once nothing but the ring holds it). The
inline body is ``cdef``: a probe module that cimports it is compiled here (compiled core and
a C compiler only); the engine's events are checked by the twin and kept-list tests."""

from __future__ import annotations

import random
from types import ModuleType

import pytest

from sandex.core import engine as engine_module
from sandex.core import wide
from tests.support.probe_kit import compile_probe

COMPILED = engine_module.__file__ is not None and engine_module.__file__.endswith(
    (".so", ".pyd"))
RING = 128  # SANDEX_KEPT_INTS

PROBE = """\
# cython: language_level=3
from sandex.core.wide cimport event_int


def made(long long v):
    return event_int(v)
"""

EDGES = [-(2**63), -(2**40), -(2**30), -257, -6, -5, -1, 0, 1, 255, 256, 257, 258,
         2**30 - 2, 2**30 - 1, 2**30, 2**30 + 1, 2**53, 2**60 - 1, 2**60, 2**63 - 1]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ModuleType | None:
    """The compiled probe of ``event_int``, or ``None`` uncompiled (the twin only)."""
    if not COMPILED:
        return None
    return compile_probe(tmp_path_factory, "sandex_event_int_probe", PROBE)


def _makers(probe: ModuleType | None) -> list[object]:
    return [wide.event_int] + ([probe.made] if probe is not None else [])


def test_the_edges(probe: ModuleType | None) -> None:
    for make in _makers(probe):
        for _ in range(3):  # through the ring more than once, each int dropped
            for v in EDGES * (RING // 8):
                got = make(v)  # type: ignore[operator]
                assert type(got) is int and got == v, (make, v)
                assert str(got) == str(v) and hash(got) == hash(v)
                del got


def test_a_held_int_is_never_rewritten(probe: ModuleType | None) -> None:
    rng = random.Random(5)
    for make in _makers(probe):
        held: list[tuple[int, int]] = []
        for i in range(20 * RING):
            v = rng.choice((rng.randrange(257, 2**30), rng.randrange(-5, 257),
                            rng.randrange(2**30, 2**62), 257 + i))
            got = make(v)  # type: ignore[operator]
            assert got == v
            if rng.random() < 0.3:  # some kept (as an event a caller holds), the rest dropped
                held.append((got, v))
            if rng.random() < 0.05 and held:  # and some of those dropped later
                del held[rng.randrange(len(held))]
            del got
        assert all(got == v for got, v in held)
        # after the ring has gone round many times over them
        assert all(int(str(got)) == v for got, v in held)


def test_a_rewritten_int_is_a_new_value_each_time(probe: ModuleType | None) -> None:
    if probe is None:
        pytest.skip("the compiled ring only")
    ids = set()
    for v in range(1000, 1000 + 4 * RING):
        got = probe.made(v)
        assert got == v
        ids.add(id(got))
        del got
    assert len(ids) <= RING + 1  # each dropped int reused: at most the ring's ints
    kept = [probe.made(v) for v in range(5000, 5000 + 4 * RING)]
    assert kept == list(range(5000, 5000 + 4 * RING))
    assert len({id(k) for k in kept}) == len(kept)  # every held one its own int
