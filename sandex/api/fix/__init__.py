"""FIX 5.0 SP2 over FIXT.1.1, as Coinbase Exchange speaks it (see ``docs/fix.md``).

``codec`` frames tag=value bytes, ``logon`` checks a Logon's signature and fields, ``session``
is the sans-I/O session state machine, ``requests`` and ``reports`` translate order entry to
and from the venue's commands and events, ``reporter`` turns committed events into reports,
``order_entry``, ``drop_copy`` and ``market_data`` are the gateways, ``listener`` the
asyncio adapter, ``tls`` the certificate.
"""

from sandex.api.fix.drop_copy import DropCopy
from sandex.api.fix.listener import FixOptions, Listener, start_listeners
from sandex.api.fix.market_data import MarketData
from sandex.api.fix.order_entry import OrderEntry

__all__ = ["DropCopy", "FixOptions", "Listener", "MarketData", "OrderEntry", "start_listeners"]
