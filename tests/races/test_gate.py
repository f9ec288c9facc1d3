"""The gate with real clients through the pytest plugin's ``sandex`` fixture (docs/testing.md,
"Races"): held order requests hang, inject goes past, release order is journal order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import ccxt
import pytest

pytestmark = pytest.mark.sandex(clock="frozen", start="2024-01-01T00:00:00Z")

BTC = "BTC/USD"
TAKER = {"product_id": "BTC-USD", "side": "buy", "type": "market", "size": "0.01"}


def test_a_cancel_held_at_the_gate_loses_to_an_injected_fill(sandex):
    trader = sandex.ccxt()
    order = trader.create_order(BTC, "limit", "sell", 0.01, 60000)
    sandex.gate.close({"type": "cancel", "order_id": order["id"]})
    with ThreadPoolExecutor(1) as pool:
        cancel = pool.submit(trader.cancel_order, order["id"], BTC)
        [held] = sandex.gate.wait(1)
        assert (held["method"], held["order_id"], held["key"]) == (
            "DELETE", order["id"], sandex.credentials.key)
        taker = sandex.inject(sandex.counterparty, {"place": TAKER})
        assert taker["status"] == "pending" and not cancel.done()
        assert sandex.gate.release(all=True)["released"] == [held["id"]]
        with pytest.raises(ccxt.BaseError, match="Order already done"):
            cancel.result(10)
    assert trader.fetch_order(order["id"], BTC)["status"] == "closed"
