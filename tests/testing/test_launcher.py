"""The plugin's launcher knows its own venue: one that finds its port taken by another venue
(another test worker's, which answers on it) does not take that one for its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandex.testing import TESTING_SCENARIO, LocalServer
from sandex.testing.launcher import StartError


def test_a_port_answered_by_another_venue_is_not_taken_for_ready(tmp_path: Path) -> None:
    other = LocalServer.start(TESTING_SCENARIO, 1, tmp_path / "other.log")
    try:  # a second venue spawned on the first one's port: it cannot bind, the first answers
        late = LocalServer._spawn(TESTING_SCENARIO, 1, tmp_path / "late.log", other.port)
        try:
            with pytest.raises(StartError, match="exit status"):
                late._wait_ready()
        finally:
            late.stop()
        assert "address already in use" in (tmp_path / "late.log").read_text()
    finally:
        other.stop()
