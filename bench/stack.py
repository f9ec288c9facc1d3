"""Server cost of one signed order request through the whole server stack, in process: sandex
with its journal on beside the no-engine ceiling (``bench/ceiling.py``).

    .venv/bin/python bench/stack.py [--requests N] [--connections C] [--app sandex|ceiling|both]
        [--ephemeral] [--src DIR] [--scheduler] [--gc] [--warm W]
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=cg.out \\
        .venv/bin/python bench/stack.py --app sandex --requests N
        (cg.out.2's "totals" over N: the instructions per request of the timed requests alone,
        every thread's; start-up is in cg.out.1. Under valgrind the timed part's dumps are
        made by callgrind's client request, ``bench/cgmarks.py``:
        ``--dump-before/after=sys_call_tracing`` made them until Debian's stripped
        interpreter, where they dump nothing. A cachegrind count of N minus one of N = 0
        also works, but carries start-up's own run-to-run variation, ~200 M instructions)

``C`` keep-alive connections of sandex's server stack (uvicorn's httptools protocol as
subclassed by ``sandex.api.guard``, on uvloop), each with an in-memory transport instead of a
socket, send what ``bench/rest.py``'s clients send: signed ``POST /orders`` (a resting limit
order) and, once answered, the signed ``DELETE /orders/{id}`` of that order; the next request
goes as soon as the answer is written (closed loop, so the node's group commit batches the
requests of the connections waiting together, as on a real port). ``sandex`` is the venue
``sandex serve`` assembles from ``bench/bench_scenario.toml`` on a fresh data dir (journal on:
each answer waits for its fsync; ``--ephemeral``: in memory), rate limits off; ``ceiling`` is
``bench/ceiling.py``'s app on the same stack. No kernel, no sockets: what is left is the
Python and C work of the server process (the journal's writer thread included), which a
cachegrind count makes repeatable on a shared machine. Prints the process CPU per request
(noisy) and, with ``--app both``, the client's own work (signing, building the bytes)
measured alone and subtracted. Under cachegrind, ``--app client`` counts that client work
alone: subtract its instructions per request from an app's for the server's share.
``--gc`` adds, for the timed requests, the cyclic collector's collections by generation and
the wall time spent in them (``gc.callbacks``), user and system CPU apart, and the resident
set before and after (memory growth during the run). ``--warm W`` runs ``W`` requests more,
untimed, before the timed ones (the state a longer run has built: ``bench/growth.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def setup_path(src: str | None) -> None:
    if src:
        sys.path.insert(0, str(Path(src).resolve()))
    sys.path.insert(1 if src else 0, str(HERE.parent))
    sys.path.insert(0, str(HERE))


class Transport(asyncio.Transport):
    """A connection's socket, in memory: an answer's body starts the connection's next request."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection
        self.closing = False

    def write(self, data: Any) -> None:
        self.connection.written(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Connection:
    """One client: signed POST, then the DELETE of what it placed, ``rounds`` times."""

    def __init__(self, protocol: Any, key: Any, body: bytes, rounds: int,
                 done: asyncio.Future[None], sign: Any) -> None:
        self.protocol = protocol
        self.key = key
        self.body = body
        self.rounds = rounds
        self.done = done
        self.sign = sign
        self.loop = asyncio.get_running_loop()
        self.answers = 0
        self.errors: list[bytes] = []
        self.status = 0
        self.transport = Transport(self)
        protocol.connection_made(self.transport)

    def head(self, method: str, path: str, body: bytes) -> bytes:
        ts = str(int(time.time()))
        key = self.key
        signature = self.sign(key.secret, ts, method, path, body)
        return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
                f"Content-Type: application/json\r\nCB-ACCESS-KEY: {key.key}\r\n"
                f"CB-ACCESS-PASSPHRASE: {key.passphrase}\r\nCB-ACCESS-TIMESTAMP: {ts}\r\n"
                f"CB-ACCESS-SIGN: {signature}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    def post(self) -> None:
        if self.rounds == 0:
            self.done.set_result(None)
            return
        self.rounds -= 1
        self.protocol.data_received(self.head("POST", "/orders", self.body))

    def written(self, data: bytes) -> None:
        if data.startswith(b"HTTP/1.1 "):
            self.status = int(data[9:12])
            return
        self.answers += 1
        if self.status != 200:
            self.errors.append(data)
            self.done.set_result(None)
        elif data.startswith(b'{"id":"'):
            path = "/orders/" + data[7:data.index(b'"', 7)].decode()
            self.loop.call_soon(self.protocol.data_received, self.head("DELETE", path, b""))
        else:
            self.loop.call_soon(self.post)


def connections_to(app: Any, connections: int, rounds: int) -> list[Connection]:
    """``connections`` clients of ``app`` (on the running loop), each to make ``rounds``
    place-and-cancel once posted: the scenario's trading keys in turn, the markets' bodies."""
    import uvicorn
    from kit import SCENARIO, scenario_keys, sign
    from loadgen import load_scenario
    from uvicorn.server import ServerState

    from sandex.api.guard import HttpLimits, protocols

    http, _ = protocols(HttpLimits(connections_per_address=10_000))
    # ``interface`` named: uvicorn's guess calls a Cython-compiled ``http_app`` as ASGI 2
    # (``inspect`` does not see a compiled coroutine function), as ``sandex serve`` would
    config = uvicorn.Config(app, http=http, lifespan="off", log_level="warning",
                            access_log=False, server_header=False, date_header=False,
                            proxy_headers=False, interface="asgi3")
    config.load()
    state = ServerState()
    keys = [k for k in scenario_keys(SCENARIO) if "trade" in k.permissions]
    _, markets = load_scenario(SCENARIO, "127.0.0.1:8000")
    loop = asyncio.get_running_loop()
    clients = []
    for i in range(connections):
        market = markets[(i // len(keys)) % len(markets)]
        body = market.bodies[(i * 7) % len(market.bodies)][0]
        done: asyncio.Future[None] = loop.create_future()
        clients.append(Connection(http(config=config, server_state=state, app_state={}),
                                  keys[i % len(keys)], body, rounds, done, sign))
    return clients


async def drive(app: Any, connections: int, rounds: int) -> tuple[int, list[bytes]]:
    """``connections`` clients of ``rounds`` place-and-cancel each; (answers, errors)."""
    clients = connections_to(app, connections, rounds)
    for client in clients:
        client.post()
    await asyncio.gather(*(c.done for c in clients))
    for client in clients:
        client.protocol.connection_lost(None)
    return sum(c.answers for c in clients), [e for c in clients for e in c.errors]


async def _start(coroutine: Any) -> None:
    """``coroutine`` as a task of the running loop, left running (``--scheduler``)."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _TASKS.add(task)
    await asyncio.sleep(0)


_TASKS: set[asyncio.Task[None]] = set()


class CollectorWatch:
    """``--gc``: collections by generation and their wall time, CPU and resident set over the
    timed requests."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections[info["generation"]] += 1
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> CollectorWatch:
        import gc
        import resource
        self._rss = self.rss_kb()
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        import gc
        import resource
        gc.callbacks.remove(self)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.user = usage.ru_utime - self._usage.ru_utime
        self.system = usage.ru_stime - self._usage.ru_stime
        self.rss = (self._rss, self.rss_kb())

    @staticmethod
    def rss_kb() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4 if \
            Path("/proc/self/statm").exists() else 0

    def report(self, name: str, n: int) -> str:
        gc_us = self.seconds / max(n, 1) * 1e6
        return (f"{name}: user {self.user / max(n, 1) * 1e6:.1f} and system "
                f"{self.system / max(n, 1) * 1e6:.1f} us of CPU per request; young, middle, "
                f"full collections {self.collections[0]}, {self.collections[1]}, "
                f"{self.collections[2]} ({gc_us:.2f} us per request in them); resident "
                f"{self.rss[0]:,} -> {self.rss[1]:,} kB")


def client_only(connections: int, rounds: int) -> None:
    """What the clients do alone (sign and build every request), for subtracting."""
    from kit import SCENARIO, scenario_keys, sign

    keys = [k for k in scenario_keys(SCENARIO) if "trade" in k.permissions]
    body = b'{"product_id":"BTC-USD","side":"buy","type":"limit","price":"10.00","size":"0.2"}'

    class Null:
        def connection_made(self, transport: Any) -> None:
            pass

    async def run() -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for i in range(connections):
            client = Connection(Null(), keys[i % len(keys)], body, rounds, done, sign)
            for _ in range(rounds):
                client.head("POST", "/orders", body)
                client.head("DELETE", "/orders/0b7a3c2e-5f1d-4e8a-9c6b-2d4f8e1a7b3c", b"")

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000,
                        help="requests per app (half POST, half DELETE)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--app", choices=("sandex", "ceiling", "both", "client"), default="both")
    parser.add_argument("--ephemeral", action="store_true", help="sandex without its journal")
    parser.add_argument("--recovered", action="store_true",
                        help="sandex's venue built, closed and built again on its data dir "
                             "before the runs (its state recovered from the journal, as a "
                             "restarted server's: the keys and profiles decoded, not made)")
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    parser.add_argument("--gc", action="store_true",
                        help="the cyclic collector's collections and time, CPU user and system "
                             "apart, resident set growth (timed requests)")
    parser.add_argument("--scheduler", action="store_true",
                        help="run the node's scheduler (GTT expiry, timers) as `sandex serve` "
                             "does: its listener sees every durable command")
    parser.add_argument("--warm", type=int, default=0,
                        help="requests run untimed before the timed ones (the state a longer "
                             "run builds)")
    args = parser.parse_args()
    setup_path(args.src)
    import cgmarks  # bench/, beside this file
    if cgmarks.under_valgrind():  # the timed part's own dumps (Debian's python: no symbols)
        cgmarks.mark()
    import uvloop

    rounds = args.requests // (2 * args.connections)
    n = 2 * rounds * args.connections
    apps = ("ceiling", "sandex") if args.app == "both" else (args.app,)
    client_us = 0.0
    if args.app in ("both", "client"):  # alone, not under an app: cachegrind counts it once
        client_only(args.connections, 1)
        started = time.process_time()
        client_only(args.connections, rounds)
        client_us = (time.process_time() - started) / max(n, 1) * 1e6
    print(f"{n} requests ({args.connections} connections x {rounds} rounds of POST + DELETE); "
          f"the client's own work alone {client_us:.1f} us/request", file=sys.stderr)
    for name in apps:
        if name == "client":
            continue
        data_dir = tempfile.TemporaryDirectory(prefix="sandex-stack-")
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            venue = None
            if name == "sandex":
                from kit import SCENARIO

                from sandex import server
                venue = server.build(SCENARIO, rate_limits=False, demo=False,
                                     data_dir=None if args.ephemeral
                                     else Path(data_dir.name) / "d")
                if args.recovered and not args.ephemeral:
                    runner.run(venue.node.close())
                    venue = server.build(SCENARIO, rate_limits=False, demo=False,
                                         data_dir=Path(data_dir.name) / "d")
                app = venue.app
                settle = getattr(server, "settle_heap", None)  # what serve does first
                if settle is not None:
                    settle()
                if args.scheduler:
                    runner.run(_start(venue.node.scheduler.run()))
            else:
                from ceiling import app_for
                from kit import SCENARIO
                app = app_for(SCENARIO)
            warm = args.warm // (2 * args.connections)
            if warm:  # what a longer run would have built before the timed requests
                runner.run(drive(app, args.connections, warm))
            # one round first, untimed: imports, the first check of each key's passphrase
            # (a scrypt run), first allocations; N = 0 under cachegrind runs only this
            runner.run(drive(app, args.connections, 1))
            watch = CollectorWatch() if args.gc else None
            if watch is not None:
                watch.__enter__()
            started = time.process_time()
            # through sys.call_tracing, a C function nothing else calls: what callgrind's
            # --toggle-collect=sys_call_tracing counts (the timed requests alone)
            answers, errors = sys.call_tracing(
                runner.run, (drive(app, args.connections, rounds),))
            cpu = time.process_time() - started
            if watch is not None:
                watch.__exit__()
            for task in _TASKS:
                task.cancel()
            if venue is not None:
                runner.run(venue.node.close())
                batches = venue.node.batches
            else:
                batches = 0
        data_dir.cleanup()
        if errors or answers != n:
            raise SystemExit(f"{name}: {answers} answers of {n}; first error {errors[:1]}")
        per = cpu / max(n, 1) * 1e6
        if watch is not None:
            print(watch.report(name, n), file=sys.stderr)
        fsyncs = f", {batches} group commits" if batches else ""
        print(f"{name}: {per:.1f} us of process CPU per request, {per - client_us:.1f} without "
              f"the client's{fsyncs}", file=sys.stderr)


if __name__ == "__main__":
    main()
