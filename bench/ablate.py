"""``bench/stack.py`` with one or more parts of sandex's order path switched off, bench-only
(monkeypatched here, never in the product's code): what each part costs a request, in
instructions (under callgrind, as ``stack.py``) and in CPU time.

    .venv/bin/python bench/ablate.py --off PART[,PART...] [--alternate B] [stack.py's arguments]

``PART`` is one of (``none``: nothing off, the reference):

* ``journal``: SQLite's insert and the fsync both (``sqlite`` and ``fsync``);
* ``sqlite``: the journal's insert (``SqliteJournal.write``: the records counted, not written);
  the log's real ``fdatasync`` (io_uring) still awaited;
* ``fsync``: the sync awaited as a future set on the next loop step (no kernel request, no
  ``eventfd`` reader); SQLite's insert still made;
* ``batch``: the group commit itself: the journal an in-memory one (as ``--ephemeral``),
  each reply sent in the step that applied its command, no wait, no batch (``journal``
  keeps the batches and the waits, without the journal's work);
* ``idle``: as ``fsync``, the future set by a timer ``IDLE_S`` later (the loop sleeps as
  long as a sync takes on this disk, with no kernel request);
* ``codec``: the journal record's encoding (``sandex.node.codec.encode``: a constant);
* ``apply``: the engine's apply and the read models (``Node.apply`` answers each command
  with the events its kind got in the untimed first round);
* ``views``: the orders view alone (a subclass whose ``on_received`` and ``on_cancel`` do
  nothing: the compiled ``cpdef`` call still made);
* ``listeners``: every node listener (the feed, REST's, FIX's, drop copy's, market data's);
* ``auth``: the signature's HMAC and the passphrase check (the key still looked up, the
  timestamp window still checked); ``hmac``, ``passphrase``: one of them;
* ``reply``: the order reply's dict and its JSON encoding (a constant ``{"id":...}``);
* ``meter``: ``GET /metrics``' request meter (``http_app`` without it);
* ``parse``: the order body's decode, parse and checks (``order_fields``, ``parse_fields``
  and ``parse_order``: the first round's command again with a fresh id and stamp; until the
  seventeenth pass only ``parse_order`` was stubbed, which ``place_order`` no longer calls
  for a plain order since the thirteenth: ``stubbed: {}``, nothing was switched off);
* ``lifo``: not a part but an order: a durable batch's replies resumed newest first (the
  last requests' objects are the likeliest still cached) instead of oldest first
  (``Node._committed``; tried in the thirteenth pass, not kept).

The rate limiter and the access log are off in ``stack.py`` as in ``bench/rest.py``'s
server (``--no-rate-limit``, ``--log-level warning``): nothing to switch off. Every part
but ``auth`` and ``meter`` is switched off after the untimed first round (which fills the
caches the stubs answer from). Prints how many commands the stubbed parts saw.
``--alternate B`` switches the parts off and back on every ``B`` rounds of the timed run (one
process, one venue: the pairs share the machine's load of the moment) and prints the CPU a
request of each block, and the mean difference. Under callgrind, ``ABLATE_INSTRUMENT=1`` with
``--instr-atstart=no`` leaves start-up uninstrumented (several times faster; the timed
requests' counts are the same) and widens the signatures' 30 s window, which requests under a
simulated cache would outlive; it also dumps just before and just after the timed requests
(``bench/cgmarks.py``: ``cg.out.2`` is their part; ``--dump-before/after=sys_call_tracing``
did that until Debian's stripped interpreter, where it dumps nothing):

    ABLATE_INSTRUMENT=1 PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \\
        [--cache-sim=yes --branch-sim=yes --LL=524288,8,64] --callgrind-out-file=cg.out \\
        .venv/bin/python bench/ablate.py --off PART --app sandex --requests 2048 --scheduler

``--recovered`` (``stack.py``'s): the venue's state recovered from its journal, as a
restarted server's.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cgmarks  # noqa: E402
import stack  # noqa: E402

IDLE_S = 0.0005  # ``idle``: about a sync's median on this machine's disk (seventh pass)
PARTS = ("none", "batch", "idle", "journal", "sqlite", "fsync", "codec", "apply", "views",
         "listeners", "auth", "hmac", "passphrase", "reply", "meter", "parse", "lifo")


def _args() -> tuple[set[str], list[str], int]:
    argv = sys.argv[1:]
    off: set[str] = set()
    rest: list[str] = []
    alternate = 0
    it = iter(argv)
    for arg in it:
        if arg == "--alternate":
            alternate = int(next(it))
        elif arg == "--off":
            off |= set(next(it).split(","))
        elif arg.startswith("--off="):
            off |= set(arg[len("--off="):].split(","))
        else:
            rest.append(arg)
    unknown = off - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; known: {', '.join(PARTS)}")
    off.discard("none")
    if alternate and "meter" in off:
        raise SystemExit("--alternate: the meter is built into the app; switch it off alone")
    return off, rest, alternate


def _option(rest: list[str], name: str) -> str | None:
    """The value of ``stack.py``'s option ``name`` among ``rest`` (``None``: not given)."""
    for i, arg in enumerate(rest):
        if arg == name:
            return rest[i + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1:]
    return None


