"""A fault rule: match + when + action, parsed and checked from one object.

The object is the same everywhere (a TOML ``[[faults]]`` table, a JSON body, a Python dict)::

    {"id": "burst429", "layer": "rest",
     "match": {"method": "POST", "path": "/orders", "key": "...", "product": "BTC-USD"},
     "when": {"nth": [3, 4]} | {"every": 10} | {"probability": 0.2}
             | {"from": "+10s", "for": "30s"},
     "max_fires": 2, "action": {"kind": "status", "status": 429}}

``parse`` returns a frozen ``Rule`` or raises ``RuleError`` with one line naming the field;
nothing is half-made. ``when`` may combine a window (``from``/``for``) with one of ``nth``,
``every``, ``probability``; no ``when`` means every matching request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandex.faults.actions import (
    FEED_CHANNELS,
    KINDS_NOT_YET,
    LAYERS,
    MATCH_FIELDS,
    NOT_YET,
    REQUIRED,
    default_message,
)
from sandex.timefmt import parse_duration, parse_iso

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FIELDS = ("id", "layer", "match", "when", "max_fires", "action", "seed")
WHEN_FIELDS = ("nth", "every", "probability", "from", "for")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
NTH_MAX = 1_000_000_000


class RuleError(ValueError):
    """A rule that cannot be installed; the text says which field and why."""


@dataclass(frozen=True, slots=True)
class When:
    nth: frozenset[int] | None = None
    every: int | None = None
    probability: float | None = None
    start: int | None = None  # venue µs, absolute
    start_after: int | None = None  # µs after the rule was added ("+10s")
    length: int | None = None  # µs ("for")


@dataclass(frozen=True, slots=True)
class Rule:
    """A checked rule; ``source`` is its object as listed (defaults filled in)."""

    id: str
    layer: str
    match: tuple[tuple[str, str | re.Pattern[str]], ...]
    when: When
    max_fires: int | None
    kind: str
    params: dict[str, Any]
    seed: int | None
    source: dict[str, Any]


def parse(obj: object, auto_id: str) -> Rule:
    """The rule ``obj`` describes (``auto_id`` when it has no ``id``); ``RuleError`` if not."""
    if not isinstance(obj, dict):
        raise RuleError("a fault rule must be an object (a table in TOML)")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        raise RuleError(f"unknown field(s) {', '.join(unknown)} (a rule has "
                        f"{', '.join(FIELDS)})")
    rule_id = obj.get("id", auto_id)
    if not isinstance(rule_id, str) or not ID.fullmatch(rule_id):
        raise RuleError(f"id: {rule_id!r} is not 1 to 64 letters, digits, '.', '_' or '-'")
    layer = obj.get("layer")
    if layer in NOT_YET:
        raise RuleError(f"layer {layer!r}: {NOT_YET[layer]}")
    if layer not in LAYERS:
        raise RuleError(f"layer: {layer!r} is not one of {', '.join(map(repr, LAYERS))}")
    at = f"rule {rule_id}"
    match = _match(obj.get("match", {}), layer, at)
    when = _when(obj.get("when", {}), at)
    max_fires = obj.get("max_fires")
    if max_fires is not None and (isinstance(max_fires, bool) or not isinstance(max_fires, int)
                                  or max_fires < 1):
        raise RuleError(f"{at}: max_fires must be an integer of at least 1")
    seed = obj.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RuleError(f"{at}: seed must be an integer")
    kind, params = _action(obj.get("action"), layer, at)
    if layer == "engine":
        _engine_when(when, max_fires, at)
    source: dict[str, Any] = {"id": rule_id, "layer": layer,
                              "match": dict(obj.get("match", {})),
                              "when": dict(obj.get("when", {})), "max_fires": max_fires,
                              "action": {"kind": kind, **params}}
    if seed is not None:
        source["seed"] = seed
    return Rule(rule_id, layer, match, when, max_fires, kind, params, seed, source)


def _engine_when(when: When, max_fires: int | None, at: str) -> None:
    """An engine fault is a window on the venue clock: ``when`` is ``from``/``for`` only."""
    if when.length is None or when.nth is not None or when.every is not None \
            or when.probability is not None or max_fires is not None:
        raise RuleError(f"{at}: an engine fault is a window on the venue clock: when needs "
                        "for (and from, default now), and nothing else (no nth, every, "
                        "probability or max_fires)")


def _match(table: object, layer: str, at: str) -> tuple[tuple[str, str | re.Pattern[str]], ...]:
    if not isinstance(table, dict):
        raise RuleError(f"{at}: match must be an object")
    allowed = MATCH_FIELDS[layer]
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise RuleError(f"{at}: match: unknown field(s) {', '.join(unknown)} (a {layer} rule "
                        f"matches on {', '.join(allowed)})")
    found: list[tuple[str, str | re.Pattern[str]]] = []
    for name in allowed:
        if name not in table:
            continue
        value = table[name]
        if not isinstance(value, str) or not value:
            raise RuleError(f"{at}: match.{name} must be a non-empty text")
        if name == "method":
            value = value.upper()
            if value not in METHODS:
                raise RuleError(f"{at}: match.method: {value!r} is not an HTTP method")
        elif name == "channel" and value not in FEED_CHANNELS:
            raise RuleError(f"{at}: match.channel: {value!r} is not one of "
                            f"{', '.join(FEED_CHANNELS)}")
        elif name == "path":
            if not value.startswith("/"):
                raise RuleError(f"{at}: match.path must start with '/'")
            found.append((name, path_pattern(value)))
            continue
        found.append((name, value))
    return tuple(found)


def path_pattern(path: str) -> re.Pattern[str]:
    """``path`` as a regex: ``*`` or ``{name}`` is one segment, ``**`` anything; a trailing
    slash is ignored, as the REST routes ignore it."""
    if len(path) > 1:
        path = path.rstrip("/")
    parts = re.split(r"(\*\*|\*|\{\w+\})", path)
    regex = "".join(".*" if p == "**" else "[^/]+" if p == "*" or p.startswith("{")
                    else re.escape(p) for p in parts)
    return re.compile(f"{regex}/?")


def _when(table: object, at: str) -> When:
    if not isinstance(table, dict):
        raise RuleError(f"{at}: when must be an object")
    unknown = sorted(set(table) - set(WHEN_FIELDS))
    if unknown:
        raise RuleError(f"{at}: when: unknown field(s) {', '.join(unknown)} (one of nth, "
                        "every, probability, and/or a window from/for)")
    chosen = [name for name in ("nth", "every", "probability") if name in table]
    if len(chosen) > 1:
        raise RuleError(f"{at}: when: give one of nth, every, probability (not "
                        f"{' and '.join(chosen)})")
    nth = table.get("nth")
    if nth is not None:
        if isinstance(nth, int) and not isinstance(nth, bool):
            nth = [nth]
        if not isinstance(nth, list) or not nth or not all(
                isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= NTH_MAX
                for n in nth):
            raise RuleError(f"{at}: when.nth must list integers of at least 1 (1 is the "
                            "first matching request)")
        nth = frozenset(nth)
    every = table.get("every")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int)
                              or every < 1):
        raise RuleError(f"{at}: when.every must be an integer of at least 1")
    probability = table.get("probability")
    if probability is not None:
        if isinstance(probability, bool) or not isinstance(probability, int | float) \
                or not 0 <= probability <= 1:
            raise RuleError(f"{at}: when.probability must be a number from 0 to 1, not "
                            f"{probability!r}")
        probability = float(probability)
    start, start_after, length = _window(table, at)
    return When(nth, every, probability, start, start_after, length)


def _window(table: dict[str, Any], at: str) -> tuple[int | None, int | None, int | None]:
    start = start_after = length = None
    begin = table.get("from")
    if begin is not None:
        if not isinstance(begin, str):
            raise RuleError(f"{at}: when.from must be a text: \"+10s\" (after the rule is "
                            "added) or an ISO 8601 time")
        if begin.startswith("+"):
            start_after = _duration(begin[1:], f"{at}: when.from")
        else:
            start = parse_iso(begin)
            if start is None or start <= 0:
                raise RuleError(f"{at}: when.from: {begin!r} is neither \"+<duration>\" nor "
                                "an ISO 8601 time")
    span = table.get("for")
    if span is not None:
        if not isinstance(span, str):
            raise RuleError(f"{at}: when.for must be a duration text like \"30s\"")
        length = _duration(span, f"{at}: when.for")
        if length <= 0:
            raise RuleError(f"{at}: when.for must be longer than 0")
    return start, start_after, length


def _duration(text: str, at: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise RuleError(f"{at}: {exc}") from None


def _action(table: object, layer: str, at: str) -> tuple[str, dict[str, Any]]:
    kinds = LAYERS[layer]
    if not isinstance(table, dict) or "kind" not in table:
        raise RuleError(f"{at}: action must be an object with a kind (a {layer} kind is one "
                        f"of {', '.join(kinds)})")
    kind = table["kind"]
    if isinstance(kind, str) and kind in KINDS_NOT_YET:
        raise RuleError(f"{at}: action.kind: {KINDS_NOT_YET[kind]}")
    fields = kinds.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise RuleError(f"{at}: action.kind: {kind!r} is not a {layer} action (one of "
                        f"{', '.join(kinds)})")
    unknown = sorted(set(table) - {"kind", *fields})
    if unknown:
        takes = ", ".join(fields) or "nothing but kind"
        raise RuleError(f"{at}: action {kind}: unknown field(s) {', '.join(unknown)} (it "
                        f"takes {takes})")
    params: dict[str, Any] = {}
    for name, (check, default) in fields.items():
        if name not in table:
            if default is REQUIRED:
                raise RuleError(f"{at}: action {kind} needs {name}")
            if default is not None:
                params[name] = default
            continue
        try:
            params[name] = check(table[name])
        except ValueError as exc:
            raise RuleError(f"{at}: action {kind}: {name} {exc}") from None
    if layer == "rest" and "status" in params and "message" not in params:
        message = default_message(params["status"])
        if message is None:
            raise RuleError(f"{at}: action {kind}: status {params['status']} needs a "
                            "message (the error table has no text for it)")
        params["message"] = message
    return kind, params
