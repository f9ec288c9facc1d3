"""A venue's fault rules: kept in order, each with its own counter and random stream, and the
log of every firing.

Rules change what clients see, never the venue's state, so they are not journaled (a replay
never sees them); they live in memory beside the node (``faults_of(node)``). A gateway asks
``fire(rules, target)`` for each request, frame or subscribe its layer handles: every rule
whose ``match`` accepts the target counts it (1, 2, 3, ...) and, for a ``probability``, draws
once from its own stream seeded by ``(seed, rule id)``; the first rule in order whose ``when``
then holds fires. A rule's counter and draws depend only on the targets it matches, so adding
a rule never changes when another one would fire (an earlier rule can only shadow it).
"""

from __future__ import annotations

import random
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from sandex.faults.model import Rule, RuleError, parse
from sandex.node import Node
from sandex.timefmt import iso

LOG_MAX = 1_000
"""Firings kept in the log (a ring: the oldest go first)."""
RULES_MAX = 256
"""Rules one venue holds at once."""

Target = Callable[[str], str | tuple[str, ...] | None]
"""What a gateway knows of a request or frame: the value of a match field (or the values,
any of which may match: a subscribe's channels), or ``None``."""


class Armed:
    """A rule as installed: its counter of matching targets, its firings and random stream."""

    __slots__ = ("added_at", "fired", "matched", "order", "random", "rule")

    def __init__(self, rule: Rule, added_at: int, venue_seed: int | None, order: int) -> None:
        self.rule = rule
        self.added_at = added_at
        self.order = order  # the how-manieth rule added
        self.matched = 0
        self.fired = 0
        seed = rule.seed if rule.seed is not None else venue_seed or 0
        self.random = random.Random(f"{seed}/{rule.id}")

    def matches(self, target: Target) -> bool:
        for name, wanted in self.rule.match:
            value = target(name)
            if value is None:
                return False
            values = (value,) if isinstance(value, str) else value
            if isinstance(wanted, str):
                if wanted not in values:
                    return False
            elif not any(wanted.fullmatch(v) for v in values):
                return False
        return True

    def counts(self, now: int) -> bool:
        """Count one matching target; whether the rule fires on it."""
        self.matched += 1
        when, n = self.rule.when, self.matched
        draw = self.random.random() if when.probability is not None else 0.0
        start = when.start if when.start is not None else self.added_at + (when.start_after or 0)
        if now < start or (when.length is not None and now >= start + when.length):
            return False
        if self.rule.max_fires is not None and self.fired >= self.rule.max_fires:
            return False
        if when.nth is not None:
            return n in when.nth
        if when.every is not None:
            return n % when.every == 0
        if when.probability is not None:
            return draw < when.probability
        return True


