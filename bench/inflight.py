"""What the requests waiting for a group commit hold, in process: ``tracemalloc`` at one
commit's sync against the same connections idle.

    .venv/bin/python bench/inflight.py [--src DIR] [--connections C] [--top K]

``stack.py``'s clients (signed ``POST /orders`` and ``DELETE``, 64 connections), kept open
between runs: a run to warm up, a snapshot with every connection idle, then a run in which,
at its 10th sync (``WalSync.later``: the batch applied, its replies waiting), a second
snapshot. Prints the bytes and blocks held beyond idle per waiting request, by the line
that allocated them (interpreter free lists count as held: tuples, small lists).

``--objects``: instead of ``tracemalloc``, the objects alive at that sync that were not alive
idle (``gc.get_objects``, and what they refer to that the collector does not track: bytes,
strings), per waiting request by type and by owner (uvicorn's connection protocol and
request cycle, asyncio, sandex), with ``sys.getsizeof`` bytes: ``tracemalloc`` misses the
instances whose attributes live inline (Python 3.11), uvicorn's cycle and ``asyncio.Event``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stack  # noqa: E402

AT_SYNC = 10  # of the measured run (8 rounds: ~17 syncs at 64 connections)


def alive() -> tuple[list[Any], set[int]]:
    """Every object the collector tracks and what each refers to, kept alive (so no id is
    reused), and their ids."""
    tracked = gc.get_objects()
    held = list(tracked)
    for obj in tracked:
        held.extend(gc.get_referents(obj))
    return held, {id(o) for o in held}


def owner(obj: Any) -> str:
    """Whose an object made for a request is: by its type, or a coroutine's or bound
    method's code."""
    kind = type(obj)
    module = kind.__module__ or ""
    name = kind.__qualname__
    if name == "coroutine":
        code = obj.cr_code
        where = code.co_filename
        return ("uvicorn" if "uvicorn" in where else "sandex" if "sandex" in where
                else "other") + f" coroutine {code.co_name}"
    if name in ("method", "builtin_function_or_method"):
        target = getattr(obj, "__self__", None)
        return f"{owner(target).split()[0]} bound {type(target).__qualname__}." + \
            getattr(getattr(obj, "__func__", obj), "__name__", "?")
    if module.startswith("uvicorn"):
        return f"uvicorn {name}"
    if module.startswith("sandex"):
        return f"sandex {name}"
    if module in ("asyncio.locks", "_asyncio", "asyncio.events", "asyncio.tasks",
                  "asyncio.futures", "collections", "uvloop.loop"):
        return f"asyncio {module}.{name}"
    return f"? {name}"


def new_objects(before: set[int], *own: Any) -> list[Any]:
    """Objects alive now that were not in ``before``: tracked ones and their referents (not
    ``own``, the bench's, nor what they hold)."""
    skip = {id(o) for o in own}
    for obj in own:
        skip.update(id(ref) for ref in gc.get_referents(obj))
    skip.add(id(skip))
    now = [o for o in gc.get_objects() if id(o) not in before and id(o) not in skip]
    seen = {id(o) for o in now}
    found = list(now)
    for obj in now:
        for ref in gc.get_referents(obj):
            if id(ref) not in before and id(ref) not in seen and id(ref) not in skip \
                    and not gc.is_tracked(ref):
                seen.add(id(ref))
                found.append(ref)
    return found


