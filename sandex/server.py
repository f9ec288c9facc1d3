"""Assemble and run a venue: node + scenario + REST gateway on one HTTP server.

Runs on uvicorn (uvloop + httptools): one process, one event loop, the node as the single
writer. ``build`` is separate from ``serve`` so tests can run the same app in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sandex.api.rest.app import RestApp
from sandex.api.rest.ratelimit import RateLimits
from sandex.core import AdvanceClock, Rejected
from sandex.node import Ids, Node
from sandex.scenario import Scenario, ScenarioError, load

log = logging.getLogger("sandex")

CLOCK_TICK_S = 1.0  # how often GTT expiries are checked (§4.1: cancel_after min/hour/day)


@dataclass
class Venue:
    node: Node
    app: RestApp
    scenario: Scenario


def default_scenario() -> Path:
    return Path(str(resources.files("sandex") / "scenarios" / "default.toml"))


def build(scenario_path: str | Path | None = None, rate_limits: bool | None = None,
          seed: int | None = None) -> Venue:
    """A node loaded with ``scenario_path`` (the embedded default if ``None``) and its app."""
    node = Node(ids=Ids(seed))
    scenario = load(scenario_path or default_scenario(), node)
    for command in scenario.commands:
        events = node.apply(command)
        if events and type(events[0]) is Rejected:
            raise ScenarioError(f"{scenario_path}: {type(command).__name__} refused: "
                                f"{events[0].message}")  # type: ignore[union-attr]
    enabled = scenario.rate_limits if rate_limits is None else rate_limits
    app = RestApp(node, RateLimits(enabled=enabled))
    return Venue(node, app, scenario)


async def tick_clock(node: Node) -> None:
    """Send ``AdvanceClock`` whenever a GTT order is due, so expiry is a journaled command."""
    while True:
        await asyncio.sleep(CLOCK_TICK_S)
        due = node.engine.next_expiry()
        if due is not None and due <= node.now():
            await node.execute(AdvanceClock(time=node.stamp()))


def serve(venue: Venue, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(venue.app, host=host, port=port, loop="uvloop", http="httptools",
                            ws="websockets-sansio", lifespan="off", log_level="warning",
                            access_log=False, server_header=False, date_header=False,
                            proxy_headers=False)
    server = uvicorn.Server(config)

    async def main() -> None:
        ticker = asyncio.create_task(tick_clock(venue.node))
        try:
            await server.serve()
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
