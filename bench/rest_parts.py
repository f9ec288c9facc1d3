"""The REST order path's parts, each alone on a real venue: what a part costs a call, in
instructions, without the rest of the request around it (the nineteenth REST pass).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \\
        --callgrind-out-file=parts.cg .venv/bin/python bench/rest_parts.py \\
        --calls 5000 --parts none,request,route_post,route_delete,access,auth,ids

(Each part's dump is made by callgrind's client request around its ``sys.call_tracing``,
``bench/cgmarks.py``: ``parts.cg.2``, ``.4``, ... are the parts in order, each named in its
``Trigger`` line; ``--toggle-collect=sys_call_tracing --dump-after=sys_call_tracing`` did it
until Debian's stripped interpreter, where they count nothing.)

A venue as ``bench/stack.py`` builds it (the bench scenario, a SQLite journal) serves one
round of ``stack.drive`` (untimed), which gives a real signed ``POST /orders`` and
``DELETE /orders/{id}`` (their ASGI scopes and bodies); then each part named is a loop of
``--calls`` calls run through ``sys.call_tracing`` (what ``--toggle-collect`` counts), one
callgrind dump a part, in the order named. A part's cost a call is its dump's total over
``--calls`` less ``none``'s (the empty loop, ~190 a turn). Under callgrind the script
switches instrumentation on itself (``callgrind_control``) after the venue is built.
``--src DIR``: the sandex package of another checkout (main's build, say).

``order_ref_held`` (REST's twenty-fifth pass) is ``order_ref`` as the cancel calls it since,
with the engine's orders by id, of fresh copies (made before the count) of the id of an
order the engine holds (a cancel's id while its order rests); on main, ``order_ref`` of the
same texts.

``submit`` and ``apply`` (the twentieth pass) run inside the event loop: ``--calls`` pairs of
a resting order (``parse_fields`` of the captured body, a fresh id and stamp) and its
cancel, made outside the count, then ``Node.submit`` of each (one batch filling up, written
after the count) or ``Node.apply`` of each (the engine and the listeners alone, nothing
journaled); ``submit`` less ``apply``, over ``2 * calls``, is what ``submit`` does beyond
applying, a command (the journal record's encode, the future, the batch's lists).

The flusher's per-record work (REST's twenty-first pass): ``write`` is
``SqliteJournal.write`` of ``--calls`` records (the pairs' encoded commands, made before the
count) in batches of 60 into a journal of its own, not synced (the rows made and bound, the
INSERT stepped); ``commit`` is ``Node._committed`` of ``--calls`` records in batches
of 60, one pending future a batch since REST's twenty-second pass (set; no events, the
node's counters put back after). Each over
``--calls`` is a record's.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cgmarks  # noqa: E402
import stack  # noqa: E402

BATCH = 60  # records a group commit in the whole run (2,048 requests, 34 commits)
PREPARE: dict[str, Callable[[int], None]] = {}
KEPT: list[Any] = []
"""Work a part makes before its count, by name and ``--calls`` (``write``'s records)."""

IN_LOOP: dict[str, tuple[Callable[[int], Any], Callable[[Any], None]]] = {}
"""Parts run inside the event loop (``Node.submit`` needs its batch): by name, the maker of
their work (outside the count) and the loop over it (``--calls`` place-and-cancel pairs)."""


def parts_of(venue: Any, rest: Any, post: tuple[Any, bytes],
             delete: tuple[Any, bytes]) -> dict[str, Callable[[int], None]]:
    """The loops, by part name, over the captured requests."""
    from sandex.api import http
    from sandex.api.order_request import order_fields, parse_fields
    from sandex.api.rest.orders import order_ref
    from sandex.auth.signing import signature_matches
    from sandex.auth.verify import verify

    request_of = http.request_of
    node = venue.node
    posted, deleted = request_of(*post), request_of(*delete)
    found = posted.access_headers()
    assert found is not None
    keys, clock, match = node.keys, rest.signature_clock, rest.router.match
    uuid, stamp, engine = node.ids.uuid, node.stamp, node.engine
    body, target, path = posted.body, posted.target, deleted.path
    fields = order_fields(body)
    key = verify(*found, "POST", target, body, keys, clock())
    profile_id = key.profile_id  # type: ignore[union-attr]
    segment = path.rpartition("/")[2]
    response = http.Response

    def none(n: int) -> None:
        for _ in range(n):
            pass

    def request(n: int) -> None:  # a POST's and a DELETE's
        for _ in range(n):
            request_of(*post)
            request_of(*delete)

    def route_post(n: int) -> None:
        for _ in range(n):
            match("POST", "/orders")

    def route_delete(n: int) -> None:
        for _ in range(n):
            match("DELETE", path)

    def access(n: int) -> None:  # a POST's and a DELETE's
        for _ in range(n):
            posted.access_headers()
            deleted.access_headers()

    def auth(n: int) -> None:
        for _ in range(n):
            verify(*found, "POST", target, body, keys, clock())

    verify_found = getattr(sys.modules["sandex.auth.verify"], "verify_found", None)

    def auth_found(n: int) -> None:  # what the app calls: ``verify_found`` where it exists
        if verify_found is None:  # main before the twentieth pass: ``verify(*found, ...)``
            for _ in range(n):
                verify(*found, "POST", target, body, keys, clock())
            return
        for _ in range(n):
            verify_found(found, "POST", target, body, keys, clock())

    secret = key.secret_bytes  # type: ignore[union-attr]
    _, sign, stamp_text, phrase = found
    assert sign is not None and stamp_text is not None and phrase is not None

    def signature(n: int) -> None:  # ``verify``'s HMAC check alone
        for _ in range(n):
            signature_matches(secret, stamp_text, "POST", target, body, sign)

    def passphrase(n: int) -> None:  # ``verify``'s passphrase check alone (its memo)
        check = keys.passphrase_ok
        for _ in range(n):
            check(key, phrase)

    def key_get(n: int) -> None:  # ``verify``'s key lookup alone
        get = keys.get
        for _ in range(n):
            get(found[0])

    def ids(n: int) -> None:  # a POST's id and time
        for _ in range(n):
            uuid()
            stamp()

    def fields_(n: int) -> None:
        for _ in range(n):
            order_fields(body)

    def parse(n: int) -> None:
        for i in range(n):
            parse_fields(fields, engine, profile_id, "x", i)  # type: ignore[arg-type]

    def profile(n: int) -> None:
        get = engine.profiles.get
        for _ in range(n):
            get(profile_id)

    def dispatch(n: int) -> None:  # a POST up to its handler's coroutine, not run
        for _ in range(n):
            rest._dispatch(posted).close()

    def reply(n: int) -> None:
        for _ in range(n):
            response(b"x")

    ok = getattr(http, "ok_response", http.Response)  # the order replies' (twentieth pass)

    def ok_reply(n: int) -> None:
        for _ in range(n):
            ok(b"x")

    def ref(n: int) -> None:
        for _ in range(n):
            order_ref(segment)

    held = engine.orders_on_record  # the engine's orders by id (REST's twenty-fifth pass: ``held``)
    copies: list[str] = []  # a resting order's id as fresh texts, as a request's path gives
    rests: list[str] = []  # it (no hash yet); the order placed on first use (``apply``)

    def resting() -> str:
        if not rests:
            place = pairs(1)[0][0]
            node.apply(place)
            rests.append(place.order_id)
        assert rests[0] in held
        return rests[0]

    def ref_held(n: int) -> None:  # what the cancel calls since: the id probed first
        texts = copies if len(copies) >= n else [(resting() + "-")[:-1] for _ in range(n)]
        if "held" not in inspect.signature(order_ref).parameters:  # main before that pass
            for i in range(n):
                order_ref(texts[i])
            return
        for i in range(n):
            order_ref(texts[i], held)

    PREPARE["order_ref_held"] = lambda n: copies.__setitem__(
        slice(None), [(resting() + "-")[:-1] for _ in range(n)])

    from sandex.core.commands import CancelOrder

    def pairs(n: int) -> list[tuple[Any, Any]]:  # fresh orders and their cancels, stamped
        made = []
        for _ in range(n):
            oid = uuid()
            parsed = parse_fields(fields, engine, profile_id, oid, stamp())  # type: ignore[arg-type]
            assert parsed is not None
            made.append((parsed[0], CancelOrder(time=stamp(), profile_id=profile_id,
                                                order_id=oid, client_oid=None,
                                                product_id=None)))
        return made

    submit, apply = node.submit, node.apply

    def submits(work: list[tuple[Any, Any]]) -> None:  # in the running loop: one batch
        for place, cancel in work:
            submit(place)
            submit(cancel)

    def applies(work: list[tuple[Any, Any]]) -> None:  # the same commands, engine alone
        for place, cancel in work:
            apply(place)
            apply(cancel)

    from sandex.journal import SqliteJournal
    from sandex.node.codec import encode

    def records(n: int) -> list[list[bytes]]:  # the pairs' journal records, in batches of 60
        made = [encode(command) for pair in pairs(n // 2) for command in pair]
        return [made[i:i + BATCH] for i in range(0, len(made), BATCH)]

    spare = tempfile.TemporaryDirectory(prefix="sandex-parts-write-")
    journal = SqliteJournal(Path(spare.name) / "journal.sqlite3")
    KEPT.append(spare)  # removed at exit, not when this returns

    def waiters(n: int) -> list[tuple[int, Any]]:  # in the running loop: each batch's size
        loop = asyncio.get_running_loop()  # and its one future (REST's twenty-second pass)
        return [(min(BATCH, n - i), loop.create_future()) for i in range(0, n, BATCH)]

    def commits(work: list[tuple[int, Any]]) -> None:  # ``_committed`` of each batch: its
        durable, batches = node.durable_position, node.batches  # future set (no events)
        for size, batch in work:
            node._committed(size, [], batch, 0.0)
        node.durable_position, node.batches = durable, batches

    IN_LOOP.update(submit=(pairs, submits), apply=(pairs, applies), commit=(waiters, commits))
    made_records: dict[int, list[list[bytes]]] = {}

    def write_part(n: int) -> None:  # ``SqliteJournal.write`` of 60-record batches, unsynced
        batches = made_records.pop(n, None)  # made before the count (``prepare``)
        if batches is None:
            batches = records(n)
        for batch in batches:
            journal.write(batch)

    PREPARE["write"] = lambda n: made_records.__setitem__(n, records(n))

    return {"none": none, "request": request, "route_post": route_post,
            "route_delete": route_delete, "access": access, "auth": auth, "ids": ids,
            "fields": fields_, "parse": parse, "profile": profile, "dispatch": dispatch,
            "response": reply, "order_ref": ref, "order_ref_held": ref_held, "signature": signature,
            "passphrase": passphrase, "key_get": key_get, "auth_found": auth_found, "ok": ok_reply,
            "submit": none, "apply": none, "commit": none, "write": write_part}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--parts", default="none,request,route_post,route_delete,access,"
                        "auth,signature,passphrase,key_get,ids,fields,parse,profile,dispatch,response,"
                        "order_ref")
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    args = parser.parse_args()
    stack.setup_path(args.src)
    import uvloop
    from kit import SCENARIO

    from sandex import server
    from sandex.api import http
    from sandex.api.rest import app as rest_app
    from sandex.auth import verify

    verify.TIMESTAMP_WINDOW_S = 1 << 40  # callgrind is slow
    captured: list[tuple[Any, bytes]] = []
    real = http.request_of

    def capturing(scope: Any, body: bytes) -> Any:
        if len(captured) < 8:
            captured.append((dict(scope), body))
        return real(scope, body)

    rests: list[Any] = []
    init = rest_app.RestApp.__init__

    def keep(self: Any, *a: Any, **k: Any) -> None:
        rests.append(self)
        init(self, *a, **k)

    http.request_of = capturing
    rest_app.RestApp.__init__ = keep  # type: ignore[method-assign]
    data = tempfile.TemporaryDirectory(prefix="sandex-parts-")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        venue = server.build(SCENARIO, rate_limits=False, demo=False,
                             data_dir=Path(data.name) / "d")
        runner.run(stack.drive(venue.app, 2, 1))
        http.request_of = real
        post = next(c for c in captured if c[0]["method"] == "POST")
        delete = next(c for c in captured if c[0]["method"] == "DELETE")
        loops = parts_of(venue, rests[-1], post, delete)
        names = args.parts.split(",")
        unknown = [name for name in names if name not in loops]
        if unknown:
            parser.error(f"unknown parts {unknown}: one of {sorted(loops)}")
        current = ["none"]
        if "vgpreload" in os.environ.get("LD_PRELOAD", ""):  # under valgrind
            subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())],
                           stdout=subprocess.DEVNULL, check=False)
            cgmarks.mark(lambda: f"part {current[0]}")  # each part's own dump
        for name in names:
            current[0] = name
            if name in IN_LOOP:
                make, run = IN_LOOP[name]

                async def in_loop(make: Any = make, run: Any = run) -> None:
                    run(make(100))
                    await venue.node.synced()
                    work = make(args.calls)
                    sys.call_tracing(run, (work,))
                    await venue.node.synced()

                runner.run(in_loop())
                print(name, file=sys.stderr)
                continue
            loops[name](100)  # warm: the first calls' caches and specialisations
            if name in PREPARE:
                PREPARE[name](args.calls)
            sys.call_tracing(loops[name], (args.calls,))
            print(name, file=sys.stderr)
        runner.run(venue.node.close())


if __name__ == "__main__":
    main()
