"""Administration commands, shared by the admin endpoint (online) and the CLI (offline).

``plan(node, name, args)`` checks the arguments and returns the stamped commands to apply
and how to render their result (reads apply nothing). Whoever runs the plan applies the
commands through the node, so each is journaled like any other: ``await node.execute`` on
a running server, ``node.record`` on a stopped data dir. Results are JSON-able; bad input
raises ``AdminError`` with a one-line message.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sandex.admin import clock, faults, races, snapshots
from sandex.admin import replay as replaying
from sandex.auth.keys import KDF, Permission, hash_passphrase
from sandex.core import (
    AddProduct,
    Command,
    CreateProfile,
    Deposit,
    Event,
    ProductStatus,
    Rejected,
    SetFees,
    SetProductStatus,
    SetVenue,
    StartTransfer,
    Withdraw,
)
from sandex.faults import engine as engine_faults
from sandex.faults import faults_of
from sandex.funds import find_address, funds_of, tx_hash
from sandex.funds.config import FIAT, TAGS
from sandex.node import BASELINE, CreateApiKey, Node, RevokeApiKey
from sandex.node.ids import is_uuid
from sandex.timefmt import iso, parse_duration
from sandex.units import (
    AMOUNT_DECIMALS,
    AMOUNT_SCALE,
    PRICE_DECIMALS,
    RATE_DECIMALS,
    format_trimmed,
    parse_units,
)

DEFAULT_MAKER_FEE = "0.004"  # issue #2: 0.40 % / 0.60 %, for a profile given no fee rates
DEFAULT_TAKER_FEE = "0.006"  # (here and in scenario files)


class AdminError(ValueError):
    """Bad input or a refused command; the text is one line for the user."""


class UnknownCommand(AdminError):
    """No admin command has this name."""


@dataclass
class Plan:
    """Commands to apply in order (an iterator may stamp each as it is pulled, after the one
    before was applied), and how to render their events."""

    commands: Iterable[Command] = field(default_factory=list)
    render: Callable[[list[list[Event]]], Any] = lambda events: None
    online: Callable[[], Awaitable[Any]] | None = None  # on a live node, instead of the above


def check(events: list[Event]) -> list[Event]:
    """``events`` unless they are a refusal, which becomes an ``AdminError``."""
    if events and type(events[0]) is Rejected:
        raise AdminError(events[0].message)
    return events


# -- argument helpers ---------------------------------------------------------------------------
def _text(args: dict[str, Any], name: str, default: str | None = None) -> str:
    value = args.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise AdminError(f"--{name.replace('_', '-')} is required")
    return value.strip()


def _optional(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise AdminError(f"--{name.replace('_', '-')} must be a non-empty text")
    return value.strip()


def _units(args: dict[str, Any], name: str, decimals: int, default: str | None = None) -> int:
    text = _text(args, name, default)
    units = parse_units(text, decimals)
    if units is None:
        raise AdminError(f"--{name.replace('_', '-')}: {text!r} is not a number with at most "
                         f"{decimals} decimals")
    return units


def _profile(node: Node, args: dict[str, Any]) -> str:
    profile_id = _text(args, "profile")
    if profile_id not in node.engine.profiles:
        raise AdminError(f"profile {profile_id} not found")
    return profile_id


def _currency(node: Node, args: dict[str, Any]) -> str:
    currency = _text(args, "currency").upper()
    if currency not in node.engine.currencies:
        raise AdminError(f"currency {currency} not found")
    return currency


def _status(args: dict[str, Any], default: str | None = None) -> ProductStatus:
    text = _text(args, "status", default)
    try:
        return ProductStatus(text)
    except ValueError:
        names = ", ".join(s.value for s in ProductStatus)
        raise AdminError(f"--status: {text!r} is not one of {names}") from None


# -- renderers ------------------------------------------------------------------------------
def _rate(units: int) -> str:
    return format_trimmed(units, RATE_DECIMALS)


def profile_json(node: Node, profile_id: str) -> dict[str, Any]:
    p = node.engine.profiles[profile_id]
    return {"id": p.id, "user_id": p.user_id, "name": p.name,
            "maker_fee_rate": _rate(p.maker_rate), "taker_fee_rate": _rate(p.taker_rate),
            "created_at": iso(p.created_at),
            "balances": {a.currency: format_trimmed(a.balance, AMOUNT_DECIMALS)
                         for a in p.accounts.values()}}


def product_json(node: Node, product_id: str) -> dict[str, Any]:
    p = node.engine.products[product_id]
    return {"id": p.id, "base_currency": p.base_currency, "quote_currency": p.quote_currency,
            "base_increment": format_trimmed(p.base_increment, PRICE_DECIMALS),
            "quote_increment": format_trimmed(p.quote_increment, PRICE_DECIMALS),
            "min_market_funds": format_trimmed(p.min_market_funds, AMOUNT_DECIMALS),
            "status": p.status.value}


def key_json(node: Node, key: str) -> dict[str, Any]:
    k = node.keys.get(key)
    assert k is not None
    return {"key": k.key, "profile_id": k.profile_id,
            "permissions": sorted(p.value for p in k.permissions),
            "created_at": iso(k.created_at)}


# -- the commands -------------------------------------------------------------------------------
def _profile_create(node: Node, args: dict[str, Any]) -> Plan:
    profile_id = _optional(args, "id") or node.ids.uuid()
    if not is_uuid(profile_id, lower=True):
        raise AdminError(f"--id: {profile_id!r} is not a lower-case UUID")
    command = CreateProfile(
        time=node.stamp(), profile_id=profile_id, user_id=node.ids.user_id(),
        name=_text(args, "name"),
        maker_fee_rate=_units(args, "maker_fee_rate", RATE_DECIMALS, DEFAULT_MAKER_FEE),
        taker_fee_rate=_units(args, "taker_fee_rate", RATE_DECIMALS, DEFAULT_TAKER_FEE))
    return Plan([command], lambda _: profile_json(node, profile_id))


def _profile_list(node: Node, args: dict[str, Any]) -> Plan:
    return Plan([], lambda _: [profile_json(node, p) for p in sorted(node.engine.profiles)])


def _key_create(node: Node, args: dict[str, Any]) -> Plan:
    profile_id = _profile(node, args)
    permissions = args.get("permissions", "view,trade")
    names = permissions.split(",") if isinstance(permissions, str) else permissions
    if not isinstance(names, list) or not names:
        raise AdminError("--permissions must list view, trade and/or transfer")
    try:
        chosen = tuple(sorted({Permission(str(n).strip()).value for n in names}))
    except ValueError:
        raise AdminError(f"--permissions: {permissions!r}: each must be view, trade or "
                         "transfer") from None
    key = _optional(args, "key") or secrets.token_hex(16)
    secret = _optional(args, "secret") or base64.b64encode(secrets.token_bytes(64)).decode()
    passphrase = _optional(args, "passphrase") or secrets.token_urlsafe(12)
    if key in node.keys:
        raise AdminError(f"key {key} already exists")
    salt = node.ids.salt()
    command = CreateApiKey(time=node.stamp(), key=key, secret=secret,
                           passphrase_hash=hash_passphrase(salt, passphrase), salt=salt,
                           permissions=chosen, profile_id=profile_id, kdf=KDF)

    def render(_: list[list[Event]]) -> dict[str, Any]:
        return {**key_json(node, key), "secret": secret, "passphrase": passphrase}

    return Plan([command], render)


def _key_list(node: Node, args: dict[str, Any]) -> Plan:
    profile_id = _optional(args, "profile")
    return Plan([], lambda _: [key_json(node, k.key) for k in sorted(
        node.keys.list(profile_id), key=lambda k: (k.created_at, k.key))])


def _key_revoke(node: Node, args: dict[str, Any]) -> Plan:
    key = _text(args, "key")
    if key not in node.keys:
        raise AdminError(f"key {key} not found")
    return Plan([RevokeApiKey(time=node.stamp(), key=key)],
                lambda _: {"key": key, "revoked": True})


def _funds(kind: type[Deposit] | type[Withdraw]) -> Callable[[Node, dict[str, Any]], Plan]:
    def plan(node: Node, args: dict[str, Any]) -> Plan:
        profile_id, currency = _profile(node, args), _currency(node, args)
        amount = _units(args, "amount", AMOUNT_DECIMALS)
        transfer_id = node.ids.uuid()
        command = kind(time=node.stamp(), profile_id=profile_id, currency=currency,
                       amount=amount, transfer_id=transfer_id)

        def render(_: list[list[Event]]) -> dict[str, Any]:
            account = node.engine.profiles[profile_id].accounts[currency]
            return {"id": transfer_id, "profile_id": profile_id, "currency": currency,
                    "amount": format_trimmed(amount, AMOUNT_DECIMALS),
                    "balance": format_trimmed(account.balance, AMOUNT_DECIMALS)}

        return Plan([command], render)

    return plan


def _crypto_receive(node: Node, args: dict[str, Any]) -> Plan:
    """A crypto deposit arriving from outside to one of the venue's deposit addresses
    (``POST /coinbase-accounts/{id}/addresses``): a pending ``deposit`` transfer that settles
    after the scenario's ``crypto_deposit_delay`` (or ``delay``) on the venue clock."""
    address = _text(args, "address")
    config = funds_of(node)
    candidates = [(p, c, config.network(c)) for p in node.engine.profiles
                  for c in node.engine.currencies if c not in FIAT]
    found = find_address(address, candidates)
    if found is None:
        raise AdminError(f"--address: {address} is not a deposit address of this venue")
    amount = _units(args, "amount", PRICE_DECIMALS)
    if amount <= 0:
        raise AdminError("--amount must be positive")
    delay_text = _optional(args, "delay")
    try:
        delay = config.crypto_deposit_delay if delay_text is None else parse_duration(delay_text)
    except ValueError as exc:
        raise AdminError(f"--delay: {exc}") from None
    transfer_id = node.ids.uuid()
    tag = _optional(args, "destination_tag") or found.destination_tag or ""
    wallet = next((w for w in config.wallet_list(list(node.engine.currencies))
                   if w.currency == found.currency), None)
    digest = tx_hash(transfer_id, found.network)
    details = (("crypto_address", address), ("network", found.network),
               ("destination_tag", tag), ("destination_tag_name", TAGS.get(found.currency, "")),
               ("crypto_transaction_hash", digest), ("crypto_transaction_id", transfer_id),
               ("tx_service_transaction_id", transfer_id),
               ("coinbase_account_id", "" if wallet is None else wallet.id),
               ("coinbase_transaction_id", digest[-24:]), ("coinbase_payment_method_id", ""))
    time = node.stamp()
    settle_at = time + delay if delay else 0
    command = StartTransfer(time=time, transfer_id=transfer_id, profile_id=found.profile_id,
                            currency=found.currency, kind="deposit",
                            amount=amount * (AMOUNT_SCALE // 10**PRICE_DECIMALS),
                            settle_at=settle_at, details=details)

    def render(_: list[list[Event]]) -> dict[str, Any]:
        return {"id": transfer_id, "profile_id": found.profile_id, "currency": found.currency,
                "amount": format_trimmed(amount, PRICE_DECIMALS), "address": address,
                "network": found.network, "crypto_transaction_hash": digest,
                "settles_at": iso(settle_at or time)}

    return Plan([command], render)


def _product_add(node: Node, args: dict[str, Any]) -> Plan:
    product_id = _text(args, "id").upper()
    base, _, quote = product_id.partition("-")
    command = AddProduct(
        time=node.stamp(), product_id=product_id, base_currency=base, quote_currency=quote,
        base_increment=_units(args, "base_increment", PRICE_DECIMALS, "0.00000001"),
        quote_increment=_units(args, "quote_increment", PRICE_DECIMALS, "0.01"),
        min_market_funds=_units(args, "min_market_funds", AMOUNT_DECIMALS, "1"),
        status=_status(args, "online"))
    return Plan([command], lambda _: product_json(node, product_id))


def _product_set_status(node: Node, args: dict[str, Any]) -> Plan:
    product_id = _text(args, "id").upper()
    command = SetProductStatus(time=node.stamp(), product_id=product_id, status=_status(args))
    return Plan([command], lambda _: product_json(node, product_id))


def _fees_set(node: Node, args: dict[str, Any]) -> Plan:
    profile_id = _profile(node, args)
    command = SetFees(time=node.stamp(), profile_id=profile_id,
                      maker_fee_rate=_units(args, "maker", RATE_DECIMALS),
                      taker_fee_rate=_units(args, "taker", RATE_DECIMALS))
    return Plan([command], lambda _: {k: v for k, v in profile_json(node, profile_id).items()
                                      if k in ("id", "maker_fee_rate", "taker_fee_rate")})


def _clock_get(node: Node, args: dict[str, Any]) -> Plan:
    return Plan([], lambda _: clock.clock_json(node))


def _clock_set(node: Node, rate: object) -> Plan:
    try:
        command = clock.set_rate(node, rate)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    return Plan([command], lambda _: clock.clock_json(node))


def _clock_advance(node: Node, args: dict[str, Any]) -> Plan:
    try:
        target = clock.advance_target(node, args.get("by"), args.get("to"), args.get("until"))
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    commands, render = clock.advance_offline(node, target)
    return Plan(commands, render, online=lambda: clock.advance_online(node, target))


def _snapshot(make: Callable[[Node, str], Command],
              render: Callable[[Node, str], Any]) -> Callable[[Node, dict[str, Any]], Plan]:
    """A plan of one snapshot command on the snapshot named by ``--name``."""

    def op(node: Node, args: dict[str, Any]) -> Plan:
        try:
            name = snapshots.name_of(args.get("name"))
            command = make(node, name)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
        return Plan([command], lambda _: render(node, name))

    return op


def _reset(node: Node, args: dict[str, Any]) -> Plan:
    try:
        command = snapshots.restore(node, BASELINE)
    except ValueError as exc:
        raise AdminError(str(exc)) from None

    def render(_: list[list[Event]]) -> Any:
        faults_of(node).reset()  # the scenario's fault rules again, counters at zero
        engine_faults.sync(node)  # their windows anew; the restore put the products back
        return snapshots.restored_json(node, BASELINE)

    return Plan([command], render)


def _fault(make: Callable[[Node, dict[str, Any]], faults.Live]
           ) -> Callable[[Node, dict[str, Any]], Plan]:
    """A fault command: run on the live venue only (``faults.OFFLINE`` on a stopped one)."""

    def op(node: Node, args: dict[str, Any]) -> Plan:
        try:
            live = make(node, args)
        except ValueError as exc:
            raise AdminError(str(exc)) from None

        async def online() -> Any:
            try:
                answer = live()
            except ValueError as exc:
                raise AdminError(str(exc)) from None
            # engine rules are status windows: a cleared one ends now, journaled
            await node.execute_all(engine_faults.closing(engine_faults.sync(node)))
            return answer

        return Plan(_refused_offline(), online=online)

    return op


def _refused_offline() -> Iterator[Command]:
    """No commands: refused when the offline runner pulls the first one."""
    raise AdminError(faults.OFFLINE)
    yield  # pragma: no cover (makes this a generator)


def venue_json(node: Node) -> dict[str, Any]:
    return {"client_oid_dedup": node.engine.client_oid_dedup}


def _venue_set(node: Node, args: dict[str, Any]) -> Plan:
    """``SetVenue`` carries every setting: the ones not given keep their current value."""
    unknown = sorted(set(args) - set(venue_json(node)))
    if unknown:
        raise AdminError(f"unknown venue setting {unknown[0]!r}")
    value = args.get("client_oid_dedup", node.engine.client_oid_dedup)
    if isinstance(value, str) and value in ("true", "false"):
        value = value == "true"
    if not isinstance(value, bool):
        raise AdminError(f"--client-oid-dedup: {value!r} is not true or false")
    return Plan([SetVenue(time=node.stamp(), client_oid_dedup=value)],
                lambda _: venue_json(node))


def _race(action: Callable[[Node, dict[str, Any]], Awaitable[Any]]
          ) -> Callable[[Node, dict[str, Any]], Plan]:
    """A race control (``sandex.admin.races``): it acts on a running server only."""

    def op(node: Node, args: dict[str, Any]) -> Plan:
        async def online() -> Any:
            try:
                return await action(node, args)
            except races.RaceError as exc:
                raise AdminError(str(exc)) from None

        def offline(_: list[list[Event]]) -> Any:
            raise AdminError("the gate, holds and inject act on a running server (start "
                             "`sandex serve`, or pass --url and --token)")

        return Plan([], offline, online=online)

    return op


def _replay(action: replaying.Action) -> Callable[[Node, dict[str, Any]], Plan]:
    """A replay control (``sandex.admin.replay``): it acts on a running server only."""

    def op(node: Node, args: dict[str, Any]) -> Plan:
        async def online() -> Any:
            try:
                return await action(node, args)
            except ValueError as exc:  # ReplayError, ProductsError, a bad argument
                raise AdminError(str(exc)) from None

        def offline(_: list[list[Event]]) -> Any:
            raise AdminError(replaying.OFFLINE)

        return Plan([], offline, online=online)

    return op


OPS: dict[str, Callable[[Node, dict[str, Any]], Plan]] = {
    "profile.create": _profile_create,
    "profile.list": _profile_list,
    "key.create": _key_create,
    "key.list": _key_list,
    "key.revoke": _key_revoke,
    "deposit": _funds(Deposit),
    "withdraw": _funds(Withdraw),
    "crypto.receive": _crypto_receive,
    "product.add": _product_add,
    "product.set-status": _product_set_status,
    "fees.set": _fees_set,
    "clock": _clock_get,
    "clock.freeze": lambda node, args: _clock_set(node, 0),
    "clock.rate": lambda node, args: _clock_set(node, args.get("rate")),
    "clock.advance": _clock_advance,
    "snapshot.save": _snapshot(snapshots.save,
                               lambda node, name: snapshots.saved_json(node.saved[name])),
    "snapshot.list": lambda node, args: Plan([], lambda _: [
        snapshots.saved_json(saved) for saved in node.saved.values()]),
    "snapshot.restore": _snapshot(snapshots.restore, snapshots.restored_json),
    "snapshot.delete": _snapshot(snapshots.delete,
                                 lambda node, name: {"name": name, "deleted": True}),
    "reset": _reset,
    "state": lambda node, args: Plan([], lambda _: snapshots.state_json(node)),
    "fault.add": _fault(faults.add),
    "fault.replace": _fault(faults.replace),
    "fault.list": _fault(faults.listed),
    "fault.clear": _fault(faults.clear),
    "fault.log": _fault(faults.log),
    "fault.preset": _fault(faults.install_preset),
    "venue": lambda node, args: Plan([], lambda _: venue_json(node)),
    "venue.set": _venue_set,
    "gate.close": _race(races.GATE["close"]),
    "gate.held": _race(races.GATE["held"]),
    "gate.release": _race(races.GATE["release"]),
    "gate.open": _race(races.GATE["open"]),
    "reply.hold": _race(races.REPLIES["close"]),
    "reply.held": _race(races.REPLIES["held"]),
    "reply.release": _race(races.REPLIES["release"]),
    "reply.open": _race(races.REPLIES["open"]),
    "feed.hold": _race(races.feed_hold),
    "feed.held": _race(races.feed_held),
    "feed.release": _race(races.feed_release),
    "inject": _race(races.inject),
    **{name: _replay(action) for name, action in replaying.ACTIONS.items()},
    "replay.status": lambda node, args: Plan([], lambda _: replaying.status(node)),
}


# commands that apply nothing
READS = frozenset({"profile.list", "key.list", "clock", "snapshot.list", "state",
                   "fault.list", "fault.log", "venue", "gate.held", "reply.held", "feed.held",
                   "replay.status"})


def plan(node: Node, name: str, args: dict[str, Any]) -> Plan:
    op = OPS.get(name)
    if op is None:
        raise UnknownCommand(f"unknown admin command {name}")
    return op(node, args)


async def run_online(node: Node, name: str, args: dict[str, Any],
                     read_only: bool = False) -> Any:
    """Run on a live node: each command through ``execute`` (journaled, group-committed);
    ``read_only`` refuses, before planning it, a command that may change the venue."""
    if read_only and name in OPS and name not in READS:
        raise AdminError(f"{name} changes the venue: send it with POST")
    steps = plan(node, name, args)
    if steps.online is not None:
        return await steps.online()
    events = [check(await node.execute(command)) for command in steps.commands]
    return steps.render(events)


def run_offline(node: Node, name: str, args: dict[str, Any]) -> Any:
    """Run on a node opened from a stopped data dir: each command journaled synchronously."""
    steps = plan(node, name, args)
    events = [check(node.record(command)) for command in steps.commands]
    return steps.render(events)
