"""Run by tests/testing/test_plugin.py in a pytester session: starting states other than the
default, from the ``sandex`` marker and the ``sandex_scenario`` fixture. Each differing
setup gets its own venue, and a reset goes back to exactly that setup."""

from datetime import UTC, datetime, timedelta

import pytest

from sandex.testing import VenueError

START = datetime(2024, 1, 1, tzinfo=UTC)
urls = {}

ONE_PRODUCT = """
[venue]
rate_limits = false

[[products]]
id = "SOL-USD"

[[profiles]]
id = "50150000-0000-4000-8000-000000000001"
name = "solo"
balances = { USD = "5000" }

[[profiles.keys]]
key = "50150000000000000000000000000001"
secret = "c29sby1zZWNyZXQ="
passphrase = "solopass"
"""


@pytest.mark.sandex(clock="frozen", start="2024-01-01T00:00:00Z")
def test_a_frozen_start_part_1(sandex):
    urls["frozen"] = sandex.rest_url
    # the scenario's commands are stamped a microsecond apart from its start
    urls["start"] = sandex.clock.now
    assert timedelta(0) < urls["start"] - START < timedelta(milliseconds=1)
    assert sandex.clock.get()["frozen"] is True
    sandex.clock.advance("1d")
    sandex.clock.rate(1000)


@pytest.mark.sandex(clock="frozen", start=START)
def test_a_frozen_start_part_2_is_back_at_its_start_and_frozen(sandex):
    assert sandex.rest_url == urls["frozen"]  # the same setup: the same venue
    assert (sandex.clock.now, sandex.clock.get()["frozen"]) == (urls["start"], True)


def test_the_default_setup_is_another_venue_on_a_running_clock(sandex):
    assert sandex.rest_url != urls["frozen"]
    clock = sandex.clock.get()
    assert (clock["mode"], clock["rate"], clock["frozen"]) == ("virtual", 1.0, False)


@pytest.mark.sandex(seed=7)
def test_a_seeded_venue_hands_out_the_same_ids_after_a_reset(sandex):
    first = sandex.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1000)["id"]
    sandex.reset()
    assert sandex.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1000)["id"] == first


@pytest.mark.sandex(scenario=ONE_PRODUCT)
def test_a_scenario_given_as_toml_text(sandex):
    assert sandex.credentials.key == "50150000000000000000000000000001"
    assert sandex.ccxt().fetch_balance()["total"]["USD"] == 5000
    assert sandex.book("SOL-USD")["sequence"] == 0
    with pytest.raises(VenueError) as missing:
        sandex.book("BTC-USD")
    assert missing.value.status == 404
    with pytest.raises(LookupError, match="two profiles with trading keys"):
        sandex.counterparty  # noqa: B018


class TestADictScenario:
    @pytest.fixture
    def sandex_scenario(self):
        return {"products": [{"id": "ETH-EUR"}],
                "profiles": [{"id": "d1c70000-0000-4000-8000-000000000001",
                              "balances": {"EUR": "10"},
                              "keys": [{"key": "d1c7" * 8, "secret": "ZGljdA==",
                                        "passphrase": "dictpass"}]}],
                "clock": {"mode": "virtual", "rate": 0, "start": "2030-06-01T12:00:00Z"}}

    def test_it_starts_from_the_dict(self, sandex):
        start = datetime(2030, 6, 1, 12, tzinfo=UTC)
        assert timedelta(0) < sandex.clock.now - start < timedelta(milliseconds=1)
        assert sandex.fund("EUR", "5")["balance"] == "15"
