"""The floor under the JetStream journal: three servers and a bare publisher, no sandex.

    .venv/bin/python bench/cluster_floor.py [--batches 1,8,16,32,64] [--seconds S]
        [--tails N] [--record-bytes B] [--json]

Starts a local 3-server JetStream cluster (``sandex.cluster.local``: 3 replicas,
``sync_interval: always``, as ``bench/cluster.py`` runs it) and, for each batch size ``B``,
a fresh stream made by ``NatsJournal`` (so the stream's configuration is the leader's). A
publisher then appends batches of ``B`` records for ``--seconds`` through ``append_here``:
the leader's own code, so each message carries the same headers (``Nats-Expected-Last-
Sequence``, ``Nats-Msg-Id``, ``Sandex-*``) and the same framing, one batch in flight at a
time as the leader's group commit has it. The records alternate a real ``PlaceOrder`` and
its ``CancelOrder`` encoded as the node encodes them (uuids as the REST path makes them),
so the bytes per record are the bench's (``--record-bytes`` pads each to another size).
``--lazy`` runs the servers with JetStream's default lazy fsync instead (the setting sandex
refuses; for information: what the fsync on every write costs). ``--tails`` ordered push
consumers (default 1: the standby's tail, as in production) take
every message on their own connection and only count it.

For each ``B`` it prints: records/s reached (one batch in flight: ``B`` / round trip),
the round trip (p50/p99), and CPU per record of the three servers together, of the
publisher process (the leader's journal path without the node) and of the tail. The servers'
CPU per record is the floor a request costs on one machine whatever sandex does; ``2e6 /
(servers + publisher + tail)`` is the records/s two cores could carry if they did nothing
else. A request of ``bench/cluster.py`` is one record.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit import machine, percentile

from sandex.cluster.journal import NatsJournal, new_client_loop
from sandex.cluster.local import LocalCluster
from sandex.core import CancelOrder, OrderType, PlaceOrder, Side
from sandex.node.codec import encode
from tests.support.cluster_kit import _free_base

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def records(count: int, pad: int | None) -> list[bytes]:
    """``count`` records, alternately a limit order and its cancel, as the REST load makes."""
    out: list[bytes] = []
    stamp = 1_700_000_000_000_000
    profile = str(uuid.uuid4())
    for i in range(0, count, 2):
        order_id = str(uuid.uuid4())
        out.append(encode(PlaceOrder(
            time=stamp + i, order_id=order_id, profile_id=profile, product_id="BTC-USD",
            side=Side.BUY if i % 4 else Side.SELL, type=OrderType.LIMIT,
            price=(10_000 + i % 1000) * 10**8, size=10**6)))
        out.append(encode(CancelOrder(time=stamp + i + 1, profile_id=profile,
                                      order_id=order_id)))
    out = out[:count]
    if pad is not None:
        out = [body[:pad].ljust(pad, b" ") for body in out]
    return out


class Tails:
    """``n`` ordered push consumers on a thread and event loop of their own, each counting
    messages (the standby's subscription, without its work): the publisher's CPU is then its
    thread's alone."""

    def __init__(self, journal: NatsJournal, n: int) -> None:
        self.journal, self.counts = journal, [0] * n
        self.subscriptions: list[Any] = []
        self.loop = new_client_loop()  # as the standby's tail
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clients = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self) -> list[Any]:
        import nats
        from nats.js.api import ConsumerConfig, DeliverPolicy

        clients = []
        for i in range(len(self.counts)):
            client = await nats.connect(self.journal.servers)

            async def on_message(message: Any, i: int = i) -> None:
                self.counts[i] += 1

            self.subscriptions.append(await client.jetstream().subscribe(
                self.journal.subject, cb=on_message, ordered_consumer=True,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                config=ConsumerConfig(opt_start_seq=1)))
            clients.append(client)
        return clients

    def close(self) -> None:
        async def stop() -> None:
            for subscription in self.subscriptions:
                await subscription.unsubscribe()
            await asyncio.sleep(0.1)  # the consumers' own tasks see it and end
            for client in self.clients:
                await client.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def run_one(journal: NatsJournal, batch: list[bytes], seconds: float, tails: int,
                  servers: list[int], cluster: LocalCluster) -> dict[str, Any]:
    tailing = Tails(journal, tails)
    for _ in range(50):  # warm-up: connection, stream leader, consumers
        await journal.append_here(batch)
    await asyncio.sleep(0.3)
    tails_before = list(tailing.counts)
    servers_before = [cpu_seconds(pid) for pid in servers]
    process, cpu, wall = time.process_time(), time.thread_time(), time.perf_counter()
    trips: list[float] = []
    messages = 0
    while time.perf_counter() - wall < seconds:
        started = time.perf_counter()
        await journal.append_here(batch)
        trips.append(time.perf_counter() - started)
        messages += 1
    wall = time.perf_counter() - wall
    cpu = time.thread_time() - cpu
    trips.sort()
    deadline = time.monotonic() + 10
    while any(count - before < messages for count, before in zip(tailing.counts, tails_before,
                                                                 strict=True)):
        if time.monotonic() > deadline:
            raise SystemExit("a tail did not get every message in 10 s")
        await asyncio.sleep(0.01)
    server_times = [(now[0] - before[0], now[1] - before[1]) for now, before in
                    zip((cpu_seconds(pid) for pid in servers), servers_before, strict=True)]
    server_cpu = [user + system for user, system in server_times]
    server_system = sum(system for _, system in server_times)
    others = time.process_time() - process - cpu  # the tails' thread (and the journal's)
    tailing.close()
    stored, stored_bytes = cluster.stream_state(journal.stream)
    done = messages * len(batch)
    per = 1e6 / done
    return {"batch": len(batch), "messages": messages, "records": done,
            "records_per_s": round(done / wall), "bytes_per_message":
            sum(map(len, batch)) + 8 * len(batch),
            # as JetStream counts them (headers included): compare with bench/cluster.py's
            "stream_bytes_per_record": round(stored_bytes / (stored * len(batch)), 1),
            "round_trip_ms": {"p50": round(percentile(trips, 0.5) * 1e3, 2),
                              "p99": round(percentile(trips, 0.99) * 1e3, 2)},
            "servers_us_per_record": round(sum(server_cpu) * per, 1),
            "each_server_us_per_record": [round(s * per, 1) for s in server_cpu],
            "servers_us_per_message": round(sum(server_cpu) * 1e6 / messages, 1),
            "servers_system_share": round(server_system / max(1e-9, sum(server_cpu)), 2),
            "publisher_us_per_record": round(cpu * per, 1),
            "tails_us_per_record": round(others * per, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,8,16,32,64,128")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tails", type=int, default=1)
    parser.add_argument("--record-bytes", type=int)
    parser.add_argument("--lazy", action="store_true",
                        help="servers with the default lazy fsync (the unsafe setting sandex "
                        "refuses): how much of the floor the fsync on every write is")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import uvloop

    if args.lazy:  # the journal says so once per stream; the report says it once
        logging.getLogger("sandex.cluster").setLevel(logging.ERROR)

    report: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg(),
                              "sync_always": not args.lazy, "results": []}
    print(f"machine: {report['machine']}; load average {report['load_before']}",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="sandex-bench-floor-") as tmp:
        cluster = LocalCluster(Path(tmp) / "nats", base=_free_base(), lazy=args.lazy)
        cluster.start()
        try:
            servers = [process.pid for process in cluster.processes.values()]
            for run, size in enumerate(int(b) for b in args.batches.split(",")):
                batch = records(size, args.record_bytes)
                journal = NatsJournal(cluster.url, monitors=cluster.monitors.split(","),
                                      stream=f"FLOOR{run}", unsafe=args.lazy)

                async def go(journal: NatsJournal = journal,
                             batch: list[bytes] = batch) -> dict[str, Any]:
                    try:
                        return await run_one(journal, batch, args.seconds, args.tails,
                                             servers, cluster)
                    finally:
                        await journal.close_here()

                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    result = runner.run(go())
                journal.close()
                report["results"].append(result)
                total = (result["servers_us_per_record"] + result["publisher_us_per_record"]
                         + result["tails_us_per_record"])
                print(f"  batch {size:>4}: {result['records_per_s']:>7,} records/s "
                      f"({result['bytes_per_message']:,} bytes a message, "
                      f"{result['stream_bytes_per_record']} stored a record), round trip p50 "
                      f"{result['round_trip_ms']['p50']} ms p99 "
                      f"{result['round_trip_ms']['p99']} ms; CPU per record: 3 servers "
                      f"{result['servers_us_per_record']} us "
                      f"({result['servers_us_per_message']} us a message, "
                      f"{result['servers_system_share']:.0%} in the kernel), publisher "
                      f"{result['publisher_us_per_record']} us, {args.tails} tail(s) "
                      f"{result['tails_us_per_record']} us;"
                      f" two cores carry at most {2e6 / total:,.0f} records/s",
                      file=sys.stderr, flush=True)
        finally:
            cluster.stop()
    report["load_after"] = os.getloadavg()
    print(f"load average after {report['load_after']}", file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
