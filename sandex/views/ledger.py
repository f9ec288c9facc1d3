"""Each account's ledger (§5.4): every balance movement, oldest first (none for the replay
profile, whose accounts no one can read)."""

from __future__ import annotations

from sandex.core import REPLAY_PROFILE_ID, LedgerEntry, Matched, Product, ledger_entries


class LedgerView:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], list[LedgerEntry]] = {}

    def on_entry(self, entry: LedgerEntry) -> None:
        if entry.profile_id == REPLAY_PROFILE_ID:
            return
        key = (entry.profile_id, entry.currency)
        entries = self.entries.get(key)
        if entries is None:
            entries = self.entries[key] = []
        entries.append(entry)

    def on_match(self, match: Matched, product: Product) -> None:
        """A trade's entries, expanded from the settlement it carries."""
        if match.maker_profile_id == match.taker_profile_id == REPLAY_PROFILE_ID:
            return  # a replayed trade: both sides are the replay's (no one reads them)
        for entry in ledger_entries(match, product.base_currency, product.quote_currency):
            self.on_entry(entry)

    def for_account(self, profile_id: str, currency: str) -> list[LedgerEntry]:
        return self.entries.get((profile_id, currency), [])
