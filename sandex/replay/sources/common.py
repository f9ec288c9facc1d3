"""What every reader shares: the error, compressed-file lines, the ``Source`` iterator, sha256.

A file is read as bytes lines through a 1 MiB buffer, decompressed on the fly when its first
bytes are gzip's (``1f 8b``) or zstd's (``28 b5 2f fd``) magic, so memory stays flat whatever
the file's size. ``bytes_read`` counts the bytes taken from the file on disk (the compressed
ones for a compressed file), which is what a progress bar and an ETA need.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sandex.replay.events import SourceEvent
from sandex.timefmt import parse_iso

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BUFFER = 1 << 20


class SourceError(ValueError):
    """A recording that cannot be read: ``str()`` is ``<file>:<line>: <what is wrong>``."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = Path(path), line, problem


class LineFile:
    """One recording file as numbered bytes lines; ``tell()`` is the bytes read from disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 (closed by close())
        magic = self.raw.read(4)
        self.raw.seek(0)
        stream: Any
        if magic.startswith(GZIP_MAGIC):
            stream = io.BufferedReader(gzip.GzipFile(fileobj=self.raw, mode="rb"), BUFFER)
        elif magic == ZSTD_MAGIC:
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(self.raw, read_size=BUFFER)
            stream = io.BufferedReader(reader, BUFFER)
        else:
            stream = io.BufferedReader(self.raw, BUFFER)
        self.stream: IO[bytes] = stream
        self.line = 0

    def tell(self) -> int:
        return self.size if self.raw.closed else self.raw.tell()

    def lines(self) -> Iterator[bytes]:
        """Each line without its line ending; a last line without one is given as it is."""
        try:
            for raw in self.stream:
                self.line += 1
                yield raw.rstrip(b"\r\n")
        except (OSError, EOFError) as exc:  # a corrupt or truncated compressed stream
            raise SourceError(self.path, self.line + 1, f"cannot decompress: {exc}") from exc

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


class Position:
    """The file the last event came from (a reader updates it as it moves between files)."""

    def __init__(self, path: Path) -> None:
        self.path = path


class Source:
    """An iterator of ``SourceEvent`` over one or more files, with its position for progress
    (``bytes_read`` of ``bytes_total``) and for errors (``path`` and ``line`` of the last
    event read). Use it as a context manager or ``close()`` it."""

    def __init__(self, files: list[LineFile], events: Iterator[SourceEvent],
                 position: Position) -> None:
        self.files = files
        self.bytes_total = sum(f.size for f in files)
        self._events = events
        self._position = position
        self.line = 0

    @property
    def path(self) -> Path:
        return self._position.path

    @property
    def bytes_read(self) -> int:
        return sum(f.tell() for f in self.files)

    def __iter__(self) -> Source:
        return self

    def __next__(self) -> SourceEvent:
        event = next(self._events)
        self.line = event.line
        return event

    def close(self) -> None:
        for f in self.files:
            f.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sha256_of(path: Path | str) -> str:
    """The file's sha256 (hex), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(BUFFER):
            digest.update(chunk)
    return digest.hexdigest()


_seconds: dict[str, int] = {}


def iso_us(text: str) -> int | None:
    """Microseconds for a wire time ``2021-04-17T16:43:37.123456Z`` (fast path: the whole
    seconds are cached), or ``None`` if it is not an ISO 8601 time."""
    head = text[:19]
    base = _seconds.get(head)
    if base is None or len(text) < 20 or text[-1] != "Z":
        return parse_iso(text)
    fraction = text[20:-1] if text[19] == "." else ""
    if not fraction:
        return base if len(text) == 20 else parse_iso(text)
    if not fraction.isdigit():
        return None
    return base + int(fraction[:6].ljust(6, "0"))


def remember_second(text: str, us: int) -> None:
    """Cache the whole second of a parsed time for ``iso_us``'s fast path."""
    if len(_seconds) > 4096:
        _seconds.clear()
    _seconds[text[:19]] = us - us % 1_000_000


def wire_time(text: str) -> int | None:
    """``iso_us`` that fills its cache."""
    us = iso_us(text)
    if us is not None and text[:19] not in _seconds:
        remember_second(text, us)
    return us


def amount(value: Decimal, what: str) -> Decimal:
    """``value`` if it is a finite, non-negative decimal, else ``ValueError`` naming ``what``."""
    if not value.is_finite() or value < 0:
        raise ValueError(f"bad decimal {what}: {value}")
    return value
