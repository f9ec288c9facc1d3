"""The failover test: a 3-server JetStream cluster, a leader and a hot standby, signed clients,
and ``kill -9`` / ``SIGSTOP`` at random moments; then check what survived.

Processes (all on 127.0.0.1): three ``nats-server`` (``sandex.cluster.local``), sandex nodes
``a`` and ``b`` (``--journal nats://...``), and the crash kit's signed traders (Alice buys,
Bob sells, with cancels and reads) through a client that follows the leader: on a 503 or a
refused connection it tries the other node, repeating the same request (an order keeps its
``client_oid``, so the retry is answered from the exactly-once index).

Scenarios, one per round:

* ``kill-leader``: ``kill -9`` the leader under load; the standby must serve writes within
  ``FAILOVER_TARGET_S``; the killed node is started again and catches up as a follower;
* ``pause-leader``: ``SIGSTOP`` the leader for twice the lease, then ``SIGCONT``: the standby
  took over, the old leader's appends are refused, it restarts itself as a follower;
* ``kill-nats``: ``kill -9`` the JetStream server leading the stream, then start it again;
* ``kill-all-nats``: ``kill -9`` all three JetStream servers at once, then start them again
  (process death only: the page cache survives, so this does not test power loss). A leader
  whose append got no answer steps down and restarts as a follower; a node leads again.

After each: every acknowledged order is there (on every node), no fill a client read is
gone, no acknowledged cancel is open, the stream's epochs change only at ``Takeover``
records, replaying the stream gives the state hash every node reports at the same position,
and the replayed state keeps every invariant. ``make cluster-test`` runs 100 rounds:
``python -m tests.support.cluster_kit --rounds 100``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandex.cluster.journal import NatsJournal
from sandex.cluster.local import LocalCluster
from sandex.core import check_invariants
from sandex.node import Takeover
from sandex.node.codec import decode
from sandex.node.snapshot import node_hash
from sandex.node.storage import open_node
from tests.support.crash_kit import Seen, check_survivors
from tests.support.rest_kit import ALICE, BOB, SCENARIO, RawClient, Reply, free_port

LEASE_TTL_S = 2.0
FAILOVER_TARGET_S = 5.0
SCENARIOS = ("kill-leader", "pause-leader", "kill-nats", "kill-all-nats")


@dataclass
class SandexNode:
    """One ``sandex serve --journal ...`` process."""

    name: str
    port: int
    data_dir: Path
    cluster: LocalCluster
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def start(self, wait_s: float = 60.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 (the server's stderr)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandex.cli", "serve", "--port", str(self.port),
             "--scenario", str(SCENARIO), "--data-dir", str(self.data_dir), "--no-fix",
             "--no-rate-limit", "--log-level", "warning", "--journal", self.cluster.url,
             "--journal-monitor", self.cluster.monitors, "--node-name", self.name,
             "--lease-ttl", str(LEASE_TTL_S)],
            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ})
        log.close()
        self.wait_up(wait_s)

    def wait_up(self, wait_s: float = 60.0) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()[-3000:]}")
            try:
                self.state()
                return
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start: {self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def state(self) -> dict[str, Any]:
        """``GET /admin/state``: position, state hash, epoch, follower_of."""
        token = (self.data_dir / "admin.token").read_text().strip()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/admin/state", headers={"Authorization": f"Bearer {token}"})
            reply = conn.getresponse()
            body = reply.read()
        finally:
            conn.close()
        if reply.status != 200:
            raise ValueError(f"{self.name}: /admin/state {reply.status} {body!r}")
        return json.loads(body)  # type: ignore[no-any-return]

    def leads(self) -> bool:
        try:
            return self.state()["follower_of"] is None
        except (OSError, http.client.HTTPException, ValueError):
            return False

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(10)

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None


class FollowingClient:
    """A signed client of whichever node leads: a 503 or a refused connection moves it to the
    next node and repeats the same request (same body: same ``client_oid``)."""

    def __init__(self, ports: list[int], creds: tuple[str, str, str], stop: threading.Event,
                 retry_s: float = 20.0) -> None:
        self.ports, self.creds, self.stop, self.retry_s = ports, creds, stop, retry_s
        self.current = 0
        self.client = RawClient(ports[0], creds)

    def request(self, method: str, target: str, body: Any = None) -> Reply | None:
        deadline = time.monotonic() + self.retry_s
        while time.monotonic() < deadline:
            try:
                reply = self.client.request(method, target, body)
                if reply.status != 503:
                    return reply
            except (OSError, http.client.HTTPException):
                pass
            self.current = (self.current + 1) % len(self.ports)
            self.client = RawClient(self.ports[self.current], self.creds)
            time.sleep(0.05)
        return None


def trader(ports: list[int], creds: tuple[str, str, str], side: str, seed: int, seen: Seen,
           stop: threading.Event) -> None:
    """Place (with a client_oid), read and cancel until told to stop."""
    rng = random.Random(seed)
    client = FollowingClient(ports, creds, stop)
    mine: list[str] = []
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.6 or not mine:
            price = Decimal(19_995 + rng.randrange(11))
            size = Decimal(rng.randrange(1, 20)) / 100
            reply = client.request("POST", "/orders", {
                "product_id": "BTC-USD", "side": side, "price": str(price),
                "size": str(size), "client_oid": str(uuid.UUID(int=rng.getrandbits(128),
                                                               version=4))})
            if reply is not None and reply.status == 200:
                order_id = reply.json()["id"]
                with seen.lock:
                    seen.placed[order_id] = Decimal(0)
                mine.append(order_id)
        elif roll < 0.8:
            order_id = mine.pop(rng.randrange(len(mine)))
            with seen.lock:
                seen.cancel_tried.add(order_id)
            reply = client.request("DELETE", f"/orders/{order_id}")
            if reply is not None and reply.status == 200:
                with seen.lock:
                    seen.canceled.add(order_id)
        else:
            order_id = rng.choice(mine)
            reply = client.request("GET", f"/orders/{order_id}")
            if reply is not None and reply.status == 200:
                with seen.lock:
                    seen.placed[order_id] = max(seen.placed[order_id],
                                                Decimal(reply.json()["filled_size"]))
            fills = client.request("GET", f"/fills?order_id={order_id}")
            if fills is not None and fills.status == 200:
                with seen.lock:
                    for fill in fills.json():
                        seen.trades[fill["trade_id"]] = order_id


@dataclass
class Rig:
    """The JetStream cluster and the two sandex nodes of a run (kept across rounds)."""

    directory: Path
    nats: LocalCluster
    nodes: list[SandexNode] = field(default_factory=list)

    @classmethod
    def start(cls, directory: Path) -> Rig:
        nats = LocalCluster(directory / "nats", base=_free_base())
        nats.start()
        rig = cls(directory, nats)
        try:
            for name in ("a", "b"):
                node = SandexNode(name, free_port(), directory / name, nats)
                node.start()
                rig.nodes.append(node)
                if name == "a":
                    _wait(node.leads, 30, "a to lead")
        except BaseException:
            rig.stop()
            raise
        return rig

    def leader(self) -> SandexNode:
        _wait(lambda: any(node.leads() for node in self.nodes), 30, "a leader")
        return next(node for node in self.nodes if node.leads())

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nats.stop()

    def journal(self) -> NatsJournal:
        return NatsJournal(self.nats.url, monitors=self.nats.monitors.split(","), create=False)


@dataclass
class Round:
    scenario: str
    acknowledged: int
    problems: list[str]
    failover_s: float | None = None


def run_round(rig: Rig, scenario: str, seed: int, traders: int = 4) -> Round:
    rng = random.Random(seed)
    leader = rig.leader()
    standby = next(node for node in rig.nodes if node is not leader)
    ports = [leader.port, standby.port]
    for creds in (ALICE, BOB):  # each round starts with funds free and no open orders
        reply = FollowingClient(ports, creds, threading.Event()).request("DELETE", "/orders")
        assert reply is not None and reply.status == 200, reply
    seen, stop = Seen(), threading.Event()
    problems: list[str] = []
    threads = [threading.Thread(target=trader, daemon=True, args=(
        ports, ALICE if i % 2 == 0 else BOB, "buy" if i % 2 == 0 else "sell", rng.random(),
        seen, stop)) for i in range(traders)]
    for thread in threads:
        thread.start()
    time.sleep(rng.uniform(0.3, 1.2))
    failover_s = None
    if scenario == "kill-leader":
        leader.kill()
        failover_s = _failover(standby)
        time.sleep(0.5)
        leader.start()  # the deposed node comes back and follows
    elif scenario == "pause-leader":
        logged = len(leader.log())
        leader.signal(signal.SIGSTOP)
        failover_s = _failover(standby)
        time.sleep(LEASE_TTL_S)
        leader.signal(signal.SIGCONT)  # it finds itself deposed and restarts as a follower
        _wait(lambda: _follows(leader), 60, f"{leader.name} to follow after SIGCONT")
        woke = leader.log()[logged:]
        if not any(why in woke for why in ("lost the lease", "moved past sequence")):
            problems.append(f"{leader.name} did not say it was deposed: {woke[-1500:]}")
    elif scenario == "kill-nats":
        with rig.journal() as journal:
            info = journal.run(journal.js.stream_info(journal.stream))
        victim = int(str(info.cluster.leader).removeprefix("n")) if info.cluster else 1
        rig.nats.kill(victim)
        time.sleep(rng.uniform(1.0, 2.0))
        rig.nats.start(victim)
    elif scenario == "kill-all-nats":
        for server in list(rig.nats.servers):
            rig.nats.kill(server)
        time.sleep(rng.uniform(0.5, 1.5))
        rig.nats.start()
        rig.leader()  # a node leads again (the same, or the standby after a takeover)
    else:
        raise ValueError(scenario)
    time.sleep(1.5)  # load on the recovered cluster too
    stop.set()
    for thread in threads:
        thread.join(40)
    problems += check_cluster_settled(rig, seen)
    if failover_s is not None and failover_s > FAILOVER_TARGET_S:
        problems.append(f"failover took {failover_s:.2f} s (target {FAILOVER_TARGET_S} s)")
    return Round(scenario, len(seen.placed) + len(seen.canceled), problems, failover_s)


class Unsettled(Exception):
    """The cluster changed under the check (a late takeover: a node restarting, the stream
    moving on); the check starts again."""


def check_cluster_settled(rig: Rig, seen: Seen, attempts: int = 3) -> list[str]:
    """``check_cluster`` on a cluster that holds still. Killing a JetStream server can cost
    the lease's bucket its leader, so a late takeover may depose the leader during the check
    (nothing lost: it restarts as a follower and its port is briefly gone); the check is
    then made again once the nodes serve, and what the last attempt finds is reported."""
    for attempt in range(attempts):
        try:
            return check_cluster(rig, seen, strict=attempt == attempts - 1)
        except Unsettled as exc:
            print(f"the cluster moved during the check ({exc}); checking again",
                  file=sys.stderr, flush=True)
            for node in rig.nodes:
                _wait(lambda node=node: _answers(node), 60, f"{node.name} to serve again")
    raise AssertionError("unreachable")


def _answers(node: SandexNode) -> bool:
    try:
        node.state()
        return True
    except (OSError, http.client.HTTPException, ValueError):
        return False


def check_cluster(rig: Rig, seen: Seen, strict: bool = True) -> list[str]:
    """What the cluster lost or got wrong after a round; empty when all is well."""
    problems: list[str] = []
    for attempt in range(10):  # a takeover may still append (a lease lost to a server's loss)
        journal = rig.journal()
        states = _settled(rig.nodes, journal.last_position)
        settled = all(state is None or state["position"] == journal.last_position
                      for state in states.values())
        if attempt == 9 or (settled and journal.run(journal._last_seq()) == journal.last_seq):
            break
        journal.close()
        time.sleep(1.0)
    with journal:
        end = journal.run(journal._last_seq())
        problems += check_epochs(journal)
        for node in rig.nodes:  # each node, once it applied the whole stream
            try:
                problems += [f"{node.name}: {p}" for p in check_survivors(node.port, seen)]
            except (OSError, http.client.HTTPException) as exc:
                if not strict:
                    raise Unsettled(f"{node.name} did not answer: {exc!r}") from exc
                problems.append(f"{node.name}: did not answer the check ({exc!r})")
        replayed = open_node(None, journal=journal)
        try:
            check_invariants(replayed.engine)
        except AssertionError as exc:
            problems.append(f"invariant broken in the replayed stream: {exc}")
        expected = node_hash(replayed)
        for name, state in states.items():
            if state is None:
                problems.append(f"{name}: did not reach position {journal.last_position}")
            elif (state["position"], state["state_hash"]) != (replayed.position, expected):
                problems.append(f"{name}: at {state['position']} hash {state['state_hash']}; "
                                f"the stream replays to {replayed.position} hash {expected}")
        if end != journal.last_seq:
            if not strict:
                raise Unsettled(f"the stream moved ({end} -> {journal.last_seq})")
            problems.append(f"the stream moved during the check ({end} -> {journal.last_seq})")
    return problems


def check_epochs(journal: NatsJournal) -> list[str]:
    """Every message carries the epoch of the last ``Takeover`` before it (the first leader's
    scenario records come before its own takeover, in its epoch)."""
    problems: list[str] = []
    current: int | None = None
    genesis = True  # before the first takeover: the first leader's scenario records
    for batch in journal.batches(0):
        takeovers = [decode(body) for body in batch.records
                     if body.startswith(b'{"command":"takeover"')]
        if takeovers:
            takeover = takeovers[0]
            assert isinstance(takeover, Takeover)
            if len(batch.records) != 1 or takeover.epoch != batch.epoch:
                problems.append(f"message {batch.seq}: a takeover not alone in its epoch")
            if current is not None and (takeover.epoch < current if genesis
                                        else takeover.epoch <= current):
                problems.append(f"message {batch.seq}: epoch {takeover.epoch} after {current}")
            current, genesis = takeover.epoch, False
        elif current is None:
            current = batch.epoch
        elif batch.epoch != current:
            problems.append(f"message {batch.seq} (positions {batch.first}..{batch.last}) "
                            f"written in epoch {batch.epoch} after the takeover of epoch "
                            f"{current}")
    return problems


def _settled(nodes: list[SandexNode], position: int,
             wait_s: float = 30.0) -> dict[str, dict[str, Any] | None]:
    """Each node's state once it reached ``position`` (``None``: it did not in time)."""
    found: dict[str, dict[str, Any] | None] = {}
    for node in nodes:
        deadline, state = time.monotonic() + wait_s, None
        while time.monotonic() < deadline:
            try:
                state = node.state()
                if state["position"] >= position:
                    break
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.05)
        found[node.name] = state if state is not None and state["position"] >= position \
            else None
    return found


