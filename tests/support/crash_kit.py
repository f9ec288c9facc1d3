"""The crash test: ``kill -9`` a busy server at a random moment and check what survived.

One round: start ``sandex serve`` on a data dir, let signed clients place, cross and cancel
orders, ``kill -9`` it, restart it on the same data dir, and check:

* every acknowledged order is there, with at least the fills any acknowledged read showed
  (reads only ever show durable state); every fill a client read is still there;
* an order whose cancel was acknowledged is no longer open;
* stopped with SIGTERM it exits 0, and then the data dir passes ``verify`` (a replay of the
  journal from zero gives the snapshot's state hash) and the recovered state satisfies every
  invariant: holds equal the open orders' holds, balances reconcile, currencies conserved.

Alice only buys and Bob only sells, so every cross is a trade between them (no self-trade
prevention purges an acknowledged order). ``make crash-test`` runs 100 rounds:
``python -m tests.support.crash_kit --kills 100``.
"""

from __future__ import annotations

import argparse
import http.client
import random
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sandex.core import check_invariants
from sandex.node import snapshot
from sandex.node.storage import open_node, verify
from tests.support.rest_kit import ALICE, BOB, RawClient, start_server

Creds = tuple[str, str, str]


@dataclass
class Seen:
    """What the clients were told before the kill (shared by the client threads)."""

    placed: dict[str, Decimal] = field(default_factory=dict)  # order id -> filled size read
    cancel_tried: set[str] = field(default_factory=set)
    canceled: set[str] = field(default_factory=set)  # cancel acknowledged
    trades: dict[int, str] = field(default_factory=dict)  # trade id read -> order id
    lock: threading.Lock = field(default_factory=threading.Lock)


def trader(port: int, creds: Creds, side: str, seed: int, seen: Seen) -> None:
    """Place, read and cancel until the server dies."""
    rng = random.Random(seed)
    client = RawClient(port, creds)
    mine: list[str] = []
    try:
        while True:
            roll = rng.random()
            if roll < 0.6 or not mine:
                price = Decimal(19_995 + rng.randrange(11))
                size = Decimal(rng.randrange(1, 20)) / 100
                reply = client.post("/orders", {"product_id": "BTC-USD", "side": side,
                                                "price": str(price), "size": str(size)})
                if reply.status == 200:
                    order_id = reply.json()["id"]
                    with seen.lock:
                        seen.placed[order_id] = Decimal(0)
                    mine.append(order_id)
            elif roll < 0.8:
                order_id = mine.pop(rng.randrange(len(mine)))
                with seen.lock:
                    seen.cancel_tried.add(order_id)
                reply = client.delete(f"/orders/{order_id}")
                if reply.status == 200:
                    with seen.lock:
                        seen.canceled.add(order_id)
            else:
                order_id = rng.choice(mine)
                reply = client.get(f"/orders/{order_id}")
                if reply.status == 200:
                    with seen.lock:
                        seen.placed[order_id] = Decimal(reply.json()["filled_size"])
                fills = client.get(f"/fills?order_id={order_id}")
                if fills.status == 200:
                    with seen.lock:
                        for fill in fills.json():
                            seen.trades[fill["trade_id"]] = order_id
    except (OSError, http.client.HTTPException):
        return  # the server was killed


def check_survivors(port: int, seen: Seen) -> list[str]:
    """What the restarted server lost or got wrong; empty when all is well."""
    problems = []
    clients = {ALICE[0]: RawClient(port, ALICE), BOB[0]: RawClient(port, BOB)}

    def get(order_id: str) -> dict[str, str] | None:
        for client in clients.values():
            reply = client.get(f"/orders/{order_id}")
            if reply.status == 200:
                return reply.json()  # type: ignore[no-any-return]
        return None

    for order_id, filled in seen.placed.items():
        order = get(order_id)
        if order is None:
            if order_id not in seen.cancel_tried:
                problems.append(f"acknowledged order {order_id} is gone")
            continue
        if Decimal(order["filled_size"]) < filled:
            problems.append(f"order {order_id} lost fills: {order['filled_size']} < {filled}")
        if order_id in seen.canceled and order["status"] == "open":
            problems.append(f"order {order_id} is open after an acknowledged cancel")
    for trade_id, order_id in seen.trades.items():
        found = False
        for client in clients.values():
            reply = client.get(f"/fills?order_id={order_id}")
            if reply.status == 200 and trade_id in {f["trade_id"] for f in reply.json()}:
                found = True
        if not found:
            problems.append(f"fill {trade_id} of order {order_id} is gone")
    return problems


@dataclass
class Round:
    acknowledged: int
    problems: list[str]


def crash_round(data_dir: Path, seed: int, traders: int = 4) -> Round:
    rng = random.Random(seed)
    server = start_server("--no-rate-limit", data_dir=data_dir)
    seen = Seen()
    for creds in (ALICE, BOB):  # start each round with funds free and no open orders
        assert RawClient(server.port, creds).delete("/orders").status == 200
    threads = [threading.Thread(target=trader, daemon=True,
                                args=(server.port, ALICE if i % 2 == 0 else BOB,
                                      "buy" if i % 2 == 0 else "sell", rng.random(), seen))
               for i in range(traders)]
    for thread in threads:
        thread.start()
    time.sleep(rng.uniform(0.2, 1.2))
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    for thread in threads:
        thread.join(15)

    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        problems = check_survivors(server.port, seen)
    finally:
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(20)
    if code != 0:
        problems.append(f"SIGTERM exit status {code}")
    result = verify(data_dir)
    if not result.ok:
        problems.append(f"verify: replay gives {result.replayed}, snapshot {result.expected}")
    node = open_node(data_dir)
    try:
        check_invariants(node.engine)
        if snapshot.node_hash(node) != result.expected:
            problems.append("the recovered state differs from the replayed journal")
    except AssertionError as exc:
        problems.append(f"invariant broken after recovery: {exc}")
    finally:
        node.journal.close()
    return Round(len(seen.placed) + len(seen.canceled), problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    passed = acknowledged = 0
    with tempfile.TemporaryDirectory(prefix="sandex-crash-") as tmp:
        for i in range(args.kills):
            # Ten rounds share a data dir (each recovers what the ones before left), then
            # a fresh one: Bob's BTC would run out.
            data_dir = Path(tmp) / f"data-{i // 10}"
            result = crash_round(data_dir, args.seed * 1_000_003 + i)
            acknowledged += result.acknowledged
            if result.problems:
                print(f"kill {i + 1}: FAILED", *result.problems, sep="\n  ", flush=True)
            else:
                passed += 1
                print(f"kill {i + 1}: ok ({result.acknowledged} acknowledged writes checked)",
                      flush=True)
    print(f"crash test: {passed} of {args.kills} kills passed; "
          f"{acknowledged} acknowledged writes checked")
    return 0 if passed == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
