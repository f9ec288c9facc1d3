"""Race controls: the gate in front of the sequencer, reply holds and feed-frame holds.

In memory only, one ``Races`` per node (``races_of``), shared by the gateways that hold and
the admin commands that list and release (``docs/testing.md``, "Races"):

* ``gate``: requests matching a rule wait *before* their command is stamped, so nothing of
  theirs is applied or journaled; a release lets them on in the order given, so the release
  order is the journal order and a replay reproduces the interleaving.
* ``replies``: requests matching a rule are applied at once; their HTTP answer waits.
* ``feed``: frames for matching WebSocket connections stay queued until released.

A restore (so a reset) ends every hold: held requests are answered 503 without being applied,
held replies and frames go out, and every rule is dropped. Nothing here is journaled: only
the commands the holds let through are, in the order they went.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandex.core import Event
from sandex.node import Batched, Node, Restored, RestoreWatch

HELD_MAX = 256
"""Requests held at once by the gate (and replies by the reply holds); the gate refuses more
with 503, the reply holds answer more at once."""

REQUEST_TYPES = ("place", "cancel", "cancel_all")
MATCH_FIELDS = ("type", "order_id", "client_oid", "key", "profile", "product_id")
FEED_MATCH_FIELDS = ("connection", "key", "profile")

Facts = dict[str, str | None]
"""What a request is, for matching: a value (or ``None``) per name of ``MATCH_FIELDS``."""


class RaceError(ValueError):
    """Bad input to a race control; the text is one line for the user."""


def parse_match(match: object, fields: tuple[str, ...] = MATCH_FIELDS) -> dict[str, str]:
    """A match rule as given (``{"type": "cancel", "order_id": ...}``), checked: every field
    known, every value a non-empty text; ids and client_oids lower-cased as REST does."""
    if match is None:
        match = {}
    if not isinstance(match, dict):
        raise RaceError("match must be an object of " + ", ".join(fields))
    rule: dict[str, str] = {}
    for name, value in match.items():
        if name not in fields:
            raise RaceError(f"match: unknown field {name!r} (one of {', '.join(fields)})")
        if name == "connection" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise RaceError(f"match.{name} must be a non-empty text")
        value = value.strip()
        if name == "type" and value not in REQUEST_TYPES:
            raise RaceError(f"match.type: {value!r} is not one of {', '.join(REQUEST_TYPES)}")
        rule[name] = value.lower() if name in ("order_id", "client_oid") else value
    return rule


@dataclass(eq=False)
class Held:
    """One held request (or reply): what listings show, and the future that frees it."""

    id: int
    method: str
    path: str
    facts: Facts
    summary: str
    arrived: float = field(default_factory=time.monotonic)
    freed: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    passed: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    how: str = "held"  # how it was freed (traces): "release ids|n|all", "open", "restore", ...

    def json(self) -> dict[str, Any]:
        facts = self.facts
        return {"id": self.id, "method": self.method, "path": self.path, "key": facts["key"],
                "client_oid": facts["client_oid"], "order_id": facts["order_id"],
                "summary": self.summary,
                "waited_ms": round((time.monotonic() - self.arrived) * 1000, 3)}


class Holds:
    """Rules (any one matching holds) and what they hold, in arrival order."""

    def __init__(self, ids: Iterable[int], on_change: Callable[[], None]) -> None:
        self.rules: list[dict[str, str]] = []
        self.held: dict[int, Held] = {}  # arrival order
        self._ids = iter(ids)
        self._on_change = on_change

    def close(self, match: object) -> None:
        """Hold what ``match`` matches too (``{}``: every order request)."""
        rule = parse_match(match)
        if rule not in self.rules:
            self.rules.append(rule)
        self._on_change()

    def matches(self, facts: Facts) -> bool:
        return any(all(facts.get(name) == value for name, value in rule.items())
                   for rule in self.rules)

    def full(self) -> bool:
        return len(self.held) >= HELD_MAX

    def admit(self, method: str, path: str, facts: Facts, summary: str) -> Held:
        held = Held(next(self._ids), method, path, facts, summary)
        self.held[held.id] = held
        return held

    async def wait(self, held: Held, disconnected: Awaitable[Any] | None) -> bool:
        """Wait until ``held`` is freed: ``True`` if released, ``False`` if dropped (a
        restore, or the client went away: it leaves the list then)."""
        watcher = asyncio.ensure_future(disconnected) if disconnected is not None else None
        try:
            # One path for every waiter (same number of loop hops), so waiters resume in the
            # order they were freed: the release order is the order they reach the sequencer.
            await asyncio.wait([held.freed] if watcher is None else [held.freed, watcher],
                               return_when=asyncio.FIRST_COMPLETED)
            if not held.freed.done():
                self.held.pop(held.id, None)
                held.how = "client gone"
                return False
            return held.freed.result()
        finally:
            if watcher is not None:
                watcher.cancel()
            if not held.passed.done():
                held.passed.set_result(None)

    def pick(self, ids: object = None, n: object = None, all: object = False) -> list[Held]:
        """The held entries a release names, in release order, checked before any is freed:
        ``ids`` (in the order given), ``n`` (the oldest n) or ``all``; exactly one."""
        given = [name for name, value in (("ids", ids), ("n", n), ("all", all))
                 if value is not None and value is not False]
        if len(given) != 1:
            raise RaceError("give exactly one of ids, n or all")
        if all is not False:
            if all is not True:
                raise RaceError("all must be true")
            return list(self.held.values())
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise RaceError(f"n must be a whole number >= 1, not {n!r}")
            return list(self.held.values())[:n]
        if not isinstance(ids, list) or not ids:
            raise RaceError("ids must be a non-empty list of held ids")
        picked: list[Held] = []
        for given_id in ids:
            held = self.held.get(given_id) if isinstance(given_id, int) else None
            if held is None:
                raise RaceError(f"no held request has id {given_id!r} (see the held list)")
            if held in picked:
                raise RaceError(f"id {given_id} is given twice")
            picked.append(held)
        return picked

    def free(self, picked: list[Held], released: bool = True, how: str = "open") -> list[Held]:
        """Free ``picked`` in that order (``released``: they go on; else they are dropped),
        saying ``how`` (traces show it)."""
        for held in picked:
            del self.held[held.id]
            held.how = how
            held.freed.set_result(released)
        return picked

    def open(self) -> list[Held]:
        """Stop holding; release everything held, in arrival order."""
        self.rules.clear()
        self._on_change()
        return self.free(list(self.held.values()))

    def state(self) -> dict[str, Any]:
        return {"closed": bool(self.rules), "matches": [dict(r) for r in self.rules],
                "held": [held.json() for held in self.held.values()]}


class FeedHolds:
    """Rules naming WebSocket connections (by id, API key or profile) whose frames wait.

    The feed registers ``wake`` (called when a rule goes, so held writers send again) and
    ``connections`` (each open connection as ``{"connection", "key", "profile", "client",
    "queued"}``) when it starts on the node."""

    def __init__(self) -> None:
        self.rules: list[dict[str, str]] = []
        self.wake: Callable[[], None] = lambda: None
        self.connections: Callable[[], list[dict[str, Any]]] = list

    def holds(self, connection: int, key: str | None, profile: str | None) -> bool:
        facts = {"connection": str(connection), "key": key, "profile": profile}
        return any(all(facts[name] == value for name, value in rule.items())
                   for rule in self.rules)

    def hold(self, match: object) -> None:
        rule = parse_match(match, FEED_MATCH_FIELDS)
        if not rule:
            raise RaceError("feed.hold needs connection, key or profile")
        if rule not in self.rules:
            self.rules.append(rule)

    def release(self, match: object = None, all: object = False) -> None:
        """Drop the rule ``match`` (as given to ``hold``), or every rule with ``all``."""
        if all is True and match is None:
            self.rules.clear()
        elif all is False or all is None:
            rule = parse_match(match, FEED_MATCH_FIELDS)
            if rule not in self.rules:
                raise RaceError(f"no feed hold matches {rule} (see feed.held)")
            self.rules.remove(rule)
        else:
            raise RaceError("give a match, or all: true")
        self.wake()

    def state(self) -> dict[str, Any]:
        held = [c for c in self.connections()
                if self.holds(c["connection"], c["key"], c["profile"])]
        return {"matches": [dict(r) for r in self.rules], "held": held}


Injector = Callable[[str, str, dict[str, Any]], Awaitable[tuple[int, Any]]]
"""``(profile_id, kind, args) -> (status, body)``: run one order request as ``profile_id``
past the gate (registered by the REST gateway)."""


class Races:
    """The race controls of one node. ``active`` is true while any rule holds requests or
    replies: the REST gateway looks at nothing else while it is false."""

    def __init__(self, restores: RestoreWatch | None = None) -> None:
        ids = itertools.count(1)
        self.restores = restores  # which commands of a commit restored (else: look at each)
        self.active = False
        self.gate = Holds(ids, self._changed)
        self.replies = Holds(ids, self._changed)
        self.feed = FeedHolds()
        self.inject: Injector | None = None

    def _changed(self) -> None:
        self.active = bool(self.gate.rules or self.replies.rules)

    def on_events(self, events: list[Event]) -> None:
        """The node listener: a restore ends every hold (see the module docstring)."""
        if events and type(events[0]) is Restored:
            self.gate.rules.clear()
            self.gate.free(list(self.gate.held.values()), released=False, how="restore")
            self.replies.open()
            self.feed.release(all=True)
            self._changed()

    def on_batch(self, batches: list[list[Event]]) -> None:
        """``on_events`` for a whole group commit (``sandex.node.Batched``)."""
        if self.restores is not None:  # one test per commit that holds no restore
            batches = self.restores.restores(batches)
        for events in batches:
            if events and type(events[0]) is Restored:
                self.on_events(events)


_RACES: weakref.WeakKeyDictionary[Node, Races] = weakref.WeakKeyDictionary()


def races_of(node: Node) -> Races:
    """The race controls of ``node``, made (and listening to it) on first use."""
    races = _RACES.get(node)
    if races is None:
        races = _RACES[node] = Races(RestoreWatch(node))
        node.listeners.append(Batched(races.on_batch))
    return races


# -- the admin commands (``sandex.admin.ops``) -----------------------------------------------------
def _only(args: dict[str, Any], *names: str) -> None:
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise RaceError(f"unknown argument {unknown[0]!r} (expected: "
                        f"{', '.join(names) or 'none'})")


async def _freed(node: Node, holds: Holds, picked: list[Held]) -> dict[str, Any]:
    """Once each freed request has gone on (stamped and applied, or answered) and what it
    applied is durable: the ids in release order and the holds' new state."""
    for held in picked:
        await held.passed
    await node.synced()
    return {"released": [held.id for held in picked], **holds.state()}


