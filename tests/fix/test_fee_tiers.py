"""An order placed over FIX is charged its profile's volume tier, as one placed over REST."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from tests.support.fix_kit import RawFix, new_id, start_fix_server
from tests.support.rest_kit import ALICE, BOB, SCENARIO, RawClient

TIERS = """
[[fee_tiers]]
usd_volume = "0"
maker_fee_rate = "0.003"
taker_fee_rate = "0.005"
[[fee_tiers]]
usd_volume = "1000"
maker_fee_rate = "0.001"
taker_fee_rate = "0.002"
"""


def fix_buy(client: RawFix, size: str) -> None:
    client.send("D", [(11, new_id()), (55, "BTC-USD"), (54, "1"), (40, "2"), (44, "200.00"),
                      (38, size), (59, "1")])


def fees(bob: RawClient, count: int) -> list[Decimal]:
    """Bob's fill fees, newest first, once there are ``count`` of them."""
    deadline = time.monotonic() + 10
    while True:
        reply = bob.get("/fills?product_id=BTC-USD")
        assert reply.status == 200, reply.body
        fills = reply.json()
        if len(fills) >= count or time.monotonic() > deadline:
            return [Decimal(fill["fee"]) for fill in fills]
        time.sleep(0.05)


def test_fix_orders_are_charged_the_tier_of_the_volume_so_far(tmp_path: Path) -> None:
    scenario = tmp_path / "tiers.toml"
    scenario.write_text(SCENARIO.read_text() + TIERS)
    server, port = start_fix_server(scenario=scenario)
    try:
        alice, bob = RawClient(server.port, ALICE), RawClient(server.port, BOB)
        assert alice.post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                      "price": "200.00", "size": "10"}).status == 200
        client = RawFix(port)
        client.logon(BOB)
        fix_buy(client, "1")  # no volume yet: the first tier's taker rate, not the venue's
        assert fees(bob, 1) == [Decimal("1.0")]  # 200 x 0.005
        fix_buy(client, "5")  # $200 so far: still the first tier
        assert fees(bob, 2) == [Decimal("5.0"), Decimal("1.0")]  # 1,000 x 0.005
        fix_buy(client, "1")  # $1,200 so far: the second tier
        assert fees(bob, 3) == [Decimal("0.4"), Decimal("5.0"), Decimal("1.0")]  # 200 x 0.002
        assert bob.get("/fees").json()["taker_fee_rate"] == "0.0020"
        client.close()
    finally:
        server.stop()
