"""Engine windows: products changed for a while on the venue clock (an engine fault).

A ``Window`` is a scheduler timer with two edges. At ``start`` it puts each of its products
(every product if none is named) in the window's state and remembers what each was; at
``end`` it puts back what it remembered. Each edge is ordinary core commands stamped at the
edge's own time, so a window is journaled, seen exactly as Coinbase shows it and replays bit
for bit; the window itself is configuration (a fault rule), not state. ``close()`` ends a
window early (a rule cleared mid-window): the commands putting the products back, stamped now.

Two kinds: ``StatusWindow`` (a product status, ``SetProductStatus``: cancel-only, post-only,
limit-only, disabled) and ``HaltWindow`` (matching halted, ``SetMatching``: orders accepted
``pending``, matched on resume).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator

from sandex.core import Command, Product, ProductStatus, SetMatching, SetProductStatus
from sandex.node.scheduler import Firing, Host, Results


class Window(ABC):
    """A window's timing and edges; a subclass says what a product's state is (``_state``)
    and which command sets it (``_set``), and gives the state inside the window."""

    kind, rank = "windows", 2  # at one microsecond: after expiries and demo ticks

    def __init__(self, host: Host, name: str, inside: Hashable, start: int, end: int,
                 products: tuple[str, ...] = (),
                 on_edge: Callable[[str, int], None] | None = None) -> None:
        if end <= start:
            raise ValueError(f"window {name}: it must end after it starts")
        self._host = host
        self.name, self.inside, self.start, self.end = name, inside, start, end
        self.products = products  # empty: every product the venue has at the start
        self._before: dict[str, Hashable] | None = None  # set between the edges
        self._opened: dict[str, Hashable] | None = None  # what its start edge found
        self._ended = False
        self._on_edge = on_edge  # told ("start" or "end", venue time) as an edge fires

    @abstractmethod
    def _state(self, product: Product) -> Hashable:
        """The product's state this window changes (put back at its end)."""

    @abstractmethod
    def _set(self, time: int, product_id: str, state: Hashable) -> Command:
        """The journaled command that puts ``product_id`` in ``state``."""

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
        still ahead (the restored products are as they were before it), or from its end if
        the clock is back inside it (a snapshot taken inside it: its products as inside)."""
        if now < self.start:
            self._before, self._ended = None, False
        elif now < self.end and self._opened is not None:
            self._before, self._ended = dict(self._opened), False

    def close(self) -> Iterator[Command]:
        """End the window now (stamped now): the products back, if it had started."""
        if self._before is not None:
            yield from self._close(None)
        self._ended = True

    def _open(self, at: int) -> Iterator[Command]:
        products = self._host.engine.products
        ids = self.products or tuple(products)
        self._before = {i: self._state(products[i]) for i in ids if i in products}
        self._opened = dict(self._before)
        for product_id in self._before:
            yield self._set(self._host.stamp_at(at), product_id, self.inside)

    def _close(self, at: int | None) -> Iterator[Command]:
        before, self._before, self._ended = self._before or {}, None, True
        for product_id, state in before.items():
            yield self._set(self._host.stamp_at(at if at is not None else self._host.now()),
                            product_id, state)


class StatusWindow(Window):
    """Products in ``status`` for the window, back to their own status after it."""

    def __init__(self, host: Host, name: str, status: ProductStatus, start: int, end: int,
                 products: tuple[str, ...] = (),
                 on_edge: Callable[[str, int], None] | None = None) -> None:
        super().__init__(host, name, status, start, end, products, on_edge)

    def _state(self, product: Product) -> ProductStatus:
        return product.status

    def _set(self, time: int, product_id: str, state: Hashable) -> Command:
        assert isinstance(state, ProductStatus)
        return SetProductStatus(time=time, product_id=product_id, status=state)


class HaltWindow(Window):
    """Products' matching halted for the window; at its end, resumed where it was running
    (the resume matches the orders queued meanwhile)."""

    def __init__(self, host: Host, name: str, start: int, end: int,
                 products: tuple[str, ...] = (),
                 on_edge: Callable[[str, int], None] | None = None) -> None:
        super().__init__(host, name, True, start, end, products, on_edge)

    def _state(self, product: Product) -> bool:
        return product.halted is not None

    def _set(self, time: int, product_id: str, state: Hashable) -> Command:
        return SetMatching(time=time, product_id=product_id, halted=bool(state))


def _changed(results: Results) -> int:
    return 1 if results else 0
