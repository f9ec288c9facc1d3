"""``sandex`` command line: ``sandex serve [--host] [--port] [--scenario FILE]``."""

from __future__ import annotations

import argparse
import logging
import sys

from sandex import __version__


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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "serve":
        return _serve(args)
    return 2


def _serve(args: argparse.Namespace) -> int:
    from sandex.scenario import ScenarioError
    from sandex.server import build, serve

    try:
        venue = build(args.scenario, rate_limits=False if args.no_rate_limit else None,
                      seed=args.seed)
    except ScenarioError as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return 2
    base = f"http://{args.host}:{args.port}"
    print(f"sandex {__version__} ready: REST {base}", flush=True)
    for creds in venue.scenario.credentials:
        print(f"  profile {creds.profile_id} ({', '.join(creds.permissions)})\n"
              f"    key        {creds.key}\n    secret     {creds.secret}\n"
              f"    passphrase {creds.passphrase}", flush=True)
    serve(venue, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
