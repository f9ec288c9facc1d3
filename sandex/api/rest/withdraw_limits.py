"""The scenario's ``[[withdraw_limits]]`` (Coinbase's ``exchange_withdraw`` limits): what a user
has left to withdraw in a currency, and the refusal of a withdrawal over it.

A user's withdrawals are what its profiles sent out in the rolling period: settled
withdrawals (``transfer`` ledger entries out that no sibling profile received) plus the
pending ones still held. ``GET /users/{id}/exchange-limits`` shows the same ``remaining``.
"""

from __future__ import annotations

from sandex.api.fee_tiers import DAY_US
from sandex.api.http import ApiError
from sandex.api.rest.account_config import WithdrawLimit
from sandex.api.rest.routing import Context
from sandex.core import LedgerKind
from sandex.errors import Error


def remaining(app: Context, user_id: str, limit: WithdrawLimit) -> int:
    """``limit.max`` less what ``user_id``'s profiles withdrew in the period (amount units)."""
    node = app.node
    siblings = {p.id for p in node.engine.profiles.values() if p.user_id == user_id}
    since = node.now() - limit.period_days * DAY_US
    entries = [e for p in siblings for e in node.ledger.for_account(p, limit.currency)
               if e.time >= since and e.kind is LedgerKind.TRANSFER]
    received = {e.transfer_id for e in entries if e.amount > 0}
    out = -sum(e.amount for e in entries if e.amount < 0 and e.transfer_id not in received)
    out += sum(r.amount for r in node.transfers.for_profiles(siblings)
               if r.kind == "withdraw" and r.completed_at is None
               and r.currency == limit.currency)
    return max(0, limit.max - out)


def check(app: Context, user_id: str, currency: str, amount: int) -> None:
    """Refuse (400) a withdrawal of ``amount`` (amount units) over the user's remaining
    limit in ``currency``; currencies without a limit are not limited."""
    for limit in app.account.withdraw_limits:
        if limit.currency == currency and amount > remaining(app, user_id, limit):
            raise ApiError(Error.WITHDRAW_LIMIT_EXCEEDED)
