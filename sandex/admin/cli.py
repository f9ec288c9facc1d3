"""The admin commands of the ``sandex`` CLI, online or offline, with JSON on stdout.

``sandex profile create|list``, ``sandex key create|list|revoke``, ``sandex deposit``,
``sandex withdraw``, ``sandex product add|set-status``, ``sandex fees set``, ``sandex clock
[freeze|rate R|advance D]``, ``sandex snapshot save|list|restore|delete``, ``sandex reset``,
``sandex state``, and, with a running server only, ``sandex explain``, ``sandex trace``,
``sandex fault add|replace|list|clear|log|preset`` and the race controls ``sandex
gate|reply|feed ...``, ``sandex inject`` and ``sandex replay ...``. Against a running server
(found through the data dir it holds, or ``--url`` and ``--token``) a command goes to its
admin endpoint; on a stopped data dir it is applied and journaled directly. Wrong input prints
one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sandex.admin.catalogue import GATEWAY_COMMANDS
from sandex.admin.presence import TOKEN_FILE, DataDirBusy, DataDirLock, read_server
from sandex.admin.replay_cli import add_replay_commands
from sandex.journal import StorageError

COMMON = ("data_dir", "url", "token", "command", "action", "op", "func", "rules")


def add_commands(commands: Any, default_data_dir: str) -> None:
    """Register the admin subcommands on the top-level parser's ``commands``."""

    def command(parent: Any, name: str, op: str, help_: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help_, description=help_)
        parser.set_defaults(op=op, func=run)
        parser.add_argument("--data-dir", default=default_data_dir,
                            help="the data dir of the venue (default: ./%(default)s)")
        parser.add_argument("--url", help="a running server's URL (default: from the data dir)")
        parser.add_argument("--token", help="its admin token (default: from the data dir)")
        return parser

    profile = commands.add_parser("profile", help="create or list profiles").add_subparsers(
        dest="action", required=True)
    create = command(profile, "create", "profile.create", "create a profile")
    create.add_argument("--name", required=True)
    create.add_argument("--id", help="the profile id (a UUID; default: generated)")
    create.add_argument("--maker-fee-rate", help="default 0.004")
    create.add_argument("--taker-fee-rate", help="default 0.006")
    command(profile, "list", "profile.list", "list profiles with their balances")

    key = commands.add_parser("key", help="create, list or revoke API keys").add_subparsers(
        dest="action", required=True)
    create = command(key, "create", "key.create", "create an API key for a profile")
    create.add_argument("--profile", required=True)
    create.add_argument("--permissions", default="view,trade",
                        help="comma-separated: view, trade, transfer (default: view,trade)")
    create.add_argument("--key", help="default: 32 random hex digits")
    create.add_argument("--secret", help="base64 (default: 64 random bytes)")
    create.add_argument("--passphrase", help="default: random")
    listing = command(key, "list", "key.list", "list API keys (never their secrets)")
    listing.add_argument("--profile")
    revoke = command(key, "revoke", "key.revoke", "revoke an API key")
    revoke.add_argument("key")

    for name in ("deposit", "withdraw"):
        funds = command(commands, name, name, f"{name} funds for a profile")
        funds.add_argument("--profile", required=True)
        funds.add_argument("--currency", required=True)
        funds.add_argument("--amount", required=True)

    crypto = commands.add_parser("crypto", help="simulate crypto arriving from outside"
                                 ).add_subparsers(dest="action", required=True)
    receive = command(crypto, "receive", "crypto.receive",
                      "a crypto deposit arrives at a deposit address (settles after the "
                      "scenario's crypto_deposit_delay on the venue clock)")
    receive.add_argument("--address", required=True)
    receive.add_argument("--amount", required=True)
    receive.add_argument("--delay", help="a duration like 10m (default: the scenario's)")
    receive.add_argument("--destination-tag")

    product = commands.add_parser("product", help="add products or set their status"
                                  ).add_subparsers(dest="action", required=True)
    add = command(product, "add", "product.add", "add a product (and its currencies)")
    add.add_argument("--id", required=True, help="BASE-QUOTE")
    add.add_argument("--base-increment")
    add.add_argument("--quote-increment")
    add.add_argument("--min-market-funds")
    add.add_argument("--status")
    status = command(product, "set-status", "product.set-status", "change a product's status")
    status.add_argument("--id", required=True)
    status.add_argument("--status", required=True,
                        help="online, post_only, limit_only, cancel_only or disabled")

    fees = commands.add_parser("fees", help="set a profile's fee rates").add_subparsers(
        dest="action", required=True)
    rates = command(fees, "set", "fees.set", "set a profile's maker and taker fee rates")
    rates.add_argument("--profile", required=True)
    rates.add_argument("--maker", required=True)
    rates.add_argument("--taker", required=True)

    clock = command(commands, "clock", "clock", "show the venue clock, or move it")
    moves = clock.add_subparsers(dest="action")
    command(moves, "freeze", "clock.freeze", "freeze the venue clock (a virtual clock, rate 0)")
    rate = command(moves, "rate", "clock.rate", "run the venue clock k times faster than real "
                   "time (0: frozen, 1: real time)")
    rate.add_argument("rate")
    advance = command(moves, "advance", "clock.advance",
                      "move a virtual clock forward, firing every GTT expiry on the way")
    advance.add_argument("by", nargs="?", help="a duration: 90s, 15m, 2h, 1d")
    advance.add_argument("--to", help="an ISO 8601 time")
    advance.add_argument("--until", help="next-expiry")

    snapshot = commands.add_parser("snapshot", help="save, list, restore or delete named "
                                   "snapshots of the whole venue").add_subparsers(
        dest="action", required=True)
    for action, help_ in (("save", "keep the venue's whole state under NAME (replacing it)"),
                          ("restore", "put the venue back in the state saved as NAME"),
                          ("delete", "forget the snapshot NAME")):
        command(snapshot, action, f"snapshot.{action}", help_).add_argument("name")
    command(snapshot, "list", "snapshot.list", "list the named snapshots")
    command(commands, "reset", "reset", "restore the baseline: the venue as its scenario "
            "loaded it")
    command(commands, "state", "state", "show the journal position, state hash and time")
    trace = command(commands, "trace", "trace", "the traces of the last REST requests: one "
                    "request's, or everything that touched an order (a running server)")
    which = trace.add_mutually_exclusive_group(required=True)
    which.add_argument("--request-id", help="r-000123 (the X-Sandex-Request-Id header)")
    which.add_argument("--order-id")
    which.add_argument("--client-oid")
    explain = command(commands, "explain", "explain", "what POST /orders would answer for a "
                      "key and a body, and why (a dry run; a running server only)")
    explain.add_argument("--key", required=True, help="the API key the order would be sent with")
    explain.add_argument("request", type=_json_object,
                         help="the POST /orders body, as JSON: '{\"product_id\": ...}'")

    fault = commands.add_parser("fault", help="add, list, clear or log fault rules, or "
                                "install a preset (docs/testing.md, Faults)").add_subparsers(
        dest="action", required=True)
    add = command(fault, "add", "fault.add", "install fault rules after the others")
    add.add_argument("rules", type=fault_rules, metavar="FILE|JSON",
                     help="a rule as JSON, or a .json/.toml file of one rule or [[faults]]")
    replace = command(fault, "replace", "fault.replace",
                      "put rules in place of the installed rules with their ids")
    replace.add_argument("rules", type=fault_rules, metavar="FILE|JSON",
                         help="a rule as JSON, or a .json/.toml file of rules (each with an id)")
    command(fault, "list", "fault.list", "the fault rules, with how often each fired")
    clear = command(fault, "clear", "fault.clear", "remove every fault rule, or one")
    clear.add_argument("id", nargs="?", help="the rule's id (default: all)")
    command(fault, "log", "fault.log", "the last fault firings, oldest first")
    preset = command(fault, "preset", "fault.preset", "install a preset's rules")
    preset.add_argument("name", help="rate-limit-storm, flaky-feed, timeouts-accepted, "
                        "maintenance-window")
    preset.add_argument("--seed", type=int, help="seed of their random streams")

    venue = command(commands, "venue", "venue", "show the venue's settings, or set them")
    settings = venue.add_subparsers(dest="action")
    command(settings, "set", "venue.set", "change venue settings (journaled)").add_argument(
        "--client-oid-dedup", choices=("true", "false"),
        help="false: a reused client_oid places a second order, as on Coinbase")
    _race_commands(commands, command)
    add_replay_commands(commands, command, run, _send)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not JSON") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("the body must be a JSON object")
    return value


