"""Each account's ledger (§5.4): every balance movement, oldest first."""

from __future__ import annotations

from sandex.core import LedgerEntry


class LedgerView:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], list[LedgerEntry]] = {}

    def on_entry(self, entry: LedgerEntry) -> None:
        key = (entry.profile_id, entry.currency)
        entries = self.entries.get(key)
        if entries is None:
            entries = self.entries[key] = []
        entries.append(entry)

    def for_account(self, profile_id: str, currency: str) -> list[LedgerEntry]:
        return self.entries.get((profile_id, currency), [])
