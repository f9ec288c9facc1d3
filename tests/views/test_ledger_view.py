"""The ledger view expands a trade's entries when an account is read, not when it trades:
whatever the order of trades, other movements and reads, every account reads exactly the
entries an eager expansion gives, in the same order."""

from __future__ import annotations

from collections.abc import Sequence

from sandex.core import LedgerEntry, Matched, ledger_entries
from sandex.views import LedgerView
from tests.support.venue_kit import Venue

ACCOUNTS = [(p, c) for p in ("alice", "bob", "carol") for c in ("BTC", "USD")]


def test_lazy_ledger_reads_what_an_eager_one_holds() -> None:
    v = Venue()
    v.product("BTC-USD")
    lazy = LedgerView()
    eager: dict[tuple[str, str], list[LedgerEntry]] = {}
    product = v.engine.products

    def feed(events: Sequence[object]) -> None:
        for event in events:
            if type(event) is LedgerEntry:
                lazy.on_entry(event)
                eager.setdefault((event.profile_id, event.currency), []).append(event)
            elif type(event) is Matched:
                lazy.on_match(event, product[event.product_id])
                for entry in ledger_entries(event, "BTC", "USD"):
                    eager.setdefault((entry.profile_id, entry.currency), []).append(entry)

    for name in ("alice", "bob", "carol"):
        v.profile(name, maker="0.004" if name != "carol" else "0", taker="0.006")
        feed(v.deposit(name, "USD", "100000"))
        feed(v.deposit(name, "BTC", "10"))
    reads = 0
    for step in range(30):
        maker, taker = ("alice", "bob") if step % 2 else ("bob", "carol")
        feed(v.sell(maker, f"{100 + step % 3}", "0.5")[1])
        feed(v.buy(taker, f"{100 + step % 3}", "0.3")[1])
        if step % 4 == 0:
            feed(v.deposit("alice", "USD", "1"))  # a movement between trades
        if step % 5 == 0:  # read some accounts midway: later trades expand after them
            for profile_id, currency in ACCOUNTS[step % 6:]:
                assert lazy.for_account(profile_id, currency) == eager.get(
                    (profile_id, currency), [])
                reads += 1
    assert reads and sum(len(entries) for entries in eager.values()) > 200
    for profile_id, currency in ACCOUNTS:
        assert lazy.for_account(profile_id, currency) == eager[(profile_id, currency)]
    assert lazy.entries == eager
    ids = [e.entry_id for entries in eager.values() for e in entries]
    assert len(ids) == len(set(ids))
