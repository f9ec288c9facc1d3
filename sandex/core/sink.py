"""What a replay's engine notes instead of building the hot events the read models skip.

A replay (``sandex.node.applying.apply_run``: start-up from the journal, a snapshot restore's
tail) answers no one: of a command's ``Received``, ``Opened`` and ``Done`` events the read
models read only a ``Received``'s order and profile ids and a canceled ``Done``'s, and the
orders view keeps the received ``Order`` and drops a canceled one the engine purged. An engine
given a ``Sink`` (``State._sink``) notes the ``Order`` here instead of building the events
(``emit.emit_received``, ``emit_opened``, ``emit_done``: one emission point a kind, the
event or the note from the same values); every other event is built and answered as
before. The live path (``Node.execute``) never has one: its events are its answer.

The notes are read after the command (``applying`` feeds the orders view from them, then
the command's events): the view's handlers read the engine's record as it is when the
command is done, as they do when fed its events. The core defines the notes and imports
nothing of the views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cython

if TYPE_CHECKING:
    from sandex.core.records import Order


@cython.final
@cython.cclass
class Sink:
    """The notes, flat, in the order the engine made them: an order received is its
    ``Order`` (its ids are its fields); an order canceled is ``None``, then its ``Order``
    (whether ``retire`` purged it is the order's: canceled with no fill). The reader keeps its
    place in them (a list emptied after every command would give its memory back and take
    it again a command later) and empties them now and then."""

    notes: list[Order | None]

    def __init__(self) -> None:
        self.notes = []
