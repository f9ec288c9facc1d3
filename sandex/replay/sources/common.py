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

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BUFFER = 1 << 20
CHUNK = 1 << 16


class SourceError(ValueError):
    """A recording that cannot be read: ``str()`` is ``<file>:<line>: <what is wrong>``."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = Path(path), line, problem


class LineFile:
    """One recording file as numbered bytes lines; ``tell()`` is the bytes read from disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.line = 0
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

    def chunks(self) -> Iterator[list[bytes]]:
        """The lines, line endings kept, a list of about 64 KiB at a time (a generator step
        per line would cost more than the rest of a fast reader's work); ``line`` counts the
        lines handed out before the current list."""
        try:
            while chunk := self.stream.readlines(CHUNK):
                yield chunk
                self.line += len(chunk)
        except (OSError, EOFError) as exc:
            raise SourceError(self.path, self.line + 1, f"cannot decompress: {exc}") from exc

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


class Position:
    """The file and line the last event came from (its reader keeps them up to date)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.line = 0


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

    @property
    def path(self) -> Path:
        return self._position.path

    @property
    def line(self) -> int:
        return self._position.line

    @property
    def bytes_read(self) -> int:
        return sum(f.tell() for f in self.files)

    def __iter__(self) -> Iterator[SourceEvent]:
        return self._events  # the reader's generator itself: no wrapper call per event

    def __next__(self) -> SourceEvent:
        return next(self._events)

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


def amount(value: Decimal, what: str) -> Decimal:
    """``value`` if it is a finite decimal without a sign (``-0`` is refused too), else
    ``ValueError`` naming ``what``."""
    if not value.is_finite() or value.is_signed():
        raise ValueError(f"bad decimal {what}: {value}")
    return value