def _holds_commands(which: Callable[[Races], Holds]) -> dict[str, Callable[..., Any]]:
    async def close(node: Node, args: dict[str, Any]) -> Any:
        _only(args, "match")
        holds = which(races_of(node))
        holds.close(args.get("match"))
        return holds.state()

    async def held(node: Node, args: dict[str, Any]) -> Any:
        _only(args)
        return which(races_of(node)).state()

    async def release(node: Node, args: dict[str, Any]) -> Any:
        _only(args, "ids", "n", "all")
        holds = which(races_of(node))
        picked = holds.pick(args.get("ids"), args.get("n"), args.get("all", False))
        how = "release " + next(name for name in ("ids", "n") if args.get(name) is not None) \
            if args.get("all") in (None, False) else "release all"
        return await _freed(node, holds, holds.free(picked, how=how))

    async def open_(node: Node, args: dict[str, Any]) -> Any:
        _only(args)
        holds = which(races_of(node))
        return await _freed(node, holds, holds.open())

    return {"close": close, "held": held, "release": release, "open": open_}


GATE = _holds_commands(lambda races: races.gate)
REPLIES = _holds_commands(lambda races: races.replies)


async def feed_hold(node: Node, args: dict[str, Any]) -> Any:
    _only(args, "match")
    feed = races_of(node).feed
    feed.hold(args.get("match"))
    return feed.state()


