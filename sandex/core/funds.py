"""Transfers with the simulated outside world (``StartTransfer``) and the address book.

A withdrawal holds its whole amount (fee included) when it starts and debits it when it
settles; a deposit credits the account when it settles. Settling happens at ``settle_at`` on
the venue clock: at once if that is not after the start, else by the ``AdvanceClock`` that
reaches it (``settle_due``). Each settlement is a ``TransferCompleted`` and a ``transfer``
ledger entry. Deterministic: the command carries every decided value (fee, due time, details).
"""

from __future__ import annotations

from sandex.core.commands import AddAddress, DeleteAddress, PutEntry, StartTransfer
from sandex.core.events import (
    AddressAdded,
    AddressDeleted,
    EntryPut,
    LedgerEntry,
    Rejected,
    TransferCompleted,
    TransferStarted,
    reject,
)
from sandex.core.limits import supply_max
from sandex.core.model import DEPOSIT, WITHDRAW, LedgerKind, PendingTransfer
from sandex.core.state import State
from sandex.errors import Error
from sandex.units import AMOUNT_DECIMALS, format_trimmed


def beyond_supply(state: State, currency: str, amount: int) -> Rejected | None:
    """The refusal of adding ``amount`` of ``currency`` to the venue (a deposit, a
    conversion's proceeds) if it could take the currency's supply, with the deposits still
    pending, beyond the venue's bound (``limits.supply_max``); else ``None``."""
    pending = sum(p.amount for p in state.pending_transfers.values()
                  if p.kind == DEPOSIT and p.currency == currency)
    if state.supply.get(currency, 0) + pending + amount <= supply_max:
        return None
    return reject(Error.SUPPLY_TOO_LARGE, format_trimmed(supply_max, AMOUNT_DECIMALS), currency)


def start(state: State, cmd: StartTransfer) -> None:
    profile = state.profiles.get(cmd.profile_id)
    if profile is None:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    if cmd.currency not in state.currencies:
        state._events.append(reject(Error.CURRENCY_NOT_FOUND))
        return
    if (cmd.amount <= 0 or cmd.fee < 0 or cmd.fee >= cmd.amount
            or cmd.kind not in (DEPOSIT, WITHDRAW)):
        state._events.append(reject(Error.INVALID_AMOUNT))
        return
    if cmd.transfer_id in state.pending_transfers:
        state._events.append(reject(Error.INVALID_FIELD, "transfer_id"))
        return
    withdraw = cmd.kind == WITHDRAW
    refused = None if withdraw else beyond_supply(state, cmd.currency, cmd.amount)
    if refused is not None:
        state._events.append(refused)
        return
    if withdraw:
        held = profile.accounts.get(cmd.currency)
        if held is None or held.balance - held.hold < cmd.amount:
            state._events.append(reject(Error.INSUFFICIENT_FUNDS))
            return
        held.hold += cmd.amount
    else:
        profile.account(cmd.currency)  # the account a deposit will credit is listed at once
    state._events.append(TransferStarted(
        cmd.time, cmd.transfer_id, cmd.profile_id, cmd.currency, cmd.kind, cmd.amount,
        cmd.fee, cmd.settle_at, cmd.details, cmd.user_nonce))
    pending = PendingTransfer(cmd.transfer_id, cmd.profile_id, cmd.currency, cmd.kind,
                              cmd.amount, cmd.settle_at, cmd.time)
    if cmd.settle_at <= cmd.time:
        _settle(state, pending, cmd.time)
    else:
        state.pending_transfers[cmd.transfer_id] = pending


def next_settlement(state: State) -> int | None:
    """When the next pending transfer settles (the node advances the clock by then)."""
    pending = state.pending_transfers
    return min(p.settle_at for p in pending.values()) if pending else None


def settle_due(state: State, now: int) -> None:
    """Settle every pending transfer due by ``now``, by due time then start order."""
    pending = state.pending_transfers
    if not pending:
        return
    due = sorted((p for p in pending.values() if p.settle_at <= now),
                 key=lambda p: p.settle_at)
    for transfer in due:
        del pending[transfer.transfer_id]
        _settle(state, transfer, now)


def _settle(state: State, transfer: PendingTransfer, t: int) -> None:
    account = state.profiles[transfer.profile_id].account(transfer.currency)
    amount = transfer.amount
    if transfer.kind == WITHDRAW:
        account.hold -= amount
        amount = -amount
    account.balance += amount
    state.supply[transfer.currency] += amount
    state._events.append(TransferCompleted(t, transfer.transfer_id, transfer.profile_id,
                                           transfer.currency, transfer.kind, transfer.amount))
    state._entry_id += 1
    state._events.append(LedgerEntry(
        t, state._entry_id, transfer.profile_id, transfer.currency, LedgerKind.TRANSFER, amount,
        account.balance, None, None, None, transfer.transfer_id))


def held(state: State, profile_id: str, currency: str) -> int:
    """What the profile's pending withdrawals hold in ``currency``."""
    return sum(p.amount for p in state.pending_transfers.values()
               if p.kind == WITHDRAW and p.profile_id == profile_id and p.currency == currency)


def add_address(state: State, cmd: AddAddress) -> None:
    if cmd.profile_id not in state.profiles:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    if not cmd.address or not cmd.currency:
        state._events.append(reject(Error.INVALID_FIELD, "address"))
        return
    state._events.append(AddressAdded(
        cmd.time, cmd.entry_id, cmd.profile_id, cmd.currency, cmd.address, cmd.label,
        cmd.destination_tag, cmd.network, cmd.vasp_id, cmd.is_verified_self_hosted_wallet))


def delete_address(state: State, cmd: DeleteAddress) -> None:
    if cmd.profile_id not in state.profiles:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    state._events.append(AddressDeleted(cmd.time, cmd.entry_id, cmd.profile_id))


ENTRY_KINDS = frozenset({"travel_rule", "transfer_travel_rule", "settlement_preference"})


def put_entry(state: State, cmd: PutEntry) -> None:
    if cmd.profile_id not in state.profiles:
        state._events.append(reject(Error.PROFILE_NOT_FOUND))
        return
    if cmd.kind not in ENTRY_KINDS or not cmd.entry_id:
        state._events.append(reject(Error.INVALID_FIELD, "kind"))
        return
    state._events.append(EntryPut(cmd.time, cmd.kind, cmd.entry_id, cmd.profile_id,
                                  cmd.values))