def fault_rules(text: str) -> list[Any]:
    """The rules of ``fault add``'s argument: JSON text, or a JSON or TOML file holding one
    rule or a ``[[faults]]`` array of them."""
    import tomllib

    source = text
    if not text.lstrip().startswith(("{", "[")):
        try:
            source = Path(text).read_text()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"{text}: {exc.strerror or exc}") from None
    try:
        data: Any = json.loads(source)
    except ValueError:
        try:
            data = tomllib.loads(source)
        except tomllib.TOMLDecodeError as exc:
            raise argparse.ArgumentTypeError(f"{text}: neither JSON nor TOML ({exc})") from None
    if isinstance(data, dict) and set(data) == {"faults"}:
        data = data["faults"]
    rules = data if isinstance(data, list) else [data]
    if not rules:
        raise argparse.ArgumentTypeError(f"{text}: no rule in it")
    return rules


MATCH_FLAGS = ("type", "order_id", "client_oid", "key", "profile", "product_id")
FEED_FLAGS = ("connection", "key", "profile")


def _race_commands(commands: Any, command: Any) -> None:
    """``sandex gate|reply close|hold|held|release|open``, ``sandex feed hold|held|release``
    and ``sandex inject`` (docs/testing.md, "Races"): on a running server only."""
    for name, close, what in (("gate", "close", "order requests before they are applied"),
                              ("reply", "hold", "the replies of order requests")):
        verbs = commands.add_parser(name, help=f"hold and release {what}").add_subparsers(
            dest="action", required=True)
        holding = command(verbs, close, f"{name}.{close}", f"hold {what} that match (all "
                          "order requests if no flag is given)")
        _match_flags(holding, MATCH_FLAGS, required=False)
        command(verbs, "held", f"{name}.held", f"list the rules and {what} held")
        release = command(verbs, "release", f"{name}.release",
                          "release held entries: IDS in that order, the oldest --n, or --all")
        release.add_argument("ids", nargs="*", type=int, default=None)
        release.add_argument("--n", type=int)
        release.add_argument("--all", action="store_true", default=None)
        command(verbs, "open", f"{name}.open", f"stop holding {what}; release them all")
    feed = commands.add_parser("feed", help="hold and release WebSocket frames"
                               ).add_subparsers(dest="action", required=True)
    _match_flags(command(feed, "hold", "feed.hold", "hold the frames of matching "
                         "connections"), FEED_FLAGS, required=True)
    command(feed, "held", "feed.held", "list the feed holds and the connections held")
    release = command(feed, "release", "feed.release", "drop a feed hold (its frames go out)")
    _match_flags(release, FEED_FLAGS, required=False)
    release.add_argument("--all", action="store_true", default=None)
    inject = command(commands, "inject", "inject", "run an order command as a profile, past "
                     "the gate")
    inject.set_defaults(func=_run_inject)
    inject.add_argument("--profile", required=True)
    kinds = inject.add_mutually_exclusive_group(required=True)
    kinds.add_argument("--place", metavar="JSON", type=_json_object, help="a POST /orders body")
    kinds.add_argument("--cancel", metavar="ORDER_ID", help="an order id or client:<oid>")
    kinds.add_argument("--cancel-all", action="store_true", default=None)
    inject.add_argument("--product-id", help="scope of --cancel or --cancel-all")