def patch_modules(off: set[str]) -> None:
    """What is switched off for good, before the venue is built."""
    if off & {"auth", "hmac"}:
        from sandex.auth import verify
        _set(verify, "signature_matches", lambda *args: True)
    if off & {"auth", "passphrase"}:
        from sandex.auth import keys
        _set(keys.KeyRegistry, "passphrase_ok", lambda self, key, passphrase: True)
    if "meter" in off:
        from sandex import server
        http_app = server.http_app
        server.http_app = (  # type: ignore[assignment]
            lambda pick, access, meter=None, websocket=None: http_app(pick, access, None,
                                                                      websocket))


def patch_venue(off: set[str], venue: Any) -> None:
    """What is switched off after the untimed round (which filled the caches the stubs use)."""
    node = venue.node
    loop = asyncio.get_running_loop()
    if "listeners" in off:
        _set(node, "listeners", [])
    if "views" in off:
        from sandex.views.orders import OrdersView

        class NoOrders(OrdersView):  # type: ignore[misc]
            def on_received(self, order_id: str, profile_id: str) -> None:
                pass

            def on_cancel(self, order_id: str, profile_id: str) -> None:
                pass

        _set(node, "orders", NoOrders(node.engine))
    if off & {"journal", "sqlite"}:
        journal = node.journal
        position = journal.last_position

        def write(records: list[bytes]) -> int:
            nonlocal position
            position += len(records)
            return position

        _set(journal, "write", write)
    if off & {"journal", "fsync", "idle"}:
        wal = node.journal._wal
        delay = IDLE_S if "idle" in off else None

        def later() -> asyncio.Future[None]:
            waiter = loop.create_future()
            if delay is None:
                loop.call_soon(waiter.set_result, None)
            else:
                loop.call_later(delay, waiter.set_result, None)
            return waiter

        _set(wal, "later", later)
    if "batch" in off:
        from sandex.journal import MemoryJournal
        memory = MemoryJournal()
        memory.last_position = node.journal.last_position
        _set(node, "journal", memory)
    if "codec" in off:
        from sandex.node import node as node_module
        _set(node_module, "encode", lambda command: b"\x00" * 64)
    if "apply" in off:
        cache: dict[type, list[Any]] = _SEEN
        real = node.apply

        def apply(command: Any) -> list[Any]:
            events = cache.get(type(command))
            if events is None:
                return real(command)  # type: ignore[no-any-return]
            node._applied_time = node._last_time = command.time
            STUBBED["apply"] += 1
            return list(events)

        _set(node, "apply", apply)
    if "reply" in off:
        from sandex.api.rest import orders

        class Wire:
            @staticmethod
            def new_order(command: Any, echo: Any, funds: Any) -> Any:
                STUBBED["reply"] += 1
                return _Placed(command.order_id)

            @staticmethod  # what ``place_order`` calls since the twelfth pass
            def new_order_body(command: Any, echo: Any, funds: Any) -> bytes:
                STUBBED["reply"] += 1
                return b'{"id":"' + command.order_id.encode() + b'"}'

        def encode(value: Any) -> bytes:
            if type(value) is _Placed:
                return b'{"id":"' + value.encode() + b'"}'
            return b'"' + value.encode() + b'"'

        _set(orders, "wire", Wire)
        _set(orders, "encode", encode)
    if "lifo" in off:
        from sandex.node.node import Node

        released = Node._committed

        def committed(self: Any, count: int, events: list[Any], waiter: Any,
                      took: float) -> None:  # ``Node._committed``, newest waiter first
            callbacks = list(waiter._callbacks or ())  # one future a batch (REST's twenty-
            # second pass): its tasks' wake-ups reversed
            for callback, _ in callbacks:
                waiter.remove_done_callback(callback)
            for callback, context in reversed(callbacks):
                waiter.add_done_callback(callback, context=context)
            released(self, count, events, waiter, took)

        _set(Node, "_committed", committed)
    if "parse" in off:
        from msgspec.structs import replace

        from sandex.api.rest import orders
        seen = _PARSED

        def parse_order(body: Any, engine: Any, profile_id: str, order_id: str,
                        time: int) -> Any:
            command, echo = seen[profile_id]
            STUBBED["parse"] += 1
            return replace(command, order_id=order_id, time=time), echo

        # what ``place_order`` calls since the thirteenth pass: ``order_fields`` (the
        # body's one decode) then ``parse_fields`` (``parse_order`` only when that says no)
        _set(orders, "parse_order", parse_order)
        _set(orders, "order_fields", lambda body: _FIELDS)
        _set(orders, "parse_fields", lambda fields, engine, profile_id, order_id, time:
             parse_order(None, engine, profile_id, order_id, time))


