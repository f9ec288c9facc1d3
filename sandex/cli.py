"""The ``sandex`` command line.

``sandex serve`` runs the venue; ``sandex verify`` checks a data dir; ``sandex profile``,
``key``, ``deposit``, ``withdraw``, ``product`` and ``fees`` administer it; ``sandex
record`` writes its feed to a file (see ``docs/cli.md``). Wrong input prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sandex import __version__
from sandex.admin import cli as admin_cli
from sandex.logs import setup_logging
from sandex.replay import record_cli

if TYPE_CHECKING:
    from sandex.cluster.options import ClusterOptions

DEFAULT_DATA_DIR = "sandex-data"
ADMIN_TOKEN_VARIABLE = "SANDEX_ADMIN_TOKEN"  # an --ephemeral server's admin token, if set


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``sandex: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def parser() -> Parser:
    top = Parser(prog="sandex", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=f"sandex {__version__}")
    commands = top.add_subparsers(dest="command", required=True, parser_class=Parser)
    serve = commands.add_parser("serve", help="run the venue (REST and feed on one port)")
    serve.set_defaults(func=_serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--scenario", help="TOML scenario file (default: the embedded demo)")
    serve.add_argument("--no-rate-limit", action="store_true", help="switch rate limits off")
    serve.add_argument("--no-demo", action="store_true",
                       help="no demo liquidity even if the scenario enables it")
    serve.add_argument("--seed", type=int, help="seed generated ids for a reproducible run")
    serve.add_argument("--log-level", default="info",
                       choices=("debug", "info", "warning", "error"),
                       help="info logs one line per request (default)")
    serve.add_argument("--log-json", action="store_true", help="structured JSON log lines")
    serve.add_argument("--no-fix", action="store_true", help="no FIX gateways (docs/fix.md)")
    serve.add_argument("--fix-order-port", type=int, default=6121,
                       help="FIX order entry port (default 6121; on --host)")
    serve.add_argument("--fix-drop-copy-port", type=int, default=6122,
                       help="FIX drop copy port (default 6122; on --host)")
    serve.add_argument("--fix-md-port", type=int, default=6131,
                       help="FIX market data with snapshots (default 6131)")
    serve.add_argument("--fix-md-incremental-port", type=int, default=6132,
                       help="FIX market data without snapshots (default 6132)")
    serve.add_argument("--fix-plaintext", action="store_true",
                       help="FIX without TLS (for clients that have none)")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                       help=f"journal and snapshots (default: ./{DEFAULT_DATA_DIR})")
    where.add_argument("--ephemeral", action="store_true",
                       help="keep everything in memory: nothing survives a restart")
    _journal_flags(serve)
    serve.add_argument("--node-name", default="",
                       help="this node's name in the cluster's lease (default: host:port)")
    serve.add_argument("--lease-ttl", type=float, default=3.0,
                       help="seconds a leader's lease lasts unrenewed (default 3)")
    verify = commands.add_parser(
        "verify", help="replay a data dir's journal from zero and check the snapshot's hash")
    verify.set_defaults(func=_verify)
    verify.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    _journal_flags(verify)
    verify.add_argument("--compact", choices=("archive", "remove"),
                        help="then take the records the newest snapshot covers out of the "
                             "journal, into an archive file or removed")
    admin_cli.add_commands(commands, DEFAULT_DATA_DIR)
    record_cli.add_command(commands)
    return top


def _journal_flags(command: argparse.ArgumentParser) -> None:
    command.add_argument("--journal", metavar="nats://HOST:PORT[,HOST:PORT...]",
                         help="keep the journal in a NATS JetStream stream (docs/cluster.md) "
                              "instead of the data dir's SQLite file")
    command.add_argument("--journal-monitor", metavar="URL[,URL...]", default="",
                         help="each JetStream server's monitoring URL, to check it syncs "
                              "every write (http://HOST:8222)")
    command.add_argument("--unsafe-journal", action="store_true",
                         help="accept a JetStream journal that could lose acknowledged "
                              "commands (1 replica, lazy fsync, unchecked)")


def _cluster_options(args: argparse.Namespace) -> ClusterOptions | None:
    from sandex.cluster.options import ClusterOptions

    if args.journal is None:
        return None
    monitors = tuple(url.strip() for url in args.journal_monitor.split(",") if url.strip())
    return ClusterOptions(url=args.journal, monitors=monitors, unsafe=args.unsafe_journal,
                          node=getattr(args, "node_name", ""),
                          lease_ttl=getattr(args, "lease_ttl", 3.0))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command != "serve":
        setup_logging("warning", json_lines=False)
    return int(args.func(args))


def _serve(args: argparse.Namespace) -> int:
    """argparse -> options -> open the venue -> banner -> run it."""
    from sandex.admin.presence import DataDirBusy
    from sandex.api.fix import FixOptions
    from sandex.banner import banner
    from sandex.journal import JournalCorrupt, JournalFenced, StorageError
    from sandex.scenario import ScenarioError
    from sandex.server import ServeOptions, open_venue, serve

    token = os.environ.get(ADMIN_TOKEN_VARIABLE) or None
    if token is not None and not args.ephemeral:
        print(f"sandex: {ADMIN_TOKEN_VARIABLE} is for --ephemeral: a data dir's admin token "
              f"is {Path(args.data_dir) / 'admin.token'}", file=sys.stderr)
        return 2
    if args.journal is not None and args.ephemeral:
        print("sandex: --journal keeps the journal: a node still needs a --data-dir (its lock, "
              "token and snapshots), not --ephemeral", file=sys.stderr)
        return 2
    access = setup_logging(args.log_level, args.log_json)
    options = ServeOptions(
        host=args.host, port=args.port,
        scenario=args.scenario,
        rate_limits=False if args.no_rate_limit else None, seed=args.seed,
        data_dir=None if args.ephemeral else Path(args.data_dir), demo=not args.no_demo,
        admin_token=token, access=access,
        fix=FixOptions(enabled=not args.no_fix, host=args.host,
                       order_port=args.fix_order_port, drop_copy_port=args.fix_drop_copy_port,
                       md_port=args.fix_md_port,
                       md_incremental_port=args.fix_md_incremental_port,
                       plaintext=args.fix_plaintext),
        cluster=_cluster_options(args))
    try:
        venue = open_venue(options)
    except (ScenarioError, JournalCorrupt, DataDirBusy, StorageError,
            ModuleNotFoundError) as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return 2
    except JournalFenced as exc:  # another node took over while this one started: follow
        print(f"sandex: {exc}; restarting as a follower", file=sys.stderr)
        rejoin()
    except OSError as exc:  # a data dir that is full, read-only or not ours
        print(f"sandex: {startup_fault(exc)}", file=sys.stderr)
        return 2
    called = sys.argv[0]  # `.venv/bin/sandex` under make run: say so in the admin hint
    text = banner(args.host, args.port, options.data_dir, venue.node.position,
                  venue.scenario.credentials,
                  None if options.data_dir is not None
                  else f"${ADMIN_TOKEN_VARIABLE}" if token is not None else venue.admin_token,
                  called if Path(called).name == "sandex" else "sandex")
    code = serve(venue, args.host, args.port, on_ready=lambda: print(text, flush=True),
                 fix=options.fix)
    if venue.cluster is not None:
        from sandex.cluster.role import REJOIN

        if venue.cluster.deposed or code == REJOIN:
            rejoin()
    return code


def rejoin() -> NoReturn:
    """A deposed leader starts again, as a follower: the same command, a fresh process (its
    memory may hold what the journal refused)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def startup_fault(exc: OSError) -> str:
    """A file-system error at start-up as one line: the file, then what the fault is."""
    from sandex.journal.store import describe

    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{describe(exc)}"


