"""How a test's starting state is worked out (no server): scenario sources, the marker's
clock rewrite, the keys, and refusals that name what is wrong."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandex.cli import main
from sandex.testing.setup import (
    TESTING_SCENARIO,
    SetupError,
    default_setup,
    resolve,
)
from sandex.testing.venue import _duration


def clock_of(text: str) -> dict[str, object]:
    return dict(tomllib.loads(text).get("clock", {}))


def test_the_default_is_the_packaged_testing_scenario_seeded() -> None:
    setup = default_setup()
    assert (setup.text, setup.seed) == (TESTING_SCENARIO.read_text(), 1)
    trader, counterparty = setup.keys()
    assert trader.profile_id != counterparty.profile_id
    assert resolve(None) == setup and resolve(str(TESTING_SCENARIO)) == setup


def test_a_path_toml_text_and_a_dict_give_the_same_setup(tmp_path: Path) -> None:
    text = '[[products]]\nid = "SOL-USD"\n'
    (tmp_path / "s.toml").write_text(text)
    from_text = resolve(text)
    assert resolve("s.toml", root=tmp_path) == resolve(tmp_path / "s.toml") == from_text
    assert clock_of(resolve({"products": [{"id": "SOL-USD"}]}).text) == {}


def test_the_marker_rewrites_only_the_clock_table() -> None:
    frozen = resolve(None, clock="frozen", start="2024-01-01T00:00:00Z", seed=7)
    assert frozen.seed == 7
    assert clock_of(frozen.text) == {"mode": "virtual", "rate": 0, "auth_window": "wall",
                                     "start": "2024-01-01T00:00:00.000000Z"}
    same = resolve(None, clock="frozen", start=datetime(2024, 1, 1, tzinfo=UTC), seed=7)
    assert same == frozen  # one start, one spelling: one server
    assert clock_of(resolve(None, clock="wall").text) == {"mode": "wall",
                                                          "auth_window": "wall"}
    assert clock_of(resolve(None, rate=10).text)["rate"] == 10
    untouched = {k: v for k, v in tomllib.loads(frozen.text).items() if k != "clock"}
    assert untouched == {k: v for k, v in tomllib.loads(TESTING_SCENARIO.read_text()).items()
                         if k != "clock"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"clock": "paused"}, "clock='paused' is not one of frozen, virtual, wall"),
    ({"clock": "wall", "rate": 2}, "start and rate need a virtual clock"),
    ({"clock": "frozen", "rate": 2}, "clock='frozen' with rate=2"),
    ({"start": "new year"}, "start='new year' is not an ISO 8601 time"),
    ({"start": datetime(2024, 1, 1)}, "has no time zone"),
    ({"seed": "7"}, "seed='7' is not an integer"),
    ({"source": "no-such-file.toml"}, "No such file or directory"),
    ({"source": "[venue\n"}, "sandex scenario: "),
])
def test_what_cannot_make_a_venue_says_why(kwargs: dict[str, object], message: str) -> None:
    source = kwargs.pop("source", None)
    with pytest.raises(SetupError) as refused:
        resolve(source, **kwargs)  # type: ignore[arg-type]
    assert message in str(refused.value)


def test_durations_go_to_the_venue_as_text() -> None:
    assert _duration("1h30m") == "1h30m"
    assert _duration(timedelta(seconds=90)) == "90000.000ms"
    assert _duration(1.5) == "1500.000ms"
    assert _duration(timedelta(seconds=-1)) == "-1000.000ms"


def test_the_token_variable_is_for_an_ephemeral_server_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SANDEX_ADMIN_TOKEN", "t0ken")
    assert main(["serve", "--data-dir", str(tmp_path / "data")]) == 2
    assert "SANDEX_ADMIN_TOKEN is for --ephemeral" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
