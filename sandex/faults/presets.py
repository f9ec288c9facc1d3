"""Named sets of rules for the bad days real venues have (``sandex fault preset NAME``).

Each preset is a list of ordinary rules (ids ``<preset>.<part>``), so ``fault list`` shows
them and ``fault clear`` removes them like any; a ``seed`` seeds their random streams (default:
the venue's seed), so a preset with the same seed fires on the same requests every run.
"""

from __future__ import annotations

import copy
from typing import Any

from sandex.faults.model import RuleError

PRESETS: dict[str, list[dict[str, Any]]] = {
    "rate-limit-storm": [
        # for 30 s of venue time, half of all REST requests are refused 429
        {"id": "rate-limit-storm.429", "layer": "rest",
         "when": {"probability": 0.5, "from": "+0s", "for": "30s"},
         "action": {"kind": "status", "status": 429}},
    ],
    "flaky-feed": [
        {"id": "flaky-feed.drop", "layer": "feed", "when": {"probability": 0.02},
         "action": {"kind": "drop"}},
        {"id": "flaky-feed.duplicate", "layer": "feed", "when": {"probability": 0.01},
         "action": {"kind": "duplicate"}},
        {"id": "flaky-feed.reorder", "layer": "feed", "when": {"probability": 0.01},
         "action": {"kind": "reorder", "window": 3}},
        {"id": "flaky-feed.disconnect", "layer": "feed", "when": {"probability": 0.001},
         "action": {"kind": "disconnect", "code": 1006}},
    ],
    "timeouts-accepted": [
        # one order entry or cancel in five is applied, and its reply never comes
        {"id": "timeouts-accepted.place", "layer": "rest",
         "match": {"method": "POST", "path": "/orders"}, "when": {"probability": 0.2},
         "action": {"kind": "accept_then_timeout", "then": "504"}},
        {"id": "timeouts-accepted.cancel", "layer": "rest",
         "match": {"method": "DELETE", "path": "/orders/*"}, "when": {"probability": 0.2},
         "action": {"kind": "accept_then_timeout", "then": "close"}},
    ],
    "maintenance-window": [
        # a minute of cancel-only, then five minutes under maintenance, then online again
        {"id": "maintenance-window.cancel-only", "layer": "engine",
         "when": {"from": "+0s", "for": "1m"},
         "action": {"kind": "product_status", "status": "cancel_only"}},
        {"id": "maintenance-window.offline", "layer": "engine",
         "when": {"from": "+1m", "for": "5m"}, "action": {"kind": "engine_offline"}},
    ],
}

NOT_YET: dict[str, str] = {}


def preset(name: object, seed: object = None) -> list[dict[str, Any]]:
    """The rules of preset ``name``, each seeded with ``seed`` if given."""
    if isinstance(name, str) and name in NOT_YET:
        raise RuleError(f"preset {name}: {NOT_YET[name]}")
    if not isinstance(name, str) or name not in PRESETS:
        names = ", ".join([*PRESETS, *NOT_YET])
        raise RuleError(f"preset: {name!r} is not one of {names}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RuleError("preset: seed must be an integer")
    rules = copy.deepcopy(PRESETS[name])
    if seed is not None:
        for rule in rules:
            rule["seed"] = seed
    return rules
