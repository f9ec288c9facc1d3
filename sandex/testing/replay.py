"""``venue.replay``: load a recording into the venue and drive it (docs/replay.md)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sandex.testing.http import Http


class ReplayFailed(RuntimeError):
    """The replay stopped on a bad event (its status' ``error`` names file and line)."""


class Replay:
    """The venue's replay, through its admin endpoint."""

    def __init__(self, admin: Http) -> None:
        self._admin = admin

    def load(self, path: str | os.PathLike[str] | list[str | os.PathLike[str]], *,
             format: str, products: dict[str, str] | None = None, speed: str = "clock",
             price_scale: str | float | None = None, size_scale: str | float | None = None,
             cancel_from: str | None = None,
             create_products_from: str | os.PathLike[str] | None = None,
             start: bool = False) -> dict[str, Any]:
        """Load ``path`` (a list: tardis' book and trades files) as ``format``
        (``coinbase-full``, ``coinbase-level2``, ``tardis``); paused unless ``start``."""
        paths = path if isinstance(path, list) else [path]
        body: dict[str, Any] = {"source": [str(Path(p).resolve()) for p in paths],
                                "format": format, "speed": speed, "start": start}
        for name, value in (("products", products), ("cancel_from", cancel_from),
                            ("price_scale", price_scale), ("size_scale", size_scale)):
            if value is not None:
                body[name] = value if isinstance(value, dict | str) else str(value)
        if create_products_from is not None:
            body["create_products_from"] = str(Path(create_products_from).resolve())
        return self._post("replay.load", body)

    def start(self) -> dict[str, Any]:
        return self._post("replay.start", {})

    def resume(self) -> dict[str, Any]:
        return self._post("replay.resume", {})

    def pause(self) -> dict[str, Any]:
        return self._post("replay.pause", {})

    def step(self, n: int = 1) -> dict[str, Any]:
        """Apply the next ``n`` source events now."""
        return self._post("replay.step", {"events": n})

    def seek(self, to: str) -> dict[str, Any]:
        """Apply every event before source time ``to`` (ISO 8601) at once."""
        return self._post("replay.seek", {"to": to})

    def status(self) -> dict[str, Any]:
        return self._post("replay.status", {})

    def unload(self, clear: bool = False) -> dict[str, Any]:
        return self._post("replay.unload", {"clear": clear})

    def wait(self, timeout: float = 60.0) -> dict[str, Any]:
        """Until the replay is finished (its status); ``ReplayFailed`` if it failed,
        ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if status["state"] == "failed":
                raise ReplayFailed(status.get("error", "the replay failed"))
            if status["state"] in ("finished", "idle"):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replay is still {status['state']} after {timeout} s "
                                   f"({status.get('events', 0)} events)")
            time.sleep(0.02)

    def _post(self, command: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._admin.post(f"/admin/{command}", body)
        return answer
