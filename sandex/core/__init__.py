"""The venue core: a pure, deterministic state machine (commands in, events out).

No I/O, clock, randomness, asyncio, SQL or JSON. See ``docs/architecture.md``.
"""

from sandex.core.commands import (
    AddCurrency,
    AddProduct,
    AdvanceClock,
    AnyCommand,
    CancelAll,
    CancelOrder,
    Command,
    CreateProfile,
    Deposit,
    PlaceOrder,
    SetFees,
    SetProductStatus,
    Transfer,
    Withdraw,
)
from sandex.core.engine import Engine
from sandex.core.events import (
    Activated,
    Changed,
    ClockAdvanced,
    CurrencyAdded,
    Done,
    Event,
    FeesChanged,
    LedgerEntry,
    Matched,
    Opened,
    ProductUpdated,
    ProfileCreated,
    Received,
    Rejected,
)
from sandex.core.invariants import check_invariants, state_hash
from sandex.core.model import (
    FEE_PROFILE_ID,
    Account,
    CancelAfter,
    CancelReason,
    Currency,
    DoneReason,
    LedgerKind,
    Order,
    OrderType,
    ProductStatus,
    Profile,
    Side,
    Status,
    StopType,
    Stp,
    TimeInForce,
)
from sandex.core.product import Product

__all__ = [
    "FEE_PROFILE_ID", "Account", "Activated", "AddCurrency", "AddProduct", "AdvanceClock",
    "AnyCommand", "CancelAfter", "CancelAll", "CancelOrder", "CancelReason", "Changed",
    "ClockAdvanced", "Command", "CreateProfile", "Currency", "CurrencyAdded", "Deposit", "Done",
    "DoneReason", "Engine", "Event", "FeesChanged", "LedgerEntry", "LedgerKind", "Matched",
    "Opened", "Order", "OrderType", "PlaceOrder", "Product", "ProductStatus", "ProductUpdated",
    "Profile", "ProfileCreated", "Received", "Rejected", "SetFees", "SetProductStatus", "Side",
    "Status", "StopType", "Stp", "TimeInForce", "Transfer", "Withdraw", "check_invariants",
    "state_hash",
]
