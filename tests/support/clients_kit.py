"""Helpers for the end-to-end client-library tests (tests/clients/): real libraries, real server.

Every library is pointed at the test server the way client-compatibility.md documents it, with
client-side throttling off. Prices come from three disjoint bands so that the tests sharing one
module server never trade against each other's leftovers:

* ``bid_price()``  resting bids, always below every crossing price;
* ``cross_price()`` a fresh level for a test that trades (alice sells, bob buys there);
* ``ask_price()``  resting asks, always above every crossing price.

A crossing test leaves nothing on the book (it fills completely or cancels the remainder).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

import cbpro
import ccxt
import coinbasepro
import copra.rest

from tests.support.rest_kit import ALICE, RawClient, Server

T = TypeVar("T")
Creds = tuple[str, str, str]

# What tests/scenario.toml lists: products (Coinbase ids and ccxt symbols) and currencies.
PRODUCT_IDS = frozenset({"BTC-USD", "ETH-USD", "ETH-BTC",
                         "LTC-USD", "SOL-USD", "ADA-USD", "DOT-USD"})
SYMBOLS = frozenset({"BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD", "SOL/USD", "ADA/USD", "DOT/USD"})
CURRENCIES = frozenset({"USD", "BTC", "ETH", "LTC", "SOL", "ADA", "DOT"})

FEE_MAKER = Decimal("0.004")
FEE_TAKER = Decimal("0.006")

# A valid base64 secret that is not the key's: the signature is well formed but wrong.
WRONG_SECRET = base64.b64encode(b"not-the-right-secret-0123456789!").decode()
UNKNOWN_KEY = "0" * 32

_levels = itertools.count(1)


def bid_price() -> Decimal:
    """A fresh resting-bid price (1001..9999): never reached by a crossing test."""
    return Decimal(1000 + next(_levels))


def ask_price() -> Decimal:
    """A fresh resting-ask price (above 500000): never reached by a crossing test."""
    return Decimal(500000 + next(_levels))


def cross_price() -> Decimal:
    """A fresh price for a trade, between the two resting bands (20010..)."""
    return Decimal(20000 + 10 * next(_levels))


def new_oid() -> str:
    return str(uuid.uuid4())


def wrong(creds: Creds, *, secret: str | None = None, passphrase: str | None = None,
          key: str | None = None) -> Creds:
    """``creds`` with one part replaced."""
    k, s, p = creds
    return (key or k, secret or s, passphrase or p)


# -- ccxt ------------------------------------------------------------------------------------------

def make_ccxt(server: Server, creds: Creds = ALICE) -> ccxt.coinbaseexchange:
    key, secret, passphrase = creds
    exchange = ccxt.coinbaseexchange({"apiKey": key, "secret": secret, "password": passphrase,
                                      "enableRateLimit": False, "timeout": 10000})
    exchange.urls["api"] = {"public": server.url, "private": server.url}
    return exchange


# -- cbpro -----------------------------------------------------------------------------------------

def make_cbpro(server: Server, creds: Creds = ALICE) -> cbpro.AuthenticatedClient:
    key, secret, passphrase = creds
    return cbpro.AuthenticatedClient(key, secret, passphrase, api_url=server.url)


def make_cbpro_public(server: Server) -> cbpro.PublicClient:
    return cbpro.PublicClient(api_url=server.url)


# -- coinbasepro -----------------------------------------------------------------------------------

def make_coinbasepro(server: Server, creds: Creds = ALICE) -> coinbasepro.AuthenticatedClient:
    key, secret, passphrase = creds
    return coinbasepro.AuthenticatedClient(key, secret, passphrase, api_url=server.url,
                                           request_timeout=10, public_rate_limit=0,
                                           auth_rate_limit=0)


def make_coinbasepro_public(server: Server) -> coinbasepro.PublicClient:
    return coinbasepro.PublicClient(api_url=server.url, request_timeout=10, rate_limit=0)


# -- copra -----------------------------------------------------------------------------------------

def run_copra(server: Server, creds: Creds | None,
              body: Callable[[copra.rest.Client], Awaitable[T]]) -> T:
    """Run ``body(client)`` on a fresh event loop with a copra client (``creds=None``: public)."""

    async def main() -> T:
        loop = asyncio.get_running_loop()
        if creds is None:
            client = copra.rest.Client(loop, url=server.url)
        else:
            key, secret, passphrase = creds
            client = copra.rest.Client(loop, url=server.url, auth=True, key=key, secret=secret,
                                       passphrase=passphrase)
        async with client:
            return await body(client)

    return asyncio.run(main())


# -- ground truth through the raw signed client ----------------------------------------------------

def raw_accounts(server: Server, creds: Creds) -> dict[str, dict[str, Decimal]]:
    """``{currency: {balance, hold, available}}`` as the server reports it (raw HTTP)."""
    reply = RawClient(server.port, creds).get("/accounts")
    assert reply.status == 200, reply.body
    return {a["currency"]: {name: Decimal(a[name]) for name in ("balance", "hold", "available")}
            for a in reply.json()}