def _match_flags(parser: argparse.ArgumentParser, names: tuple[str, ...],
                 required: bool) -> None:
    """``--type``, ``--order-id``, ...: sent as the ``match`` object."""
    for name in names:
        parser.add_argument("--" + name.replace("_", "-"),
                            type=int if name == "connection" else str)

    def func(args: argparse.Namespace) -> int:
        match = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
        for n in names:
            delattr(args, n)
        if match or required:
            args.match = match
        return run(args)

    parser.set_defaults(func=func)


def _run_inject(args: argparse.Namespace) -> int:
    scope = {"product_id": args.product_id} if args.product_id else {}
    if args.place is not None:
        command: dict[str, Any] = {"place": args.place}
    elif args.cancel is not None:
        command = {"cancel": {"order_id": args.cancel, **scope}}
    else:
        command = {"cancel_all": scope}
    for name in ("place", "cancel", "cancel_all", "product_id"):
        delattr(args, name)
    return run(args, {"command": command})


class Failed(Exception):
    """A one-line failure for stderr, with its exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def run(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> int:
    """Send the command's flags (and ``extra`` arguments) and print the answer."""
    payload = {name: value for name, value in vars(args).items()
               if name not in COMMON and value is not None} | (extra or {})
    try:
        rules = getattr(args, "rules", None)
        if rules is None:
            result = _dispatch(args, payload)
        else:  # ``fault add|replace``: the body is the rule itself
            result = [_dispatch(args, rule) for rule in rules]
            result = result[0] if len(result) == 1 else result
    except Failed as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        return exc.status
    print(json.dumps(result))
    return 0