def by_owner(found: list[Any], waiting: int, top: int) -> None:
    """Print ``found`` per waiting request, grouped: containers by who refers to them."""
    ids = {id(o): o for o in found}
    parent: dict[int, Any] = {}
    for obj in found:  # a plain container's or value's owner: what refers to it first
        for ref in gc.get_referents(obj):
            if id(ref) in ids and id(ref) not in parent and ref is not obj:
                parent[id(ref)] = obj

    def label(obj: Any) -> str:
        key = owner(obj)
        up, hops = obj, 0
        while key.startswith("?") and id(up) in parent and hops < 6:
            up, hops = parent[id(up)], hops + 1
            above = owner(up)
            if not above.startswith("?"):
                return f"{key[2:]} <- {above}"
        return key

    counts: dict[str, list[float]] = {}
    for obj in found:
        key = label(obj)
        row = counts.setdefault(key, [0, 0])
        row[0] += 1
        row[1] += sys.getsizeof(obj)
    total = sum(r[1] for r in counts.values())
    number = sum(r[0] for r in counts.values())
    print(f"{waiting} requests waiting; new since idle {number / waiting:.1f} objects, "
          f"{total / waiting:,.0f} bytes (sys.getsizeof) a request")
    for key, (n, size) in sorted(counts.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"  {n / waiting:6.2f} objects {size / waiting:7,.0f} B  {key}")


async def clients(app: Any, connections: int) -> list[stack.Connection]:
    """``stack.drive``'s clients, left open (``go`` runs them)."""
    return stack.connections_to(app, connections, 0)


async def go(open_clients: list[stack.Connection], rounds: int) -> None:
    """Each client's ``rounds`` place-and-cancel, on its open connection."""
    loop = asyncio.get_running_loop()
    for client in open_clients:
        client.rounds = rounds
        client.done = loop.create_future()
        client.post()
    await asyncio.gather(*(c.done for c in open_clients))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--objects", action="store_true",
                        help="objects by type and owner (gc) instead of tracemalloc")
    args = parser.parse_args()
    stack.setup_path(args.src)
    import uvloop
    from kit import SCENARIO

    from sandex import server
    data_dir = tempfile.TemporaryDirectory(prefix="sandex-inflight-")
    shots: dict[str, Any] = {}
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        venue = server.build(SCENARIO, rate_limits=False, demo=False,
                             data_dir=Path(data_dir.name) / "d")
        server.settle_heap()
        runner.run(stack._start(venue.node.scheduler.run()))
        node = venue.node
        wal = node.journal._wal  # type: ignore[attr-defined]  # SQLite's: the bench's own
        real = wal.later
        syncs = -1_000_000  # counted in the measured run only

        def later() -> asyncio.Future[None]:
            nonlocal syncs
            syncs += 1
            if syncs == AT_SYNC and args.objects:
                shots["found"] = new_objects(shots["before"], shots, shots["held"],
                                             shots["before"])
                shots["waiting"] = len(getattr(node._writing, "_callbacks", None) or ())
            elif syncs == AT_SYNC:
                shots["busy"] = tracemalloc.take_snapshot()
                shots["waiting"] = len(getattr(node._writing, "_callbacks", None) or ())
            return real()

        wal.later = later
        open_clients = runner.run(clients(venue.app, args.connections))
        runner.run(go(open_clients, 2))
        if not args.objects:
            tracemalloc.start(1)
        runner.run(go(open_clients, 2))
        runner.run(asyncio.sleep(0.01))
        if args.objects:
            shots["held"], shots["before"] = alive()
        else:
            shots["idle"] = tracemalloc.take_snapshot()
        syncs = 0
        runner.run(go(open_clients, 8))
        tracemalloc.stop()
        for task in stack._TASKS:
            task.cancel()
        runner.run(node.close())
    data_dir.cleanup()
    waiting = shots["waiting"] or 1
    if args.objects:
        by_owner(shots["found"], waiting, args.top)
        return
    own = [tracemalloc.Filter(False, tracemalloc.__file__)]  # the first snapshot's objects
    stats = shots["busy"].filter_traces(own).compare_to(shots["idle"].filter_traces(own),
                                                         "lineno")
    size = sum(s.size_diff for s in stats)
    count = sum(s.count_diff for s in stats)
    print(f"{waiting} requests waiting for the commit; held beyond idle {size:,} bytes in "
          f"{count:,} blocks: {size / waiting:,.0f} bytes, {count / waiting:.1f} blocks a "
          "request")
    for stat in stats[:args.top]:
        print(f"  {stat.size_diff / waiting:8,.0f} B {stat.count_diff / waiting:6.2f} blocks  "
              f"{stat.traceback}")


if __name__ == "__main__":
    main()
