"""Run by tests/testing/test_plugin.py: a failing test's report shows the venue's log and the
REST requests it had refused."""

import contextlib

import ccxt


def test_a_bot_that_fails(sandex):
    sandex.ccxt().create_order("BTC/USD", "limit", "buy", 0.01, 1234)
    with contextlib.suppress(ccxt.InsufficientFunds):
        sandex.ccxt().create_order("BTC/USD", "limit", "buy", 1000, 1234)
    assert sandex.ccxt().fetch_open_orders("BTC/USD") == []


def test_a_bot_that_passes(sandex):
    sandex.ccxt().fetch_balance()
