"""Server work per FIX order, in process: CPU time and instructions, for comparing two builds.

    .venv/bin/python bench/fix_inprocess.py ORDERS [--window W] [--disk] [--src DIR]
    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
        .venv/bin/python bench/fix_inprocess.py ORDERS [...]

Builds the venue ``sandex serve --no-demo`` assembles from ``bench/bench_scenario.toml``
(rate limits off; ``--disk``: the journal in a temporary data dir, fsync per group commit,
else in memory) and drives two order-entry sessions through their sans-I/O ``Session``s on
a uvloop event loop, with no socket: the bytes a client would send go to
``Session.data_received`` ``W`` (64) orders at a time, as a socket read would hand them over,
and the reports come back through the session's writer (the loop sleeps until one comes:
no spinning while a group commit is on disk, so ``--disk`` counts do not grow with the
disk's wall time). A maker rests one large sell; the
taker sends ORDERS limit buys that match it at once, each done at its fill report (the
ack, the fill and the maker's fill report all sent). Prints ORDERS, the CPU seconds of the
loop over them and the CPU microseconds per order. Run it with ORDERS = 0 and ORDERS = N
under cachegrind; the difference of the two instruction counts over N is the cost of one
order (decode, session, gateway, node, journal record, reporter, encode). ``--src DIR`` runs
the ``sandex`` package found in DIR (another build, for A/B). ``--gc`` also times the garbage
collector's pauses over the orders (CPU time of each collection, per generation), after a
``gc.freeze()`` of the start-up state as ``sandex serve`` does: what order entry leaves
behind for the collector to walk shows up as long young or full collections (latency tail).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("orders", type=int)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--disk", action="store_true", help="journal on disk (fsync)")
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    parser.add_argument("--gc", action="store_true", help="time the collector's pauses")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    sys.path.insert(1 if args.src else 0, str(HERE.parent))
    import uvloop

    import sandex
    from sandex.api.fix.codec import encode
    from sandex.api.fix.logon import signature
    from sandex.api.fix.session import Gateway, Session, sending_time
    from sandex.server import build

    sys.path.insert(0, str(HERE))
    from kit import SCENARIO, scenario_keys

    work = Path(tempfile.mkdtemp(prefix="sandex-bench-fixin-"))
    venue = build(SCENARIO, rate_limits=False, data_dir=work / "data" if args.disk else None,
                  demo=False)
    fix = venue.fix
    assert fix is not None
    gateway: Gateway = fix
    keys = scenario_keys(SCENARIO)[:2]

    class Client:
        def __init__(self, index: int) -> None:
            self.key = keys[index]
            self.seq = 1
            self.received = bytearray()
            self.arrived = asyncio.Event()  # set by every write: the loop sleeps till then
            self.session = Session(gateway, time.monotonic(), f"bench:{index}")
            self.session.writer = self.write

        def write(self, data: bytes) -> None:
            self.received.extend(data)
            self.arrived.set()

        def frame(self, msg_type: str, body: list[tuple[int, str]]) -> bytes:
            stamp = sending_time(time.time())[:-3]
            data = encode(msg_type, [(49, self.key.key), (52, stamp), (56, "Coinbase"),
                                     (34, str(self.seq))], body)
            self.seq += 1
            return data

        def logon(self) -> None:
            key = self.key
            stamp = sending_time(time.time())[:-3]
            sig = signature(base64.b64decode(key.secret), stamp, "1", key.key, "Coinbase",
                            key.passphrase)
            self.session.data_received(encode(
                "A", [(34, "1"), (49, key.key), (52, stamp), (56, "Coinbase")],
                [(95, str(len(sig))), (96, sig), (98, "0"), (108, "30"), (141, "Y"),
                 (553, key.key), (554, key.passphrase), (1137, "9")]), time.monotonic())
            self.seq = 2
            assert b"\x0135=A\x01" in self.received, bytes(self.received)

        def order(self, n: int, side: str) -> bytes:
            return self.frame("D", [(11, f"00000000-0000-4000-8000-{n:012d}"), (55, "BTC-USD"),
                                    (54, side), (40, "2"), (44, "100.00"),
                                    (38, "100000" if side == "2" else "0.1"), (59, "1")])

    pauses: dict[int, list[float]] = {}  # generation -> CPU seconds of each collection
    began = [0.0]

    def collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.thread_time()
        else:
            pauses.setdefault(info["generation"], []).append(time.thread_time() - began[0])

    async def run() -> float:
        maker, taker = Client(1), Client(0)
        maker.logon()
        taker.logon()
        maker.session.data_received(maker.order(10**11, "2"), time.monotonic())
        while b"\x01150=0\x01" not in maker.received:
            assert b"\x01150=8\x01" not in maker.received, bytes(maker.received)
            await asyncio.sleep(0.001)
        frames = [taker.order(n, "1") for n in range(args.orders)]
        taker.received.clear()
        if args.gc:
            gc.collect()
            gc.freeze()  # as ``sandex serve`` after start-up
            gc.callbacks.append(collection)
        started = time.process_time()
        sent = filled = acks = 0
        while sent < args.orders:
            chunk = b"".join(frames[sent:sent + args.window])
            sent += len(frames[sent:sent + args.window])
            taker.session.data_received(chunk, time.monotonic())
            while filled < sent:
                if not taker.received:  # wait for a report, not spinning meanwhile
                    taker.arrived.clear()
                    await taker.arrived.wait()
                data = bytes(taker.received)
                taker.received.clear()
                filled += data.count(b"\x0139=2\x01")
                acks += data.count(b"\x01150=0\x01")
        took = time.process_time() - started
        if args.gc:
            gc.callbacks.remove(collection)
        assert acks == args.orders and filled == args.orders, (acks, filled)
        return took

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            took = runner.run(run())
            runner.run(venue.node.close())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for generation, each in sorted(pauses.items()):
        print(f"gc generation {generation}: {len(each)} collections, {sum(each) * 1e3:.1f} ms "
              f"CPU in all, longest {max(each) * 1e3:.2f} ms", file=sys.stderr)
    per = took / args.orders * 1e6 if args.orders else 0.0
    print(f"{args.orders} orders, window {args.window}, journal "
          f"{'disk' if args.disk else 'memory'}: {took:.3f} s CPU, {per:.1f} us/order "
          f"(sandex from {Path(sandex.__file__).parent})", file=sys.stderr)


if __name__ == "__main__":
    main()
