"""``NatsJournal``: the command log in a NATS JetStream stream (``--journal nats://...``).

One group-commit batch is one JetStream message on the stream ``SANDEX_JOURNAL`` (subject
``sandex.journal``; another stream name, as tests use, gets ``sandex.journal.<name>``). Its
body is the batch's records, each framed as ``crc32 length body`` (4 + 4 bytes, big-endian;
the CRC-32 is the record's, as in the SQLite journal); its headers:

* ``Sandex-Position`` / ``Sandex-Count``: the first record's journal position and how many;
* ``Sandex-Epoch``: the writer's leader epoch; ``Sandex-Format``: the record format (2);
* ``Nats-Expected-Last-Sequence``: the stream sequence this writer last saw (compare-and-
  append: if anyone else appended since, JetStream refuses with 10071, the writer is
  deposed: ``JournalFenced``);
* ``Nats-Msg-Id`` ``<epoch>:<position>``: a retried append (a timeout, a stream leader
  change) is deduplicated by JetStream and answered with the original acknowledgement.

``append`` returns once JetStream acknowledged the message: stored on a quorum of the
stream's replicas, each of which fsyncs before acknowledging when the server runs with
``sync_interval: always``. On open, sandex checks the server's version (``MIN_SERVER``), the
stream's replica count (3 or more) and, through each server's monitoring endpoint
(``/varz``), that every server syncs on every write; anything less is refused
(``UnsafeJournal``) unless ``unsafe=True`` (``--unsafe-journal``).

nats-py is asyncio; the journal runs its client on its own event loop thread (uvloop), so ``append``
and ``read`` are plain blocking calls (start-up, ``sandex verify``), and ``call`` runs a
coroutine there for the cluster's lease and tail (``sandex.cluster.role``): a busy server
loop cannot delay a lease renewal. The node's group commits go through ``append_here``
instead (``sandex.journal.AppendsHere``): awaited on the node's own event loop, over a second
connection opened on that loop, so a batch's round trip costs no thread hand-off (each one
waited for the GIL behind the busy loop: ~50 us of CPU per request and a few ms per batch).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import threading
import time
import urllib.request
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from sandex.journal.store import (
    JournalCorrupt,
    JournalFenced,
    JournalFormatError,
    JournalUncertain,
    StorageError,
)

log = logging.getLogger("sandex.cluster")

STREAM = "SANDEX_JOURNAL"
SUBJECT = "sandex.journal"
FORMAT = 2  # the record format written (``sandex.node.codec``)
REPLICAS = 3
MIN_SERVER = (2, 12, 3)  # the Jepsen-era fixes (membership changes); atomic batches since 2.12
DUPLICATE_WINDOW_S = 120.0
APPEND_TRY_S = 2.0  # one publish attempt
APPEND_DEADLINE_S = 15.0  # retried (same message id) this long, then ``StorageError``
WRONG_LAST_SEQUENCE = 10071  # JetStream's refusal of a compare-and-append
READ_AHEAD = 64  # messages requested at once when reading

_FRAME = struct.Struct(">II")
new_client_loop: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
try:  # the client's loop: uvloop as the server's (the standby's tail runs on it: every message)
    import uvloop

    new_client_loop = uvloop.new_event_loop
except ImportError:  # a platform without uvloop (uvicorn[standard] brings it elsewhere)
    pass
_T = TypeVar("_T")


class UnsafeJournal(StorageError):
    """The JetStream configuration could lose acknowledged commands (``--unsafe-journal``)."""


def frame(records: list[bytes]) -> bytes:
    """A batch's message body: each record as ``crc32 length body``."""
    return b"".join(_FRAME.pack(zlib.crc32(body), len(body)) + body for body in records)


