"""The rule model without a server: checking, when rules fire, determinism, the log, presets."""

from __future__ import annotations

from typing import Any

import pytest

from sandex.api.feed.faults import ACTIONS as FEED_ACTIONS
from sandex.api.feed.protocol import CHANNELS
from sandex.api.rest.faults import ACTIONS as REST_ACTIONS
from sandex.faults import LOG_MAX, PRESETS, FaultSet, RuleError, preset
from sandex.faults.actions import FEED, FEED_CHANNELS, REST
from sandex.scenario import ScenarioError, ScenarioFile

SECOND = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000 * SECOND

    def __call__(self) -> int:
        return self.now


def fault_set(seed: int | None = 7) -> tuple[FaultSet, Clock]:
    clock = Clock()
    return FaultSet(clock, lambda: seed), clock


def request(method: str = "POST", path: str = "/orders", key: str | None = "k1",
            product: str | None = "BTC-USD") -> Any:
    values = {"method": method, "path": path, "key": key, "product": product}
    return values.get


def firings(faults: FaultSet, count: int, **target: Any) -> list[int]:
    """Which of ``count`` requests (1-based) a rule fired on."""
    rules = faults.layer("rest")
    return [n for n in range(1, count + 1)
            if faults.fire(rules, request(**target), lambda: {}) is not None]


def rule(**fields: Any) -> dict[str, Any]:
    return {"layer": "rest", "action": {"kind": "status", "status": 429}, **fields}


@pytest.mark.parametrize(("bad", "message"), [
    ({"layer": "db", "action": {"kind": "drop"}}, "layer: 'db' is not one of 'rest', 'feed'"),
    ({"layer": "engine", "when": {"for": "1m"},
      "action": {"kind": "halt_matching", "status": "cancel_only"}},
     "action halt_matching: unknown field(s) status (it takes nothing but kind)"),
    ({"layer": "engine", "action": {"kind": "halt_matching"}}, "an engine fault is a window"),
    (rule(action={"kind": "explode"}), "action.kind: 'explode' is not a rest action (one of "
     "status, delay, accept_then_timeout"),
    (rule(action={"kind": "status"}), "action status needs status"),
    (rule(action={"kind": "status", "status": 418}), "status 418 needs a message"),
    (rule(action={"kind": "delay", "ms": -5}), "delay: ms must be an integer from 1 to 60000"),
    (rule(action={"kind": "reset", "hard": True}), "unknown field(s) hard (it takes nothing"),
    (rule(when={"probability": 1.5}), "when.probability must be a number from 0 to 1, not 1.5"),
    (rule(when={"nth": [0, 2]}), "when.nth must list integers of at least 1"),
    (rule(when={"every": 0}), "when.every must be an integer of at least 1"),
    (rule(when={"from": "yesterday"}), "when.from: 'yesterday' is neither"),
    (rule(when={"for": "-30s"}), "when.for: '-30s' is not a duration like 90s"),
    (rule(when={"nth": [1], "every": 2}), "give one of nth, every, probability"),
    (rule(when={"after": 3}), "when: unknown field(s) after"),
    (rule(match={"channel": "full"}), "match: unknown field(s) channel (a rest rule matches "
     "on method, path, key, product)"),
    ({"layer": "feed", "match": {"channel": "fulll"}, "action": {"kind": "drop"}},
     "match.channel: 'fulll' is not one of"),
    (rule(match={"path": "orders"}), "match.path must start with '/'"),
    (rule(max_fires=0), "max_fires must be an integer of at least 1"),
    (rule(id="no spaces"), "id: 'no spaces' is not 1 to 64 letters"),
    (rule(colour="red"), "unknown field(s) colour"),
])
def test_a_bad_rule_is_refused_with_one_clear_message_and_changes_nothing(
        bad: dict[str, Any], message: str) -> None:
    faults, _ = fault_set()
    faults.add(rule(id="kept"))
    with pytest.raises(RuleError) as refused:
        faults.add(bad)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert [r["id"] for r in faults.rules()] == ["kept"]


def test_a_duplicate_id_is_refused() -> None:
    faults, _ = fault_set()
    faults.add(rule(id="burst"))
    with pytest.raises(RuleError, match="a fault rule with id 'burst' exists"):
        faults.add(rule(id="burst"))


def test_nth_every_and_max_fires_count_matching_requests_per_rule() -> None:
    faults, _ = fault_set()
    faults.add(rule(id="a", match={"method": "POST", "path": "/orders"}, when={"nth": [2, 3]}))
    assert firings(faults, 5) == [2, 3]
    assert firings(faults, 3, method="GET") == []  # not matching: not counted
    faults.clear()
    faults.add(rule(when={"every": 3}, max_fires=2))
    assert firings(faults, 12) == [3, 6]


