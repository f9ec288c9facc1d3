"""Transfers with the outside world (§2) and each profile's address book, from the core's
``TransferStarted``/``TransferCompleted`` and ``AddressAdded``/``AddressDeleted`` events."""

from __future__ import annotations

import msgspec

from sandex.core import (
    AddressAdded,
    AddressDeleted,
    EntryPut,
    TransferCompleted,
    TransferStarted,
)

COUNTERPARTY = "counterparty"  # GUESS: the network an address-book counterparty entry names


class TransferRecord(msgspec.Struct, gc=False):
    """One transfer as ``GET /transfers`` shows it; ``completed_at`` set once it settled."""

    id: str
    profile_id: str
    currency: str
    kind: str  # deposit | withdraw
    amount: int  # amount units: the total credited or debited (a withdrawal's fee included)
    fee: int
    created_at: int
    settle_at: int
    details: tuple[tuple[str, str], ...]
    user_nonce: str | None
    completed_at: int | None = None


class AddressEntry(msgspec.Struct, frozen=True, gc=False):
    id: str
    profile_id: str
    currency: str
    address: str
    label: str
    destination_tag: str | None
    network: str | None
    vasp_id: str | None
    is_verified_self_hosted_wallet: bool
    added_at: int


class ProfileEntry(msgspec.Struct, frozen=True, gc=False):
    """A ``PutEntry`` record: a travel-rule entry, a transfer's travel-rule information or a
    settlement preference; ``values`` as the gateway stored them (string pairs)."""

    kind: str
    id: str
    profile_id: str
    values: tuple[tuple[str, str], ...]
    put_at: int


class TransfersView:
    """Every transfer in start order (``records``), and the address books (``addresses``)."""

    def __init__(self) -> None:
        self.records: dict[str, TransferRecord] = {}
        self.addresses: dict[str, AddressEntry] = {}  # by id, in the order added
        self.entries: dict[tuple[str, str], ProfileEntry] = {}  # by (kind, id), in put order

    def on_event(self, event: object) -> None:
        kind = type(event)
        if kind is TransferStarted:
            e: TransferStarted = event  # type: ignore[assignment]
            self.records[e.transfer_id] = TransferRecord(
                e.transfer_id, e.profile_id, e.currency, e.kind, e.amount, e.fee, e.time,
                e.settle_at, e.details, e.user_nonce)
        elif kind is TransferCompleted:
            record = self.records.get(event.transfer_id)  # type: ignore[attr-defined]
            if record is not None:
                record.completed_at = event.time  # type: ignore[attr-defined]
        elif kind is AddressAdded:
            a: AddressAdded = event  # type: ignore[assignment]
            old = self.addresses.get(a.entry_id)  # PUT /address-book/{id}: the same id again
            self.addresses[a.entry_id] = AddressEntry(
                a.entry_id, a.profile_id, a.currency, a.address, a.label, a.destination_tag,
                a.network, a.vasp_id, a.is_verified_self_hosted_wallet,
                a.time if old is None else old.added_at)
        elif kind is AddressDeleted:
            self.addresses.pop(event.entry_id, None)  # type: ignore[attr-defined]
        elif kind is EntryPut:
            p: EntryPut = event  # type: ignore[assignment]
            key = (p.kind, p.entry_id)
            if p.values is None:
                self.entries.pop(key, None)
            else:
                self.entries[key] = ProfileEntry(p.kind, p.entry_id, p.profile_id, p.values,
                                                 p.time)

    def for_profiles(self, profile_ids: set[str] | frozenset[str]) -> list[TransferRecord]:
        """The transfers of ``profile_ids``, oldest first."""
        return [r for r in self.records.values() if r.profile_id in profile_ids]

    def book(self, profile_id: str) -> list[AddressEntry]:
        return [a for a in self.addresses.values() if a.profile_id == profile_id]

    def counterparties(self, profile_id: str) -> list[AddressEntry]:
        """The profile's counterparty entries: added with ``network`` ``counterparty``."""
        return [a for a in self.book(profile_id) if a.network == COUNTERPARTY]


    def entries_of(self, kind: str, profile_id: str) -> list[ProfileEntry]:
        return [e for e in self.entries.values() if e.kind == kind and e.profile_id == profile_id]


KINDS = (TransferStarted, TransferCompleted, AddressAdded, AddressDeleted, EntryPut)
"""The events this view is built from."""
