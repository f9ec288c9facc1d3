"""Which clock a gateway checks signature timestamps against (the ``[clock] auth_window``)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from sandex.node import Node

SignatureClock = Callable[[], float | None]  # seconds since the epoch; None: no window


class AuthWindow(StrEnum):
    """``wall``: the real clock clients sign with (default); ``venue``: the venue's clock (a
    bot whose own clock is frozen with the venue's); ``off``: no ±30 s window at all."""

    WALL = "wall"
    VENUE = "venue"
    OFF = "off"


def signature_clock(window: AuthWindow, node: Node,
                    wall_clock: Callable[[], float]) -> SignatureClock:
    """The time, in seconds, a signature's timestamp must be within 30 s of."""
    if window is AuthWindow.WALL:
        return wall_clock
    if window is AuthWindow.VENUE:
        return lambda: node.now() / 1_000_000
    return lambda: None