_MISSING = object()
_PATCHES: list[tuple[Any, str, Any, Any]] = []  # (object, name, before, stub)


def _set(obj: Any, name: str, stub: Any) -> None:
    """``obj.name = stub``, kept so that ``switch`` can put either back."""
    _PATCHES.append((obj, name, vars(obj).get(name, _MISSING), stub))
    setattr(obj, name, stub)


def switch(off: bool) -> None:
    """Every patch on (the parts off) or every one undone (``--alternate``)."""
    for obj, name, before, stub in _PATCHES:
        if off:
            setattr(obj, name, stub)
        elif before is _MISSING:
            if name in vars(obj):
                delattr(obj, name)
        else:
            setattr(obj, name, before)


class _Placed(str):
    """A placed order's id (``reply`` off): encoded as ``{"id":...}``."""


_SEEN: dict[type, list[Any]] = {}  # a command kind's events in the untimed round (``apply``)
_PARSED: dict[str, Any] = {}  # a profile's order as parsed in the untimed round (``parse``)
_FIELDS = object()  # ``order_fields``' answer with ``parse`` off: any but ``None``


def watch_first_round(off: set[str]) -> None:
    """Keep what the stubs answer with, as the untimed round makes it."""
    if "apply" in off:
        from sandex.node.node import Node
        real_submit = Node.submit

        def submit(self: Any, command: Any) -> Any:
            events, durable = real_submit(self, command)
            _SEEN.setdefault(type(command), list(events))
            return events, durable

        Node.submit = submit  # type: ignore[method-assign]
        _RESTORE.append(lambda: setattr(Node, "submit", real_submit))
    if "parse" in off:
        from sandex.api.rest import orders
        real_parse = orders.parse_order

        def parse(body: Any, engine: Any, profile_id: str, *args: Any) -> Any:
            parsed = real_parse(body, engine, profile_id, *args)
            _PARSED.setdefault(profile_id, parsed)
            return parsed

        real_fields = orders.parse_fields

        def fields(fields: Any, engine: Any, profile_id: str, *args: Any) -> Any:
            parsed = real_fields(fields, engine, profile_id, *args)
            if parsed is not None:
                _PARSED.setdefault(profile_id, parsed)
            return parsed

        orders.parse_order = parse  # type: ignore[assignment]
        orders.parse_fields = fields  # type: ignore[assignment]
        _RESTORE.append(lambda: setattr(orders, "parse_order", real_parse))
        _RESTORE.append(lambda: setattr(orders, "parse_fields", real_fields))


_RESTORE: list[Any] = []


