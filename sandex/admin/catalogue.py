"""What each admin command takes and does, for the OpenAPI document (``GET /openapi.json``).

One entry per command of ``sandex.admin.ops.OPS`` (a test keeps the two in step): a summary
and the JSON arguments, each with its JSON schema; ``required`` names the ones that must be
given. Commands in ``ops.READS`` are documented as ``GET``, the others as ``POST``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandex.faults import LOG_MAX, presets

_TEXT: dict[str, Any] = {"type": "string"}
_DECIMAL: dict[str, Any] = {"type": "string", "example": "100"}
_UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
_NAME: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                         "example": "before-test"}
_STATUS: dict[str, Any] = {"type": "string", "enum": [
    "online", "post_only", "limit_only", "cancel_only", "disabled"]}


@dataclass(frozen=True)
class Entry:
    summary: str
    args: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: tuple[str, ...] = ()


_RULE: dict[str, dict[str, Any]] = {
    "id": {**_TEXT, "example": "burst429"},
    "layer": {"type": "string", "enum": ["rest", "feed", "engine"]},
    "match": {"type": "object", "example": {"method": "POST", "path": "/orders"}},
    "when": {"type": "object", "example": {"nth": [3, 4]}},
    "max_fires": {"type": "integer", "minimum": 1},
    "action": {"type": "object", "example": {"kind": "status", "status": 429}},
    "seed": {"type": "integer"}}

_FUNDS = Entry("", {"profile": _UUID, "currency": {**_TEXT, "example": "USD"},
                    "amount": _DECIMAL}, ("profile", "currency", "amount"))

_MATCH: dict[str, Any] = {"type": "object", "properties": {
    "type": {"type": "string", "enum": ["place", "cancel", "cancel_all"]},
    **{name: _TEXT for name in ("order_id", "client_oid", "key", "profile", "product_id")}},
    "additionalProperties": False, "example": {"type": "cancel"}}
_FEED_MATCH: dict[str, Any] = {"type": "object", "properties": {
    "connection": {"type": "integer"}, "key": _TEXT, "profile": _UUID},
    "additionalProperties": False}


def _holds(close: str, what: str) -> dict[str, Entry]:
    """The four commands of a hold list (the gate's, the replies')."""
    return {
        close: Entry(
            f"Hold {what} that match (any rule set so far); {{}} matches every one",
            {"match": _MATCH}),
        "held": Entry(f"The rules and the {what} held, in arrival order"),
        "release": Entry(f"Release held {what}: ids in the order given, the oldest n, or "
                         "all", {"ids": {"type": "array", "items": {"type": "integer"}},
                                 "n": {"type": "integer", "minimum": 1},
                                 "all": {"type": "boolean"}}),
        "open": Entry(f"Stop holding {what}; release every one, in arrival order"),
    }


CATALOGUE: dict[str, Entry] = {
    "profile.create": Entry("Create a profile", {
        "name": _TEXT, "id": _UUID, "maker_fee_rate": _DECIMAL, "taker_fee_rate": _DECIMAL},
        ("name",)),
    "profile.list": Entry("List profiles with their balances"),
    "key.create": Entry("Create an API key for a profile (the answer holds its secret and "
                        "passphrase, shown once)", {
        "profile": _UUID, "permissions": {**_TEXT, "example": "view,trade"}, "key": _TEXT,
        "secret": _TEXT, "passphrase": _TEXT}, ("profile",)),
    "key.list": Entry("List API keys (never their secrets)", {"profile": _UUID}),
    "key.revoke": Entry("Revoke an API key", {"key": _TEXT}, ("key",)),
    "deposit": Entry("Deposit funds into a profile", _FUNDS.args, _FUNDS.required),
    "withdraw": Entry("Withdraw funds from a profile", _FUNDS.args, _FUNDS.required),
    "crypto.receive": Entry(
        "A crypto deposit arrives at one of the venue's deposit addresses: a pending deposit "
        "that settles after the scenario's crypto_deposit_delay (or delay) on the venue clock",
        {"address": _TEXT, "amount": {**_DECIMAL, "example": "0.5"},
         "delay": {**_TEXT, "example": "10m"}, "destination_tag": _TEXT},
        ("address", "amount")),
    "product.add": Entry("Add a product (and its currencies)", {
        "id": {**_TEXT, "example": "SOL-USD"}, "base_increment": _DECIMAL,
        "quote_increment": _DECIMAL, "min_market_funds": _DECIMAL, "status": _STATUS},
        ("id",)),
    "product.set-status": Entry("Change a product's status", {
        "id": {**_TEXT, "example": "BTC-USD"}, "status": _STATUS}, ("id", "status")),
    "fees.set": Entry("Set a profile's maker and taker fee rates", {
        "profile": _UUID, "maker": _DECIMAL, "taker": _DECIMAL},
        ("profile", "maker", "taker")),
    "clock": Entry("The venue clock: mode, now, rate, frozen, the next timer due"),
    "clock.freeze": Entry("Freeze the venue clock (a virtual clock at rate 0)"),
    "clock.rate": Entry("Run the venue clock k times faster than real time (0: frozen)", {
        "rate": {"oneOf": [{"type": "number"}, _TEXT], "example": 10}}, ("rate",)),
    "clock.advance": Entry("Move a virtual clock forward, firing every timer due on the way at "
                           "its own time; give one of by, to, until", {
        "by": {**_TEXT, "example": "90s"}, "to": {**_TEXT, "format": "date-time"},
        "until": {"type": "string", "enum": ["next-expiry"]}}),
    "snapshot.save": Entry("Keep the venue's whole state under a name (replacing it)",
                           {"name": _NAME}, ("name",)),
    "snapshot.list": Entry("List the named snapshots"),
    "snapshot.restore": Entry("Put the venue back in a named snapshot's state (closes every "
                              "WebSocket with 1012, empties rate-limit buckets)",
                              {"name": _NAME}, ("name",)),
    "snapshot.delete": Entry("Forget a named snapshot", {"name": _NAME}, ("name",)),
    "reset": Entry("Restore the baseline: the venue as its scenario loaded it"),
    "state": Entry("The journal position, state hash and venue time"),
    "trace": Entry("The traces of the last REST requests (a ring of 10,000): one request's, "
                   "everything that touched an order (its requests, the fills against it, "
                   "what happened to it without a request), or every request after a "
                   "request id (refused: only 4xx and 5xx); newest: the latest request's id",
                   {"request_id": {**_TEXT, "example": "r-000001"}, "order_id": _UUID,
                    "client_oid": _TEXT, "after": {**_TEXT, "example": "r-000100"},
                    "refused": {"type": "boolean"}, "newest": {"type": "boolean"}}),
    "explain": Entry("What POST /orders would answer for a key and a body, and why: a dry run "
                     "that changes nothing", {"key": _TEXT, "request": {"type": "object"}},
                     ("key", "request")),
    "fault.add": Entry("Install a fault rule after the others (the body is the rule: "
                       "docs/testing.md, Faults); refused with a message if it is bad",
                       _RULE, ("layer", "action")),
    "fault.replace": Entry("Put a rule in place of the installed rule with its id (same place "
                           "in the order, counters anew)", _RULE, ("id", "layer", "action")),
    "fault.list": Entry("The fault rules in order, with how often each matched and fired"),
    "fault.clear": Entry("Remove every fault rule, or the one with this id",
                         {"id": {**_TEXT, "example": "burst429"}}),
    "fault.log": Entry(f"The last fault firings (at most {LOG_MAX}), oldest first"),
    "fault.preset": Entry("Install a preset's fault rules", {
        "name": {"type": "string", "enum": [*presets.PRESETS, *presets.NOT_YET]},
        "seed": {"type": "integer"}}, ("name",)),
    "venue": Entry("The venue's settings (client_oid_dedup)"),
    "venue.set": Entry("Change venue settings (journaled): client_oid_dedup false places a "
                       "second order for a reused client_oid, as Coinbase does", {
        "client_oid_dedup": {"type": "boolean"}}),
    **{f"{prefix}.{name}": entry for prefix, close, what in (
        ("gate", "close", "order requests at the gate (before they are applied)"),
        ("reply", "hold", "the replies of order requests (applied at once)"))
       for name, entry in _holds(close, what).items()},
    "feed.hold": Entry("Hold the feed frames of matching WebSocket connections",
                       {"match": _FEED_MATCH}, ("match",)),
    "feed.held": Entry("The feed holds and the connections they hold"),
    "feed.release": Entry("Drop a feed hold (or all): held frames go out", {
        "match": _FEED_MATCH, "all": {"type": "boolean"}}),
    "inject": Entry("Run an order command as a profile past the gate (journaled as REST "
                    "would): place, cancel or cancel_all", {
        "profile": _UUID, "command": {"type": "object", "example": {"place": {
            "product_id": "BTC-USD", "side": "sell", "type": "market", "size": "0.01"}}}},
        ("profile", "command")),
    "replay.load": Entry("Load a recording to replay as live liquidity (docs/replay.md): "
                         "its sha256 is recorded; paused unless start", {
        "source": {"oneOf": [_TEXT, {"type": "array", "items": _TEXT}],
                   "example": "recordings/btc-full.jsonl.gz"},
        "format": {"type": "string", "enum": ["coinbase-full", "coinbase-level2", "tardis"]},
        "products": {"type": "object", "additionalProperties": {"type": "string"},
                     "example": {"BTC-USD": "BTC-USD"}},
        "price_scale": _TEXT, "size_scale": _TEXT,
        "speed": {"type": "string", "enum": ["clock", "max"]},
        "cancel_from": {"type": "string", "enum": ["back", "front"]},
        "create_products_from": {**_TEXT, "example": "recordings/products.json"},
        "start": {"type": "boolean"}}, ("source", "format")),
    "replay.start": Entry("Run the loaded replay (speed clock: on the venue clock; max: as "
                          "fast as it commits)"),
    "replay.resume": Entry("Go on after a pause (the venue clock re-anchors on the next "
                           "event)"),
    "replay.pause": Entry("Pause the replay (its orders stay)"),
    "replay.step": Entry("Apply the next N source events now", {
        "events": {"type": "integer", "minimum": 1, "example": 100}}),
    "replay.seek": Entry("Apply every event before a source time at once (forward only)",
                         {"to": {**_TEXT, "format": "date-time"}}, ("to",)),
    "replay.status": Entry("Where the replay is: state, events, line, source and venue "
                           "time, recorded vs reproduced trades, what users consumed"),
    "replay.unload": Entry("Stop replaying (journaled); clear cancels every replay order",
                           {"clear": {"type": "boolean"}}),
    "replay.wait": Entry("Answer once the replay is finished (or failed)", {
        "timeout": {"type": "number", "example": 60}}),
}
# answered by a gateway (REST's parser, REST's traces), not by ``ops``
GATEWAY_COMMANDS = frozenset({"explain", "trace"})
