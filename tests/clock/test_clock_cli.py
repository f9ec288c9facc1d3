"""``sandex clock`` offline (a stopped data dir) and online (its running server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandex.timefmt import parse_iso
from tests.admin.test_admin_cli import data_dir, sandex
from tests.support.rest_kit import start_server

__all__ = ["data_dir"]  # the fixture, shared with the admin CLI tests

DAY_US = 86_400_000_000


def at(clock: dict[str, object]) -> int:
    parsed = parse_iso(str(clock["now"]))
    assert parsed is not None
    return parsed


def test_clock_verbs_offline_then_online(capsys: pytest.CaptureFixture[str],
                                         data_dir: Path) -> None:
    d = ("--data-dir", str(data_dir))
    code, clock, _ = sandex(capsys, "clock", *d)
    assert code == 0 and (clock["mode"], clock["frozen"]) == ("wall", False)
    code, _, err = sandex(capsys, "clock", "advance", "90s", *d)
    assert code == 2 and "freeze it or set a rate first" in err
    code, frozen, _ = sandex(capsys, "clock", "freeze", *d)
    assert code == 0 and (frozen["mode"], frozen["rate"], frozen["frozen"]) == (
        "virtual", 0.0, True)
    code, moved, _ = sandex(capsys, "clock", "advance", "1h30m", *d)
    assert code == 0 and at(moved) == at(frozen) + 5_400_000_000
    code, _, err = sandex(capsys, "clock", "advance", *d, "--", "-90s")
    assert (code, err) == (2, "sandex: Clock cannot move backwards (advance by -90s)\n")
    server = start_server(data_dir=data_dir)
    try:
        code, resumed, _ = sandex(capsys, "clock", *d)
        assert code == 0 and resumed["frozen"] and at(resumed) >= at(moved)
        code, later, _ = sandex(capsys, "clock", "advance", "1d", *d)
        assert code == 0 and at(later) == at(resumed) + DAY_US
        code, fast, _ = sandex(capsys, "clock", "rate", "10", *d)
        assert code == 0 and (fast["rate"], fast["frozen"]) == (10.0, False)
        code, _, err = sandex(capsys, "clock", "rate", *d, "--", "-1")
        assert code == 2 and "must be between 0 (frozen) and" in err
    finally:
        server.stop()