def unframe(data: bytes, where: str) -> list[bytes]:
    """The records of a message body; ``JournalCorrupt`` (naming ``where``) if damaged."""
    records: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + _FRAME.size > len(data):
            raise JournalCorrupt(f"{where}: truncated record frame")
        crc, length = _FRAME.unpack_from(data, offset)
        offset += _FRAME.size
        body = data[offset:offset + length]
        if len(body) != length or zlib.crc32(body) != crc:
            raise JournalCorrupt(f"{where}: record {len(records) + 1} of the message is "
                                 "corrupt (checksum mismatch)")
        records.append(body)
        offset += length
    return records


def parse_url(url: str) -> list[str]:
    """``nats://h1:p1,h2:p2`` -> the server URLs nats-py takes."""
    if not url.startswith("nats://"):
        raise ValueError(f"{url}: a JetStream journal is nats://host:port[,host:port...]")
    hosts = [host.strip() for host in url.removeprefix("nats://").split(",") if host.strip()]
    if not hosts:
        raise ValueError(f"{url}: no server named")
    return [f"nats://{host}" for host in hosts]


class Batch:
    """One message of the stream: its sequence, epoch, first position and records."""

    __slots__ = ("epoch", "first", "records", "seq")

    def __init__(self, seq: int, epoch: int, first: int, records: list[bytes]) -> None:
        self.seq, self.epoch, self.first, self.records = seq, epoch, first, records

    @property
    def last(self) -> int:
        return self.first + len(self.records) - 1


def batch_of(seq: int, headers: dict[str, str] | None, data: bytes, where: str) -> Batch:
    """A stream message as a ``Batch``, its headers and frames checked."""
    headers = headers or {}
    try:
        found = int(headers.get("Sandex-Format", "0"))
        first, count = int(headers["Sandex-Position"]), int(headers["Sandex-Count"])
        epoch = int(headers.get("Sandex-Epoch", "0"))
    except (KeyError, ValueError):
        raise JournalCorrupt(f"{where}: message {seq} is not a sandex batch (headers "
                             f"{headers})") from None
    if found != FORMAT:
        raise JournalFormatError(f"{where}: message {seq} is in record format {found}; this "
                                 f"sandex reads format {FORMAT}: refusing to read it")
    records = unframe(data, f"{where}: message {seq}")
    if len(records) != count:
        raise JournalCorrupt(f"{where}: message {seq} holds {len(records)} records, its "
                             f"header says {count}")
    return Batch(seq, epoch, first, records)