def _failover(standby: SandexNode) -> float:
    started = time.monotonic()
    _wait(standby.leads, 30, f"{standby.name} to take over")
    return time.monotonic() - started


def _follows(node: SandexNode) -> bool:
    try:
        return node.state()["follower_of"] is not None
    except (OSError, http.client.HTTPException, ValueError):
        return False


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {seconds} s for {what}")
        time.sleep(0.02)


def _free_base() -> int:
    """A base port whose client, route and monitoring ports (base+1..3, +101..103,
    +201..203) look free."""
    for _ in range(50):
        base = random.randrange(20_000, 40_000, 10)
        if all(_free(base + offset + i) for offset in (0, 100, 200) for i in (1, 2, 3)):
            return base
    raise RuntimeError("no free ports for the JetStream cluster")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work (and leave the logs) in this directory")
    args = parser.parse_args()
    passed = acknowledged = 0
    failovers: list[float] = []
    with tempfile.TemporaryDirectory(prefix="sandex-cluster-") as tmp:
        if args.keep is not None:
            tmp = str(args.keep.resolve())
        rig: Rig | None = None
        try:
            for i in range(args.rounds):
                if rig is None or i % 10 == 0:  # a fresh venue every ten rounds (funds)
                    if rig is not None:
                        rig.stop()
                    rig = Rig.start(Path(tmp) / f"run-{i // 10}")
                scenario = SCENARIOS[i % len(SCENARIOS)]
                result = run_round(rig, scenario, args.seed * 1_000_003 + i)
                acknowledged += result.acknowledged
                if result.failover_s is not None:
                    failovers.append(result.failover_s)
                took = "" if result.failover_s is None else \
                    f", failover {result.failover_s:.2f} s"
                if result.problems:
                    print(f"round {i + 1} ({scenario}): FAILED", *result.problems,
                          sep="\n  ", flush=True)
                else:
                    passed += 1
                    print(f"round {i + 1} ({scenario}): ok ({result.acknowledged} acknowledged "
                          f"writes checked{took})", flush=True)
        finally:
            if rig is not None:
                rig.stop()
    failovers.sort()
    if failovers:
        print(f"failover: {len(failovers)} takeovers, median {failovers[len(failovers) // 2]:.2f} "
              f"s, worst {failovers[-1]:.2f} s")
    print(f"cluster test: {passed} of {args.rounds} rounds passed; {acknowledged} acknowledged "
          "writes checked")
    return 0 if passed == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
