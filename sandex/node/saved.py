"""Named snapshots in memory: a whole node state kept under a name, for a fast restore.

A ``Saved`` keeps the state as a pickle of the node's live objects, taken when it is saved:
restoring is one ``pickle.loads`` (a test's reset is on its hot path), and a pickle never
leaves the process. What goes to disk, inside every snapshot document, is the
``SavedImage`` (``sandex.node.image``), made from the pickle when a snapshot file is first
written; a snapshot read back from such a document is restored from its image once, and
pickled then.
"""

from __future__ import annotations

import gc
import pickle

from sandex.node import image
from sandex.node.image import NodeParts, SavedImage


class Saved:
    __slots__ = ("_blob", "_image", "name", "position", "state_hash", "time")

    def __init__(self, name: str, position: int, time: int, state_hash: str,
                 blob: bytes | None = None, document: SavedImage | None = None) -> None:
        assert blob is not None or document is not None
        self.name, self.position, self.time, self.state_hash = name, position, time, state_hash
        self._blob = blob
        self._image = document

    @classmethod
    def of(cls, name: str, position: int, time: int, state_hash: str,
           parts: NodeParts) -> Saved:
        """The snapshot of ``parts`` (copied now: the node goes on changing them)."""
        return cls(name, position, time, state_hash, blob=pickle.dumps(parts, protocol=5))

    @classmethod
    def read(cls, document: SavedImage) -> Saved:
        return cls(document.name, document.position, document.time, document.state_hash,
                   document=document)

    def parts(self) -> NodeParts:
        """Fresh live objects holding the saved state (each call a new copy)."""
        if self._blob is None:
            assert self._image is not None
            parts = image.restore(self._image.image)
            self._blob = pickle.dumps(parts, protocol=5)
            return parts
        # Unpickling allocates a whole state's containers at once: the cyclic collector would
        # walk the heap several times on the way and free nothing (the state is all live).
        collecting = gc.isenabled()
        gc.disable()
        try:
            parts = pickle.loads(self._blob)
        finally:
            if collecting:
                gc.enable()
        assert isinstance(parts, NodeParts)
        return parts

    def document(self) -> SavedImage:
        """The snapshot as a document (made once, then kept: the state never changes)."""
        if self._image is None:
            self._image = SavedImage(name=self.name, position=self.position, time=self.time,
                                     state_hash=self.state_hash,
                                     image=image.export(self.parts()))
        return self._image