class NatsJournal:
    """The ``Journal`` of ``sandex.journal`` on a JetStream stream (see the module)."""

    blocking = True
    legacy_end = 0  # every record is format 2
    first_position = 1

    def __init__(self, url: str, *, monitors: list[str] | None = None, unsafe: bool = False,
                 stream: str = STREAM, create: bool = True, ready_s: float = 30.0) -> None:
        self.url, self.stream, self.unsafe = url, stream, unsafe
        self.subject = SUBJECT if stream == STREAM else f"{SUBJECT}.{stream}"
        self.path = f"{url}/{stream}"  # how errors name it (as a file names the SQLite one)
        self.servers = parse_url(url)
        self.monitors = monitors
        self.ready_s = ready_s
        self.epoch = 0  # the leader epoch this node writes under (``sandex.cluster.role``)
        self.last_position = 0
        self.last_seq = 0  # the stream sequence of the last message read or appended
        self.last_epoch = 0  # the epoch of that message
        self._loop = new_client_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="sandex-nats")
        self._thread.start()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        # ``append_here``'s connection, on the node's event loop
        self._here: tuple[asyncio.AbstractEventLoop, Client, JetStreamContext] | None = None
        try:
            self.run(self._open(create), timeout=ready_s + 30)
        except BaseException:
            self.close()
            raise

    # -- the client's thread ------------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        """Run ``coro`` on the client's loop and wait for it (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def spawn(self, coro: Coroutine[Any, Any, _T]) -> Future[_T]:
        """Start ``coro`` on the client's loop and return at once (its future can cancel it)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call(self, coro: Coroutine[Any, Any, _T]) -> Awaitable[_T]:
        """Run ``coro`` on the client's loop; await the result from another event loop."""
        future: Future[_T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return asyncio.wrap_future(future)

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None, "not connected"
        return self._js

    @property
    def client(self) -> Client:
        assert self._nc is not None, "not connected"
        return self._nc

    async def _open(self, create: bool) -> None:
        try:
            self._nc = await nats.connect(self.servers, connect_timeout=2,
                                          max_reconnect_attempts=-1, reconnect_time_wait=0.2,
                                          allow_reconnect=True)
        except (NatsError, OSError) as exc:
            raise StorageError(f"{self.url}: cannot connect to NATS ({exc!r})") from exc
        self._js = self._nc.jetstream(timeout=APPEND_TRY_S)
        self._check_server()
        await self._check_sync()  # before anything is created
        info = await self._stream(create)
        replicas = info.config.num_replicas or 1
        if replicas < REPLICAS:
            self._unsafe(f"the stream has {replicas} replica{'s' * (replicas != 1)}; "
                         f"at least {REPLICAS} keep acknowledged commands when a server is lost")
        if str(getattr(info.config.storage, "value", info.config.storage)) != "file":
            self._unsafe("the stream is kept in memory, not in files")
        self.last_seq = info.state.last_seq
        if self.last_seq:
            last = await self._get(self.last_seq)
            self.last_position, self.last_epoch = last.last, last.epoch

    async def _stream(self, create: bool) -> Any:
        """The stream's info, the stream created if need be; retried while JetStream is not
        ready yet (a cluster that is still electing its leaders)."""
        deadline = time.monotonic() + self.ready_s
        while True:
            try:
                try:
                    return await self.js.stream_info(self.stream)
                except NotFoundError:
                    if not create:
                        raise StorageError(f"{self.path}: no such stream") from None
                    info = await self.js.add_stream(StreamConfig(
                        name=self.stream, subjects=[self.subject], num_replicas=REPLICAS,
                        storage=StorageType.FILE, discard=DiscardPolicy.NEW,
                        duplicate_window=DUPLICATE_WINDOW_S))
                    log.info("%s: created the stream with %d replicas", self.path, REPLICAS)
                    return info
            except (NatsError, TimeoutError, APIError) as exc:
                if isinstance(exc, APIError) and exc.code not in (None, 503, 500):
                    raise StorageError(f"{self.path}: cannot use the stream ({exc})") from exc
                if time.monotonic() >= deadline:
                    raise StorageError(f"{self.path}: JetStream did not answer for "
                                       f"{self.ready_s:.0f} s ({exc!r})") from exc
                await asyncio.sleep(0.25)

    def _check_server(self) -> None:
        version = str(self.client._server_info.get("version", "0"))
        numbers = tuple(int(part) for part in version.split("-")[0].split(".")[:3]
                        if part.isdigit())
        if numbers < MIN_SERVER:
            self._unsafe(f"nats-server {version} is older than "
                         f"{'.'.join(map(str, MIN_SERVER))}")
        if not self.client._server_info.get("jetstream"):
            raise StorageError(f"{self.url}: the NATS server has JetStream off")

    async def _check_sync(self) -> None:
        """Every server of the cluster syncs to disk before acknowledging (``/varz``)."""
        if not self.monitors:
            self._unsafe("no monitoring URL (--journal-monitor) to check that every server "
                         "runs with sync_interval: always")
            return
        loop = asyncio.get_running_loop()
        for monitor in self.monitors:
            try:
                varz = await loop.run_in_executor(None, _varz, monitor)
            except (OSError, ValueError) as exc:
                self._unsafe(f"{monitor}: cannot read /varz ({exc})")
                continue
            config = (varz.get("jetstream") or {}).get("config") or {}
            if not config.get("sync_always"):
                self._unsafe(f"{monitor}: server {varz.get('server_name')} syncs lazily "
                             f"(sync_interval {config.get('sync_interval')} ns): an "
                             "acknowledged command could be lost; set "
                             "jetstream { sync_interval: always }")

    def _unsafe(self, why: str) -> None:
        if self.unsafe:
            log.warning("%s: unsafe journal (--unsafe-journal): %s", self.path, why)
            return
        raise UnsafeJournal(f"{self.path}: refusing an unsafe journal: {why} "
                            "(--unsafe-journal to run anyway)")

    async def _get(self, seq: int) -> Batch:
        """Message ``seq``, retried while JetStream is busy or electing (up to ``ready_s``)."""
        deadline = time.monotonic() + self.ready_s
        while True:
            try:
                message = await self.js.get_msg(self.stream, seq)
                return batch_of(seq, message.headers, message.data or b"", self.path)
            except (NatsError, TimeoutError, APIError) as exc:
                transient = not isinstance(exc, APIError) or exc.code in (None, 500, 503)
                if not transient or time.monotonic() >= deadline:
                    raise StorageError(f"{self.path}: cannot read message {seq} "
                                       f"({exc!r})") from exc
                await asyncio.sleep(0.1)

    # -- the Journal protocol -----------------------------------------------------------------
    def append(self, records: list[bytes]) -> int:
        """Publish ``records`` as one message, compare-and-append; durable when this returns.

        ``JournalFenced`` if another writer extended the stream (nothing of this batch is
        in it); ``StorageError`` if JetStream did not answer within ``APPEND_DEADLINE_S``.
        """
        batch = self.run(self.append_async(records))
        return batch.last

    async def append_here(self, records: list[bytes]) -> int:
        """``append`` awaited on the calling event loop (the node's group commit), through a
        NATS connection of that loop's own: no thread hand-off per batch. The guarantees are
        ``append``'s (the same compare-and-append, message id, retries and errors)."""
        here = self._here
        if here is None or here[0] is not asyncio.get_running_loop():
            here = await self._connect_here()
        batch = await self.append_async(records, here[2])
        return batch.last

    async def _connect_here(self) -> tuple[asyncio.AbstractEventLoop, Client, JetStreamContext]:
        """Connect on the running loop, retried for up to ``APPEND_DEADLINE_S`` (as an append
        is): then ``JournalUncertain`` (nothing was appended; the node steps down)."""
        deadline = time.monotonic() + APPEND_DEADLINE_S
        while True:
            try:
                client = await nats.connect(self.servers, connect_timeout=2,
                                            max_reconnect_attempts=-1,
                                            reconnect_time_wait=0.2, allow_reconnect=True)
                break
            except (NatsError, OSError, TimeoutError) as exc:
                if time.monotonic() >= deadline:
                    raise JournalUncertain(f"{self.url}: cannot connect to NATS for "
                                           f"{APPEND_DEADLINE_S} s ({exc!r})") from exc
                await asyncio.sleep(0.2)
        self._here = (asyncio.get_running_loop(), client, client.jetstream(timeout=APPEND_TRY_S))
        return self._here

    async def close_here(self) -> None:
        """Close the connection of ``append_here`` (on its loop, before ``close``)."""
        here, self._here = self._here, None
        if here is not None and here[0] is asyncio.get_running_loop():
            try:
                await asyncio.wait_for(here[1].close(), 5)
            except Exception as exc:  # closing after a failure: say so, keep going
                log.debug("closing the NATS connection: %r", exc)

    async def append_async(self, records: list[bytes],
                           js: JetStreamContext | None = None) -> Batch:
        """``append`` on the client's loop (the cluster's takeover calls it through ``call``),
        or on another loop through ``js``, a connection of that loop (``append_here``)."""
        js = js if js is not None else self.js
        first, expected, epoch = self.last_position + 1, self.last_seq, self.epoch
        message_id = f"{epoch}:{first}"
        headers = {"Nats-Expected-Last-Sequence": str(expected), "Nats-Msg-Id": message_id,
                   "Sandex-Position": str(first), "Sandex-Count": str(len(records)),
                   "Sandex-Epoch": str(epoch), "Sandex-Format": str(FORMAT)}
        body = frame(records)
        deadline = time.monotonic() + APPEND_DEADLINE_S
        while True:
            try:
                ack = await js.publish(self.subject, body, timeout=APPEND_TRY_S,
                                       stream=self.stream, headers=headers)
                break
            except APIError as exc:
                if exc.err_code == WRONG_LAST_SEQUENCE:
                    if await self._landed(js, expected + 1, message_id):
                        ack = None
                        break
                    raise JournalFenced(f"{self.path}: append of positions {first}.."
                                        f"{first + len(records) - 1} refused: the stream moved "
                                        f"past sequence {expected} (another leader); this node "
                                        "is deposed") from None
                if time.monotonic() >= deadline:
                    raise JournalUncertain(f"{self.path}: cannot append: {exc}") from exc
            except (NatsError, TimeoutError, OSError) as exc:
                if time.monotonic() >= deadline:
                    raise JournalUncertain(f"{self.path}: no acknowledgement for "
                                           f"{APPEND_DEADLINE_S} s ({exc!r})") from exc
            await asyncio.sleep(0.05)
        self.last_seq = expected + 1 if ack is None else ack.seq
        self.last_position, self.last_epoch = first + len(records) - 1, epoch
        return Batch(self.last_seq, epoch, first, records)

    async def _landed(self, js: JetStreamContext, seq: int, message_id: str) -> bool:
        """Whether the message at ``seq`` is this writer's (its ack was lost, then refused)."""
        try:
            message = await js.get_msg(self.stream, seq)
        except (NatsError, APIError):
            return False
        return (message.headers or {}).get("Nats-Msg-Id") == message_id

    def read(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """The records after position ``after``, in order, each checked; the stream is read
        from the message holding ``after + 1`` (found by bisection on the sequence)."""
        for batch in self.batches(after):
            for offset, body in enumerate(batch.records):
                position = batch.first + offset
                if position > after:
                    yield position, body

    def batches(self, after: int = 0, until_seq: int | None = None) -> Iterator[Batch]:
        """The stream's messages from the one holding position ``after + 1``, checked for
        contiguous positions, up to ``until_seq`` (default: the last one now)."""
        end = self.run(self._last_seq()) if until_seq is None else until_seq
        seq = self.run(self._seq_holding(after + 1, end)) if after else 1
        expected = None
        while seq <= end:
            chunk = self.run(self._fetch(seq, min(end, seq + READ_AHEAD - 1)))
            for batch in chunk:
                if expected is not None and batch.first != expected:
                    raise JournalCorrupt(f"{self.path}: gap in the journal: message "
                                         f"{batch.seq} starts at position {batch.first}, "
                                         f"{expected} was expected")
                expected = batch.last + 1
                yield batch
            seq += len(chunk)

    async def _last_seq(self) -> int:
        info = await self.js.stream_info(self.stream)
        return int(info.state.last_seq)

    async def _seq_holding(self, position: int, end: int) -> int:
        low, high = 1, end
        while low < high:
            middle = (low + high + 1) // 2
            if (await self._get(middle)).first <= position:
                low = middle
            else:
                high = middle - 1
        return low

    async def _fetch(self, first: int, last: int) -> list[Batch]:
        """Messages ``first..last`` (direct gets, a few at a time)."""
        got = await asyncio.gather(*(self._get(seq) for seq in range(first, last + 1)))
        return list(got)

    def verify(self) -> None:
        """Check every message (frames, CRCs, contiguous positions): ``sandex verify``."""
        for _ in self.batches(0):
            pass

    def close(self) -> None:
        if self._nc is not None and not self._loop.is_closed():
            try:
                self.run(self._nc.close(), timeout=5)
            except Exception as exc:  # closing after a failure: say so, keep going
                log.debug("closing the NATS connection: %r", exc)
            self._nc = self._js = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> NatsJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_loop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the client's loop (thread-safe)."""
        self._loop.call_soon_threadsafe(callback)


def _varz(monitor: str) -> dict[str, Any]:
    url = monitor.rstrip("/") + "/varz"
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    with urllib.request.urlopen(url, timeout=3) as reply:
        found = json.loads(reply.read())
    if not isinstance(found, dict):
        raise ValueError("not a /varz document")
    return found
