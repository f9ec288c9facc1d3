"""``sandex serve`` with stage stamps for ``bench/fix.py --stages`` (bench only).

    python bench/fix_probe.py OUT serve [sandex serve's flags]

Runs ``sandex.cli.main`` with four methods wrapped before the venue is built, each appending
one JSON line to OUT (wall-clock ``time.time()`` seconds, the clock the client stamps with):

* ``["in", start, end, [ClOrdID, ...]]``: a FIX connection's ``data_received`` (decoding,
  the session, the order's command applied), with the ClOrdIDs of the NewOrderSingles it held;
* ``["write", start, end, records]``: a group commit written and fsynced
  (``SqliteJournal.append_here``, awaited on the event loop; ``Node._write`` on the
  journal's writer thread in builds before it);
* ``["notify", at]``: the loop took the durable batch back and its listeners start
  (``Node._notify``);
* ``["out", start, end, [ClOrdID, ...]]``: a FIX connection's transport write
  (``_Connection.flush`` or ``_write_now``, a group commit's reports), with the ClOrdIDs of
  the fill reports (``39=2``) it held.

* ``["gc", start, end, generation]``: a pause of the cyclic garbage collector of 1 ms or
  more (``gc.callbacks``), which holds up everything on the event loop.

With ``SANDEX_PROBE_TENURE=1`` in its environment (``bench/fix.py --tenure``) the server also
freezes what survives each full collection (``gc.freeze()`` in a ``gc.callbacks`` hook), so
the next one walks only what came since: an experiment on the collector's pauses, not what
``sandex serve`` does.

Only what the paced phase needs to join an order's stages; the scans cost a few µs a call.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from typing import Any


def _ids(data: bytes, kind: bytes) -> list[str]:
    """The ClOrdIDs of the messages in ``data`` holding ``kind`` (``35=D``, ``39=2``)."""
    found = []
    for message in data.split(b"\x0110="):
        if b"\x01" + kind + b"\x01" in message and (at := message.find(b"\x0111=")) >= 0:
            found.append(message[at + 4:message.find(b"\x01", at + 4)].decode())
    return found


def install(path: str) -> None:
    from sandex.api.fix import listener
    from sandex.journal.store import SqliteJournal
    from sandex.node.node import Node

    out = open(path, "a", buffering=1)  # noqa: SIM115  (open for the process's life)
    clock = time.time

    def write(*record: Any) -> None:
        out.write(json.dumps(record) + "\n")

    connection = listener._Connection
    received, flush, now = connection.data_received, connection.flush, connection._write_now
    written, notify = Node._write, Node._notify
    here = getattr(SqliteJournal, "append_here", None)

    def timed_received(self: Any, data: bytes) -> None:
        start = clock()
        received(self, data)
        end = clock()
        orders = _ids(data, b"35=D")
        if orders:
            write("in", start, end, orders)

    def sent(start: float, data: bytes) -> None:
        """A transport write of ``data`` that began at ``start`` has ended."""
        end = clock()
        fills = _ids(data, b"39=2")
        if fills:
            write("out", start, end, fills)

    def timed_flush(self: Any) -> None:
        pending = b"".join(self._pending)
        start = clock()
        flush(self)
        sent(start, pending)

    def timed_now(self: Any, data: bytes) -> None:
        start = clock()
        now(self, data)
        sent(start, data)

    def timed_write(self: Any, loop: Any, records: list[bytes], *rest: Any) -> None:
        start = clock()
        written(self, loop, records, *rest)
        write("write", start, clock(), len(records))

    async def timed_here(self: Any, records: list[bytes]) -> int:
        start = clock()
        assert here is not None
        end: int = await here(self, records)
        write("write", start, clock(), len(records))
        return end

    def timed_notify(self: Any, batches: list[Any]) -> None:
        write("notify", clock())
        notify(self, batches)

    started = [0.0]
    server = os.getpid()  # not a snapshot's forked child, whose collections are its own

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if os.getpid() != server:
            return
        if phase == "start":
            started[0] = clock()
        elif (end := clock()) - started[0] >= 0.001:
            write("gc", started[0], end, info["generation"])

    gc.callbacks.append(on_gc)
    if os.environ.get("SANDEX_PROBE_TENURE"):
        def tenure(phase: str, info: dict[str, int]) -> None:
            if phase == "stop" and info["generation"] == 2:
                gc.freeze()

        gc.callbacks.append(tenure)
    connection.data_received = timed_received  # type: ignore[method-assign]
    connection.flush = timed_flush  # type: ignore[method-assign]
    connection._write_now = timed_now  # type: ignore[method-assign]
    Node._write = timed_write  # type: ignore[method-assign,assignment]
    if here is not None:
        SqliteJournal.append_here = timed_here  # type: ignore[method-assign]
    Node._notify = timed_notify  # type: ignore[method-assign]


if __name__ == "__main__":
    install(sys.argv[1])
    from sandex.cli import main

    sys.exit(main(sys.argv[2:]))
