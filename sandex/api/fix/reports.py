"""ExecutionReport(35=8) bodies: an order's FIX view (``Track``) and its reports.

A ``Track`` follows one order seen over FIX from the committed events alone (the node's
listener), so every report says exactly what the journal holds at that point: CumQty, AvgPx
and LeavesQty come from the order's own ``Received``/``Matched``/``Changed`` events, never
from engine state read later. ExecID is derived from the event (``<order id>-0`` the ack,
``-<trade id>`` a fill, ``-done`` the end, ``-c<sequence>`` a restatement, ``-s<n>`` a status
answer): stable on replay, the same on order entry and drop copy.

ExecType/OrdStatus pairs (docs/fix.md): ``0/0`` accepted, ``F/1`` and ``F/2`` fills,
``4/4`` canceled (by the user, COD, STP: ``58=102:Self Trade Prevention``), ``C/C`` IOC/FOK
remainder (``58=101:Time In Force``), ``D/0|1`` STP decrement (``378=5``), ``8/8`` rejected,
``I/<current>`` status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sandex.api.fix.codec import Rendered, byte_sum, render
from sandex.core import Order, OrderType, Side, Status, TimeInForce
from sandex.core.model import CancelReason, StopType, Stp
from sandex.timefmt import iso
from sandex.units import AMOUNT_DECIMALS, PRICE_DECIMALS, format_trimmed

Body = list[tuple[int, str]]

SIDES = {Side.BUY: "1", Side.SELL: "2"}
TIF_CODES = {TimeInForce.GTC: "1", TimeInForce.IOC: "3", TimeInForce.FOK: "4",
             TimeInForce.GTT: "6"}
STP_CODES = {Stp.DC: "D", Stp.CO: "O", Stp.CN: "N", Stp.CB: "B"}
SOH = "\x01"
# the members a report tests, as globals (``Side.BUY`` is a lookup on the enum class: about
# six times a global's instructions on 3.11)
_BUY, _GTC, _MARKET = Side.BUY, TimeInForce.GTC, OrderType.MARKET
_SCALES = {PRICE_DECIMALS: 10 ** PRICE_DECIMALS, AMOUNT_DECIMALS: 10 ** AMOUNT_DECIMALS}


@lru_cache(maxsize=8192)
def px(value: int) -> str:
    """A price or size as Coinbase prints it in FIX: no trailing zeros (cached: they repeat)."""
    return _trimmed(value, PRICE_DECIMALS)


@lru_cache(maxsize=8192)
def amt(value: int) -> str:
    return _trimmed(value, AMOUNT_DECIMALS)


def _trimmed(value: int, decimals: int) -> str:
    """``format_trimmed`` in one step for what reports print (not negative)."""
    if value < 0:
        return format_trimmed(value, decimals)
    scale = _SCALES[decimals]
    whole, fraction = divmod(value, scale)
    if not fraction:
        return str(whole)
    return f"{whole}.{str(scale + fraction)[1:].rstrip('0')}"  # zero-padded, no format spec


_last_time: list[object] = [None, ""]  # the last time formatted (a command's events share it)
_last_second: list[object] = [None, ""]  # the last whole second formatted, up to its point


def transact_time(us: int) -> str:
    """TransactTime(60): the venue's time (virtual clock allowed), microseconds."""
    if _last_time[0] == us:
        return _last_time[1]  # type: ignore[return-value]
    second, micro = divmod(us, 1_000_000)
    if _last_second[0] != second:
        text = iso(second * 1_000_000)  # 2014-11-06T10:34:47.000000Z
        _last_second[0], _last_second[1] = second, \
            f"{text[0:4]}{text[5:7]}{text[8:10]}-{text[11:20]}"
    text = f"{_last_second[1]}{micro:06d}"
    _last_time[0], _last_time[1] = us, text
    return text


def expire_text(us: int) -> str:
    """ExpireTime(126) as Coinbase's reports print it: milliseconds
    (``20250408-03:34:39.467``), or microseconds when the expiry has them."""
    text = transact_time(us)
    return text if us % 1000 else text[:-3]


