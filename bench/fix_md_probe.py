"""``sandex serve`` with stage stamps for ``bench/fix_md.py --stages`` (bench only).

    python bench/fix_md_probe.py OUT serve [sandex serve's flags]

Runs ``sandex.cli.main`` with three class attributes wrapped before the venue is built, each
appending one JSON line to OUT (wall-clock ``time.time()`` seconds):

* ``["fire", due, at]``: the demo's tick fired (``DemoTimer.fire``): its due time (venue µs,
  the TransactTime of its increments) and when it ran;
* ``["append", start, end, records]``: a group commit written and fsynced
  (``SqliteJournal.append_here``, awaited on the event loop; in builds before it
  ``Node._write`` or ``Node._append``, on the journal's writer thread);
* ``["notify", at, batches]``: a group commit became durable and its listeners start
  (``Node._notify``);
* ``["fan_out", start, end, sessions, cpu, events]``: the market data gateway with snapshots
  handled that commit's events (``MarketData.on_batch``), with how many sessions it had, the
  CPU seconds it took (``time.thread_time``: the machine's load does not count) and how many
  of the events were of a subscribed product;
* ``["writes", cpu, calls]`` at each tick: the CPU seconds spent in the FIX connections'
  transport writes since the previous tick (``_Connection.flush`` and, where it exists,
  ``_Connection._write_now``), all gateways together, and how many there were.

The wrappers work on any build with those names (``--src`` runs another ``sandex``).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def install(path: str) -> None:
    from sandex.api.fix import listener
    from sandex.api.fix.market_data import MarketData
    from sandex.demo.runner import DemoTimer
    from sandex.journal.store import SqliteJournal
    from sandex.node.node import Node

    out = open(path, "a", buffering=1)  # noqa: SIM115  (open for the process's life)
    clock, cpu = time.time, time.thread_time
    writes = [0.0, 0]  # CPU seconds in transport writes since the last tick, and calls

    def write(*record: Any) -> None:
        out.write(json.dumps(record) + "\n")

    fire, notify, on_batch = DemoTimer.fire, Node._notify, MarketData.on_batch
    written = getattr(Node, "_write", None)  # the writer thread's batch since session 12
    append = getattr(Node, "_append", None)  # before it
    here = getattr(SqliteJournal, "append_here", None)  # on the loop, since issue 18

    def timed_write(self: Any, loop: Any, records: list[bytes], *rest: Any) -> None:
        start = clock()
        assert written is not None
        written(self, loop, records, *rest)
        write("append", start, clock(), len(records))

    def timed_append(self: Any, records: list[bytes]) -> float:
        start = clock()
        assert append is not None
        took: float = append(self, records)
        write("append", start, clock(), len(records))
        return took

    async def timed_here(self: Any, records: list[bytes]) -> int:
        start = clock()
        assert here is not None
        end: int = await here(self, records)
        write("append", start, clock(), len(records))
        return end

    def timed_fire(self: Any, at: int) -> Any:
        write("writes", writes[0], writes[1])
        writes[0], writes[1] = 0.0, 0
        write("fire", at / 1e6, clock())
        return fire(self, at)

    def timed_notify(self: Any, batches: list[Any]) -> None:
        write("notify", clock(), len(batches))
        notify(self, batches)

    def timed_on_batch(self: Any, batches: list[Any]) -> None:
        if not self.snapshots or not self.subscribers:
            on_batch(self, batches)
            return
        start, used = clock(), cpu()
        on_batch(self, batches)
        used, end = cpu() - used, clock()
        subscribed = self.subscribers
        events = sum(1 for events in batches for event in events
                     if getattr(event, "product_id", None) in subscribed)
        write("fan_out", start, end, len(self.sessions), used, events)

    def timed(method: Any) -> Any:
        def wrapper(self: Any, *args: Any) -> None:
            used = cpu()
            method(self, *args)
            writes[0] += cpu() - used
            writes[1] += 1
        return wrapper

    connection = listener._Connection
    connection.flush = timed(connection.flush)  # type: ignore[method-assign]
    if hasattr(connection, "_write_now"):
        connection._write_now = timed(connection._write_now)  # type: ignore[method-assign]

    DemoTimer.fire = timed_fire  # type: ignore[method-assign]
    Node._notify = timed_notify  # type: ignore[method-assign]
    if append is not None:
        Node._append = timed_append  # type: ignore[attr-defined]
    else:
        Node._write = timed_write  # type: ignore[method-assign,assignment]
    if here is not None:
        SqliteJournal.append_here = timed_here  # type: ignore[method-assign]
    MarketData.on_batch = timed_on_batch  # type: ignore[method-assign]


if __name__ == "__main__":
    install(sys.argv[1])
    from sandex.cli import main

    sys.exit(main(sys.argv[2:]))
