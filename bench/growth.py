"""Which of the venue's containers grow during ``bench/stack.py``'s place-and-cancel run, and
by how much a request: the state a request touches that is bigger after 100k requests than
after 10k (a dict's table that outgrows the caches makes each lookup in it a miss).

    .venv/bin/python bench/growth.py [--requests N ...] [--src DIR] [--top K]

Runs ``stack.py``'s sandex (``--scheduler``, journal on) for an untimed round and then the
timed ones; before and after the timed run it walks everything reachable from the venue
(``gc.get_referents``, which also reaches the dicts and lists the collector does not track)
and records each dict, list, set, deque and bytearray's length and the bytes it holds
(``sys.getsizeof``: its table, not its items). Prints the containers whose length changed,
largest growth first, each named by a path from the venue, and the totals; with several
``--requests`` each is a separate venue (a fresh process is not needed: the ids differ).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stack  # noqa: E402

SIZED = (dict, list, set, frozenset, collections.deque, bytearray)
SKIP = (type, type(sys), type(gc.collect))  # classes, modules, builtins: not the venue's state


def reachable(root: Any) -> tuple[dict[int, Any], dict[int, tuple[int, int]]]:
    """Every object reachable from ``root`` (by id, kept alive here) and each one's parent
    (the first found: ``(parent id, depth)``)."""
    seen: dict[int, Any] = {id(root): root}
    parent: dict[int, tuple[int, int]] = {id(root): (0, 0)}
    frontier = [root]
    depth = 0
    while frontier:
        depth += 1
        following = []
        for obj in frontier:
            for child in gc.get_referents(obj):
                key = id(child)
                if key in seen or isinstance(child, SKIP):
                    continue
                seen[key] = child
                parent[key] = (id(obj), depth)
                following.append(child)
        frontier = following
    return seen, parent


def measure(objects: dict[int, Any]) -> dict[int, tuple[str, int, int]]:
    """Each container's type, length and own size in bytes."""
    return {key: (type(obj).__name__, len(obj), sys.getsizeof(obj))
            for key, obj in objects.items() if isinstance(obj, SIZED)}


def label(parent: Any, child: Any) -> str:
    """How ``parent`` refers to ``child``: a key, an index or an attribute name."""
    if isinstance(parent, dict):
        for name, value in parent.items():
            if value is child:
                return f"[{name!r}]" if not isinstance(name, str) or len(name) < 40 else "[..]"
        return "{key}"
    if isinstance(parent, list | tuple | collections.deque):
        for index, value in enumerate(parent):
            if value is child:
                return f"[{index}]"
        return "[?]"
    for name in dir(parent):
        if name.startswith("__"):
            continue
        try:
            if getattr(parent, name) is child:
                return f".{name}"
        except Exception:  # a property that raises: not this one
            continue
    return f"<{type(parent).__name__}>"


def path_of(key: int, objects: dict[int, Any], parent: dict[int, tuple[int, int]]) -> str:
    """``venue`` and the steps from it to the object ``key`` (an instance's ``__dict__`` shows
    as ``<Type>`` then ``['attribute']``)."""
    parts = []
    while key in parent and parent[key][0]:
        up = parent[key][0]
        parts.append(label(objects[up], objects[key]))
        key = up
    return "venue" + "".join(reversed(parts))


def run(requests: int, connections: int, top: int) -> None:
    import uvloop
    from kit import SCENARIO

    from sandex import server
    rounds = requests // (2 * connections)
    data_dir = tempfile.TemporaryDirectory(prefix="sandex-growth-")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        venue = server.build(SCENARIO, rate_limits=False, demo=False,
                             data_dir=Path(data_dir.name) / "d")
        settle = getattr(server, "settle_heap", None)
        if settle is not None:
            settle()
        runner.run(stack._start(venue.node.scheduler.run()))
        runner.run(stack.drive(venue.app, connections, 1))
        objects, _ = reachable(venue)
        before = measure(objects)
        answers, errors = runner.run(stack.drive(venue.app, connections, rounds))
        if errors:
            raise SystemExit(f"{len(errors)} errors, first {errors[:1]}")
        after_objects, after_parent = reachable(venue)
        after = measure(after_objects)
        for task in stack._TASKS:
            task.cancel()
        n = 2 * rounds * connections
        grown = []
        for key, (kind, length, size) in after.items():
            was = before.get(key)
            if was is None or was[0] != kind:
                old_length, old_size = 0, 0
                if length < 64:
                    continue  # new and small: one of the requests' own
            else:
                old_length, old_size = was[1], was[2]
            if length != old_length or size != old_size:
                grown.append((length - old_length, size - old_size, key, kind, old_length,
                              length, old_size, size))
        grown.sort(key=lambda row: (-abs(row[1]), -abs(row[0])))
        total_bytes = sum(sys.getsizeof(o) for o in after_objects.values())
        before_bytes = sum(sys.getsizeof(o) for o in objects.values())
        print(f"{n} requests ({answers} answers): reachable from the venue "
              f"{len(objects):,} -> {len(after_objects):,} objects, "
              f"{before_bytes:,} -> {total_bytes:,} bytes (own sizes)")
        for d_len, _, key, kind, old_length, length, old_size, size in grown[:top]:
            print(f"  {kind:9} {old_length:>8,} -> {length:>8,} items "
                  f"({d_len / n:+.4f} a request), {old_size:>10,} -> {size:>10,} bytes  "
                  f"{path_of(key, after_objects, after_parent)}")
        runner.run(venue.node.close())
    data_dir.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, nargs="+", default=[10_240, 102_400])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    stack.setup_path(args.src)
    for requests in args.requests:
        run(requests, args.connections, args.top)


if __name__ == "__main__":
    main()
