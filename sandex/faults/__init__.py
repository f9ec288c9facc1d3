"""Fault rules: production faults on demand, the same way every run (docs/testing.md, "Faults").

* ``actions``: each layer's action kinds and their fields, with defaults from the error table.
* ``model``: a rule object (TOML table, JSON body, dict) parsed and checked into a ``Rule``.
* ``rules``: a venue's rules in order, their counters and seeded streams, the firing log.
* ``presets``: named sets of rules.
* ``engine``: the engine layer's rules as windows on the node's scheduler.

Rules are configuration, never journaled. REST and feed rules change only what a client sees
(an HTTP reply, a WebSocket frame); their gateways execute them (``sandex.api.rest.faults``,
``sandex.api.feed.faults``). An engine rule changes the venue, so what it does is journaled:
``set_product_status`` (or, halting matching, ``set_matching``) commands at its window's
edges.
"""

from sandex.faults.model import Rule, RuleError
from sandex.faults.presets import PRESETS, preset
from sandex.faults.rules import LOG_MAX, RULES_MAX, Armed, FaultSet, faults_of

__all__ = ["LOG_MAX", "PRESETS", "RULES_MAX", "Armed", "FaultSet", "Rule", "RuleError",
           "faults_of", "preset"]
