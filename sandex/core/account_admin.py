"""The account surface's commands: conversions, profile renames and deactivations, reports.

Handlers over the core's ``State`` (``Engine`` dispatches to them); each refuses bad input
with a ``Rejected`` event before changing anything, as ``sandex.core.admin`` does.
"""

from __future__ import annotations

from sandex.core.commands import Convert, CreateReport, DeactivateProfile, RenameProfile
from sandex.core.events import LedgerEntry, ProfileUpdated, reject
from sandex.core.funds import beyond_supply
from sandex.core.limits import reports_generating_max
from sandex.core.model import Account, Conversion, LedgerKind, Profile, Report
from sandex.core.state import State
from sandex.errors import Error

RESERVED_NAMES = frozenset({"default", "margin"})  # Coinbase: "Names 'default' and 'margin'
# are reserved" (a user's first profile is named default by the venue, never by a rename)
REPORT_TYPES = frozenset({"fills", "account"})


def is_default(profile: Profile) -> bool:
    """A user's default profile: the one named ``default`` (the name is reserved)."""
    return profile.name == "default"


def convert(state: State, cmd: Convert) -> None:
    profile = state.profiles.get(cmd.profile_id)
    if profile is None:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    try:
        kind = LedgerKind(cmd.kind)
    except ValueError:
        kind = None
    if (kind not in (LedgerKind.CONVERSION, LedgerKind.STAKE_WRAP, LedgerKind.REDEEM)
            or cmd.from_currency == cmd.to_currency
            or cmd.from_currency not in state.currencies
            or cmd.to_currency not in state.currencies):
        state._events.append(reject(Error.INVALID_CONVERSION_PAIR))
        return
    if cmd.from_amount <= 0 or cmd.to_amount <= 0:
        state._events.append(reject(Error.AMOUNT_NOT_POSITIVE))
        return
    if not profile.active:
        state._events.append(reject(Error.PROFILE_INACTIVE))
        return
    if cmd.conversion_id in state.conversions:
        state._events.append(reject(Error.INVALID_FIELD, "id"))
        return
    held = profile.accounts.get(cmd.from_currency)
    if held is None or held.balance - held.hold < cmd.from_amount:
        state._events.append(reject(Error.INSUFFICIENT_FUNDS))
        return
    refused = beyond_supply(state, cmd.to_currency, cmd.to_amount)
    if refused is not None:
        state._events.append(refused)
        return
    assert kind is not None
    target = profile.account(cmd.to_currency)
    held.balance -= cmd.from_amount
    target.balance += cmd.to_amount
    state.supply[cmd.from_currency] -= cmd.from_amount  # the venue takes one currency in
    state.supply[cmd.to_currency] += cmd.to_amount  # and pays the other out
    state.conversions[cmd.conversion_id] = Conversion(
        cmd.conversion_id, kind, profile.id, cmd.from_currency, cmd.to_currency,
        cmd.from_amount, cmd.to_amount, cmd.time)
    _entry(state, cmd.time, held, kind, -cmd.from_amount, cmd.conversion_id)
    _entry(state, cmd.time, target, kind, cmd.to_amount, cmd.conversion_id)


def _active_profile(state: State, profile_id: str) -> Profile | None:
    """The profile, if it exists and is active; else ``None`` with the refusal recorded."""
    profile = state.profiles.get(profile_id)
    if profile is None:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
    elif not profile.active:
        state._events.append(reject(Error.PROFILE_INACTIVE))
    else:
        return profile
    return None


def rename_profile(state: State, cmd: RenameProfile) -> None:
    profile = _active_profile(state, cmd.profile_id)
    if profile is None:
        return
    name = cmd.name
    if not name.strip() or name.lower() in RESERVED_NAMES or len(name) > 100:
        state._events.append(reject(Error.INVALID_PROFILE_NAME))
        return
    if is_default(profile):  # its name is the venue's mark of the default profile
        state._events.append(reject(Error.INVALID_PROFILE_NAME))
        return
    if name_taken(state, profile.user_id, name, profile.id):
        state._events.append(reject(Error.PROFILE_NAME_TAKEN))
        return
    profile.name = name
    state._events.append(ProfileUpdated(cmd.time, profile.id, name, True))


def name_taken(state: State, user_id: str, name: str, but: str | None = None) -> bool:
    """Does another active profile of ``user_id`` carry ``name`` (case-insensitive)?"""
    folded = name.casefold()
    return any(p.user_id == user_id and p.active and p.id != but and p.name.casefold() == folded
               for p in state.profiles.values())


def deactivate_profile(state: State, cmd: DeactivateProfile) -> None:
    profile = _active_profile(state, cmd.profile_id)
    if profile is None:
        return
    if is_default(profile):
        state._events.append(reject(Error.DEFAULT_PROFILE_DELETE))
        return
    target = state.profiles.get(cmd.to_profile_id)
    if (target is None or target is profile or not target.active
            or target.user_id != profile.user_id):
        state._events.append(reject(Error.INVALID_TO_PROFILE))
        return
    if profile.live:  # open orders, untriggered stops, orders queued by a halt
        state._events.append(reject(Error.PROFILE_OPEN_ORDERS))
        return
    for currency, source in profile.accounts.items():
        amount = source.balance  # no live orders: nothing is held
        if amount <= 0:
            continue
        destination = target.account(currency)
        source.balance = 0
        destination.balance += amount
        _entry(state, cmd.time, source, LedgerKind.TRANSFER, -amount, cmd.transfer_id)
        _entry(state, cmd.time, destination, LedgerKind.TRANSFER, amount, cmd.transfer_id)
    profile.active = False
    state._events.append(ProfileUpdated(cmd.time, profile.id, profile.name, False))


def create_report(state: State, cmd: CreateReport) -> None:
    profile = state.profiles.get(cmd.profile_id)
    if profile is None:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    if cmd.type not in REPORT_TYPES:
        state._events.append(reject(Error.INVALID_REPORT_TYPE))
        return
    if cmd.format not in ("pdf", "csv"):
        state._events.append(reject(Error.INVALID_FIELD, "format"))
        return
    if cmd.start > cmd.end or cmd.end > cmd.time or cmd.ready_at < cmd.time:
        state._events.append(reject(Error.INVALID_FIELD, "end_date"))
        return
    if cmd.report_id in state.reports:
        state._events.append(reject(Error.INVALID_FIELD, "id"))
        return
    scope = cmd.product_id if cmd.type == "fills" else None
    generating = sum(1 for r in state.reports.values()
                     if r.profile_id == profile.id and r.type == cmd.type and r.ready_at > cmd.time
                     and (scope is None or r.product_id == scope))
    if generating >= reports_generating_max:
        state._events.append(reject(Error.TOO_MANY_REPORTS))
        return
    state.reports[cmd.report_id] = Report(
        cmd.report_id, cmd.token, profile.id, cmd.type, cmd.format, cmd.time, cmd.ready_at,
        cmd.start, cmd.end, cmd.product_id, cmd.account_id, cmd.email)


def _entry(state: State, t: int, account: Account, kind: LedgerKind, amount: int,
           ref: str) -> None:
    """A ledger entry of ``account``'s movement (already applied); ``ref`` in ``transfer_id``."""
    state._entry_id += 1
    state._events.append(LedgerEntry(
        t, state._entry_id, account.profile_id, account.currency, kind, amount,
        account.balance, None, None, None, ref))
