"""Log lines a person can read, or one JSON object per line (``--log-json``) for machines.

The access log (one line per request at info level) has its own writer: going through
``logging`` cost about 30 µs a request (a record object, a formatter, a flush per line);
an ``AccessLog`` formats the same line with a timestamp cached per second and writes what
accumulated once per event-loop turn. ``setup_logging`` returns the one to hand to the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import TextIO

_TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...}``; fields passed as ``extra`` are kept."""

    _STANDARD = frozenset(vars(logging.makeLogRecord({})))

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
               + f".{int(record.msecs):03d}Z",
               "level": record.levelname.lower(), "logger": record.name,
               "message": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in self._STANDARD
                    and k not in ("message", "asctime")})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup_logging(level: str, json_lines: bool) -> AccessLog:
    """Configure the root logger; the access log, enabled if ``level`` shows info lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(_TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    return AccessLog(root.isEnabledFor(logging.INFO), json_lines, sys.stderr)


class AccessLog:
    """``sandex.access`` lines, in the format of the other log lines, buffered per loop turn."""

    def __init__(self, enabled: bool, json_lines: bool, stream: TextIO) -> None:
        self.enabled = enabled
        self.json_lines = json_lines
        self.stream = stream
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""

    def request(self, client: str, method: str, target: str, status: int, ms: float) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S" if self.json_lines else
                                        "%Y-%m-%d %H:%M:%S", time.gmtime(second) if
                                        self.json_lines else time.localtime(second))
        millis = int((now - second) * 1000)
        message = f"{client} {method} {target} {status} {ms:.2f} ms"
        if self.json_lines:
            line = json.dumps({"time": f"{self._stamp}.{millis:03d}Z", "level": "info",
                               "logger": "sandex.access", "message": message,
                               "client": client, "method": method, "target": target,
                               "status": status, "ms": round(ms, 3)})
        else:
            line = f"{self._stamp},{millis:03d} INFO sandex.access {message}"
        if not self._lines:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write at once
                self._lines.append(line)
                self.flush()
                return
        self._lines.append(line)

    def flush(self) -> None:
        if self._lines:
            self.stream.write("\n".join(self._lines) + "\n")
            self._lines.clear()
            self.stream.flush()
