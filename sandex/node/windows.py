"""Status windows: products in another status for a while on the venue clock (an engine fault).

A ``StatusWindow`` is a scheduler timer with two edges. At ``start`` it sets each of its
products (every product if none is named) to ``status`` and remembers what each was; at
``end`` it puts back what it remembered. Each edge is ordinary ``SetProductStatus`` commands
stamped at the edge's own time, so a window is journaled, seen exactly as Coinbase shows a
product's mode (``GET /products`` flags, the ``status`` channel) and replays bit for bit; the
window itself is configuration (a fault rule), not state. ``close(now)`` ends a window early
(a rule cleared mid-window): the commands putting the statuses back, stamped now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sandex.core import Command, ProductStatus, SetProductStatus
from sandex.node.scheduler import Firing, Host, Results


class StatusWindow:
    kind, rank = "windows", 2  # at one microsecond: after expiries and demo ticks

    def __init__(self, host: Host, name: str, status: ProductStatus, start: int, end: int,
                 products: tuple[str, ...] = (),
                 on_edge: Callable[[str, int], None] | None = None) -> None:
        if end <= start:
            raise ValueError(f"window {name}: it must end after it starts")
        self._host = host
        self.name, self.status, self.start, self.end = name, status, start, end
        self.products = products  # empty: every product the venue has at the start
        self._before: dict[str, ProductStatus] | None = None  # set between the edges
        self._ended = False
        self._on_edge = on_edge  # told ("start" or "end", venue time) as an edge fires

    def due(self, now: int) -> int | None:
        if self._ended:
            return None
        return self.end if self._before is not None else self.start

    def fire(self, at: int) -> Firing:
        edge = "start" if self._before is None else "end"
        if self._on_edge is not None:
            self._on_edge(edge, at)
        if edge == "start":
            return Firing(self._open(at), _changed)
        return Firing(self._close(at), _changed)

    def rearm(self, now: int) -> None:
        """A restore took the clock back: the window is due again from its start if that is
        still ahead (the restored products have the statuses of before it)."""
        if now < self.start:
            self._before, self._ended = None, False

    def close(self) -> Iterator[Command]:
        """End the window now (stamped now): the statuses back, if it had started."""
        if self._before is not None:
            yield from self._close(None)
        self._ended = True

    def _open(self, at: int) -> Iterator[Command]:
        engine = self._host.engine
        ids = self.products or tuple(engine.products)
        self._before = {i: engine.products[i].status for i in ids if i in engine.products}
        for product_id in self._before:
            yield SetProductStatus(time=self._host.stamp_at(at), product_id=product_id,
                                   status=self.status)

    def _close(self, at: int | None) -> Iterator[Command]:
        before, self._before, self._ended = self._before or {}, None, True
        for product_id, status in before.items():
            time = self._host.stamp_at(at if at is not None else self._host.now())
            yield SetProductStatus(time=time, product_id=product_id, status=status)


def _changed(results: Results) -> int:
    return 1 if results else 0