@dataclass
class Track:
    """One order as FIX reports it."""

    order_id: str
    key: str  # the API key whose session gets its reports
    profile_id: str
    cl_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    price: int | None
    size: int | None  # OrderQty (reduced by STP decrements)
    funds: int | None  # CashOrderQty (amount units)
    time_in_force: TimeInForce
    post_only: bool
    stp: Stp
    stop_price: int | None
    cum: int = 0
    value: int = 0  # executed value, amount units
    reports: int = 0
    request_id: str | None = None  # 11 of the cancel that is in flight (41 = cl_ord_id)
    done: bool = False
    quote: str = ""  # the product's quote currency (fees)
    expire_time: int | None = None  # a GTT order's (GTD on FIX), microseconds
    _static: tuple[int | None, str] | None = field(default=None, repr=False)

    @classmethod
    def of_order(cls, order: Order, key: str, cl_ord_id: str | None, quote: str) -> Track:
        track = cls(order.id, key, order.profile_id, cl_ord_id or order.client_oid or "",
                    order.product_id, order.side, order.type, order.price, order.size,
                    order.specified_funds, order.time_in_force, order.post_only, order.stp,
                    order.stop_price, quote=quote, expire_time=order.expire_time)
        track.cum, track.value = order.filled_size, order.executed_value
        track.done = order.status is Status.DONE
        return track

    @property
    def leaves(self) -> int:
        if self.done or self.size is None:
            return 0
        return max(self.size - self.cum, 0)

    def status(self) -> str:
        if self.done:
            return "2" if self.size is not None and self.cum >= self.size else "4"
        return "1" if self.cum else "0"

    def report(self, exec_type: str, status: str, time: int, extra: Body | str | None = None,
               cl_ord_id: str | None = None, orig: str | None = None,
               exec_id: str | None = None) -> Body:
        """An ExecutionReport body in the order Coinbase's real reports show."""
        text = self.report_text(exec_type, status, time, extra, cl_ord_id, orig, exec_id)
        return [(int(tag), value) for tag, _, value in
                (item.partition("=") for item in text[:-1].split("\x01"))]

    def rendered(self, exec_type: str, status: str, time: int, extra: Body | str | None = None,
                 cl_ord_id: str | None = None, orig: str | None = None,
                 exec_id: str | None = None) -> Rendered:
        """``report`` encoded (what reporters send: framed for one session or many)."""
        data = self.report_text(exec_type, status, time, extra, cl_ord_id, orig,
                                exec_id).encode("latin-1")
        return Rendered(data, byte_sum(data))

    def report_text(self, exec_type: str, status: str, time: int,
                    extra: Body | str | None = None, cl_ord_id: str | None = None,
                    orig: str | None = None, exec_id: str | None = None) -> str:
        """``report`` as tag=value SOH text: one template, the order's own fields cached;
        ``extra`` (fields or their text) at the end."""
        self.reports += 1
        cl = cl_ord_id or self.cl_ord_id
        cum, size = self.cum, self.size
        if cum:  # AvgPx: executed value (1e-16) / size (1e-8) = price in 1e-8 (``_avg``)
            head = f"6={px(self.value // cum)}\x0111={cl}\x01" if cl else \
                f"6={px(self.value // cum)}\x01"
        else:
            head = f"11={cl}\x01" if cl else ""
        leaves = 0 if self.done or size is None or size <= cum else size - cum  # ``leaves``
        cached = self._static  # ``_order_fields`` unless the quantity changed
        fields = cached[1] if cached is not None and cached[0] == size else \
            self._order_fields()
        text = (f"{head}14={px(cum)}\x0117={exec_id or f'{self.order_id}-s{self.reports}'}"
                f"\x0137={self.order_id}\x01{f'41={orig}{SOH}' if orig else ''}"
                f"39={status}\x01{fields}60={transact_time(time)}\x01"
                f"150={exec_type}\x01151={px(leaves)}\x01{'18=A' + SOH if self.post_only else ''}")
        if not extra:
            return text
        return text + (extra if type(extra) is str else render(extra))  # type: ignore[arg-type]

    def _order_fields(self) -> str:
        """55 54 40 44 38 152 99 59 126: rendered once per order quantity (they rarely
        change)."""
        cached = self._static
        if cached is not None and cached[0] == self.size:
            return cached[1]
        price, size, funds, stop = self.price, self.size, self.funds, self.stop_price
        side, tif = self.side, self.time_in_force
        text = (f"55={self.symbol}\x0154={'1' if side is _BUY else SIDES[side]}\x01"
                f"40={self._ord_type()}\x01")
        if price is not None:
            text += f"44={px(price)}\x01"
        if size is not None:
            text += f"38={px(size)}\x01"
        if funds is not None:
            text += f"152={amt(funds)}\x01"
        if stop is not None:
            text += f"99={px(stop)}\x01"
        text += f"59={'1' if tif is _GTC else TIF_CODES[tif]}\x01"
        if self.expire_time is not None:
            text += f"126={expire_text(self.expire_time)}\x01"
        self._static = (size, text)
        return text

    def _avg(self) -> str:
        # executed value (1e-16) / size (1e-8) = price in 1e-8
        return px(self.value // self.cum)

    def _ord_type(self) -> str:
        if self.stop_price is not None:
            return "4"
        return "1" if self.order_type is _MARKET else "2"


def fill_lead(last_qty: int, last_px: int, trade_id: str) -> str:
    """A fill's own fields both sides share (31 32 1003) as tag=value SOH text; a report
    adds ``fill_fee``'s."""
    return f"31={px(last_px)}\x0132={px(last_qty)}\x011003={trade_id}\x01"


def fill_fee(taker: bool, fee: int, quote: str) -> str:
    """A side's own fill fields (1057, then the fee group 136 137 138 139 891)."""
    return (f"1057={'Y' if taker else 'N'}\x01136=1\x01137={amt(fee)}\x01138={quote}\x01"
            "139=4\x01891=0\x01")


def cancel_text(reason: CancelReason | None) -> Body:
    return [(58, reason.value)] if reason is not None else []


def stop_direction(stop: StopType | None) -> str | None:
    if stop is None:
        return None
    return "U" if stop is StopType.ENTRY else "D"
