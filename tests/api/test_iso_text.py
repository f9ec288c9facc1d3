"""``sandex.timefmt.iso``'s fraction from a table of three digits (REST's eighteenth pass):
the same text as the f-string's ``{micro:06d}`` it replaced, on edge times and at random."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sandex.timefmt import iso, parse_iso

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def old_iso(us: int) -> str:
    """The formatting before the table (main at 6cb669f), without its memo of the second."""
    second, micro = divmod(us, 1_000_000)
    d = _EPOCH + timedelta(seconds=second)
    return (f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:"
            f"{d.minute:02d}:{d.second:02d}.{micro:06d}Z")


def edge_times() -> list[int]:
    seconds = [0, 1, 59, 60, 86_399, 86_400, -1, -86_400,
               951_782_400,  # 2000-02-29
               1_415_270_087,  # 2014-11-06T10:34:47
               1_765_000_000, 4_102_444_799,  # 2099-12-31T23:59:59
               253_402_300_799,  # 9999-12-31T23:59:59
               -62_135_596_800]  # 0001-01-01
    micros = [0, 1, 9, 10, 99, 100, 999, 1_000, 1_001, 9_999, 10_000, 99_999, 100_000,
              123_456, 500_000, 999_000, 999_001, 999_998, 999_999]
    return [s * 1_000_000 + m for s in seconds for m in micros]


def test_edge_times_same_text() -> None:
    for us in edge_times():
        assert iso(us) == old_iso(us), us


def test_edge_times_in_turn_across_seconds() -> None:
    """The memo of the second's text: times in and out of order, crossing seconds."""
    times = edge_times()
    for us in times + times[::-1] + sorted(times):
        assert iso(us) == old_iso(us), us


def test_random_times_same_text_and_round_trip() -> None:
    rng = random.Random(18)
    for _ in range(20_000):
        us = rng.randrange(-62_135_596_800_000_000, 253_402_300_799_999_999)
        text = iso(us)
        assert text == old_iso(us), us
        assert len(text) >= 27 and text.endswith("Z") and text[-8] == "."
        assert parse_iso(text) == us


def test_consecutive_micros() -> None:
    base = 1_765_000_000_999_000
    for us in range(base - 2_000, base + 2_000):
        assert iso(us) == old_iso(us), us