class FaultSet:
    """The rules of one venue, by layer, in the order they were added; the firing log.

    ``layer(name)`` is the list a gateway keeps and tests for emptiness on its hot path (it is
    changed in place, never replaced). ``listeners`` are called after every change.
    """

    def __init__(self, now: Callable[[], int], seed: Callable[[], int | None]) -> None:
        self._now = now
        self._seed = seed
        self._layers: dict[str, list[Armed]] = {}
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_MAX)
        self._fired = 0
        self._added = 0
        self.baseline: list[object] = []  # the scenario's rules: what reset puts back
        self.listeners: list[Callable[[], None]] = []
        self.on_fire: Callable[[dict[str, Any]], None] | None = None  # test mode: traces

    def layer(self, name: str) -> list[Armed]:
        return self._layers.setdefault(name, [])

    def _all(self) -> list[Armed]:
        return [armed for rules in self._layers.values() for armed in rules]

    # -- changes -------------------------------------------------------------------------------
    def add(self, obj: object) -> dict[str, Any]:
        """Install one rule after the others; ``RuleError`` (nothing changed) if it is bad or
        its id is taken. Returns the rule as listed."""
        rule = parse(obj, f"rule-{self._added + 1}")
        present = self._all()
        if any(armed.rule.id == rule.id for armed in present):
            raise RuleError(f"a fault rule with id {rule.id!r} exists: clear it first")
        if len(present) >= RULES_MAX:
            raise RuleError(f"at most {RULES_MAX} fault rules are kept: clear some first")
        armed = Armed(rule, self._now(), self._seed(), self._added)
        self.layer(rule.layer).append(armed)
        self._added += 1
        self._changed()
        return self._listed(armed)

    def replace(self, obj: object) -> dict[str, Any]:
        """Put ``obj`` in place of the installed rule with its id (same place in the order,
        counters and random stream anew); ``RuleError`` (nothing changed) if it is bad or no
        rule has its id. Returns the rule as listed."""
        rule_id = obj.get("id") if isinstance(obj, dict) else None
        old = next((armed for armed in self._all() if armed.rule.id == rule_id), None)
        if old is None:
            raise RuleError(f"no fault rule has id {rule_id!r} (replace needs the id of an "
                            "installed rule)")
        rule = parse(obj, old.rule.id)
        armed = Armed(rule, self._now(), self._seed(), old.order)
        self.layer(old.rule.layer).remove(old)
        rules = self.layer(rule.layer)
        rules.append(armed)
        rules.sort(key=lambda each: each.order)  # first match wins: keep the order of adding
        self._changed()
        return self._listed(armed)

    def add_all(self, objs: list[object]) -> list[dict[str, Any]]:
        """Install several rules, all or none."""
        before = {name: list(rules) for name, rules in self._layers.items()}
        added = self._added
        try:
            return [self.add(obj) for obj in objs]
        except RuleError:
            for name, rules in self._layers.items():
                rules[:] = before.get(name, [])
            self._added = added
            self._changed()
            raise

    def clear(self, rule_id: str | None = None) -> list[str]:
        """Remove every rule, or the one with ``rule_id`` (``RuleError`` if none has it)."""
        if rule_id is None:
            cleared = [armed.rule.id for armed in self._all()]
            for rules in self._layers.values():
                rules.clear()
        else:
            cleared = []
            for rules in self._layers.values():
                for armed in list(rules):
                    if armed.rule.id == rule_id:
                        rules.remove(armed)
                        cleared.append(rule_id)
            if not cleared:
                raise RuleError(f"no fault rule has id {rule_id!r}")
        self._changed()
        return cleared

    def start_with(self, rules: list[object]) -> None:
        """Make ``rules`` (the scenario's ``[[faults]]``) the ones a reset puts back, and
        install them now in place of any (``RuleError`` if one is bad: none installed)."""
        self.baseline = list(rules)
        self.reset()

    def reset(self) -> None:
        """Back to the scenario's rules, counters at zero, the log empty (what the admin
        ``reset`` does)."""
        self.clear()
        self._log.clear()
        self._added = 0
        self.add_all(list(self.baseline))

    def _changed(self) -> None:
        for listener in self.listeners:
            listener()

    # -- reading -------------------------------------------------------------------------------
    def rules(self) -> list[dict[str, Any]]:
        """Every rule in order of addition, with how often it matched and fired."""
        ordered = sorted(self._all(), key=lambda armed: armed.order)
        return [self._listed(armed) for armed in ordered]

    @staticmethod
    def _listed(armed: Armed) -> dict[str, Any]:
        return {**armed.rule.source, "matched": armed.matched, "fired": armed.fired}

    def ids(self) -> set[str]:
        return {armed.rule.id for armed in self._all()}

    def log(self) -> list[dict[str, Any]]:
        """The firings kept (at most ``LOG_MAX``), oldest first."""
        return list(self._log)

    # -- firing --------------------------------------------------------------------------------
    def fire(self, rules: list[Armed], target: Target,
             where: Callable[[], dict[str, Any]]) -> Armed | None:
        """The rule of ``rules`` that fires on ``target`` (logged with ``where()``), if any."""
        now = self._now()
        chosen = None
        for armed in rules:
            if armed.matches(target) and armed.counts(now) and chosen is None:
                chosen = armed
        if chosen is not None:
            chosen.fired += 1
            self._fired += 1
            entry = {"n": self._fired, "rule": chosen.rule.id, "time": iso(now),
                     "layer": chosen.rule.layer, "action": chosen.rule.kind, **where()}
            self._log.append(entry)
            if self.on_fire is not None:
                self.on_fire(entry)
        return chosen

    def record(self, armed: Armed, at: int, detail: dict[str, Any]) -> None:
        """Log a firing the venue clock made (an engine fault's window edge, at ``at``)."""
        armed.fired += 1
        self._fired += 1
        self._log.append({"n": self._fired, "rule": armed.rule.id, "time": iso(at),
                          "layer": armed.rule.layer, "action": armed.rule.kind, **detail})

    def note(self, armed: Armed, detail: str) -> None:
        """Add ``detail`` to the log entry of ``armed``'s latest firing."""
        for entry in reversed(self._log):
            if entry["rule"] == armed.rule.id:
                entry["detail"] = detail
                return


_SETS: weakref.WeakKeyDictionary[Node, FaultSet] = weakref.WeakKeyDictionary()


def faults_of(node: Node) -> FaultSet:
    """The fault rules of the venue around ``node`` (made empty on first use)."""
    found = _SETS.get(node)
    if found is None:
        ref = weakref.ref(node)

        def now() -> int:
            alive = ref()
            return alive.now() if alive is not None else 0

        def seed() -> int | None:
            alive = ref()
            return alive.ids.seed if alive is not None else None

        found = _SETS[node] = FaultSet(now, seed)
    return found
