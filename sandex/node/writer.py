"""The journal's writer thread: one thread that runs the calls handed to it, in order.

What ``ThreadPoolExecutor(1)`` did for the node, without its per-call machinery: a
``submit`` there made a ``Future`` (a ``Condition`` and its ``RLock``), took the executor's
lock and tried its idle semaphore (Python-level ``Condition`` code), and the worker set
that future's state twice more and released the semaphore: a few thousand instructions a
group commit, which a lone order (one order a commit, as when orders come one at a time)
pays in full. Here a call is one tuple on a ``queue.SimpleQueue`` (C). Nothing waits for a
call's result: the node's write hands its outcome back to the event loop itself.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("sandex")

_Call = tuple[Callable[..., None], tuple[Any, ...]]


class WriterThread:
    """Runs ``submit``-ted calls one after the other on a thread of its own, started at
    the first call; ``shutdown`` runs what was submitted before it, then ends the thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, call: Callable[..., None], *args: Any) -> None:
        """Run ``call(*args)`` on the thread after every call submitted before it."""
        if self._thread is None:
            if self._closed:
                raise RuntimeError(f"{self.name}: submit after shutdown")
            # a daemon: an exit without ``shutdown`` (a crash) is not held up by a write in
            # flight, which nobody was told was durable
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        self._calls.put((call, args))

    def _run(self) -> None:
        get = self._calls.get
        while (item := get()) is not None:
            call, args = item
            try:
                call(*args)
            except Exception:  # the call reports its own failures; this is a bug in it
                log.exception("%s: %r failed", self.name, call)

    def shutdown(self) -> None:
        """Finish the calls submitted so far and end the thread (idempotent)."""
        self._closed = True
        thread, self._thread = self._thread, None
        if thread is not None:
            self._calls.put(None)
            thread.join()
