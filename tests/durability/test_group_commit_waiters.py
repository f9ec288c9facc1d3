"""A group commit's waiters through a real server: one future a batch, shared by its requests
(``Node._wait``, REST's twenty-second pass in docs/performance.md), seen from the wire.

A journal made slow (``faults/sitecustomize.py``, ``slowsync``: each batch waits before its
write) holds a batch on the disk while signed clients place orders, so that they all join the
next batch and wait for it together. Then one client leaves while it waits (its connection
reset, or its own timeout), the server is told to stop (SIGTERM), or the batch's write fails.
Each time every other client gets its own order back, once; what was applied is durable and
on the book, restart or not; the log holds no traceback.

(Nothing in the server cancels a handler that waits for its batch: uvicorn marks a request
whose client left as disconnected and lets its handler run to its end, and its shutdown waits
for the handlers it has; the guard's timeouts, ``sandex.api.guard``, end only a request whose
head or body has not arrived, before the app sees it. The cancel of a task that waits on a
batch's future is the node's own tests', ``tests/node``.)
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.durability.test_disk_faults import critical_lines, heal, inject
from tests.support.rest_kit import ALICE, BOB, RawClient, Server, auth_headers, start_server

SLOW_MS = 600  # a batch's wait on the "disk": long enough for every client to join the next
CLIENTS = 6  # that answer
DROPPED = 2  # that leave while they wait: a reset connection, a client-side timeout


def order(i: int) -> dict[str, str]:
    """The ``i``th client's order: its own price, size and client_oid, so that its reply can
    only be its own."""
    return {"product_id": "BTC-USD", "side": "buy", "price": f"{200 + i}.00",
            "size": f"0.0{i + 1}", "client_oid": f"00000000-0000-4000-8000-{i:012d}"}


def creds(i: int) -> tuple[str, str, str]:
    return ALICE if i % 2 == 0 else BOB


def signed_post(i: int) -> bytes:
    """The ``POST /orders`` of ``order(i)`` as bytes on the wire (a raw socket's)."""
    body = json.dumps(order(i)).encode()
    headers = auth_headers(creds(i), "POST", "/orders", body, timestamp=str(int(time.time())))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n").encode() + body


def reset_after(port: int, i: int, seconds: float, left: list[str]) -> None:
    """Send ``order(i)``, wait ``seconds`` (its batch is still on the disk), then reset the
    connection (SO_LINGER 0: a TCP RST); ``left`` gets "reset" if no answer had come."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(signed_post(i))
    time.sleep(seconds)
    sock.setblocking(False)
    try:
        answered = sock.recv(1)
    except BlockingIOError:
        left.append("reset")
    else:
        left.append(f"answered before the reset: {answered!r}")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def time_out_after(port: int, i: int, seconds: float, left: list[str]) -> None:
    """``order(i)`` from a client whose own timeout (``seconds``) ends its wait first;
    ``left`` gets "timed out" if it did."""
    client = RawClient(port, creds(i))
    client.conn.timeout = seconds
    try:
        reply = client.post("/orders", order(i))
    except TimeoutError:
        left.append("timed out")
    else:
        left.append(f"answered before the timeout: {reply.status}")
    client.conn.close()


class Waiters:
    """``CLIENTS`` signed clients (ALICE's and BOB's, each its own connection) and ``DROPPED``
    that leave, started together once a first order holds a batch on the slow disk."""

    def __init__(self, port: int, drop: bool = True) -> None:
        self.port = port
        self.clients = [RawClient(port, creds(i)) for i in range(CLIENTS)]
        self.replies: dict[int, list[tuple[int, Any]]] = {i: [] for i in range(CLIENTS)}
        self.drop = drop
        self.left: list[str] = []  # how the dropping clients left

    def place(self, i: int) -> None:
        try:
            reply = self.clients[i].post("/orders", order(i))
            self.replies[i].append((reply.status, reply.json()))
        except (OSError, http.client.HTTPException) as exc:
            self.replies[i].append((0, repr(exc)))

    def run(self, during: Any = None) -> None:
        """The first order (its own batch, slow), then all of them into the next batch;
        ``during`` is called while they wait."""
        first = RawClient(self.port, ALICE)
        opener = threading.Thread(target=lambda: first.post("/orders", order(90)))
        opener.start()
        time.sleep(SLOW_MS / 4000)  # the first batch is on the disk now
        threads = [threading.Thread(target=self.place, args=(i,)) for i in range(CLIENTS)]
        if self.drop:
            threads += [
                threading.Thread(target=reset_after,
                                 args=(self.port, CLIENTS, SLOW_MS / 2000, self.left)),
                threading.Thread(target=time_out_after,
                                 args=(self.port, CLIENTS + 1, SLOW_MS / 2000, self.left))]
        for thread in threads:
            thread.start()
        if during is not None:
            time.sleep(SLOW_MS / 2000)
            during()
        for thread in [opener, *threads]:
            thread.join(30)
        if self.drop:
            assert sorted(self.left) == ["reset", "timed out"], self.left


def book(port: int) -> dict[str, dict[str, str]]:
    """Every order of ALICE's and BOB's by client_oid: what a restart must show again."""
    found: dict[str, dict[str, str]] = {}
    for who in (ALICE, BOB):
        reply = RawClient(port, who).get("/orders?status=all")
        assert reply.status == 200, reply.body
        for o in reply.json():
            found[o["client_oid"]] = {k: o[k] for k in ("id", "price", "size", "side",
                                                        "status", "product_id")}
    return found


def book_after_restart(monkeypatch: pytest.MonkeyPatch, data_dir: Path
                       ) -> dict[str, dict[str, str]]:
    """``book`` of a server started again on ``data_dir`` with its faults healed."""
    heal(monkeypatch)
    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        return book(server.port)
    finally:
        server.stop()


def same(got: dict[str, Any], sent: dict[str, str]) -> bool:
    """Whether an order as answered is ``sent`` (its numbers compared as numbers)."""
    return (Decimal(got["price"]), Decimal(got["size"]), got["side"], got["product_id"]) == (
        Decimal(sent["price"]), Decimal(sent["size"]), sent["side"], sent["product_id"])


def assert_quiet(log: str) -> None:
    assert "Traceback" not in log, log
    assert not re.search(r" (ERROR|CRITICAL) ", log), log


def check_own_replies(waiters: Waiters) -> dict[int, str]:
    """Each answering client got exactly one reply, 200, with its own order; their ids."""
    ids = {}
    for i, replies in waiters.replies.items():
        [(status, body)] = replies
        assert status == 200, (i, body)
        sent = order(i)
        assert same(body, sent) and body["status"] == "pending", (i, body)
        ids[i] = body["id"]
        # the same connection reads its order back: one reply was sent on it, no other
        again = waiters.clients[i].get(f"/orders/{body['id']}")
        assert again.status == 200 and again.json()["id"] == body["id"]
    assert len(set(ids.values())) == CLIENTS
    return ids


def stop(server: Server) -> tuple[int, str]:
    server.process.terminate()
    code = server.process.wait(30)
    return code, server.log()


def group_commits(log: str) -> int:
    [found] = re.findall(r"; (\d+) group commits this run", log)
    return int(found)


def test_a_client_that_leaves_its_batch_leaves_the_others_their_replies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    inject(monkeypatch, f"slowsync:{SLOW_MS},cancels")
    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        waiters = Waiters(server.port)
        waiters.run()
        ids = check_own_replies(waiters)
        orders = book(server.port)
        # the orders of the clients that left were applied and journaled: on the book
        for i in range(CLIENTS + DROPPED):
            sent = order(i)
            found = orders[sent["client_oid"]]
            assert same(found, sent) and found["status"] == "open", found
            if i < CLIENTS:
                assert found["id"] == ids[i]
        assert len(orders) == CLIENTS + DROPPED + 1
        # and the server keeps serving
        after = RawClient(server.port, BOB).post("/orders", order(91))
        assert after.status == 200 and same(after.json(), order(91))
        orders = book(server.port)
    finally:
        code, log = stop(server)
    assert code == 0, log
    assert_quiet(log)
    # a client that leaves cancels nothing: uvicorn lets its handler run to its end
    assert "batch future: cancel refused" not in log
    # the opener's batch, the waiters' (all of them in one), the last order's
    assert group_commits(log) == 3, log
    heal(monkeypatch)
    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        assert book(server.port) == orders
    finally:
        code, log = stop(server)
    assert code == 0 and "Traceback" not in log, log


def test_a_server_told_to_stop_answers_the_batch_that_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM while a batch waits (the server's own cut): uvicorn stops listening and waits
    for its handlers; each gets its order, then the server shuts down."""
    data_dir = tmp_path / "data"
    inject(monkeypatch, f"slowsync:{SLOW_MS}")
    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        waiters = Waiters(server.port)
        waiters.run(during=server.process.terminate)
        code = server.process.wait(30)
        log = server.log()
        ids = {i: body["id"] for i, [(status, body)] in waiters.replies.items()
               if status == 200}
    finally:
        server.stop()
    assert code == 0, log
    assert_quiet(log)
    assert len(ids) == CLIENTS, waiters.replies
    orders = book_after_restart(monkeypatch, data_dir)
    for i in range(CLIENTS + DROPPED):
        found = orders[order(i)["client_oid"]]
        assert same(found, order(i)) and found["status"] == "open", found
        if i < CLIENTS:
            assert found["id"] == ids[i]



def test_a_batch_whose_write_fails_refuses_each_of_its_waiters_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The waiters' batch is refused by SQLite (read-only): the node stops (fail-stop), each
    waiter gets the refusal it got with a future of its own (before REST's twenty-second
    pass): 500, ``{"message": ...}``; the server exits 1 with one CRITICAL line; a restart has
    the first batch's order and none of the failed batch's."""
    data_dir = tmp_path / "data"
    inject(monkeypatch, f"slowsync:{SLOW_MS}:1")
    server = start_server("--no-rate-limit", data_dir=data_dir)
    try:
        waiters = Waiters(server.port, drop=False)
        waiters.run()
        code = server.process.wait(30)
        log = server.log()
    finally:
        server.stop()
    assert code == 1, log
    [line] = critical_lines(log)
    assert "journal write failed at position" in line and "readonly" in line, line
    assert "Traceback" not in log, log
    assert log.count("refused POST /orders: the node has stopped") == CLIENTS, log
    answers = [replies for _, replies in sorted(waiters.replies.items())]
    assert answers == [[(500, answers[0][0][1])]] * CLIENTS, answers
    assert set(answers[0][0][1]) == {"message"}
    orders = book_after_restart(monkeypatch, data_dir)
    assert set(orders) == {order(90)["client_oid"]}, orders


def test_a_replay_paused_while_its_batches_wait_leaves_the_orders_beside_them_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one task in the server that is canceled while it awaits a batch's future: a
    replay at full speed, paused (``ReplayController._stop_running`` cancels the batches in
    flight: "only their wait for the journal ends"). Signed orders wait in the same group
    commits meanwhile: each gets its own reply; what the replay applied stays applied and
    durable, once: after a restart it goes on from there and ends with every event of the
    recording."""
    from tests.replay.test_replay_live import admin
    from tests.replay.test_replay_products import products_file
    from tests.support.recordings_kit import framed, level2_messages, write

    messages = list(level2_messages(40_000, product="XBT-USD"))
    source = write(tmp_path / "xbt-l2.jsonl", framed(messages))
    # the recording's events: a snapshot and a match count one each, an update its changes
    events = sum(len(m["changes"]) if m["type"] == "l2update" else 1 for m in messages)
    data_dir = tmp_path / "data"
    inject(monkeypatch, "slowsync:300,cancels")
    server = start_server("--no-rate-limit", "--no-demo", data_dir=data_dir)
    try:
        status, loaded = admin(server, data_dir, "replay.load", {
            "source": str(source), "format": "coinbase-level2",
            "create_products_from": str(products_file(tmp_path)), "speed": "max",
            "start": True})
        assert status == 200, loaded
        time.sleep(0.5)  # batches in flight, one on the disk
        waiters = Waiters(server.port, drop=False)
        threads = [threading.Thread(target=waiters.place, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(0.1)  # they wait in the batch filling up, with the replay's
        status, paused = admin(server, data_dir, "replay.pause", {})
        assert status == 200 and paused["state"] == "paused", paused
        for thread in threads:
            thread.join(30)
        ids = check_own_replies(waiters)
        assert 0 < paused["events"] < events, (paused, events)
        time.sleep(1.0)  # every batch applied is durable now
        _, still = admin(server, data_dir, "replay.status", {})
        assert (still["state"], still["events"]) == ("paused", paused["events"]), still
        orders = book(server.port)
        assert {orders[order(i)["client_oid"]]["id"] for i in range(CLIENTS)} == set(
            ids.values())
    finally:
        code, log = stop(server)
    assert code == 0, log
    assert_quiet(log)
    assert "batch future: cancel refused" in log, log  # the pause canceled a batch's waiter
    heal(monkeypatch)
    server = start_server("--no-rate-limit", "--no-demo", data_dir=data_dir)
    try:
        assert book(server.port) == orders
        _, again = admin(server, data_dir, "replay.status", {})
        assert (again["state"], again["events"]) == ("paused", paused["events"]), again
        status, _ = admin(server, data_dir, "replay.start", {})
        assert status == 200
        _, done = admin(server, data_dir, "replay.wait", {"timeout": 60})
        assert (done["state"], done["events"]) == ("finished", events), (done, events)
    finally:
        code, log = stop(server)
    assert code == 0, log
    assert_quiet(log)
