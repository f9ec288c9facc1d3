"""Each account's ledger (§5.4): every balance movement, oldest first (none for the replay
profile, whose accounts no one can read).

A trade's entries (four to six per fill, ``sandex.core.settlement``) are expanded when its
accounts' ledgers are first read, not when it happens: a trade appends itself to the pending
tail of each account it moves, and ``for_account`` (or ``entries``) turns a tail into entries
once. So the order path and a replay of the journal build no entry that nobody reads, and a
ledger reads exactly as if every entry had been built at once.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import cython

from sandex.core import REPLAY_PROFILE_ID, LedgerEntry, Matched, Product, ledger_entries
from sandex.views.history import history

if cython.compiled:  # profile ids tested against the replay's by length first (equal.pxd)
    from cython.cimports.sandex.views.equal import equal
else:
    from sandex.views.equal import equal
if cython.compiled:  # an account's tails without probes (kept.pxd)
    from cython.cimports.sandex.views.kept import (
        kept_clear,
        kept_get,
        kept_put,
        kept_second,
        kept_version,
    )

# a trade not expanded yet: the match and its product's base and quote currencies
_Trade: TypeAlias = tuple[Matched, str, str]
_REPLAY = REPLAY_PROFILE_ID  # compiled: a C global (ledger.pxd)


@cython.cclass
class LedgerView:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], list[LedgerEntry]] = {}
        # per account (by profile, then currency), what happened since its ledger was last
        # read, in order: a trade's four notes probe by two strings, not by new tuples
        self._tails: dict[str, dict[str, list[LedgerEntry | _Trade]]] = {}
        # the accounts with a tail, in the order their tails began (``entries`` expands them
        # in it, so that the accounts enter ``_entries`` as they did from one flat dict)
        self._pending: dict[tuple[str, str], None] = {}

    def __dealloc__(self) -> None:
        if cython.compiled:
            kept_clear(cython.address(self._kept))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its dicts (``sandex.node.saved``'s snapshots in memory); compiled, the
        kept references (``kept.pxd``) are not state: a copy starts with none."""
        return _ledger_view, (self._entries, self._tails, self._pending)

    @property
    def entries(self) -> dict[tuple[str, str], list[LedgerEntry]]:
        """Every account's entries, in order (all expanded)."""
        for profile_id, currency in list(self._pending):
            self._expand(profile_id, currency)
        return self._entries

    def on_entry(self, entry: LedgerEntry) -> None:
        profile_id = entry.profile_id
        if equal(profile_id, _REPLAY) if cython.compiled else profile_id == _REPLAY:
            return
        currency = entry.currency
        tails = self._tails.get(profile_id)
        if tails is not None:
            tail = tails.get(currency)
            if tail is not None:
                tail.append(entry)
                return
        key = (profile_id, currency)
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
        if cython.compiled:  # a tuple of atoms (``Matched`` is ``gc=False``): untracked now,
            # as the collector's next young collection would (a 1 M replay made 252,778 of
            # them, and the first collection after it walked them all: 68 ms)
            PyObject_GC_UnTrack(trade)  # noqa: F821 (ledger.pxd: from Python.h)
        if not (equal(maker, _REPLAY) if cython.compiled else maker == _REPLAY):
            self._note(trade, maker, base, quote, product)
        if not (equal(taker, maker) or equal(taker, _REPLAY) if cython.compiled
                else taker in (maker, _REPLAY)):
            self._note(trade, taker, base, quote, product)

    def _note(self, trade: _Trade, profile_id: str, base: str, quote: str,
              product: Product) -> None:
        """``trade`` appended to the tails of ``profile_id``'s ``base`` and ``quote`` (the
        currencies of ``product``). Compiled, the two tails are kept by the profile's id
        and the product (``kept.pxd``, while ``_tails`` is unchanged and no tail has been
        expanded since: ``_expand`` empties the table), so a profile's next trade of that
        product finds them without a probe."""
        if cython.compiled:
            version = kept_version(self._tails)
            tail = kept_get(cython.address(self._kept), version,
                            profile_id, product)
            if tail is not None:
                tail.append(trade)
                tail = kept_second(cython.address(self._kept), profile_id)
                tail.append(trade)
                return
        tails = self._tails.get(profile_id)
        if tails is None:
            tails = self._tails[profile_id] = {}
        tail = tails.get(base)
        if tail is None:
            tail = tails[base] = history([trade])
            self._pending[(profile_id, base)] = None
        else:
            tail.append(trade)
        tail2 = tails.get(quote)
        if tail2 is None:
            tail2 = tails[quote] = history([trade])
            self._pending[(profile_id, quote)] = None
        else:
            tail2.append(trade)
        if cython.compiled:
            kept_put(cython.address(self._kept), kept_version(self._tails),
                     profile_id, product, tail, tail2)

    def for_account(self, profile_id: str, currency: str) -> list[LedgerEntry]:
        tails = self._tails.get(profile_id)
        if tails is not None and currency in tails:
            self._expand(profile_id, currency)
        return self._entries.get((profile_id, currency), [])

    def _expand(self, profile_id: str, currency: str) -> None:
        """Turn the account's pending tail into its entries."""
        if cython.compiled:  # the tails kept by ``_note`` may be this one
            kept_clear(cython.address(self._kept))
        tails = self._tails[profile_id]
        tail = tails.pop(currency)
        if not tails:
            del self._tails[profile_id]
        key = (profile_id, currency)
        del self._pending[key]
        entries = self._entries.get(key)
        if entries is None:
            entries = self._entries[key] = history([])
        for item in tail:
            if type(item) is tuple:
                entries.extend(e for e in ledger_entries(*item)
                               if e.profile_id == profile_id and e.currency == currency)
            else:
                entries.append(item)  # type: ignore[arg-type]


def _ledger_view(entries: Any, tails: Any, pending: Any) -> LedgerView:
    """A ``LedgerView`` of these dicts (its pickle's: ``LedgerView.__reduce__``)."""
    view = LedgerView.__new__(LedgerView)
    view._entries, view._tails, view._pending = entries, tails, pending
    return view
