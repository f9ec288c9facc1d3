"""A venue's replay: load a recording, run it on the venue clock or as fast as it commits,
pause, step, seek forward, report where it is, unload.

The controller reads the file (``sandex.replay.sources``), maps each event to actions
(``sandex.replay.mapping``) and hands them to the node as ``ReplayBatch`` commands, which
the core applies (``sandex.core.replay``) and the journal keeps, actions and all: a crash,
``sandex verify`` or a restore never needs the file again to rebuild the venue. Only going
on does: after a restart or a restore the controller reopens the file (same sha256, or it
refuses) and skips the events already applied, paused.

Speeds: ``clock`` puts each event at its source time on the venue clock (anchored when the
replay starts or resumes: now is the next event's time), fired by the node's scheduler like
every timer, so a virtual clock's rate, freeze and ``advance`` drive it; ``max`` applies
batches back to back, as fast as they commit, the event loop free between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import msgspec

from sandex.core import (
    Command,
    EndReplay,
    Event,
    Rejected,
    ReplayBatch,
    StartReplay,
)
from sandex.node import Node
from sandex.node.commands import Restored
from sandex.node.scheduler import Firing, Results
from sandex.replay.mapping import Scale
from sandex.replay.products import read_products
from sandex.replay.sources import FORMATS, Source, SourceError, open_source, sha256_of
from sandex.replay.stream import Mapped, MappedStream, ProcessStream, StreamError, open_stream
from sandex.timefmt import iso, parse_iso
from sandex.units import PRICE_DECIMALS

log = logging.getLogger("sandex.replay")

BATCH_EVENTS = 2_000  # source events per ReplayBatch (one journal record)
IN_FLIGHT = 3  # batches applied but not yet durable, at full speed
SPEEDS = ("clock", "max")
_ACTIONS_OF, _TRADE_OF = itemgetter(0), itemgetter(1)  # of a ``Mapped`` event
LOAD_ARGS = frozenset({"source", "format", "products", "price_scale", "size_scale", "speed",
                       "cancel_from", "create_products_from", "start"})


class ReplayError(ValueError):
    """Bad arguments, a refused control, or a file that cannot be replayed; one line."""


@dataclass(frozen=True)
class _Opening:
    """A recording checked by ``load``, opened once its commands are applied."""

    paths: tuple[Path, ...]
    format: str
    symbols: dict[str, Scale] | None
    speed: str


@dataclass
class _Loaded:
    """The recording being replayed and how (what it is: the venue's ``ReplayState``)."""

    speed: str
    stream: MappedStream | None = None  # its events, mapped
    done: bool = False  # the source has no event left
    error: str | None = None  # why it stopped, naming file and line
    anchor: tuple[int, int] | None = None  # (venue time, source time) while running on clock
    started: float = 0.0  # perf_counter when it last started running
    since_start: int = 0  # events applied since then (the rate)


class ReplayController:
    """The replay of one node (``replay_of``)."""

    kind, rank = "replay", 3  # a scheduler timer: at one microsecond, after the others

    def __init__(self, node: Node) -> None:
        self._node = weakref.proxy(node)
        self.loaded: _Loaded | None = None
        self.state = "idle"  # idle | paused | running | finished | failed
        self._task: asyncio.Task[None] | None = None
        self._flight: deque[asyncio.Task[None]] = deque()  # batches of ``_run_max``
        self._timer_on = False
        node.listeners.append(self._on_events)

    # -- the doors ------------------------------------------------------------------------
    async def load(self, args: dict[str, Any]) -> dict[str, Any]:
        """Load a recording: ``source`` (a path, or a list: tardis book + trades),
        ``format``, ``products`` ({source symbol: venue product}), optional ``price_scale``,
        ``size_scale``, ``speed`` (clock | max), ``cancel_from`` (back | front), ``start``
        (run at once), ``create_products_from`` (a recorded GET /products reply)."""
        opening, commands = self._prepare(args)
        for command in commands:
            self._check(await self._node.execute(command))
        return self._loaded(opening, bool(args.get("start")))

    def load_recorded(self, args: dict[str, Any]) -> None:
        """``load`` on a node that is not serving yet (the scenario's ``[replay]``), each
        command journaled at once (``Node.record``); ``start`` waits for ``start()``."""
        opening, commands = self._prepare(args)
        for command in commands:
            self._check(self._node.record(command))
        self._loaded(opening, False)

    def _prepare(self, args: dict[str, Any]) -> tuple[_Opening, Iterator[Command]]:
        node = self._node
        if node.engine.replay is not None and node.engine.replay.active:
            raise ReplayError("a replay is loaded: unload it first (sandex replay unload)")
        unknown = sorted(set(args) - LOAD_ARGS)
        if unknown:
            raise ReplayError(f"unknown replay setting {unknown[0]!r}")
        paths = _paths(args.get("source"))
        fmt = args.get("format")
        if fmt not in FORMATS:
            raise ReplayError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
        speed = args.get("speed", "clock")
        if speed not in SPEEDS:
            raise ReplayError(f"speed must be clock or max (got {speed!r})")
        cancel_from = args.get("cancel_from", "back")
        if cancel_from not in ("back", "front"):
            raise ReplayError(f"cancel_from must be back or front (got {cancel_from!r})")
        start = args.get("start", False)
        if not isinstance(start, bool):
            raise ReplayError(f"start must be true or false (got {start!r})")
        products_from = args.get("create_products_from")
        if products_from is not None and not isinstance(products_from, str):
            raise ReplayError("create_products_from must be a file path (a recorded "
                              "GET /products reply)")
        new_products = [] if products_from is None else [
            p for p in read_products(products_from) if p.product_id not in node.engine.products]
        symbols = _symbols(args.get("products"), _decimal(args, "price_scale"),
                           _decimal(args, "size_scale"))
        known = set(node.engine.products) | {p.product_id for p in new_products}
        for scale in symbols.values():
            if scale.product not in known:
                raise ReplayError(f"product {scale.product} does not exist on this venue "
                                  f"(create it, or give create_products_from)")
        try:
            digests = ",".join(sha256_of(p) for p in paths)
        except OSError as exc:  # unreadable (permissions, gone meanwhile)
            raise ReplayError(f"{exc.filename}: {exc.strerror or exc}") from None
        with self._open(paths, fmt) as source:
            try:  # a file that is not a recording of this format is refused here
                first = next(source, None)
            except SourceError as exc:
                raise ReplayError(str(exc)) from None
        if first is None:
            raise ReplayError(f"{', '.join(str(p) for p in paths)}: no event to replay in it")
        opening = _Opening(paths, fmt, symbols or None, speed)
        mapping = tuple((symbol, s.product, str(s.price_scale), str(s.size_scale))
                        for symbol, s in sorted(symbols.items()))

        def commands() -> Iterator[Command]:
            for product in new_products:
                yield msgspec.structs.replace(product, time=node.stamp())
            products = tuple(sorted({s.product for s in symbols.values()})) or tuple(
                sorted(node.engine.products))
            yield StartReplay(time=node.stamp(), source="\n".join(str(p) for p in paths),
                              sha256=digests, format=fmt, products=products,
                              seed=f"{node.ids.seed}:{node.position}:{digests[:16]}",
                              cancel_from=cancel_from, mapping=mapping, speed=speed)

        return opening, commands()

    def _check(self, events: list[Event]) -> None:
        if events and type(events[0]) is Rejected:
            raise ReplayError(events[0].message)

    def _loaded(self, opening: _Opening, start: bool) -> dict[str, Any]:
        """Open the loaded recording's stream (its products exist now) and pause there."""
        try:
            stream = open_stream(opening.paths, opening.format, self._node.engine.products,
                                 opening.symbols)
        except (OSError, StreamError) as exc:  # gone or changed since it was checked
            self.loaded, self.state = _Loaded(opening.speed, done=True, error=str(exc)), "failed"
            raise ReplayError(str(exc)) from None
        self.loaded, self.state = _Loaded(opening.speed, stream), "paused"
        if start:
            self.start()
        return self.status()

    def start(self) -> dict[str, Any]:
        """Run (or go on running after a pause)."""
        loaded = self._need()
        if self.state in ("finished", "failed"):
            raise ReplayError(f"the replay is {self.state}: load it again")
        if self.state == "running":
            return self.status()
        self.state = "running"
        loaded.started, loaded.since_start = time.perf_counter(), 0
        if loaded.speed == "max":
            self._task = asyncio.get_running_loop().create_task(self._run_max())
        else:
            loaded.anchor = None  # set from the next event when the scheduler first asks
            if not self._timer_on:
                self._node.scheduler.add(self)
                self._timer_on = True
            self._node.scheduler.wake()
        return self.status()

    def pause(self) -> dict[str, Any]:
        self._need()
        if self.state == "running":
            self._stop_running()
            self.state = "paused"
        return self.status()

    async def step(self, count: object) -> dict[str, Any]:
        """Apply the next ``count`` source events now (paused or not)."""
        if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= 10**9:
            raise ReplayError("events must be a whole number from 1")
        self._need()
        if self.state in ("finished", "failed"):
            raise ReplayError(f"the replay is {self.state}")
        await self._apply(count, None)
        return self.status()

    async def seek(self, to: object) -> dict[str, Any]:
        """Apply every event before source time ``to`` (ISO 8601) at once; forward only."""
        if not isinstance(to, str) or (target := parse_iso(to)) is None:
            raise ReplayError("to must be an ISO 8601 time inside the recording")
        loaded = self._need()
        if target < (self._node.engine.replay.source_time if self._node.engine.replay else 0):
            raise ReplayError("seek goes forward only")
        await self._apply(None, target - 1)
        loaded.anchor = None
        return self.status()

    async def _apply(self, count: int | None, until: int | None) -> None:
        """Apply the next ``count`` events (``None``: all) at or before source time ``until``
        (``None``: any) now, batch by batch; finish the replay if the recording ends (a bad
        line leaves it failed)."""
        left = count
        while (left is None or left > 0) and self.state not in ("finished", "failed"):
            batch = self._batch(BATCH_EVENTS if left is None else min(left, BATCH_EVENTS),
                                until)
            if batch is None:
                if self.loaded is not None and self.loaded.done and self.state != "failed":
                    await self._finish()
                return
            if left is not None:
                left -= batch.events
            await self._node.execute(batch)
            await asyncio.sleep(0)

    async def unload(self, clear: object = False) -> dict[str, Any]:
        """Stop replaying; ``clear`` cancels every replay order too (else they stay)."""
        replay = self._node.engine.replay
        if replay is None or not replay.active:
            raise ReplayError("no replay is loaded")
        self._stop_running()
        await self._node.execute(EndReplay(time=self._node.stamp(), finished=False,
                                           clear=bool(clear)))
        self._close()
        self.loaded, self.state = None, "idle"
        return self.status()

    async def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Until the replay is finished or failed (``TimeoutError`` after ``timeout``)."""
        async with asyncio.timeout(timeout):
            while self.state not in ("finished", "failed", "idle"):
                await asyncio.sleep(0.02)
        return self.status()

    def status(self) -> dict[str, Any]:
        node, loaded = self._node, self.loaded
        replay = node.engine.replay
        out: dict[str, Any] = {"state": self.state}
        if replay is None:
            return out
        out.update({
            "source": replay.source.split("\n"), "sha256": replay.sha256,
            "format": replay.format, "products": list(replay.products),
            "events": replay.events, "line": replay.line,
            "source_time": iso(replay.source_time) if replay.source_time else None,
            "venue_time": iso(node.now()),
            "recorded_trades": replay.recorded_trades,
            "reproduced_trades": replay.reproduced_trades,
            "user_fills": replay.user_fills, "cancels_noop": replay.cancels_noop,
            "ended_early": replay.ended_early,
            "consumed": {product: _decimal_text(size)
                         for product, size in sorted(replay.consumed.items())},
        })
        if loaded is not None:
            out["speed"] = loaded.speed
            stream = loaded.stream
            if stream is not None:
                out["bytes_read"], out["bytes_total"] = stream.bytes_read, stream.bytes_total
            elapsed = time.perf_counter() - loaded.started if loaded.started else 0.0
            if self.state == "running" and elapsed > 0:
                rate = loaded.since_start / elapsed
                out["rate"] = round(rate)
                if stream is not None and stream.bytes_read and rate:
                    left = stream.bytes_total - stream.bytes_read
                    out["eta_s"] = round(elapsed * left / max(stream.bytes_read, 1), 1)
            if loaded.error is not None:
                out["error"] = loaded.error
        return out

    # -- recovery ---------------------------------------------------------------------------
    def resync(self) -> None:
        """The venue's replay state changed under us (a restart, a restore): reopen the
        recording and skip what the venue already applied, paused; or forget it."""
        self._stop_running()
        self._close()
        replay = self._node.engine.replay
        self.loaded = None
        if replay is None:
            self.state = "idle"
            return
        if not replay.active:
            self.state = "finished" if replay.finished else "idle"
            return
        self.state = "paused"
        try:
            self.loaded = self._reopen(replay)
        except (OSError, ReplayError, StreamError) as exc:
            self.state = "failed"
            log.warning("replay of %s cannot go on: %s", replay.source, exc)
            self.loaded = _Loaded("clock", done=True, error=str(exc))

    def _reopen(self, replay: Any) -> _Loaded:
        paths = tuple(Path(p) for p in replay.source.split("\n"))
        digests = ",".join(sha256_of(p) for p in paths)
        if digests != replay.sha256:
            raise ReplayError(f"{replay.source}: the file changed since it was loaded "
                              f"(sha256 differs)")
        symbols = {symbol: Scale(product, Decimal(price), Decimal(size))
                   for symbol, product, price, size in replay.mapping}
        # the applied events are read and mapped again: the mapper's level sums come back
        return _Loaded(replay.speed, open_stream(paths, replay.format, self._node.engine.products,
                                                 symbols or None, skip=replay.events))

    # -- the scheduler's timer (speed clock) ------------------------------------------------
    def due(self, now: int) -> int | None:
        loaded = self.loaded
        if self.state != "running" or loaded is None or loaded.speed != "clock":
            return None
        event = self._peek()
        if event is None or event[3] == 0:
            return 0  # the end (fire once more, to finish) or an untimed event: due at once
            # (0, not ``now``: a due time must not move while the scheduler looks at it)
        if loaded.anchor is None:
            loaded.anchor = (now, event[3])
        return loaded.anchor[0] + max(0, event[3] - loaded.anchor[1])

    def fire(self, at: int) -> Firing:
        loaded = self.loaded
        assert loaded is not None
        anchor = loaded.anchor
        until = 0 if anchor is None else anchor[1] + (at - anchor[0])
        return Firing(self._clock_commands(at, until), _events_of)

    def _clock_commands(self, at: int, until: int) -> Iterator[Command]:
        batch = self._batch(BATCH_EVENTS, until, stamp=lambda: self._node.stamp_at(at))
        if batch is not None:
            yield batch
        elif self.loaded is not None and self.loaded.done and self.state == "running":
            yield from self._finishing()

    def rearm(self, now: int) -> None:
        if self.loaded is not None:
            self.loaded.anchor = None

    # -- internals ---------------------------------------------------------------------------
    async def _run_max(self) -> None:
        """Batches back to back: each applied at once, the next one read and applied while
        the journal writes the ones before (at most ``IN_FLIGHT`` unwritten)."""
        flight = self._flight
        loop = asyncio.get_running_loop()
        try:
            while self.state == "running":
                stream = self.loaded.stream if self.loaded is not None else None
                while isinstance(stream, ProcessStream) and not stream.ready():
                    await asyncio.sleep(0.001)  # the reader process is behind: not a block
                if self._peek() is None:
                    while flight:
                        await flight.popleft()
                    if (self.loaded is not None and self.loaded.done
                            and self.state == "running"):  # not after a bad line: failed
                        await self._finish()
                    return
                flight.append(loop.create_task(self._apply_next()))
                await asyncio.sleep(0)  # the task applies its batch now, in order
                while len(flight) >= IN_FLIGHT or (flight and flight[0].done()):
                    await flight.popleft()
        except asyncio.CancelledError:
            raise
        except Exception:  # the node stopped: it logged why
            log.exception("replay stopped")
            self.state = "failed"

    async def _apply_next(self) -> None:
        """Read, stamp and apply the next batch when this task first runs (never a batch
        stamped earlier than a command applied in between, a ``step`` after a pause), then
        wait until it is durable."""
        batch = self._batch(BATCH_EVENTS, None) if self.state == "running" else None
        if batch is not None:
            await self._node.execute(batch)

    def _batch(self, limit: int, until: int | None,
               stamp: Any = None) -> ReplayBatch | None:
        """The next batch of at most ``limit`` events (those at or before source time
        ``until``), or ``None`` if none is due or the source failed or ended."""
        loaded = self.loaded
        if loaded is None or loaded.stream is None or loaded.done or self.state == "failed":
            return None
        try:
            taken = loaded.stream.take(limit, until)
        except StreamError as exc:
            self._fail(str(exc))
            return None
        if not taken:
            self._peek()  # the end (``done``), or the next event is not due yet
            return None
        last = taken[-1]
        loaded.since_start += len(taken)
        return ReplayBatch(time=stamp() if stamp is not None else self._node.stamp(),
                           actions=tuple(chain.from_iterable(map(_ACTIONS_OF, taken))),
                           events=len(taken), line=last[2], source_time=last[3],
                           recorded_trades=sum(map(_TRADE_OF, taken)))

    def _peek(self) -> Mapped | None:
        """The next event, mapped; ``None`` at the end, or when it failed (file and line)."""
        loaded = self.loaded
        if loaded is None or loaded.stream is None or loaded.done or self.state == "failed":
            return None
        try:
            event = loaded.stream.peek()
        except StreamError as exc:
            self._fail(str(exc))
            return None
        if event is None:
            loaded.done = True
        return event

    def _fail(self, message: str) -> None:
        assert self.loaded is not None
        self.loaded.error, self.loaded.done = message, True
        self.state = "failed"
        replay = self._node.engine.replay
        log.warning("replay failed: %s (%d events were applied before it)", message,
                    replay.events if replay else 0)

    async def _finish(self) -> None:
        for command in self._finishing():
            await self._node.execute(command)

    def _finishing(self) -> Iterator[Command]:
        self.state = "finished"
        self._close()
        yield EndReplay(time=self._node.stamp(), finished=True)

    def _stop_running(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for task in self._flight:  # one not started yet never applies; the others have
            task.cancel()  # (only their wait for the journal ends)
        self._flight.clear()
        if self._timer_on:
            with contextlib.suppress(ValueError):
                self._node.scheduler.remove(self)
            self._timer_on = False

    def _close(self) -> None:
        if self.loaded is not None and self.loaded.stream is not None:
            self.loaded.stream.close()
            self.loaded.stream = None

    def _need(self) -> _Loaded:
        if self.loaded is None:
            raise ReplayError("no replay is loaded (sandex replay load FILE --format ...)")
        return self.loaded

    def _open(self, paths: Sequence[Path], fmt: str) -> Source:
        try:
            return open_source(paths, fmt)
        except SourceError as exc:
            raise ReplayError(str(exc)) from None

    def _on_events(self, events: list[Event]) -> None:
        if events and type(events[0]) is Restored:
            self.resync()


def _events_of(results: Results) -> int:
    return len(results)


def _paths(value: object) -> tuple[Path, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise ReplayError("source must be a file path (or a list of them)")
    paths = tuple(Path(i).expanduser().resolve() for i in items)
    for path in paths:
        if not path.is_file():
            raise ReplayError(f"{path}: no such file")
    return paths


def _decimal(args: dict[str, Any], name: str) -> Decimal:
    value = args.get(name, "1")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ReplayError(f"{name}: {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise ReplayError(f"{name} must be a positive number")
    return number


def _symbols(value: object, price_scale: Decimal, size_scale: Decimal) -> dict[str, Scale]:
    """``{"SRC": "DST"}`` (or a list of ``SRC=DST`` texts) as scales."""
    if value is None:
        return {}
    if isinstance(value, list):
        pairs: dict[str, str] = {}
        for item in value:
            if not isinstance(item, str) or "=" not in item:
                raise ReplayError(f"products: {item!r} is not SRC=DST")
            source, _, target = item.partition("=")
            pairs[source] = target
        value = pairs
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ReplayError("products must map source symbols to venue products")
    return {k: Scale(v, price_scale, size_scale) for k, v in value.items()}


def _decimal_text(units: int) -> str:
    text = str(Decimal(units).scaleb(-PRICE_DECIMALS).normalize())
    return text if "E" not in text else f"{Decimal(units).scaleb(-PRICE_DECIMALS):f}"


_CONTROLLERS: weakref.WeakKeyDictionary[Node, ReplayController] = weakref.WeakKeyDictionary()


def replay_of(node: Node) -> ReplayController:
    """The replay controller of ``node`` (made on first use)."""
    found = _CONTROLLERS.get(node)
    if found is None:
        found = _CONTROLLERS[node] = ReplayController(node)
    return found

