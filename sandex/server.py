"""Assemble and run a venue: node, scenario, and the REST, feed and admin gateways on one port.

``open_venue(options)`` opens one (data-dir lock, node, scenario file read once, gateways,
admin token, ``server.json``); ``serve`` runs it on uvicorn (uvloop + httptools), one process,
one event loop, the node as the single writer, until SIGINT/SIGTERM; ``asgi`` is the one
place that knows the three gateways share a port. ``build`` is the in-process part of
``open_venue`` (no lock, no files besides the journal), for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from sandex.admin.presence import DataDirLock, admin_token, remove_server, write_server
from sandex.api.admin import PREFIX as ADMIN_PREFIX
from sandex.api.admin import AdminGateway
from sandex.api.admin import openapi_paths as admin_openapi_paths
from sandex.api.clocks import signature_clock
from sandex.api.feed import Feed
from sandex.api.fix import DropCopy, FixOptions, MarketData, OrderEntry, start_listeners
from sandex.api.guard import HttpLimits, protocols
from sandex.api.http import Handle, Receive, Scope, Send, http_app
from sandex.api.metrics import PATH as METRICS_PATH
from sandex.api.metrics import MetricsGateway, RequestMeter
from sandex.api.rest.app import RestApp
from sandex.api.rest.ratelimit import RateLimits
from sandex.api.tracer import Tracer
from sandex.api.ui import PREFIX as UI_PREFIX
from sandex.api.ui import UiFiles, is_ui
from sandex.cluster.options import ClusterOptions
from sandex.core import REPLAY_PROFILE_ID, Rejected
from sandex.demo import DemoConfig, start_demo, withdraw_quotes
from sandex.faults import engine as engine_faults
from sandex.faults import faults_of
from sandex.funds.config import install as install_funds
from sandex.journal import JournalFenced, StorageError
from sandex.logs import AccessLog
from sandex.node import BASELINE, Batched, Node, SaveSnapshot, SystemClock
from sandex.node.clock import SecondsClock
from sandex.node.kinds import profile_kinds
from sandex.node.node import NodeStopped
from sandex.node.storage import open_node, snapshot_now, take_snapshot
from sandex.replay import replay_of
from sandex.scenario import Scenario, ScenarioError, load, read

if TYPE_CHECKING:
    from sandex.cluster.role import Cluster

log = logging.getLogger("sandex")

SNAPSHOT_CHECK_S = 1.0
SNAPSHOT_EVERY = 200_000  # commands: bounds replay at start-up to a few seconds
SNAPSHOT_IDLE_S = 300.0  # and at least this often while anything changes

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """What ``sandex serve`` was asked for (``docs/cli.md``)."""

    host: str = "127.0.0.1"
    port: int = 8000
    scenario: str | Path | None = None  # None: the embedded default (a str prints as given)
    rate_limits: bool | None = None  # None: the scenario's ``[venue] rate_limits``
    seed: int | None = None
    data_dir: Path | None = None  # None: in memory (--ephemeral)
    demo: bool = True
    admin_token: str | None = None  # in memory only; None: a random one (or the data dir's)
    access: AccessLog | None = None
    fix: FixOptions = field(default_factory=FixOptions)  # the FIX gateways (docs/fix.md)
    cluster: ClusterOptions | None = None  # --journal nats://...: the journal on JetStream


@dataclass
class Venue:
    node: Node
    app: ASGIApp  # the three gateways on one port
    scenario: Scenario
    admin_token: str
    data_dir: Path | None = None
    demo: DemoConfig | None = None  # the scenario's [demo] table
    demo_on: bool = False  # ... and it runs (not switched off with --no-demo)
    access: AccessLog | None = None
    lock: DataDirLock | None = None  # held while the venue runs (``open_venue``)
    replay_start: bool = False  # the scenario's [replay] start = true: run it once serving
    http: HttpLimits = field(default_factory=HttpLimits)  # the scenario's [http] table
    fix: OrderEntry | None = None  # the FIX order-entry gateway (listening once served)
    drop_copy: DropCopy | None = None  # the FIX drop copy gateway
    market_data: tuple[MarketData, MarketData] | None = None  # FIX: with, without snapshots
    cluster: Cluster | None = None  # leader or standby on a JetStream journal

    def close(self) -> None:
        """Forget ``server.json`` and release the data dir (after the node has stopped)."""
        if self.data_dir is not None and self.lock is not None:
            remove_server(self.data_dir)
            self.lock.release()


def default_scenario() -> Path:
    return Path(str(resources.files("sandex") / "scenarios" / "default.toml"))


def open_venue(options: ServeOptions) -> Venue:
    """Lock the data dir, open the node and its gateways, and say where it will listen.

    Raises ``DataDirBusy``, ``ScenarioError`` or ``JournalCorrupt`` (the lock then released).
    """
    data_dir, given = options.data_dir, options.admin_token
    if given is not None and data_dir is not None:
        raise ValueError("a data dir keeps its own admin token (admin.token)")
    lock = DataDirLock(data_dir) if data_dir is not None else None
    if lock is not None:
        lock.acquire()
    cluster = None
    try:
        if options.cluster is not None:
            from sandex.cluster import join

            cluster = join(options.cluster, f"http://{options.host}:{options.port}")
            if data_dir is not None:  # the bucket's newest snapshot, if newer than ours
                from sandex.cluster.snapshots import fetch_newest
                from sandex.node.storage import SNAPSHOT_DIR

                fetch_newest(cluster.journal, data_dir / SNAPSHOT_DIR)
        venue = build(options.scenario, options.rate_limits, options.seed, data_dir,
                      options.demo, access=options.access,
                      token=(lambda: admin_token(data_dir)) if data_dir is not None
                      else (lambda: given) if given is not None else None, cluster=cluster)
    except BaseException:
        if cluster is not None:
            cluster.journal.close()
        if lock is not None:
            lock.release()
        raise
    venue.lock = lock
    if data_dir is not None:
        write_server(data_dir, f"http://{options.host}:{options.port}")
    return venue


def build(scenario_path: str | Path | None = None, rate_limits: bool | None = None,
          seed: int | None = None, data_dir: Path | None = None, demo: bool = True, *,
          token: Callable[[], str] | None = None, access: AccessLog | None = None,
          wall_clock: Callable[[], float] = time.time, cluster: Cluster | None = None) -> Venue:
    """A node recovered from ``data_dir`` (``None``: in memory) and its gateways.

    A new data directory is loaded with ``scenario_path`` (the embedded default if ``None``),
    each command journaled; an existing one keeps its own state, and the scenario only names
    the credentials to print. ``token`` makes the admin token once the node is open (default:
    a random one). ``wall_clock`` is the real clock the venue runs on (tests freeze it).
    ``cluster``: the journal is its JetStream stream; a standby loads no scenario (the leader
    does), and a leader appends its ``Takeover`` record once the scenario is in.
    """
    source = SystemClock() if wall_clock is time.time else SecondsClock(wall_clock)
    node = open_node(data_dir, source, seed=seed,
                     journal=cluster.journal if cluster is not None else None)
    try:
        if cluster is not None:  # once replayed, so a long replay does not expire the lease
            cluster.acquire()
        file = read(scenario_path or default_scenario())
        clock = file.clock()
        fresh = node.position == 0 and (cluster is None or cluster.leading)
        start = clock.command(node.now()) if fresh else None
        if start is not None:  # first, so the scenario's commands are stamped on this clock
            node.record(start)
        # On an existing data dir the scenario only names the credentials: its commands are
        # stamped on a scratch node, so the venue clock resumes exactly at its last stamp.
        scenario = load(file, node if fresh else Node())
        demo_config = file.demo()
        enabled = scenario.rate_limits if rate_limits is None else rate_limits
        feed_limits = file.feed(enabled)
        http_limits = file.http()
        account_config = file.account()
        request_ids = file.request_ids()
        rules = file.faults()
        funds = file.funds()
        if fresh:
            for command in scenario.commands:
                events = node.record(command)
                if events and isinstance(refused := events[0], Rejected):
                    raise ScenarioError(f"{scenario_path}: {type(command).__name__} refused: "
                                        f"{refused.message}")
            replay = file.replay()
            if replay is not None:  # loaded (paused) before the baseline: reset keeps it
                try:
                    replay_of(node).load_recorded(replay)
                except ValueError as exc:
                    raise ScenarioError(f"{scenario_path}: [replay]: {exc}") from None
            node.record(SaveSnapshot(time=node.stamp(), name=BASELINE))  # what reset restores
        elif cluster is not None and not cluster.leading:
            log.info("standby at journal position %d; following the leader", node.position)
        else:
            log.info("%s: resuming at journal position %d; the scenario is not reloaded",
                     data_dir, node.position)
            replay_of(node).resync()  # a replay in progress goes on from where it was, paused
        if cluster is not None and cluster.leading:
            cluster.record_takeover(node)
    except BaseException:
        node.journal.close()
        raise
    secret = token() if token is not None else secrets.token_hex(32)
    signatures = signature_clock(clock.auth_window, node, wall_clock)
    kinds = profile_kinds(node)  # traces name fills with the demo's and replay's profiles
    kinds.register(REPLAY_PROFILE_ID, "replay")
    if demo_config is not None:
        kinds.register(demo_config.maker_profile_id, "demo")
        kinds.register(demo_config.taker_profile_id, "demo")
    tracer = Tracer(node) if request_ids else None  # test mode: what each command did
    feed = Feed(node, feed_limits, signature_clock=signatures,  # on the same port (§9)
                tracer=tracer)
    node.listeners.append(Batched(feed.on_batch) if tracer is None
                          else tracer.watch(feed.on_events))
    rest = RestApp(node, RateLimits(enabled=enabled), signatures, admin_openapi_paths(),
                   request_ids=request_ids, tracer=tracer, account=account_config)
    faults_of(node).start_with(rules)  # not state: installed at every start, never journaled
    install_funds(node, funds)  # likewise: payment methods, wallets, fees, delays
    engine_faults.sync(node)  # the engine rules' status windows, on the venue clock
    node.listeners.append(Batched(rest.on_batch))
    fix = OrderEntry(node, enabled, signatures, wall_clock,  # FIX limits follow REST's switch
                     account_config.fee_tiers)
    node.listeners.append(Batched(fix.on_batch))
    drop_copy = DropCopy(node, signatures, wall_clock)
    node.listeners.append(Batched(drop_copy.on_batch))
    market_data = (MarketData(node, signatures, wall_clock, snapshots=True),
                   MarketData(node, signatures, wall_clock, snapshots=False))
    for gateway in market_data:
        node.listeners.append(Batched(gateway.on_batch))
    gateway_commands: dict[str, Callable[[dict[str, Any]], Any]] = {
        "explain": rest.explain, "trace": rest.trace}  # REST's, asked through /admin/
    meter = RequestMeter()  # GET /metrics: loopback and the admin token, as /admin/
    metrics = MetricsGateway(node, secret, meter, feed)
    app = asgi(rest, feed, AdminGateway(node, secret, gateway_commands), access,
               metrics, meter)
    return Venue(node, app, scenario, secret, data_dir, demo_config,
                 demo and demo_config is not None, access,
                 replay_start=fresh and bool((file.replay() or {}).get("start")),
                 http=http_limits, fix=fix, drop_copy=drop_copy, market_data=market_data,
                 cluster=cluster)


def asgi(rest: RestApp, feed: Feed, admin: AdminGateway,
         access: AccessLog | None = None, metrics: MetricsGateway | None = None,
         meter: RequestMeter | None = None) -> ASGIApp:
    """The one ASGI app of the port: WebSocket to the feed (§9.1), ``/admin/...`` to the admin
    gateway, ``/metrics`` to ``metrics``, ``/ui/...`` to the web page's files, every other
    HTTP request to REST; ``access`` logs each HTTP request, ``meter`` counts it."""
    ui = UiFiles()

    others = (ADMIN_PREFIX, METRICS_PATH, UI_PREFIX)  # what is not REST starts with one

    def pick(path: str) -> Handle:
        if not path.startswith(others):  # one test for a REST path
            return rest.current  # ``rest.handler()``, kept up to date by the gateway
        if path.startswith(ADMIN_PREFIX):
            return admin
        if path == METRICS_PATH and metrics is not None:
            return metrics
        if path.startswith(UI_PREFIX) and is_ui(path):
            return ui
        return rest.handler()  # the app answers its exceptions

    return http_app(pick, access, meter, feed)


async def snapshot_periodically(node: Node, data_dir: Path,
                                written: Callable[[Path], Awaitable[None]] | None = None
                                ) -> None:
    """Snapshot after ``SNAPSHOT_EVERY`` commands, or ``SNAPSHOT_IDLE_S`` after any change;
    ``written`` is told of each snapshot file (a cluster's leader shares it)."""
    last = time.monotonic()
    while True:
        await asyncio.sleep(SNAPSHOT_CHECK_S)
        behind = node.position - node.snapshot_position
        if behind >= SNAPSHOT_EVERY or (behind and time.monotonic() - last >= SNAPSHOT_IDLE_S):
            started = time.perf_counter()
            path = await take_snapshot(node, data_dir)
            last = time.monotonic()
            log.info("snapshot %s written in %.3f s", path, time.perf_counter() - started)
            if path is not None and written is not None:
                try:
                    await written(path)
                except Exception as exc:  # the local file and the stream still have it all
                    log.warning("snapshot %s not shared: %r", path.name, exc)


YOUNG_COLLECTION_AFTER = 20_000
"""Container objects allocated (net) before the cyclic collector walks the young ones.
Python's 700 is crossed by the objects of the requests waiting for one group commit alone
(~1,900 at 64 connections: frames, requests, events, futures), so a young collection ran
every ~140 requests, walked them, found nothing (33 objects in 236 collections) and moved
them to the older generations to be walked again: ~3 us a request. Freed by reference
counting, as almost all of them are, they never add up to this (``docs/performance.md``,
"REST", eighth pass)."""


def settle_heap() -> None:
    """Put what start-up built (modules, the scenario, the recovered state) out of the cyclic
    collector's sight: it lives as long as the process, and a full collection would walk all
    of it again every few thousand requests; and walk the young generation only after
    ``YOUNG_COLLECTION_AFTER`` net allocations (``docs/performance.md``, "REST")."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, older, oldest)


class _Server(uvicorn.Server):
    """uvicorn, minus re-raising SIGINT/SIGTERM after shutdown: sandex exits 0 on its own."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def serve(venue: Venue, host: str, port: int,
          on_ready: Callable[[], None] | None = None, fix: FixOptions | None = None) -> int:
    """Run until SIGINT/SIGTERM: stop accepting, finish the batch in flight, snapshot, close.

    Returns the exit status: 0, or 1 if the node stopped (journal failure or engine fault),
    or ``REJOIN`` if another node took over the cluster's journal (``sandex.cluster.role``).
    """
    http, ws = protocols(venue.http)  # the limits of docs/cli.md, "Limits and timeouts"
    config = uvicorn.Config(venue.app, host=host, port=port, loop="uvloop", http=http,
                            ws=ws, lifespan="off", log_level="warning",
                            access_log=False, server_header=False, date_header=False,
                            proxy_headers=False)  # idle timeout: the protocol's own
    server = _Server(config)
    node = venue.node

    cluster = venue.cluster

    def rejoins(exc: BaseException | None) -> bool:
        """Whether the node stopped for the cluster's journal: deposed, or an append that got
        no answer (its outcome unknown): it restarts as a follower and reads the stream."""
        return cluster is not None and isinstance(exc, JournalFenced | StorageError)

    def node_stopped(exc: BaseException) -> None:  # the node has logged why
        server.should_exit = True
        if not rejoins(exc):  # a rejoining node answers what is in flight (503) first
            server.force_exit = True

    node.on_failure = node_stopped

    async def main() -> None:
        settle_heap()
        tasks: list[asyncio.Task[Any]] = []

        def start_writers() -> None:  # what only the leader runs: timers, the demo, a replay
            if venue.demo is not None and venue.demo_on:
                start_demo(node, venue.demo)  # a timer of the scheduler, before it runs
            elif venue.demo is not None:  # its last quotes would rest untended
                tasks.append(asyncio.create_task(withdraw_quotes(node, venue.demo)))
            tasks.append(asyncio.create_task(node.scheduler.run()))  # GTT expiry, demo ticks
            if venue.replay_start:
                replay_of(node).start()

        async def share_snapshot(path: Path) -> None:  # the leader's, to the object store
            if cluster is not None and cluster.leading:
                from sandex.cluster.snapshots import upload

                await cluster.journal.call(upload(cluster.journal, path))

        if cluster is None or cluster.leading:
            start_writers()
        if cluster is not None:
            tasks.append(asyncio.create_task(cluster.run(node, start_writers)))
        if venue.data_dir is not None:
            tasks.append(asyncio.create_task(snapshot_periodically(
                node, venue.data_dir, share_snapshot if cluster is not None else None)))
        gateways: list[tuple[str, Any, int]] = []
        if fix is not None and venue.fix is not None and venue.drop_copy is not None \
                and venue.market_data is not None:
            gateways = [("order entry", venue.fix, fix.order_port),
                        ("drop copy", venue.drop_copy, fix.drop_copy_port),
                        ("market data", venue.market_data[0], fix.md_port),
                        ("market data (incremental)", venue.market_data[1],
                         fix.md_incremental_port)]
        listeners = await start_listeners(fix, gateways, venue.data_dir) if fix else []
        try:
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():
                await asyncio.sleep(0.005)
            if server.started and on_ready is not None:
                on_ready()  # listening: now the banner can say so
            await serving
        finally:
            for listener in listeners:
                await listener.close()
            for task in tasks:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, NodeStopped):
                    pass  # a task that met the stopped node: the node logged why
                except Exception:
                    log.exception("task %r failed", task)
            if cluster is not None and cluster.leading and node.failure is None:
                with contextlib.suppress(NodeStopped):
                    await node.synced()
                await cluster.resign()  # a standby takes over at once, not after the TTL
            await node.close()
            if venue.access is not None:
                venue.access.flush()
        if venue.data_dir is not None and node.failure is None:
            path = snapshot_now(node, venue.data_dir)
            log.info("shut down at journal position %d%s; %d group commits this run",
                     node.position, f"; snapshot {path}" if path else "", node.batches)

    import uvloop

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
    finally:
        venue.close()
    if rejoins(node.failure):
        from sandex.cluster.role import REJOIN

        return REJOIN
    return 1 if node.failure is not None else 0
