"""The node: the single writer in front of the core, and the journal's group commit.

It stamps each command with a strictly increasing time (so times double as unique cursors),
applies it to the core or the key registry, and feeds the read models. ``execute`` is the
one entry point for adapters: it applies the command at once, then holds the reply until the
command is durable. Commands that arrive while a batch is being written form the next batch,
so one fsync covers many commands; the write runs on a writer thread, never on the event
loop. Listeners (the feed) see a command's events only after its batch is durable, in order.

A refused command (a lone ``Rejected``) changed nothing, so it is neither journaled nor held;
a ``Duplicate`` (an exactly-once retry) changed nothing either, but its answer waits until
the original order is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sandex.auth.keys import KeyRegistry
from sandex.core import (
    Command,
    Duplicate,
    Engine,
    Event,
    LedgerEntry,
    Matched,
    Rejected,
)
from sandex.core import image as core_image
from sandex.errors import Error
from sandex.journal import Journal, NullJournal
from sandex.node import image
from sandex.node.clock import Clock, SystemClock
from sandex.node.codec import encode
from sandex.node.commands import CreateApiKey, KeyCreated, KeyRevoked, RevokeApiKey
from sandex.node.ids import Ids
from sandex.views import FillsView, LedgerView, MarketView, OrdersView
from sandex.views import image as views_image

Listener = Callable[[list[Event]], None]
log = logging.getLogger("sandex.node")


class JournalFailed(RuntimeError):
    """The journal could not be written: memory is ahead of disk, so the node stops."""


class Node:
    """Engine, keys and read models, changed only through ``apply``/``execute``."""

    def __init__(self, clock: Clock | None = None, ids: Ids | None = None,
                 journal: Journal | None = None) -> None:
        self.clock = clock if clock is not None else SystemClock()
        self.ids = ids if ids is not None else Ids()
        self.journal: Journal = journal if journal is not None else NullJournal()
        self.engine = Engine()
        self.keys = KeyRegistry()
        self.fills = FillsView()
        self.ledger = LedgerView()
        self.market = MarketView()
        self.orders = OrdersView(self.engine)
        self._last_time = 0
        self.position = 0  # the last command applied (replay moves it to the journal's end)
        self.durable_position = 0  # the last command on disk
        self.snapshot_position = 0  # the position of the newest snapshot written or loaded
        self.listeners: list[Listener] = []  # called with each durable command's events
        self.failure: BaseException | None = None
        self.on_failure: Callable[[BaseException], None] | None = None
        self._records: list[bytes] = []  # the batch filling up
        self._events: list[list[Event]] = []
        # Who waits for the batch filling up, and for the batch on the writer thread: one
        # future per waiter, so a canceled request cancels only its own wait.
        self._filling: list[asyncio.Future[None]] | None = None
        self._writing: list[asyncio.Future[None]] | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sandex-journal")
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0  # group commits written (commands per fsync = position / batches)

    # -- time ---------------------------------------------------------------------------------
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

    # -- writing ------------------------------------------------------------------------------
    async def execute(self, command: Command) -> list[Event]:
        """Apply ``command``; return its events once it is durable."""
        if self.failure is not None:
            raise JournalFailed("the journal failed; the node accepts nothing more")
        events = self.apply(command)
        if events:
            kind = type(events[0])
            if kind is Rejected:
                return events  # changed nothing
            if kind is Duplicate:
                await self.synced()  # the retry's answer waits for the original order
                return events
        if not self.journal.blocking:  # in memory: no I/O to wait for, no batch to form
            self.position = self.durable_position = self.journal.append([encode(command)])
            self._notify([events])
            return events
        self.position += 1
        self._records.append(encode(command))
        self._events.append(events)
        await self._wait(new_records=True)
        return events

    def _wait(self, new_records: bool) -> asyncio.Future[None]:
        """A future resolved when the newest batch is durable: the one filling up (which
        ``new_records`` have just joined; started, with the writer loop, if need be), else
        the one being written."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if self._filling is not None:
            self._filling.append(waiter)
        elif self._writing is not None and not new_records:
            self._writing.append(waiter)
        else:
            self._filling = [waiter]
            if self._writing is None:
                self._flusher = loop.create_task(self._flush())
        return waiter

    def record(self, command: Command) -> list[Event]:
        """Apply and journal ``command`` synchronously (start-up and offline administration)."""
        if self._filling is not None or self._writing is not None:
            raise RuntimeError("record() while a group commit is in flight")
        events = self.apply(command)
        if not events or type(events[0]) not in (Rejected, Duplicate):
            self.journal.append([encode(command)])
            self.position = self.durable_position = self.journal.last_position
            self._notify([events])
        return events

    async def _flush(self) -> None:
        """Write batches until none is left; release each batch's replies and events."""
        loop = asyncio.get_running_loop()
        while self._filling is not None:
            waiters, records, events = self._filling, self._records, self._events
            self._writing, self._filling, self._records, self._events = waiters, None, [], []
            try:
                await loop.run_in_executor(self._writer, self.journal.append, records)
            except BaseException as exc:  # disk full, I/O error: stop rather than diverge
                self._fail(exc)
                return
            self.durable_position += len(records)
            self.batches += 1
            self._writing = None
            self._notify(events)
            for waiter in waiters:
                if not waiter.done():  # a waiter whose request was canceled
                    waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.failure = exc
        error = JournalFailed(f"journal write failed: {exc!r}")
        for waiters in (self._writing, self._filling):
            for waiter in waiters or ():
                if not waiter.done():
                    waiter.set_exception(error)
        self._writing = self._filling = None  # nothing is in flight any more: it failed
        if self.on_failure is not None:
            self.on_failure(exc)

    def _notify(self, batches: list[list[Event]]) -> None:
        for listener in self.listeners:
            try:
                for events in batches:
                    listener(events)
            except Exception:  # a listener's bug must not stall the commit loop
                log.exception("listener %r failed", listener)

    @property
    def in_flight(self) -> bool:
        """Whether some applied command is not yet durable."""
        return self._filling is not None or self._writing is not None

    async def synced(self) -> None:
        """Wait until every command applied so far is durable (and its events delivered)."""
        if self.in_flight:
            await self._wait(new_records=False)

    async def close(self) -> None:
        """Finish the batch in flight and release the journal."""
        if self.failure is None:
            await self.synced()
        self._writer.shutdown(wait=True)
        self.journal.close()

    # -- applying -----------------------------------------------------------------------------
    def apply(self, command: Command) -> list[Event]:
        """Apply ``command`` to memory only (replay, and the first half of ``execute``)."""
        kind = type(command)
        if kind is CreateApiKey or kind is RevokeApiKey:
            return self._apply_key(command)  # type: ignore[arg-type]
        if command.time > self._last_time:
            self._last_time = command.time
        events = self.engine.apply(command)
        for event in events:
            kind = type(event)
            if kind is LedgerEntry:
                self.ledger.on_entry(event)  # type: ignore[arg-type]
            elif kind is Matched:
                self.ledger.on_match(event, self.engine.products[event.product_id])  # type: ignore[arg-type, attr-defined]
                self.fills.on_match(event)  # type: ignore[arg-type]
                self.market.on_match(event)  # type: ignore[arg-type]
        self.orders.on_events(events)
        return events

    def _apply_key(self, command: CreateApiKey | RevokeApiKey) -> list[Event]:
        if command.time > self._last_time:
            self._last_time = command.time
        if isinstance(command, RevokeApiKey):
            if not self.keys.revoke(command.key):
                return [Rejected(Error.INVALID_API_KEY.name, Error.INVALID_API_KEY.format())]
            return [KeyRevoked(command.time, command.key)]  # type: ignore[list-item]
        if command.profile_id not in self.engine.profiles:
            return [Rejected(Error.PROFILE_NOT_FOUND.name, Error.PROFILE_NOT_FOUND.format())]
        try:
            self.keys.add(command.key, command.secret, command.passphrase_hash, command.salt,
                          command.permissions, command.profile_id, command.time, command.kdf)
        except ValueError as exc:
            return [Rejected(Error.INVALID_FIELD.name, Error.INVALID_FIELD.format(f"key: {exc}"))]
        return [KeyCreated(command.time, command.key, command.profile_id)]  # type: ignore[list-item]

    # -- snapshots ----------------------------------------------------------------------------
    def dump_state(self) -> bytes:
        """Everything replay would rebuild, as of ``position``: a ``NodeImage`` document."""
        return image.encode(image.export(
            self.engine, self.keys, self.fills, self.ledger, self.market, self.orders,
            self._last_time))

    def load_state(self, data: bytes, position: int) -> None:
        """Take the state of a ``dump_state`` document at ``position``; raise (changing
        nothing) if it does not decode or is inconsistent."""
        state = image.decode(data)
        engine = core_image.restore(state.engine)
        keys = image.restore_keys(state.keys)
        fills, ledger, market, orders = views_image.restore(state.views, engine)
        (self.engine, self.keys, self.fills, self.ledger, self.market, self.orders,
         self._last_time) = engine, keys, fills, ledger, market, orders, state.last_time
        self.position = self.durable_position = position
