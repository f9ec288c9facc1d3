"""The node: the single writer in front of the core.

It stamps each command with a strictly increasing time (so times double as unique cursors),
applies it to the core or the key registry, and feeds the read models. ``execute`` is the
one entry point for adapters; it is a coroutine so the journal's group commit (which releases
replies only once their command is durable) slots in without changing any caller.
"""

from __future__ import annotations

from sandex.auth.keys import KeyRegistry
from sandex.core import (
    Command,
    Engine,
    Event,
    LedgerEntry,
    Matched,
    Rejected,
)
from sandex.errors import Error
from sandex.node.clock import Clock, SystemClock
from sandex.node.commands import CreateApiKey, KeyCreated, KeyRevoked, RevokeApiKey
from sandex.node.ids import Ids
from sandex.views import FillsView, LedgerView, MarketView, OrdersView


class Node:
    """Engine, keys and read models, changed only through ``apply``/``execute``."""

    def __init__(self, clock: Clock | None = None, ids: Ids | None = None) -> None:
        self.clock = clock if clock is not None else SystemClock()
        self.ids = ids if ids is not None else Ids()
        self.engine = Engine()
        self.keys = KeyRegistry()
        self.fills = FillsView()
        self.ledger = LedgerView()
        self.market = MarketView()
        self.orders = OrdersView(self.engine)
        self._last_time = 0

    def stamp(self) -> int:
        """The time for the next command: now, but always after the previous stamp."""
        now = self.clock.now_us()
        if now <= self._last_time:
            now = self._last_time + 1
        self._last_time = now
        return now

    def now(self) -> int:
        """The current time for reads (never earlier than the last stamp)."""
        return max(self.clock.now_us(), self._last_time)

    async def execute(self, command: Command) -> list[Event]:
        """Apply ``command`` and return its events."""
        return self.apply(command)

    def apply(self, command: Command) -> list[Event]:
        kind = type(command)
        if kind is CreateApiKey or kind is RevokeApiKey:
            return self._apply_key(command)  # type: ignore[return-value]
        if command.time > self._last_time:
            self._last_time = command.time
        events = self.engine.apply(command)
        for event in events:
            kind = type(event)
            if kind is LedgerEntry:
                self.ledger.on_entry(event)  # type: ignore[arg-type]
            elif kind is Matched:
                self.fills.on_match(event)  # type: ignore[arg-type]
                self.market.on_match(event)  # type: ignore[arg-type]
        self.orders.on_events(events)
        return events

    def _apply_key(self, command: CreateApiKey | RevokeApiKey) -> list[object]:
        if isinstance(command, RevokeApiKey):
            if not self.keys.revoke(command.key):
                return [Rejected(Error.INVALID_API_KEY.name, Error.INVALID_API_KEY.format())]
            return [KeyRevoked(command.time, command.key)]
        if command.profile_id not in self.engine.profiles:
            return [Rejected(Error.PROFILE_NOT_FOUND.name, Error.PROFILE_NOT_FOUND.format())]
        try:
            self.keys.add(command.key, command.secret, command.passphrase_hash, command.salt,
                          command.permissions, command.profile_id, command.time)
        except ValueError as exc:
            return [Rejected(Error.INVALID_FIELD.name, Error.INVALID_FIELD.format(f"key: {exc}"))]
        return [KeyCreated(command.time, command.key, command.profile_id)]
