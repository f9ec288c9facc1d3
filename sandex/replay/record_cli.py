"""``sandex record``: the command line of ``sandex.replay.record`` (see docs/replay.md).

Credentials for the authenticated channels (``full``, ``level2``) come from ``--key``,
``--secret``, ``--passphrase``, else ``$SANDEX_API_KEY``, ``$SANDEX_API_SECRET``,
``$SANDEX_API_PASSPHRASE``, else the embedded demo scenario's key (what ``sandex serve``
prints). SIGINT and SIGTERM stop the recording cleanly (the file is complete).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from sandex.replay.record import Credentials, RecordError, record

ENVIRONMENT = ("SANDEX_API_KEY", "SANDEX_API_SECRET", "SANDEX_API_PASSPHRASE")


def add_command(commands: Any) -> None:
    """Add ``record`` to ``commands``."""
    command = commands.add_parser("record", help="write the venue's WebSocket feed to a file")
    command.set_defaults(func=run)
    command.add_argument("--out", required=True, type=Path,
                         help="the file (.gz: gzip, .zst: zstd, else plain JSON lines)")
    command.add_argument("--channels", default="full",
                         help="comma-separated feed channels (default: full), e.g. "
                              "level2,matches")
    command.add_argument("--products", help="comma-separated product ids (default: all)")
    command.add_argument("--url", default="ws://127.0.0.1:8000",
                         help="the venue (default: ws://127.0.0.1:8000)")
    until = command.add_mutually_exclusive_group()
    until.add_argument("--duration", type=float, help="stop after this many seconds")
    until.add_argument("--count", type=int, help="stop after this many messages (after the "
                                                 "subscriptions reply)")
    command.add_argument("--key", help=f"API key (default: ${ENVIRONMENT[0]}, else the demo's)")
    command.add_argument("--secret", help=f"its base64 secret (default: ${ENVIRONMENT[1]})")
    command.add_argument("--passphrase", help=f"its passphrase (default: ${ENVIRONMENT[2]})")


def credentials(args: argparse.Namespace) -> Credentials:
    """The key to sign the subscribe with: flags, else environment, else the demo's."""
    given = [getattr(args, name) or os.environ.get(variable)
             for name, variable in zip(("key", "secret", "passphrase"), ENVIRONMENT,
                                       strict=True)]
    if all(given):
        return Credentials(*given)  # type: ignore[arg-type]
    if any(given):
        raise RecordError("give all of --key, --secret and --passphrase, or none")
    demo = resources.files("sandex") / "scenarios" / "default.toml"
    scenario = tomllib.loads(demo.read_text())
    key = scenario["profiles"][0]["keys"][0]
    return Credentials(key["key"], key["secret"], key["passphrase"])


def run(args: argparse.Namespace) -> int:
    channels = [name.strip() for name in args.channels.split(",") if name.strip()]
    products = [name.strip() for name in (args.products or "").split(",") if name.strip()]
    if not channels:
        print("sandex: --channels names no channel", file=sys.stderr)
        return 2
    if (args.count is not None and args.count < 1) or (args.duration is not None
                                                        and args.duration <= 0):
        print("sandex: --count and --duration must be positive", file=sys.stderr)
        return 2

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        def started(chosen: list[str]) -> None:
            print(f"sandex: recording {','.join(channels)} of {','.join(chosen)} into "
                  f"{args.out} (Ctrl-C stops)", file=sys.stderr, flush=True)

        recorded = await record(args.url, args.out, channels, products or None,
                                credentials(args), args.duration, args.count, stop, started)
        print(f"sandex: {recorded.path}: {recorded.messages} messages", file=sys.stderr)
        return 0

    try:
        return asyncio.run(main())
    except RecordError as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return 2