def _verify(args: argparse.Namespace) -> int:
    from sandex.journal import JournalCorrupt, StorageError
    from sandex.node.storage import verify

    data_dir = Path(args.data_dir)
    logging.getLogger("sandex").setLevel(logging.INFO)  # replay progress on a long journal
    cluster = _cluster_options(args)
    label = str(data_dir)
    try:
        if cluster is None:
            result = verify(data_dir)
        else:
            if args.compact:
                print("sandex: --compact is for a data dir's SQLite journal", file=sys.stderr)
                return 2
            from sandex.cluster.journal import NatsJournal

            journal = NatsJournal(cluster.url, monitors=list(cluster.monitors) or None,
                                  unsafe=cluster.unsafe, create=False)
            result = verify(data_dir, journal)  # closes it
            label = journal.path
    except (FileNotFoundError, JournalCorrupt, StorageError, ModuleNotFoundError) as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return 2
    if result.expected is None:
        print(f"{label}: journal replays to position {result.journal_end}, state hash "
              f"{result.replayed}; no snapshot to compare with")
        return 0
    verdict = ("OK" if result.ok else "MISMATCH" if result.expected != result.replayed
               else "UNUSABLE")
    print(f"{label}: {verdict}: replay from zero to position {result.position} gives "
          f"{result.replayed}; the snapshot says {result.expected} "
          f"(journal ends at {result.journal_end})")
    for check in result.snapshots:
        print(f"  {check.path.name}: " + ("usable" if check.problem is None
                                           else f"not usable: {check.problem}"))
    if result.ok and args.compact and result.snapshots:
        from sandex.node.storage import compact

        removed, archive = compact(data_dir, result, archive=args.compact == "archive")
        print(f"{data_dir}: compacted: {removed} records up to position {result.position} "
              + (f"moved to {archive}" if archive else "removed"))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