def test_path_patterns_key_and_product() -> None:
    faults, _ = fault_set()
    faults.add(rule(match={"path": "/orders/*", "key": "k1", "product": "ETH-USD"}))
    assert firings(faults, 1, path="/orders/abc", product="ETH-USD") == [1]
    assert firings(faults, 1, path="/orders/abc/", product="ETH-USD") == [1]
    assert firings(faults, 1, path="/orders", product="ETH-USD") == []
    assert firings(faults, 1, path="/orders/abc", product="BTC-USD") == []
    assert firings(faults, 1, path="/orders/abc", product="ETH-USD", key="k2") == []
    faults.clear()
    faults.add(rule(match={"path": "/products/{id}/book"}))
    assert firings(faults, 1, path="/products/BTC-USD/book") == [1]


def test_a_window_on_the_venue_clock() -> None:
    faults, clock = fault_set()
    faults.add(rule(when={"from": "+10s", "for": "30s"}))
    assert firings(faults, 1) == []
    clock.now += 10 * SECOND
    assert firings(faults, 1) == [1]
    clock.now += 30 * SECOND
    assert firings(faults, 1) == []
    faults.clear()
    faults.add(rule(when={"from": "2023-11-14T22:13:20Z"}))  # 1_700_000_000
    clock.now = 1_699_999_999 * SECOND
    assert firings(faults, 1) == []
    clock.now += SECOND
    assert firings(faults, 1) == [1]


def test_probability_is_seeded_per_rule_so_adding_a_rule_changes_no_other() -> None:
    alone, _ = fault_set(seed=7)
    alone.add(rule(id="p", when={"probability": 0.3}))
    first = firings(alone, 200)
    again, _ = fault_set(seed=7)
    again.add(rule(id="other", match={"method": "GET"}, when={"probability": 0.5}))
    again.add(rule(id="p", when={"probability": 0.3}))
    assert firings(again, 200) == first
    assert 30 < len(first) < 90
    other_seed, _ = fault_set(seed=8)
    other_seed.add(rule(id="p", when={"probability": 0.3}))
    assert firings(other_seed, 200) != first


def test_first_match_wins_and_a_shadowed_rule_keeps_counting() -> None:
    faults, _ = fault_set()
    faults.add(rule(id="first", when={"nth": [2]}))
    faults.add(rule(id="second", when={"nth": [2, 3]},
                    action={"kind": "reject_before_accept"}))
    fired = [faults.fire(faults.layer("rest"), request(), lambda: {}) for _ in range(3)]
    assert [a.rule.id if a else None for a in fired] == [None, "first", "second"]
    assert [(r["id"], r["matched"], r["fired"]) for r in faults.rules()] == [
        ("first", 3, 1), ("second", 3, 1)]


def test_every_firing_is_logged_in_a_bounded_ring() -> None:
    faults, _ = fault_set()
    faults.add(rule(id="all"))
    rules = faults.layer("rest")
    for _ in range(LOG_MAX + 5):
        faults.fire(rules, request(), lambda: {"request": {"method": "POST"}})
    log = faults.log()
    assert len(log) == LOG_MAX and log[0]["n"] == 6 and log[-1]["n"] == LOG_MAX + 5
    assert log[-1]["rule"] == "all" and log[-1]["action"] == "status"
    assert log[-1]["request"] == {"method": "POST"} and log[-1]["time"].endswith("Z")


def test_defaults_come_from_the_error_table() -> None:
    faults, _ = fault_set()
    listed = faults.add(rule())
    assert listed["action"] == {"kind": "status", "status": 429,
                                "message": "Private rate limit exceeded"}
    listed = faults.add({"layer": "rest", "action": {"kind": "accept_then_error"}})
    assert listed["action"]["message"] == "Internal server error"
    assert listed["id"] == "rule-2"


def test_reset_puts_back_the_scenario_rules_with_fresh_counters() -> None:
    faults, _ = fault_set()
    faults.start_with([rule(id="from-scenario", when={"nth": [1]})])
    assert firings(faults, 2) == [1]
    faults.add(rule(id="added-later"))
    faults.reset()
    assert [(r["id"], r["matched"]) for r in faults.rules()] == [("from-scenario", 0)]
    assert faults.log() == []


def test_the_scenario_checks_its_faults() -> None:
    good = ScenarioFile("s.toml", {"faults": [rule(id="x")]})
    assert good.faults() == [rule(id="x")]
    bad = ScenarioFile("s.toml", {"faults": [rule(when={"probability": 2})]})
    with pytest.raises(ScenarioError, match=r"s.toml: \[\[faults\]\]: rule rule-1: "
                                            "when.probability"):
        bad.faults()


def test_presets_are_ordinary_rules() -> None:
    faults, _ = fault_set()
    for name in PRESETS:
        faults.add_all(preset(name, seed=3))
    assert all(r["seed"] == 3 for r in faults.rules())
    with pytest.raises(RuleError, match="is not one of rate-limit-storm"):
        preset("bad-week")
    before = faults.rules()
    with pytest.raises(RuleError, match="exists"):  # all or none
        faults.add_all([rule(id="new"), *preset("flaky-feed")])
    assert faults.rules() == before


def test_the_gateways_execute_exactly_their_layers_kinds() -> None:
    assert set(REST_ACTIONS) == set(REST)
    assert set(FEED_ACTIONS) | {"subscribe_error"} == set(FEED)
    assert set(FEED_CHANNELS) == CHANNELS
