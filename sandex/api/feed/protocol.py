"""Client messages: ``subscribe`` / ``unsubscribe`` parsed into a ``Change`` or a ``Failure``.

Pure: text in, a value out (§9.2, §9.3, §9.6). The rules, in the order they are checked:

1. The text must be a JSON object with ``type`` ``subscribe`` or ``unsubscribe``, and
   ``product_ids`` (if present) a list of strings; otherwise ``invalid (un)subscribe msg``.
2. ``channels``: absent on a subscribe means ``["full"]`` (GUESS: Coinbase's pre-2019 default,
   so cbpro's unchanged ``OrderBook`` works; ``full`` still needs authentication). Absent on an
   unsubscribe, or an empty list, is ``No channels provided``.
3. Each channel is a name or ``{"name": …, "product_ids": […]}``; aliases map to their channel
   (``level2_50`` → ``level2_batch``, ``ticker_1000`` → ``ticker_batch``); an unknown name is
   ``<name> is not a valid channel`` (GUESS).
4. Product ids: a name takes the top-level ``product_ids``; an object takes the top-level ids
   followed by its own (as the §9.2 reply example shows); an object with an explicitly empty
   ``product_ids`` is rejected ``" is not a valid product"`` (2023 behaviour, §9.2). Every id
   must be a product, else ``<id> is not a valid product``, and the whole message is ignored.
5. ``balance`` takes account ids, not products: the top-level ``account_ids`` followed by the
   object's own; none on a subscribe is ``invalid account_ids`` (GUESS), an unsubscribe
   without any removes the channel. Whether they are the subscriber's is the hub's check.
6. ``status`` takes no product ids. A ``user`` subscribe with none means every product
   (GUESS: ccxt's ``watch_orders()`` without a symbol sends ``product_ids: []``). Any other
   channel without ids: subscribe fails with ``You need to specify at least one product ID for
   channel <name>``; unsubscribe removes the whole channel (§9.2).

Authentication fields are picked up as given; checking them is ``sandex.api.feed.auth``'s job.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from sandex.errors import Error

HEARTBEAT, STATUS, TICKER, TICKER_BATCH = "heartbeat", "status", "ticker", "ticker_batch"
LEVEL2, LEVEL2_BATCH, MATCHES = "level2", "level2_batch", "matches"
FULL, LEVEL3, USER, BALANCE = "full", "level3", "user", "balance"
AUCTIONFEED = "auctionfeed"  # accepted, and silent: sandex has no auction mode (docs/feed.md)
RFQ_MATCHES = "rfq_matches"  # accepted, and silent: sandex has no RFQ (docs/feed.md)
RFQ_ALL = frozenset({"", "ALL"})  # rfq_matches: these product ids mean every product

CHANNELS = frozenset({HEARTBEAT, STATUS, TICKER, TICKER_BATCH, LEVEL2, LEVEL2_BATCH, MATCHES,
                      FULL, LEVEL3, USER, BALANCE, AUCTIONFEED, RFQ_MATCHES})
ALIASES = {"level2_50": LEVEL2_BATCH, "ticker_1000": TICKER_BATCH}  # §9.5
AUTH_REQUIRED = frozenset({FULL, LEVEL2, LEVEL3, USER})  # §9.3, enforced since 2023-08-01
DEFAULT_CHANNELS = (FULL,)  # GUESS: what a subscribe without ``channels`` means (rule 2)
_CREDENTIALS = ("key", "signature", "passphrase", "timestamp")
_decode = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Failure:
    """An error answer: ``message`` and ``reason`` texts from the error table."""

    message: Error
    reason: str


@dataclass(frozen=True, slots=True)
class Credentials:
    """The §9.3 fields of a subscribe, as text (``None`` when absent)."""

    key: str | None
    signature: str | None
    passphrase: str | None
    timestamp: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """A valid (un)subscribe. ``channels`` maps each channel to its product ids in order;
    an empty list on an unsubscribe means the whole channel."""

    subscribe: bool
    channels: dict[str, list[str]]
    credentials: Credentials | None


def parse(text: str | bytes, products: Collection[str]) -> Change | Failure:
    """The (un)subscribe ``text`` means, checked against the known ``products``."""
    try:
        message = _decode.decode(text)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_MALFORMED.format())
    kind = message.get("type") if isinstance(message, dict) else None
    if kind not in ("subscribe", "unsubscribe"):
        return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_MALFORMED.format())
    subscribe = kind == "subscribe"
    failed = Error.FEED_SUBSCRIBE_FAILED if subscribe else Error.FEED_UNSUBSCRIBE_FAILED
    top = message.get("product_ids", [])
    accounts = message.get("account_ids", [])
    if not _strings(top) or not _strings(accounts):
        return Failure(failed, Error.FEED_MALFORMED.format())
    if "channels" not in message and subscribe:
        entries: Any = list(DEFAULT_CHANNELS)
    else:
        entries = message.get("channels")
    if entries is None or entries == []:
        return Failure(failed, Error.FEED_NO_CHANNELS.format())
    if not isinstance(entries, list):
        return Failure(failed, Error.FEED_MALFORMED.format())
    channels: dict[str, list[str]] = {}
    for entry in entries:
        result = _channel(entry, top, accounts, products, subscribe)
        if isinstance(result, Failure):
            return Failure(failed, result.reason)
        name, ids = result
        merged = channels.setdefault(name, [])
        merged.extend(i for i in ids if i not in merged)
    return Change(subscribe, channels, _credentials(message))


def _channel(entry: object, top: list[str], accounts: list[str], products: Collection[str],
             subscribe: bool) -> tuple[str, list[str]] | Failure:
    if entry == BALANCE or (isinstance(entry, dict) and entry.get("name") == BALANCE):
        return _balance(entry, accounts, subscribe)
    if isinstance(entry, str):
        name, ids = entry, list(top)
    elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
        name, own = entry["name"], entry.get("product_ids")
        if own is None:
            ids = list(top)
        elif not _strings(own):
            return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_MALFORMED.format())
        elif not own and name == RFQ_MATCHES:  # Coinbase's example sends []: every product
            ids = []
        elif not own:  # 2023: an explicit empty list is not filled from the top level
            return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_INVALID_PRODUCT.format(""))
        else:
            ids = list(top) + [i for i in own if i not in top]
    else:
        return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_MALFORMED.format())
    name = ALIASES.get(name, name)
    if name == RFQ_MATCHES:
        return _rfq(ids, products, subscribe)
    if name not in CHANNELS:
        return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_INVALID_CHANNEL.format(name))
    for product_id in ids:
        if product_id not in products:
            return Failure(Error.FEED_SUBSCRIBE_FAILED,
                           Error.FEED_INVALID_PRODUCT.format(product_id))
    if name == STATUS:
        return name, []
    if not ids and subscribe:
        if name != USER:
            return Failure(Error.FEED_SUBSCRIBE_FAILED,
                           Error.FEED_PRODUCT_REQUIRED.format(name))
        ids = list(products)
    return name, ids


def _rfq(ids: list[str], products: Collection[str],
         subscribe: bool) -> tuple[str, list[str]] | Failure:
    """``rfq_matches``: no product ids, ``""`` or ``"ALL"`` mean every product (Coinbase)."""
    if any(i in RFQ_ALL for i in ids) or (not ids and subscribe):
        return RFQ_MATCHES, list(products)
    for product_id in ids:
        if product_id not in products:
            return Failure(Error.FEED_SUBSCRIBE_FAILED,
                           Error.FEED_INVALID_PRODUCT.format(product_id))
    return RFQ_MATCHES, ids


def _balance(entry: object, accounts: list[str],
             subscribe: bool) -> tuple[str, list[str]] | Failure:
    """Rule 5: the ``balance`` channel and its account ids (lower case, as REST shows them)."""
    own = entry.get("account_ids", []) if isinstance(entry, dict) else []
    if not _strings(own):
        return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_MALFORMED.format())
    ids: list[str] = []
    for account_id in (*accounts, *own):
        if account_id.lower() not in ids:
            ids.append(account_id.lower())
    if not ids and subscribe:
        return Failure(Error.FEED_SUBSCRIBE_FAILED, Error.FEED_INVALID_ACCOUNTS.format())
    return BALANCE, ids


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _credentials(message: Mapping[str, Any]) -> Credentials | None:
    if not any(name in message for name in _CREDENTIALS):
        return None
    texts = [_text(message.get(name)) for name in _CREDENTIALS]
    return Credentials(*texts)


def _text(value: object) -> str | None:
    """A credential as the client signed it: strings verbatim; a JSON integer as its digits
    (ccxt sends ``"timestamp": 1700000000``); a float as Python's shortest repr (GUESS: the
    same digits as JavaScript's ``String(x)`` for every realistic timestamp)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return repr(value)
    return ""


def subscriptions(channels: Mapping[str, Collection[str]]) -> dict[str, Any]:
    """The §9.2 reply: every channel with its product ids, in subscription order
    (``balance``: ``"product_ids": null`` and its ``account_ids``, as Coinbase since 2024)."""
    return {"type": "subscriptions",
            "channels": [{"name": name, "product_ids": list(ids)} if name != BALANCE else
                         {"name": name, "product_ids": None, "account_ids": list(ids)}
                         for name, ids in channels.items()]}


def error(message: Error, reason: str) -> dict[str, str]:
    """The §9.6 error message (``reason`` always a string: ccxt concatenates it)."""
    return {"type": "error", "message": message.format(), "reason": reason}
