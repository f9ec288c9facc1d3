"""Each account's ledger (§5.4): every balance movement, oldest first (none for the replay
profile, whose accounts no one can read).

A trade's entries (four to six per fill, ``sandex.core.settlement``) are expanded when its
accounts' ledgers are first read, not when it happens: a trade appends itself to the pending
tail of each account it moves, and ``for_account`` (or ``entries``) turns a tail into entries
once. So the order path and a replay of the journal build no entry that nobody reads, and a
ledger reads exactly as if every entry had been built at once.
"""

from __future__ import annotations

from typing import TypeAlias

import cython

from sandex.core import REPLAY_PROFILE_ID, LedgerEntry, Matched, Product, ledger_entries
from sandex.views.history import history

# a trade not expanded yet: the match and its product's base and quote currencies
_Trade: TypeAlias = tuple[Matched, str, str]


@cython.cclass
class LedgerView:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], list[LedgerEntry]] = {}
        # per account, what happened since its ledger was last read, in order
        self._tails: dict[tuple[str, str], list[LedgerEntry | _Trade]] = {}

    @property
    def entries(self) -> dict[tuple[str, str], list[LedgerEntry]]:
        """Every account's entries, in order (all expanded)."""
        for key in list(self._tails):
            self._expand(key)
        return self._entries

    def on_entry(self, entry: LedgerEntry) -> None:
        profile_id = entry.profile_id
        if profile_id == REPLAY_PROFILE_ID:
            return
        key = (profile_id, entry.currency)
        tail = self._tails.get(key)
        if tail is not None:
            tail.append(entry)
            return
        entries = self._entries.get(key)
        if entries is None:
            entries = self._entries[key] = history([])
        entries.append(entry)

    def on_match(self, match: Matched, product: Product) -> None:
        """The trade ``match`` of ``product`` (``on_trade``)."""
        self.on_trade(match, match.maker_profile_id, match.taker_profile_id, product)

    def on_trade(self, match: Matched, maker: str, taker: str, product: Product) -> None:
        """A trade (``match``, its maker's and taker's profiles: ``sandex.node.applying``
        read them once from its slots): noted on the accounts it moves (the seller's base and
        quote, the buyer's quote and base; fees are in the quote), expanded when one is
        read. None for a side of the replay profile (no one can read its accounts)."""
        base, quote = product.base_currency, product.quote_currency
        trade = (match, base, quote)
        if maker != REPLAY_PROFILE_ID:
            self._note(trade, maker, base, quote)
        if taker != maker and taker != REPLAY_PROFILE_ID:
            self._note(trade, taker, base, quote)

    def _note(self, trade: _Trade, profile_id: str, base: str, quote: str) -> None:
        """``trade`` appended to the tails of ``profile_id``'s ``base`` and ``quote``."""
        tails = self._tails
        key = (profile_id, base)
        tail = tails.get(key)
        if tail is None:
            tails[key] = history([trade])
        else:
            tail.append(trade)
        key = (profile_id, quote)
        tail = tails.get(key)
        if tail is None:
            tails[key] = history([trade])
        else:
            tail.append(trade)

    def for_account(self, profile_id: str, currency: str) -> list[LedgerEntry]:
        key = (profile_id, currency)
        if key in self._tails:
            self._expand(key)
        return self._entries.get(key, [])

    def _expand(self, key: tuple[str, str]) -> None:
        """Turn the account's pending tail into its entries."""
        tail = self._tails.pop(key)
        entries = self._entries.get(key)
        if entries is None:
            entries = self._entries[key] = history([])
        profile_id, currency = key
        for item in tail:
            if type(item) is tuple:
                entries.extend(e for e in ledger_entries(*item)
                               if e.profile_id == profile_id and e.currency == currency)
            else:
                entries.append(item)  # type: ignore[arg-type]
