"""``sandex`` command line: ``sandex serve`` runs the venue; ``sandex verify`` checks a data dir."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sandex import __version__

DEFAULT_DATA_DIR = "sandex-data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sandex", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sandex {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the venue (REST on one port)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--scenario", help="TOML scenario file (default: the embedded demo)")
    serve.add_argument("--no-rate-limit", action="store_true", help="switch rate limits off")
    serve.add_argument("--seed", type=int, help="seed generated ids for a reproducible run")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                       help=f"journal and snapshots (default: ./{DEFAULT_DATA_DIR})")
    where.add_argument("--ephemeral", action="store_true",
                       help="keep everything in memory: nothing survives a restart")
    verify = commands.add_parser(
        "verify", help="replay a data dir's journal from zero and check the snapshot's hash")
    verify.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "serve":
        return _serve(args)
    if args.command == "verify":
        return _verify(Path(args.data_dir))
    return 2


def _serve(args: argparse.Namespace) -> int:
    from sandex.journal import JournalCorrupt
    from sandex.scenario import ScenarioError
    from sandex.server import build, serve

    data_dir = None if args.ephemeral else Path(args.data_dir)
    try:
        venue = build(args.scenario, rate_limits=False if args.no_rate_limit else None,
                      seed=args.seed, data_dir=data_dir)
    except (ScenarioError, JournalCorrupt) as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return 2
    base = f"http://{args.host}:{args.port}"
    where = "in memory (--ephemeral)" if data_dir is None else f"{data_dir}"
    print(f"sandex {__version__} ready: REST {base}", flush=True)
    print(f"  data       {where}, journal position {venue.node.position}", flush=True)
    for creds in venue.scenario.credentials:
        print(f"  profile {creds.profile_id} ({', '.join(creds.permissions)})\n"
              f"    key        {creds.key}\n    secret     {creds.secret}\n"
              f"    passphrase {creds.passphrase}", flush=True)
    return serve(venue, args.host, args.port)


def _verify(data_dir: Path) -> int:
    from sandex.journal import JournalCorrupt
    from sandex.node.storage import verify

    try:
        result = verify(data_dir)
    except (FileNotFoundError, JournalCorrupt) as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return 2
    if result.expected is None:
        print(f"{data_dir}: journal replays to position {result.journal_end}, state hash "
              f"{result.replayed}; no snapshot to compare with")
        return 0
    verdict = "OK" if result.ok else "MISMATCH"
    print(f"{data_dir}: {verdict}: replay from zero to position {result.position} gives "
          f"{result.replayed}; the snapshot says {result.expected} "
          f"(journal ends at {result.journal_end})")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
