"""The core's vocabulary: the enums every order, event and view speaks in."""

from __future__ import annotations

from enum import StrEnum

FEE_PROFILE_ID = "venue-fees"  # the owner of the venue's fee accounts (one per currency)
REPLAY_PROFILE_ID = "replay"  # the owner of every replayed order (``sandex.core.replay``)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    GTC = "GTC"
    GTT = "GTT"
    IOC = "IOC"
    FOK = "FOK"


class CancelAfter(StrEnum):
    """GTT lifetimes (§4.1): the order expires this many seconds after it was created."""

    MIN = "min"
    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return _CANCEL_AFTER_SECONDS[self]


_CANCEL_AFTER_SECONDS = {CancelAfter.MIN: 60, CancelAfter.HOUR: 3600, CancelAfter.DAY: 86400}


class Stp(StrEnum):
    """Self-trade prevention (§4.9); the taker's flag decides."""

    DC = "dc"  # decrement and cancel
    CO = "co"  # cancel oldest (the resting order)
    CN = "cn"  # cancel newest (the taker)
    CB = "cb"  # cancel both


class StopType(StrEnum):
    LOSS = "loss"  # triggers when the last trade price <= stop_price
    ENTRY = "entry"  # triggers when the last trade price >= stop_price


class Status(StrEnum):
    """Order status (§4.3). ``pending`` = received, not yet rested or finished."""

    PENDING = "pending"
    OPEN = "open"
    ACTIVE = "active"
    DONE = "done"


class DoneReason(StrEnum):
    FILLED = "filled"
    CANCELED = "canceled"


class CancelReason(StrEnum):
    """Cancel-reason codes of the authenticated feed (§9.5)."""

    TIME_IN_FORCE = "101:Time In Force"
    SELF_TRADE_PREVENTION = "102:Self Trade Prevention"
    ADMIN = "103:Admin"
    INSUFFICIENT_FUNDS = "105:Insufficient Funds"
    INSUFFICIENT_LIQUIDITY = "106:Insufficient Liquidity"
    BROKER = "107:Broker"  # a modify to no more than the filled size (``sandex.core.modify``)


class ProductStatus(StrEnum):
    """Trading status of a product (§6.2): at most one restriction at a time."""

    ONLINE = "online"
    POST_ONLY = "post_only"
    LIMIT_ONLY = "limit_only"
    CANCEL_ONLY = "cancel_only"
    DISABLED = "disabled"


class LedgerKind(StrEnum):
    MATCH = "match"
    FEE = "fee"
    TRANSFER = "transfer"
    CONVERSION = "conversion"  # USD <-> USDC (POST /conversions)
    STAKE_WRAP = "stake_wrap"  # ETH -> CBETH (POST /wrapped-assets/stake-wrap)
    REDEEM = "redeem"  # CBETH -> ETH (POST /wrapped-assets/redeem)