def instrument() -> None:
    """Under ``valgrind --tool=callgrind --instr-atstart=no`` (``ABLATE_INSTRUMENT=1``): start
    instrumenting now, before the untimed round (start-up ran uninstrumented: several times
    faster, the same counts of the timed requests)."""
    import subprocess
    import time
    done = subprocess.Popen(["callgrind_control", "-i", "on", str(os.getpid())],
                            stdout=subprocess.DEVNULL)
    while done.poll() is None:
        time.sleep(0.05)

STUBBED: Counter[str] = Counter()  # the commands a stub answered, by part


async def alternated(drive: Any, app: Any, connections: int, rounds: int,
                     block: int) -> tuple[int, list[bytes]]:
    """``--alternate B``: the timed rounds in blocks of ``B`` rounds, the parts on and off in
    turn (on-off, off-on, ...: a drift of the machine's load cancels), process CPU per
    request of each block (user and system: system is ~2 us of ~100 here); prints each pair
    and the mean difference."""
    import statistics
    import time
    answers, errors = 0, []
    for state in (True, False):  # one block each first, unmeasured: the stubs' first calls
        switch(state)
        got, failed = await drive(app, connections, block)
        answers, errors = answers + got, errors + failed
    rounds -= 2 * block
    per: dict[bool, list[float]] = {False: [], True: []}
    order = 0
    while rounds >= 2 * block:
        for state in ((False, True) if order % 2 == 0 else (True, False)):
            switch(state)
            before = time.process_time()  # precise (getrusage's user time is in ticks)
            got, failed = await drive(app, connections, block)
            used = time.process_time() - before
            per[state].append(used / (2 * block * connections) * 1e6)
            answers, errors = answers + got, errors + failed
        rounds -= 2 * block
        order += 1
    switch(True)
    if rounds:
        got, failed = await drive(app, connections, rounds)
        answers, errors = answers + got, errors + failed
    diffs = [b - a for a, b in zip(per[False], per[True], strict=True)]
    pairs = " ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(per[False], per[True], strict=True))
    spread = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    print(f"alternated CPU us/request (all on / parts off), {2 * block * connections} "
          f"requests a block: {pairs}; medians {statistics.median(per[False]):.1f} / "
          f"{statistics.median(per[True]):.1f}; mean difference {statistics.mean(diffs):+.2f} "
          f"+- {spread:.2f} (standard error), median difference "
          f"{statistics.median(diffs):+.2f}", file=sys.stderr)
    return answers, errors


def main() -> None:
    off, rest, alternate = _args()
    stack.setup_path(_option(rest, "--src"))
    # ``--warm``: an untimed run of its own before the untimed round (which instruments)
    warm = 1 if int(_option(rest, "--warm") or 0) >= 2 * int(
        _option(rest, "--connections") or 64) else 0
    if os.environ.get("ABLATE_INSTRUMENT"):  # a simulated cache is ~100 times slower: the
        from sandex.auth import verify  # requests would outlive their 30 s signatures
        verify.TIMESTAMP_WINDOW_S = 1 << 40  # type: ignore[misc]
        cgmarks.mark()  # the timed requests' own dump (Debian's python has no symbols)
    patch_modules(off)
    watch_first_round(off)
    from sandex import server
    build = server.build
    venues: list[Any] = []

    def built(*args: Any, **kwargs: Any) -> Any:
        nonlocal rounds
        venue = build(*args, **kwargs)
        venues.append(venue)
        rounds = 0  # its first drive is the untimed round
        return venue

    server.build = built  # type: ignore[assignment]
    drive = stack.drive
    rounds = 0

    async def driven(app: Any, connections: int, count: int) -> Any:
        nonlocal rounds
        rounds += 1
        if rounds == 1 + warm and os.environ.get("ABLATE_INSTRUMENT"):
            instrument()
        if rounds == 2 + warm and venues:  # the timed run of sandex: after the untimed one
            for undo in _RESTORE:
                undo()
            patch_venue(off, venues[-1])
            if alternate:
                return await alternated(drive, app, connections, count, alternate)
        return await drive(app, connections, count)

    stack.drive = driven  # type: ignore[assignment]
    print(f"off: {','.join(sorted(off)) or 'none'}", file=sys.stderr)
    sys.argv = [sys.argv[0], *rest]
    stack.main()
    print(f"stubbed: {dict(STUBBED)}", file=sys.stderr)


if __name__ == "__main__":
    main()
