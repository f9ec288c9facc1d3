"""The replay's admin commands: load, start, pause, resume, step, seek, status, unload, wait.

For ``sandex.admin.ops``: each acts on the running venue's replay controller
(``sandex.replay.replay_of``); every change it makes to the venue is a journaled command. On
a stopped data dir only ``replay.status`` answers (what the journal says of the replay).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sandex.node import Node
from sandex.replay.controller import replay_of

OFFLINE = ("a replay runs in a running venue: start `sandex serve` and send this to it (or "
           "pass --url and --token)")

Action = Callable[[Node, dict[str, Any]], Awaitable[Any]]


async def load(node: Node, args: dict[str, Any]) -> Any:
    return await replay_of(node).load(args)


async def start(node: Node, args: dict[str, Any]) -> Any:
    return replay_of(node).start()


async def pause(node: Node, args: dict[str, Any]) -> Any:
    return replay_of(node).pause()


async def step(node: Node, args: dict[str, Any]) -> Any:
    return await replay_of(node).step(args.get("events", 1))


async def seek(node: Node, args: dict[str, Any]) -> Any:
    return await replay_of(node).seek(args.get("to"))


async def unload(node: Node, args: dict[str, Any]) -> Any:
    return await replay_of(node).unload(args.get("clear", False))


async def wait(node: Node, args: dict[str, Any]) -> Any:
    timeout = args.get("timeout", 600)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    try:
        return await replay_of(node).wait(float(timeout))
    except TimeoutError:
        raise ValueError(f"the replay is still {replay_of(node).state} after {timeout} s") \
            from None


def status(node: Node) -> Any:
    return replay_of(node).status()


ACTIONS: dict[str, Action] = {
    "replay.load": load, "replay.start": start, "replay.resume": start,
    "replay.pause": pause, "replay.step": step, "replay.seek": seek,
    "replay.unload": unload, "replay.wait": wait,
}
