"""The feed's client messages fuzzed: whatever a client sends, one well-formed answer.

Two layers. ``parse`` (pure) over hypothesis' JSON values and near-valid (un)subscribes:
it never raises, and returns a ``Change`` whose channels are known and whose product ids are
products, or a ``Failure`` whose texts are the error table's. Then a running server over one
connection: seeded random frames (valid, near-valid, garbage JSON, text that is not JSON,
binary frames, invalid UTF-8, forged and real credentials) each get exactly one
``subscriptions`` or ``error`` answer of the §9.6 shape, the connection survives all of
them, and what it is subscribed to at the end is what the accepted messages made it.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandex.api.feed.protocol import (
    ALIASES,
    BALANCE,
    CHANNELS,
    RFQ_MATCHES,
    Change,
    Failure,
    parse,
)
from sandex.errors import Error
from tests.support.feed_kit import Feed, auth_fields, feed
from tests.support.rest_kit import ALICE, RawClient, Server

PRODUCTS = frozenset({"BTC-USD", "ETH-USD", "ETH-BTC"})
NAMES = [*sorted(CHANNELS | set(ALIASES)), "", "bogus", "FULL", "level2 ", "ticker\u00e9"]
IDS = [*sorted(PRODUCTS), "", "ALL", "btc-usd", "FOO-BAR", "BTC-USD\x00", "\u20bf-USD"]
FAILED = {Error.FEED_SUBSCRIBE_FAILED, Error.FEED_UNSUBSCRIBE_FAILED}
ANSWER_MESSAGES = {"Failed to subscribe", "Failed to unsubscribe", "Authentication Failed",
                   Error.FEED_BALANCE_AUTH_REQUIRED.format()}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False,
                                                                        allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)
id_lists = st.lists(st.sampled_from(IDS), max_size=4) | json_values
channel_entries = st.sampled_from(NAMES) | st.fixed_dictionaries(
    {"name": st.sampled_from(NAMES) | json_values},
    optional={"product_ids": id_lists, "account_ids": id_lists}) | json_values
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["subscribe", "unsubscribe", "hello", ""]) | json_values},
    optional={"product_ids": id_lists, "account_ids": id_lists,
              "channels": st.lists(channel_entries, max_size=4) | json_values,
              "key": json_values, "signature": json_values, "passphrase": json_values,
              "timestamp": json_values | st.sampled_from(["nan", "inf", "1e999", "-0"])})


def _check(result: Change | Failure) -> None:
    if isinstance(result, Failure):
        assert result.message in FAILED
        assert isinstance(result.reason, str)
        return
    assert isinstance(result, Change)
    for name, ids in result.channels.items():
        assert name in CHANNELS
        assert all(isinstance(i, str) for i in ids)
        if name not in (BALANCE, RFQ_MATCHES):
            assert set(ids) <= PRODUCTS, (name, ids)
        assert len(ids) == len(set(ids))


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_parse_answers_any_message_with_a_change_or_a_failure(message: dict[str, Any]) -> None:
    _check(parse(json.dumps(message), PRODUCTS))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(json_values | st.binary(max_size=40) | st.text(max_size=40))
def test_parse_answers_any_text_or_bytes(value: Any) -> None:
    text: str | bytes = value if isinstance(value, str | bytes) else json.dumps(value)
    _check(parse(text, PRODUCTS))


def _frames(seed: int, count: int, products: list[str]) -> list[str | bytes]:
    """Seeded frames: mostly near-valid (un)subscribes, some garbage of every kind."""
    rng = random.Random(seed)
    public = sorted(CHANNELS - {"full", "level2", "level3", "user", "balance"})
    odd = [n for n in NAMES if n not in CHANNELS]

    def ids() -> Any:
        roll = rng.random()
        if roll < 0.8:
            return rng.sample(products, rng.randint(1, min(3, len(products))))
        if roll < 0.9:
            return rng.sample([*products, "", "FOO-BAR", "btc-usd", 7, None], rng.randint(0, 3))
        return rng.choice([[], "BTC-USD", {}, 1.5])

    frames: list[str | bytes] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.08:
            frames.append(rng.choice(["not json", "[1, 2]", "{", "null", '"subscribe"', "",
                                      "{\"type\": \"subscribe\", \"channels\": [\"status\"]"]))
            continue
        if roll < 0.12:
            frames.append(rng.choice([b"\xff\xfe", b"", b"{\"type\":\"subscribe\"}",
                                      bytes(rng.randrange(256) for _ in range(16))]))
            continue
        message: dict[str, Any] = {
            "type": rng.choice(["subscribe"] * 6 + ["unsubscribe"] * 3 + ["Subscribe"])}
        if rng.random() < 0.8:
            message["product_ids"] = ids()
        if rng.random() < 0.95:
            entries: list[Any] = []
            for _ in range(rng.randint(0, 3)):
                name = rng.choice(public if rng.random() < 0.85 else odd)
                entries.append(name if rng.random() < 0.6 else
                               {"name": name, "product_ids": ids()} if rng.random() < 0.9
                               else {"product_ids": ids()})
            message["channels"] = entries if rng.random() < 0.95 else "ticker"
        if rng.random() < 0.1:
            message.update(auth_fields(ALICE) if rng.random() < 0.5 else
                           {"key": rng.choice(["", "x" * 40, 5]), "signature": "AAAA",
                            "passphrase": None,
                            "timestamp": rng.choice(["nan", "1e999", "", 12.5, "-0"])})
        if rng.random() < 0.05:
            message[rng.choice(["extra", "type2", "channels "])] = [1, {"a": None}]
        frames.append(json.dumps(message))
    return frames


def _answer(ws: Feed) -> dict[str, Any]:
    return ws.until(lambda m: m["type"] in ("subscriptions", "error"))


def test_a_connection_answers_every_frame_once_and_survives(server: Server) -> None:
    products = [p["id"] for p in RawClient(server.port, ALICE).get("/products").json()]
    frames = _frames(seed=21, count=250, products=products)
    answers: dict[str, int] = {"subscriptions": 0, "error": 0}
    subscribed: dict[str, list[str]] = {}
    with feed(server) as ws:
        for frame in frames:
            ws.send(frame)
            answer = _answer(ws)
            answers[answer["type"]] += 1
            if answer["type"] == "error":
                assert set(answer) == {"type", "message", "reason"}, answer
                assert answer["message"] in ANSWER_MESSAGES, answer
                assert isinstance(answer["reason"], str)
                continue
            assert set(answer) == {"type", "channels"}
            subscribed = {c["name"]: c["product_ids"] for c in answer["channels"]}
            for name, ids in subscribed.items():
                assert name in CHANNELS
                assert name in ("status", "rfq_matches") or ids, answer
                assert set(ids) <= set(products), answer
        # every frame had its answer and the connection still takes a subscribe: what it
        # holds is the last answer's channels and the new one
        final = ws.subscribe(["status"])
    assert answers["subscriptions"] >= 50 and answers["error"] >= 100, answers
    expected = dict(subscribed)
    expected.setdefault("status", [])
    assert {c["name"]: c["product_ids"] for c in final["channels"]} == expected
    assert "Traceback" not in server.log()