def _send(args: argparse.Namespace, op: str, payload: dict[str, Any]) -> Any:
    """Send ``op`` as ``args`` would be sent, and return the answer (exits on failure)."""
    args.op = op
    try:
        return _dispatch(args, payload)
    except Failed as exc:
        print(f"sandex: {exc}", file=sys.stderr)
        raise SystemExit(exc.status) from None


def _dispatch(args: argparse.Namespace, payload: dict[str, Any]) -> Any:
    if args.url:
        token = args.token or _token_of(Path(args.data_dir))
        return _online(args.url, token, args.op, payload)
    data_dir = Path(args.data_dir)
    from sandex.node.storage import JOURNAL_FILE

    if not (data_dir / JOURNAL_FILE).exists():
        raise Failed(f"{data_dir}: no sandex data here (start `sandex serve --data-dir "
                     f"{data_dir}` once, or pass --url and --token)")
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()
    except StorageError as exc:
        raise Failed(str(exc)) from None
    except DataDirBusy:
        server = read_server(data_dir)
        if server is None:
            raise Failed(f"{data_dir} is locked by another process") from None
        return _online(str(server["url"]), _token_of(data_dir), args.op, payload)
    try:
        return _offline(data_dir, args.op, payload)
    finally:
        lock.release()


def _token_of(data_dir: Path) -> str:
    try:
        return (data_dir / TOKEN_FILE).read_text().strip()
    except FileNotFoundError:
        raise Failed(f"no admin token in {data_dir}: pass --token (`sandex serve --ephemeral` "
                     "prints it)") from None
    except OSError as exc:
        raise Failed(f"cannot read the admin token: {exc}") from None


def _offline(data_dir: Path, op: str, payload: dict[str, Any]) -> Any:
    if op in GATEWAY_COMMANDS:
        raise Failed(f"{op} needs a running server: start `sandex serve --data-dir "
                     f"{data_dir}`, or pass --url and --token")
    from sandex.admin.ops import AdminError, run_offline
    from sandex.journal import JournalCorrupt
    from sandex.node.storage import open_node

    try:
        node = open_node(data_dir)
    except (JournalCorrupt, StorageError) as exc:
        raise Failed(str(exc)) from None
    try:
        return run_offline(node, op, payload)
    except (AdminError, StorageError) as exc:
        raise Failed(str(exc)) from None
    finally:
        node.journal.close()


def _online(url: str, token: str, op: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{url.rstrip('/')}/admin/{op}", data=json.dumps(payload).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {exc.code}"
        raise Failed(message, 2 if exc.code < 500 else 1) from None
    except (urllib.error.URLError, OSError) as exc:
        raise Failed(f"cannot reach the server at {url}: {exc}", 1) from None
