"""Leader and hot standby on one JetStream journal: the lease, the tail, the takeover.

The lease is the key ``leader`` in the JetStream key-value bucket ``sandex_leader`` (as many
replicas as the journal, a TTL of ``ttl`` seconds): the leader rewrites it every ``ttl / 3``
with compare-and-set on its revision; a standby that finds it gone (expired: the leader
stopped renewing) creates it, which only one node can do. The revision it got is its
**epoch**. The lease gives liveness only: safety comes from the journal's compare-and-append
(``sandex.cluster.journal``), so two nodes can never both extend the history.

A standby (``follower_of`` set on its node: commands are refused with 503) applies the stream
as it grows through an ordered push consumer, so its reads and feed follow the leader's. On
winning the lease it reads the stream to its end, appends a ``Takeover(epoch, node)`` record
compare-and-append on the last sequence it applied (if that is refused, more arrived: it
applies it and tries again while the lease is still its), and then leads: it accepts
commands, its timers run (``on_promoted``).

A leader that loses the lease (its compare-and-set fails) or whose append is refused
(``JournalFenced``) is deposed: its node stops with ``Deposed`` (what was in flight is
answered 503, outcome unknown) and the server restarts as a follower (``REJOIN``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig, DeliverPolicy, KeyValueConfig, StorageType
from nats.js.errors import (
    APIError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue

from sandex.cluster.journal import Batch, NatsJournal, batch_of
from sandex.core import Command
from sandex.journal import JournalCorrupt, JournalFenced, StorageError
from sandex.node import Takeover
from sandex.node.codec import decode, encode
from sandex.node.node import Node

log = logging.getLogger("sandex.cluster")

BUCKET = "sandex_leader"
KEY = "leader"
LEASE_TTL_S = 3.0
POLL_S = 0.2  # how often a standby looks at the lease
STALL_S = 1.0  # a tail that brought nothing this long looks at the stream's end
FOLLOW_RUN = 64  # at most this many messages of the tail applied in one ``follow``
REJOIN = 75  # the server's exit status when deposed: ``sandex serve`` restarts as a follower


@dataclass(frozen=True)
class Holder:
    """Who holds the lease: a node's name, where it serves, and this run of it."""

    node: str
    url: str
    instance: str

    def encode(self) -> bytes:
        return json.dumps({"node": self.node, "url": self.url,
                           "instance": self.instance}).encode()

    @staticmethod
    def decode(data: bytes | None) -> Holder | None:
        try:
            found = json.loads(data or b"")
            return Holder(str(found["node"]), str(found["url"]), str(found["instance"]))
        except (ValueError, KeyError, TypeError):
            return None

    def __str__(self) -> str:
        return f"{self.node} at {self.url}"


