"""``sandex replay load|start|pause|resume|step|seek|status|unload|wait`` (docs/replay.md).

Each sends its admin command to the running server; ``load --wait`` (and ``wait``) then
shows progress on stderr (events, rate, ETA) until the replay finishes, and prints the final
status as JSON like every admin command.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

PROGRESS_EVERY_S = 1.0
_KEPT = ("data_dir", "url", "token", "op", "func", "command", "action")  # not the command's


def add_replay_commands(commands: Any, command: Any, run: Any, send: Any) -> None:
    """``command(parent, name, op, help)`` makes a subcommand; ``run(args, extra)`` sends it
    and prints the answer; ``send(args, op, payload)`` sends one without printing."""
    verbs = commands.add_parser("replay", help="replay a recorded market as live liquidity"
                                ).add_subparsers(dest="action", required=True)
    load = command(verbs, "load", "replay.load", "load a recording (paused unless --start)")
    load.add_argument("source", nargs="+", metavar="FILE",
                      help="the recording (tardis: the book file, then the trades file)")
    load.add_argument("--format", required=True,
                      choices=("coinbase-full", "coinbase-level2", "tardis"))
    load.add_argument("--product", action="append", metavar="SRC=DST",
                      help="map a source symbol to a venue product (repeatable; default: "
                      "every symbol as the product of that name)")
    load.add_argument("--price-scale", help="multiply recorded prices (default 1)")
    load.add_argument("--size-scale", help="multiply recorded sizes (default 1)")
    load.add_argument("--speed", choices=("clock", "max"),
                      help="clock: on the venue clock (default); max: as fast as it commits")
    load.add_argument("--cancel-from", choices=("back", "front"),
                      help="where a level-2 decrease cancels replay orders (default back)")
    load.add_argument("--create-products-from", metavar="JSON",
                      help="a recorded GET /products reply: add the products the venue lacks")
    load.add_argument("--start", action="store_true", default=None, help="run at once")
    load.add_argument("--wait", action="store_true", help="show progress until it finishes")
    load.set_defaults(func=lambda args: _load(args, run, send))
    command(verbs, "start", "replay.start", "run the loaded replay")
    command(verbs, "resume", "replay.resume", "go on after a pause")
    command(verbs, "pause", "replay.pause", "pause (the replay's orders stay)")
    step = command(verbs, "step", "replay.step", "apply the next N source events now")
    step.add_argument("events", type=int, nargs="?", default=1)
    seek = command(verbs, "seek", "replay.seek", "apply every event before a source time")
    seek.add_argument("to", help="an ISO 8601 time inside the recording")
    command(verbs, "status", "replay.status", "where the replay is")
    unload = command(verbs, "unload", "replay.unload", "stop replaying")
    unload.add_argument("--clear", action="store_true", default=None,
                        help="cancel every replay order too")
    wait = command(verbs, "wait", "replay.status", "show progress until the replay finishes")
    wait.set_defaults(func=lambda args: _follow(args, run, send))


def _load(args: argparse.Namespace, run: Any, send: Any) -> int:
    follow = args.wait
    del args.wait
    # the server reads the files: paths relative to here, not to the server's directory
    args.source = [str(Path(p).expanduser().absolute()) for p in args.source]
    if args.create_products_from is not None:
        args.create_products_from = str(Path(args.create_products_from).expanduser().absolute())
    if args.product:
        args.products = args.product
    del args.product
    if not follow:
        return int(run(args))
    args.start = True  # and stdout gets the final status only, not the load's answer too
    send(args, "replay.load", {name: value for name, value in vars(args).items()
                               if name not in _KEPT and value is not None})
    return _follow(args, run, send)


def _follow(args: argparse.Namespace, run: Any, send: Any) -> int:
    """Progress lines on stderr until the replay is finished, failed or unloaded."""
    args.op = "replay.status"
    for name in [n for n in vars(args) if n not in _KEPT]:
        delattr(args, name)
    started, last = time.monotonic(), 0.0
    while True:
        status = send(args, "replay.status", {})
        if status.get("state") not in ("running", "paused"):
            break
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            print(_progress(status, time.monotonic() - started), file=sys.stderr, flush=True)
        time.sleep(0.2)
    return int(run(args))


def _progress(status: dict[str, Any], elapsed: float) -> str:
    parts = [f"{status.get('state')}: {status.get('events', 0):,} events",
             f"line {status.get('line', 0):,}"]
    if "rate" in status:
        parts.append(f"{status['rate']:,} events/s")
    total, done = status.get("bytes_total"), status.get("bytes_read")
    if total and done is not None:
        parts.append(f"{100 * done / total:.1f} %")
    if "eta_s" in status:
        parts.append(f"ETA {status['eta_s']:.0f} s")
    parts.append(f"{elapsed:.0f} s")
    return ", ".join(parts)
