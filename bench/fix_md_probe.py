"""``sandex serve`` with stage stamps for ``bench/fix_md.py --stages`` (bench only).

    python bench/fix_md_probe.py OUT serve [sandex serve's flags]

Runs ``sandex.cli.main`` with three class attributes wrapped before the venue is built, each
appending one JSON line to OUT (wall-clock ``time.time()`` seconds):

* ``["fire", due, at]``: the demo's tick fired (``DemoTimer.fire``): its due time (venue µs,
  the TransactTime of its increments) and when it ran;
* ``["append", start, end, records]``: a group commit written and fsynced (``Node._append``,
  on the journal's writer thread);
* ``["notify", at, batches]``: a group commit became durable and its listeners start
  (``Node._notify``);
* ``["fan_out", start, end, sessions]``: the market data gateway with snapshots handled that
  commit's events (``MarketData.on_batch``), with how many sessions it had.

The wrappers work on any build with those names (``--src`` runs another ``sandex``).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def install(path: str) -> None:
    from sandex.api.fix.market_data import MarketData
    from sandex.demo.runner import DemoTimer
    from sandex.node.node import Node

    out = open(path, "a", buffering=1)  # noqa: SIM115  (open for the process's life)
    clock = time.time

    def write(*record: Any) -> None:
        out.write(json.dumps(record) + "\n")

    fire, notify, on_batch = DemoTimer.fire, Node._notify, MarketData.on_batch
    append = Node._append

    def timed_append(self: Any, records: list[bytes]) -> float:
        start = clock()
        took = append(self, records)
        write("append", start, clock(), len(records))
        return took

    def timed_fire(self: Any, at: int) -> Any:
        write("fire", at / 1e6, clock())
        return fire(self, at)

    def timed_notify(self: Any, batches: list[Any]) -> None:
        write("notify", clock(), len(batches))
        notify(self, batches)

    def timed_on_batch(self: Any, batches: list[Any]) -> None:
        if not self.snapshots or not self.subscribers:
            on_batch(self, batches)
            return
        start = clock()
        on_batch(self, batches)
        write("fan_out", start, clock(), len(self.sessions))

    DemoTimer.fire = timed_fire  # type: ignore[method-assign]
    Node._notify = timed_notify  # type: ignore[method-assign]
    Node._append = timed_append  # type: ignore[method-assign]
    MarketData.on_batch = timed_on_batch  # type: ignore[method-assign]


if __name__ == "__main__":
    install(sys.argv[1])
    from sandex.cli import main

    sys.exit(main(sys.argv[2:]))
