"""ExecutionReports from committed events: the listener half every report-sending gateway
shares (order entry: to the key's session; drop copy: to the profile's sessions).

``on_events`` is a node listener, called once a command is durable, in command order, so a
report never shows what a crash could lose. Orders are followed by ``Track`` (sandex.api.fix.
reports) from their own events; ``_adopt`` lets a gateway start following an order it sees
being received (drop copy: any order of a watched profile). The reports of a group commit
(``on_batch``) are gathered per session and framed together (``Session.send_all``: one
SendingTime for them all, one write).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from sandex.api.fix.codec import byte_sum
from sandex.api.fix.framing import Sending
from sandex.api.fix.reports import Body, Track, cancel_text, fill_fee, fill_lead
from sandex.api.fix.session import Session
from sandex.core import Activated, Changed, Done, Event, Matched, Received
from sandex.core.model import CancelReason, DoneReason, OrderType

MODIFY, REMAINDER = "modify_order", "remainder_after_modification"  # sandex.core.modify
LIMIT, FILLED = OrderType.LIMIT, DoneReason.FILLED  # globals: an enum's member costs more


class Reporter(ABC):
    tracks: dict[str, Track]
    watching: bool = False  # whether ``_adopt`` may follow orders not tracked yet
    wall: Callable[[], float]  # wall seconds (SendingTime)
    # during ``on_batch``: each session's reports so far (MsgType, body, its byte sum)
    _outgoing: dict[Session, list[tuple[str, bytes, int]]] | None = None

    def _adopt(self, event: Received | Activated) -> Track | None:
        return None

    @abstractmethod
    def _deliver(self, track: Track, data: bytes, total: int) -> None:
        """Send one report body (encoded once: ``data`` and its byte sum ``total``) to
        whoever gets this order's reports."""

    def on_batch(self, batches: list[list[Event]]) -> None:
        """``on_events`` for a whole group commit (``sandex.node.Batched``): one test when
        no order is followed."""
        if not self.tracks and not self.watching:
            return
        outgoing: dict[Session, list[tuple[str, bytes, int]]] = {}
        self._outgoing = outgoing
        try:
            for events in batches:
                self.on_events(events)
        finally:
            self._outgoing = None
        if outgoing:
            sending = Sending(self.wall())
            for session, messages in outgoing.items():
                session.send_all(messages, sending)

    def _post(self, session: Session, data: bytes, total: int) -> None:
        """Send one report to ``session``: at once, or with its group commit's others."""
        outgoing = self._outgoing
        if outgoing is None:
            session.send_bytes("8", data, total)
            return
        messages = outgoing.get(session)
        if messages is None:
            outgoing[session] = [("8", data, total)]
        else:
            messages.append(("8", data, total))

    def on_events(self, events: list[Event]) -> None:
        tracks = self.tracks
        if not tracks and not self.watching:
            return
        last_fills: dict[str, int] | None = None  # ``_last_fills``, if a fill needs it
        for index, event in enumerate(events):
            kind = type(event)
            if kind is Matched:
                assert isinstance(event, Matched)
                lead: str | None = None
                trade = ""
                for order_id, taker, fee in (
                        (event.maker_order_id, False, event.maker_fee),
                        (event.taker_order_id, True, event.taker_fee)):
                    track = tracks.get(order_id)
                    if track is None:
                        continue
                    track.cum += event.size
                    track.value += event.price * event.size
                    size = track.size
                    final = size is not None and track.cum >= size
                    # short of its size: only an order with funds (not a sized limit order,
                    # done only at its size) may end now, if this is its last fill before Done
                    if not final and (size is None or track.order_type is not LIMIT):
                        if last_fills is None:
                            last_fills = _last_fills(events)
                        final = last_fills.get(order_id) == index
                    if final:
                        track.done = True
                    if lead is None:  # the fill's own fields: the same for both sides
                        trade = str(event.trade_id)
                        lead = fill_lead(event.size, event.price, trade)
                    self._send(track, "F", "2" if final else "1", event.time,
                               lead + fill_fee(taker, fee, track.quote), None, None,
                               f"{order_id}-{trade}")
                    if final:
                        del tracks[order_id]
            elif kind is Received or kind is Activated:
                track = tracks.get(event.order_id)  # type: ignore[attr-defined]
                if track is None and self.watching:
                    track = self._adopt(event)  # type: ignore[arg-type]
                if track is not None and track.reports == 0:
                    if kind is Received and track.funds is not None:
                        track.funds = event.funds or track.funds  # type: ignore[attr-defined]
                    self._send(track, "0", "0", event.time,  # type: ignore[attr-defined]
                               None, None, None, f"{track.order_id}-0")
            elif kind is Done:
                assert isinstance(event, Done)
                track = tracks.pop(event.order_id, None)
                if track is None or event.reason is FILLED:
                    continue
                track.done = True
                # an IOC or FOK remainder, a GTD (GTT) order at its ExpireTime: Expired
                code = "C" if event.cancel_reason is CancelReason.TIME_IN_FORCE else "4"
                request, track.request_id = track.request_id, None
                self._send(track, code, code, event.time, cancel_text(event.cancel_reason),
                           cl_ord_id=request, orig=track.cl_ord_id if request else None,
                           exec_id=f"{track.order_id}-done")
            elif kind is Changed:
                assert isinstance(event, Changed)
                track = tracks.get(event.order_id)
                if track is None or event.new_size is None:
                    continue
                if event.reason == MODIFY:
                    self._replaced(track, event)
                    continue
                if event.reason == REMAINDER:
                    continue  # its fills were reported; the size is the modify's
                track.size = track.cum + event.new_size
                self._send(track, "D", track.status(), event.time, [(378, "5")],
                           exec_id=f"{track.order_id}-c{event.sequence}")

    def _replaced(self, track: Track, event: Changed) -> None:
        """ER 150=5/39=5 for a modify: 11 the new ClOrdID, 41 the one before, the new 44,
        38 (the total: filled plus the new remaining) and 151."""
        new_size = event.new_size
        assert new_size is not None
        previous = track.cl_ord_id
        track.cl_ord_id = event.client_oid or previous
        if track.request_id == event.client_oid:
            track.request_id = None
        track.price = event.price
        track.size = track.cum + new_size
        if event.stop_price is not None:
            track.stop_price = event.stop_price
        track._static = None  # 44/38/99 changed
        self._send(track, "5", "5", event.time, orig=previous,
                   exec_id=f"{track.order_id}-r{track.cl_ord_id}")

    def _send(self, track: Track, exec_type: str, status: str, time: int,
              extra: Body | str | None = None, cl_ord_id: str | None = None,
              orig: str | None = None, exec_id: str | None = None) -> None:
        data = track.report_text(exec_type, status, time, extra, cl_ord_id, orig,
                                 exec_id).encode("latin-1")
        self._deliver(track, data, byte_sum(data))


def _last_fills(events: list[Event]) -> dict[str, int]:
    """The orders ``events`` fill (``Done`` FILLED) and the index of each one's last fill."""
    last: dict[str, int] = {}
    filled: set[str] = set()
    for index, event in enumerate(events):
        kind = type(event)
        if kind is Matched:
            last[event.maker_order_id] = index  # type: ignore[attr-defined]
            last[event.taker_order_id] = index  # type: ignore[attr-defined]
        elif kind is Done and event.reason is FILLED:  # type: ignore[attr-defined]
            filled.add(event.order_id)  # type: ignore[attr-defined]
    return {order_id: index for order_id, index in last.items() if order_id in filled}
