"""A trade's ledger entries (§5.4), expanded from its ``Matched`` event.

The engine settles a fill in one frame and records the result on ``Matched`` (the balances
after each movement, and the id of the first entry) instead of emitting six ``LedgerEntry``
events per fill. This pure function turns that record back into the entries, in the order
and with the ids the engine reserved for them: the seller's base out, quote in and fee, then
the buyer's quote out, fee and base in (a zero fee makes no entry).
"""

from __future__ import annotations

from sandex.core.events import LedgerEntry, Matched
from sandex.core.model import LedgerKind, Side
from sandex.units import SIZE_TO_AMOUNT

MATCH, FEE = LedgerKind.MATCH, LedgerKind.FEE


def ledger_entries(m: Matched, base_currency: str, quote_currency: str) -> list[LedgerEntry]:
    """The ledger entries of trade ``m`` on a product trading ``base_currency`` for
    ``quote_currency``."""
    if m.side is Side.SELL:  # the maker sold
        seller, seller_order, seller_fee = m.maker_profile_id, m.maker_order_id, m.maker_fee
        buyer, buyer_order, buyer_fee = m.taker_profile_id, m.taker_order_id, m.taker_fee
    else:
        seller, seller_order, seller_fee = m.taker_profile_id, m.taker_order_id, m.taker_fee
        buyer, buyer_order, buyer_fee = m.maker_profile_id, m.maker_order_id, m.maker_fee
    base, notional = m.size * SIZE_TO_AMOUNT, m.price * m.size
    moves = [(seller, base_currency, MATCH, -base, m.seller_base_balance, seller_order),
             (seller, quote_currency, MATCH, notional, m.seller_quote_balance, seller_order)]
    if seller_fee:
        moves.append((seller, quote_currency, FEE, -seller_fee,
                      m.seller_quote_balance - seller_fee, seller_order))
    moves.append((buyer, quote_currency, MATCH, -notional, m.buyer_quote_balance, buyer_order))
    if buyer_fee:
        moves.append((buyer, quote_currency, FEE, -buyer_fee, m.buyer_quote_balance - buyer_fee,
                       buyer_order))
    moves.append((buyer, base_currency, MATCH, base, m.buyer_base_balance, buyer_order))
    return [LedgerEntry(m.time, m.entry_id + i, profile_id, currency, kind, amount, balance,
                        order_id, m.trade_id, m.product_id, None)
            for i, (profile_id, currency, kind, amount, balance, order_id) in enumerate(moves)]