async def feed_held(node: Node, args: dict[str, Any]) -> Any:
    _only(args)
    return races_of(node).feed.state()


async def feed_release(node: Node, args: dict[str, Any]) -> Any:
    _only(args, "match", "all")
    feed = races_of(node).feed
    feed.release(args.get("match"), args.get("all", False))
    return feed.state()


INJECT_KINDS = ("place", "cancel", "cancel_all")


async def inject(node: Node, args: dict[str, Any]) -> Any:
    """Run ``command`` (``{"place": {POST /orders body}}``, ``{"cancel": {"order_id",
    "product_id"?}}`` or ``{"cancel_all": {"product_id"?}}``) as ``profile``, past the gate;
    the answer is REST's body, a refusal REST's message."""
    _only(args, "profile", "command")
    profile = args.get("profile")
    if not isinstance(profile, str) or profile not in node.engine.profiles:
        raise RaceError(f"profile {profile} not found")
    command = args.get("command")
    if not isinstance(command, dict) or len(command) != 1:
        raise RaceError("command must be one of {\"place\": {...}}, {\"cancel\": {...}}, "
                        "{\"cancel_all\": {...}}")
    (kind, body), = command.items()
    if kind not in INJECT_KINDS or not isinstance(body, dict):
        raise RaceError(f"command: {kind!r} is not one of {', '.join(INJECT_KINDS)} with an "
                        "object of its fields")
    injector = races_of(node).inject
    if injector is None:
        raise RaceError("inject needs a running server")
    try:
        status, answer = await injector(profile, kind, body)
    except ValueError as exc:
        raise RaceError(str(exc)) from None
    if status >= 400:
        raise RaceError(answer.get("message", f"HTTP {status}") if isinstance(answer, dict)
                        else f"HTTP {status}")
    return answer
