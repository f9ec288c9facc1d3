"""Streaming readers of market recordings: ``open_source(paths, format)`` -> ``Source``.

Formats: ``coinbase-full`` (Coinbase ``full``/level 3 feed lines), ``coinbase-level2``
(``snapshot``/``l2update``/``match`` lines) and ``tardis`` (tardis.dev ``incremental_book_L2``
and ``trades`` CSV). Files may be gzip or zstd compressed (found by their first bytes). A file
that cannot be read raises ``SourceError`` naming the file and line, and nothing is yielded
past it. See docs/replay.md, "Recordings".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sandex.replay.sources import full, level2, tardis
from sandex.replay.sources.common import LineFile, Position, Source, SourceError, sha256_of

FORMATS = ("coinbase-full", "coinbase-level2", "tardis")

__all__ = ["FORMATS", "Source", "SourceError", "open_source", "sha256_of"]


def open_source(paths: Sequence[Path | str], format: str) -> Source:
    """A ``Source`` over ``paths`` read as ``format``: Coinbase files one after the other (a
    recording split in parts), tardis' book and trades files merged in time order."""
    if format not in FORMATS:
        raise ValueError(f"unknown recording format {format!r}: one of {', '.join(FORMATS)}")
    if not paths:
        raise ValueError("no recording file given")
    files: list[LineFile] = []
    try:
        for path in paths:
            files.append(LineFile(Path(path)))
    except OSError:
        for opened in files:
            opened.close()
        raise
    position = Position(files[0].path)
    if format == "tardis":
        events = tardis.read(files, position)
    else:
        events = (full if format == "coinbase-full" else level2).read(files, position)
    return Source(files, events, position)
