"""The scenario's ``[clock]`` table: its checks, and which clock signatures are checked against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandex.api.clocks import AuthWindow
from sandex.node import ClockMode
from sandex.scenario import ClockConfig, ScenarioError, ScenarioFile
from tests.api.rest.harness import InProcessVenue
from tests.support.rest_kit import ALICE, SCENARIO

START_S = 1_704_067_200  # 2024-01-01T00:00:00Z


def test_a_clock_table_is_read_with_its_defaults() -> None:
    assert ScenarioFile("s.toml", {}).clock() == ClockConfig()
    table = {"mode": "virtual", "start": "2024-01-01T00:00:00Z", "rate": 10,
             "auth_window": "venue"}
    assert ScenarioFile("s.toml", {"clock": table}).clock() == ClockConfig(
        ClockMode.VIRTUAL, START_S * 1_000_000, 10.0, AuthWindow.VENUE)


@pytest.mark.parametrize("table, message", [
    ({"mode": "sundial"}, "'sundial' is not a valid ClockMode"),
    ({"mode": "virtual", "start": "yesterday"},
     "start 'yesterday' is not an ISO 8601 time after 1970"),
    ({"mode": "virtual", "rate": -2}, "rate -2 must be between 0 (frozen) and 1000000"),
    ({"rate": 2}, "start and rate need mode = \"virtual\""),
    ({"auth_window": "sometimes"}, "'sometimes' is not a valid AuthWindow"),
    ({"tick": 1}, "unknown field(s) tick"),
])
def test_a_bad_clock_table_names_the_file_and_the_field(table: dict[str, Any],
                                                        message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        ScenarioFile("s.toml", {"clock": table}).clock()
    assert str(raised.value) == f"s.toml: [clock]: {message}"


def venue(tmp_path: Path, window: str) -> InProcessVenue:
    path = tmp_path / "scenario.toml"
    path.write_text(f'{SCENARIO.read_text()}\n[clock]\nmode = "virtual"\n'
                    f'start = "2024-01-01T00:00:00Z"\nrate = 0\nauth_window = "{window}"\n')
    return InProcessVenue(path)


@pytest.mark.parametrize("window, wall_ok, venue_ok", [
    ("wall", True, False), ("venue", False, True), ("off", True, True)])
def test_signatures_are_checked_against_the_auth_window_clock(
        tmp_path: Path, window: str, wall_ok: bool, venue_ok: bool) -> None:
    server = venue(tmp_path, window)
    try:
        client = server.client(ALICE)
        assert client.get("/time").json()["epoch"] == pytest.approx(START_S, abs=0.001)
        signed_wall = client.get("/accounts")  # the client's real clock
        signed_venue = client.get("/accounts", timestamp=str(START_S))
        expected = {True: 200, False: 401}
        assert (signed_wall.status, signed_venue.status) == (expected[wall_ok],
                                                            expected[venue_ok])
    finally:
        server.close()