class Cluster:
    """This node's part in the cluster: lead, or follow and stand by (see the module)."""

    def __init__(self, journal: NatsJournal, node: str, url: str,
                 ttl: float = LEASE_TTL_S) -> None:
        self.journal, self.ttl = journal, ttl
        self.me = Holder(node, url, uuid.uuid4().hex[:12])
        self.revision: int | None = None  # the lease's revision while this node leads
        self.epoch = 0  # ... and the revision it was won at: the epoch this node writes in
        self.leader: Holder | None = None  # who leads, as last read
        self.deposed = False
        self.took_over_s: float | None = None  # how long the last takeover took, lease to lead
        self.lost: str | None = None  # why the lease was lost (set by the keeper)
        self._kv: KeyValue | None = None
        self._keeper: Future[None] | None = None

    @property
    def leading(self) -> bool:
        return self.revision is not None

    # -- the lease (on the journal's client loop) -----------------------------------------------
    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            js = self.journal.js
            try:
                self._kv = await js.key_value(BUCKET)
            except BucketNotFoundError:
                info = await js.stream_info(self.journal.stream)
                self._kv = await js.create_key_value(KeyValueConfig(
                    bucket=BUCKET, ttl=self.ttl, history=1, storage=StorageType.FILE,
                    replicas=info.config.num_replicas or 1))
        return self._kv

    async def _try_acquire(self) -> int | None:
        """Create the lease key (only if nobody holds it): the revision, or ``None``."""
        kv = await self._bucket()
        try:
            entry = await kv.get(KEY)
            self.leader = Holder.decode(entry.value)
            return None
        except KeyNotFoundError:
            pass
        try:
            revision = await kv.create(KEY, self.me.encode())
        except (APIError, NatsError):  # someone else created it first
            return None
        self.leader = self.me
        return int(revision)

    async def _renew(self, revision: int) -> int:
        """Rewrite the lease over ``revision``; ``KeyWrongLastSequenceError`` if lost.

        A rewrite whose acknowledgement was lost (a server failed) moved the revision on:
        the key, read back, still holds this node's instance, so the lease is still its own."""
        kv = await self._bucket()
        try:
            return int(await kv.update(KEY, self.me.encode(), last=revision))
        except KeyWrongLastSequenceError:
            entry = await kv.get(KEY)
            if Holder.decode(entry.value) != self.me or entry.revision is None:
                raise
            return int(await kv.update(KEY, self.me.encode(), last=entry.revision))

    async def _release(self, revision: int) -> None:
        kv = await self._bucket()
        with contextlib.suppress(APIError, NatsError, KeyNotFoundError):
            await kv.delete(KEY, last=revision)

    def acquire(self) -> bool:
        """At start-up (blocking): take the lease if nobody holds it; whether this node leads."""
        deadline = time.monotonic() + self.journal.ready_s
        while True:  # a new cluster may still be electing the bucket's leader
            try:
                revision = self.journal.run(self._try_acquire(), timeout=30)
                break
            except (NatsError, TimeoutError) as exc:
                if time.monotonic() >= deadline:
                    raise
                log.info("the lease is not readable yet (%r); trying again", exc)
                time.sleep(0.25)
        if revision is None:
            return False
        self.revision = self.epoch = self.journal.epoch = revision
        self._start_keeper()
        log.info("%s leads (epoch %d)", self.me, revision)
        return True

    async def _keep(self) -> None:
        """Rewrite the lease every TTL/3 (on the client's loop, so a busy event loop or a long
        start-up does not let it lapse) until it is lost or given up."""
        while self.revision is not None:
            await asyncio.sleep(self.ttl / 3)
            revision = self.revision
            if revision is None:
                return
            try:
                self.revision = await self._renew(revision)
            except (KeyWrongLastSequenceError, KeyNotFoundError) as exc:
                self.lost = f"{self.me} lost the lease ({exc})"
                return
            except (APIError, NatsError, TimeoutError) as exc:
                log.warning("%s: cannot renew the lease yet (%r)", self.me, exc)

    def _start_keeper(self) -> None:
        self.lost = None
        self._keeper = self.journal.spawn(self._keep())

    async def resign(self) -> None:
        """On shutdown: give the lease up (a standby takes over without waiting the TTL)."""
        revision, self.revision = self.revision, None
        if self._keeper is not None:
            self._keeper.cancel()
        if revision is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.journal.call(self._release(revision)), 2)

    def record_takeover(self, node: Node) -> None:
        """The leader's first record of its epoch, at start-up (after any scenario load)."""
        assert self.revision is not None
        node.record(Takeover(time=node.stamp(), epoch=self.epoch, node=self.me.node))
        node.ids = node.ids.fork(f"epoch/{self.epoch}")  # a seeded node: ids no leader issued

    # -- running ---------------------------------------------------------------------------
    async def run(self, node: Node, on_promoted: Callable[[], None]) -> None:
        """Follow until this node wins the lease, then lead until deposed (then stop the
        node with ``Deposed``: the server exits with ``REJOIN``)."""
        try:
            if not self.leading:
                node.follower_of = str(self.leader) if self.leader else "unknown"
                await self._follow_then_take_over(node)
                on_promoted()
            await self._lead(node)
        except Exception as exc:  # start over from the stream, in a fresh process
            log.exception("%s: the cluster role failed", self.me)
            if node.failure is None:
                self.deposed = True
                node.depose(f"{self.me}: the cluster role failed ({exc!r}); restarting")

    async def _lead(self, node: Node) -> None:
        """Lead while the keeper holds the lease; once it is lost, stop as ``Deposed``."""
        while node.failure is None:
            if self.lost is not None:
                self.deposed = True
                node.depose(self.lost)
                return
            await asyncio.sleep(0.05)

    async def _follow_then_take_over(self, node: Node) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Batch | BaseException] = asyncio.Queue()
        inbox: deque[Batch | BaseException] = deque()  # from the client's loop
        waking = [False]  # a ``deliver`` is scheduled on the node's loop
        journal = self.journal

        async def on_message(message: object) -> None:  # on the client's loop
            try:
                batch: Batch | BaseException = batch_of(
                    message.metadata.sequence.stream,  # type: ignore[attr-defined]
                    message.headers, message.data,  # type: ignore[attr-defined]
                    journal.path)
            except JournalCorrupt as exc:
                batch = exc
            inbox.append(batch)
            if not waking[0]:  # one wake-up of the node's loop for what arrives meanwhile
                waking[0] = True
                loop.call_soon_threadsafe(deliver)

        def deliver() -> None:  # on the node's loop
            waking[0] = False
            while inbox:
                queue.put_nowait(inbox.popleft())

        async def subscribe() -> object:
            return await journal.js.subscribe(
                journal.subject, cb=on_message, ordered_consumer=True,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                config=ConsumerConfig(opt_start_seq=max(1, journal.last_seq + 1)))

        subscription = await journal.call(subscribe())
        held: Batch | BaseException | None = None  # taken from the queue, not applied yet

        async def resubscribe() -> object:  # from the message after the last one applied
            nonlocal held
            with contextlib.suppress(Exception):
                await journal.call(subscription.unsubscribe())  # type: ignore[attr-defined]
            held = None
            inbox.clear()
            while not queue.empty():
                queue.get_nowait()
            return await journal.call(subscribe())

        progress = time.monotonic()
        try:
            while True:
                if held is not None:
                    item, held = held, None
                elif queue.empty():
                    try:
                        item = await asyncio.wait_for(queue.get(), POLL_S)
                    except TimeoutError:
                        item = None
                else:
                    item = queue.get_nowait()
                if item is not None:
                    if isinstance(item, Batch) and item.seq > journal.last_seq + 1:
                        log.warning("%s: the tail skipped from message %d to %d; reading "
                                    "again", self.me, journal.last_seq, item.seq)
                        subscription = await resubscribe()
                        continue
                    if isinstance(item, Batch):  # with the messages that follow it, if here
                        run = [item]
                        while not queue.empty() and len(run) < FOLLOW_RUN:
                            after = queue.get_nowait()
                            if not isinstance(after, Batch) or after.seq != run[-1].seq + 1:
                                held = after  # the next round looks at it
                                break
                            run.append(after)
                        self._apply_run(node, run)
                    else:
                        self._apply(node, item)
                    progress = time.monotonic()
                    continue
                if time.monotonic() - progress > STALL_S:  # a consumer lost with its server?
                    progress = time.monotonic()
                    with contextlib.suppress(APIError, NatsError, TimeoutError):
                        if await journal.call(journal._last_seq()) > journal.last_seq:
                            log.warning("%s: the tail stalled at message %d; reading again",
                                        self.me, journal.last_seq)
                            subscription = await resubscribe()
                try:
                    revision = await journal.call(self._try_acquire())
                except (APIError, NatsError, TimeoutError) as exc:
                    log.warning("%s: cannot read the lease (%r)", self.me, exc)
                    continue
                if revision is None:
                    node.follower_of = str(self.leader) if self.leader else "unknown"
                    continue
                started = time.monotonic()
                with contextlib.suppress(Exception):
                    await journal.call(subscription.unsubscribe())  # type: ignore[attr-defined]
                while not queue.empty():
                    item = queue.get_nowait()
                    if isinstance(item, Batch) and item.seq > journal.last_seq + 1:
                        break  # the takeover reads the rest from the stream
                    self._apply(node, item)
                self.revision = revision
                self._start_keeper()  # the lease is kept while the stream is read to its end
                try:
                    took = await self._take_over(node, revision)
                except (StorageError, APIError, NatsError, TimeoutError) as exc:
                    log.warning("%s: takeover failed (%r); following again", self.me, exc)
                    took = False
                if not took:
                    self.revision = None
                    if self._keeper is not None:
                        self._keeper.cancel()
                if took:
                    self.took_over_s = time.monotonic() - started
                    log.warning("%s took over at journal position %d (epoch %d) in %.2f s",
                                self.me, node.position, self.epoch, self.took_over_s)
                    return
                subscription = await resubscribe()
        except BaseException:
            with contextlib.suppress(Exception):
                await journal.call(subscription.unsubscribe())  # type: ignore[attr-defined]
            raise

    def _apply(self, node: Node, item: Batch | BaseException) -> None:
        """Apply one message of the stream (skipping what the node has already)."""
        if isinstance(item, BaseException):
            node.depose(f"the journal cannot be followed: {item}")
            raise item
        fresh = item.records[max(0, node.position + 1 - item.first):]
        if not fresh:
            return
        first = item.last - len(fresh) + 1
        if first != node.position + 1:
            error = JournalCorrupt(f"{self.journal.path}: gap in the journal: message "
                                   f"{item.seq} starts at position {item.first}, the node is "
                                   f"at {node.position}")
            node.depose(str(error))
            raise error
        node.follow(first, [decode(body) for body in fresh])
        journal = self.journal
        journal.last_seq, journal.last_position, journal.last_epoch = (
            item.seq, item.last, item.epoch)

    def _apply_run(self, node: Node, run: list[Batch]) -> None:
        """Apply consecutive messages (sequences ``n, n+1, ...``) of the tail: those the
        stream delivered while the node was busy. Each is checked as ``_apply`` checks one,
        and their commands go to the node in one ``follow`` (one hand-over of their events
        to the listeners), as the leader hands over a group commit's."""
        if len(run) == 1:
            self._apply(node, run[0])
            return
        first = position = node.position
        commands: list[Command] = []
        last: Batch | None = None
        for item in run:
            fresh = item.records[max(0, position + 1 - item.first):]
            if not fresh:
                continue
            if item.last - len(fresh) + 1 != position + 1:
                if commands:  # what came before it is good: apply it, then stop
                    self._follow(node, first + 1, commands, last)
                self._apply(node, item)  # raises: a gap
                return
            commands.extend(decode(body) for body in fresh)
            position, last = item.last, item
        if commands:
            self._follow(node, first + 1, commands, last)

    def _follow(self, node: Node, first: int, commands: list[Command],
                last: Batch | None) -> None:
        assert last is not None
        node.follow(first, commands)
        journal = self.journal
        journal.last_seq, journal.last_position, journal.last_epoch = (
            last.seq, last.last, last.epoch)

    async def _take_over(self, node: Node, revision: int) -> bool:
        """Read to the stream's end, append ``Takeover``; whether this node now leads."""
        loop = asyncio.get_running_loop()
        journal = self.journal
        epoch = revision
        while True:
            batches = await loop.run_in_executor(
                None, lambda: list(journal.batches(node.position)))
            for batch in batches:
                self._apply(node, batch)
            journal.epoch = epoch
            command = Takeover(time=node.stamp(), epoch=epoch, node=self.me.node)
            try:
                batch = await journal.call(journal.append_async([encode(command)]))
            except JournalFenced:  # the old leader appended meanwhile: apply it, try again
                if self.lost is not None:
                    return False
                continue
            node.follow(batch.first, [command])
            node.ids = node.ids.fork(f"epoch/{epoch}")  # a seeded node: ids no leader issued
            self.epoch, self.leader = epoch, self.me
            node.follower_of = None
            return True

