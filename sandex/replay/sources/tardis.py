"""``tardis``: tardis.dev CSV files -> L2 source events and trades, merged in time order.

* ``incremental_book_L2`` (``exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,
  amount``): each ``is_snapshot=false`` row is one ``Level`` (``amount`` is the level's new
  total, ``0`` removes it); a run of ``is_snapshot=true`` rows of one symbol is one
  ``Snapshot`` (its levels of size 0 left out), timed by its first row.
* ``trades`` (``exchange,symbol,timestamp,local_timestamp,id,side,price,amount``): each row
  is one ``Trade``; ``side`` is already the aggressor's.

``bid``/``ask`` become ``buy``/``sell``. Time is ``timestamp`` (the exchange's time in µs, the
time a Coinbase message's own ``time`` field gives, so the same market read from a Coinbase
recording or from tardis is timed alike); ``local_timestamp`` (the recorder's receive time)
is not used. Each file's times must never go back. A file's kind is read from its header,
so the two paths may come in either order; the trades go before the depth rows of the same
timestamp (a trade explains the level change that follows it).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from sandex.replay import events
from sandex.replay.sources.common import LineFile, Position, SourceError, amount

BOOK_COLUMNS = ("symbol", "timestamp", "is_snapshot", "side", "price", "amount")
TRADE_COLUMNS = ("symbol", "timestamp", "id", "side", "price", "amount")
_BOOK_SIDES = {"bid": "buy", "ask": "sell"}
_TRADE_SIDES = {"buy": "buy", "sell": "sell"}
_FLAGS = {"true": True, "false": False}


def kind_of(file: LineFile) -> tuple[str, dict[str, int], int]:
    """``("book" | "trades", column index by name, column count)`` from the header line."""
    header = next(file.lines(), b"").decode("utf-8", "replace").split(",")
    columns = {name.strip(): i for i, name in enumerate(header)}
    for kind, wanted in (("book", BOOK_COLUMNS), ("trades", TRADE_COLUMNS)):
        if all(name in columns for name in wanted):
            return kind, columns, len(header)
    raise SourceError(file.path, 1, "not a tardis incremental_book_L2 or trades CSV header "
                                    f"(needs {','.join(BOOK_COLUMNS)} or "
                                    f"{','.join(TRADE_COLUMNS)})")


def _decimal(text: str, what: str) -> Decimal:
    try:
        return amount(Decimal(text), what)
    except InvalidOperation:
        raise ValueError(f"bad decimal {what}: {text!r}") from None


def _rows(file: LineFile, count: int) -> Iterator[tuple[int, list[str]]]:
    for raw in file.lines():
        if not raw:
            continue
        try:
            row = raw.decode().split(",")
        except UnicodeDecodeError:
            raise SourceError(file.path, file.line, "not UTF-8 text") from None
        if len(row) != count:
            raise SourceError(file.path, file.line,
                              f"{len(row)} columns where the header has {count}"
                              + (" (truncated row?)" if len(row) < count else ""))
        yield file.line, row


def _time(file: LineFile, line: int, text: str, previous: int) -> int:
    if not text.isdigit():
        raise SourceError(file.path, line, f"bad timestamp {text!r}")
    us = int(text)
    if us < previous:
        raise SourceError(file.path, line, f"time goes backwards: {us} is before the "
                                           f"previous row's {previous}")
    return us


def book(file: LineFile, columns: dict[str, int], count: int) -> Iterator[events.SourceEvent]:
    """The events of an ``incremental_book_L2`` file (its header already read)."""
    s, t, f, d, p, a = (columns[name] for name in BOOK_COLUMNS)
    previous = 0
    pending: tuple[int, int, str, list[tuple[Decimal, Decimal]],
                   list[tuple[Decimal, Decimal]]] | None = None  # a snapshot being gathered
    for line, row in _rows(file, count):
        time = previous = _time(file, line, row[t], previous)
        symbol, flag, side = row[s], _FLAGS.get(row[f]), _BOOK_SIDES.get(row[d])
        if flag is None:
            raise SourceError(file.path, line, f"bad is_snapshot {row[f]!r}")
        if side is None:
            raise SourceError(file.path, line, f"bad side {row[d]!r} (bid or ask)")
        try:
            price, size = _decimal(row[p], "price"), _decimal(row[a], "amount")
        except ValueError as exc:
            raise SourceError(file.path, line, str(exc)) from None
        if flag:
            if pending is not None and pending[2] != symbol:
                yield _snapshot(pending)
                pending = None
            if pending is None:
                pending = (line, time, symbol, [], [])
            if size:
                (pending[3] if side == "buy" else pending[4]).append((price, size))
            continue
        if pending is not None:
            yield _snapshot(pending)
            pending = None
        yield events.Level(line, time, symbol, side, price, size)
    if pending is not None:
        yield _snapshot(pending)


def _snapshot(pending: tuple[int, int, str, list[tuple[Decimal, Decimal]],
                             list[tuple[Decimal, Decimal]]]) -> events.Snapshot:
    line, time, symbol, bids, asks = pending
    bids.sort(key=lambda level: level[0], reverse=True)
    asks.sort(key=lambda level: level[0])
    return events.Snapshot(line, time, symbol, tuple(bids), tuple(asks))


def trades(file: LineFile, columns: dict[str, int], count: int) -> Iterator[events.SourceEvent]:
    """The events of a ``trades`` file (its header already read)."""
    s, t, i, d, p, a = (columns[name] for name in TRADE_COLUMNS)
    previous = 0
    for line, row in _rows(file, count):
        time = previous = _time(file, line, row[t], previous)
        side = _TRADE_SIDES.get(row[d])
        if side is None:
            raise SourceError(file.path, line, f"bad side {row[d]!r} (buy or sell: the "
                                               f"aggressor's side must be known)")
        try:
            price, size = _decimal(row[p], "price"), _decimal(row[a], "amount")
        except ValueError as exc:
            raise SourceError(file.path, line, str(exc)) from None
        yield events.Trade(line, time, row[s], side, price, size, row[i] or None)


def read(files: list[LineFile], position: Position) -> Iterator[events.SourceEvent]:
    """The events of a book file and/or a trades file, merged in time order."""
    streams: dict[str, tuple[LineFile, Iterator[events.SourceEvent]]] = {}
    for file in files:
        kind, columns, count = kind_of(file)
        if kind in streams:
            raise SourceError(file.path, 1, f"a second {kind} file: give at most one "
                                            f"incremental_book_L2 and one trades file")
        streams[kind] = file, (book if kind == "book" else trades)(file, columns, count)
    if len(streams) == 1:
        (file, only), = streams.values()
        position.path = file.path
        for event in only:
            position.line = event.line
            yield event
        return
    (trade_file, trade_rows), (book_file, book_rows) = streams["trades"], streams["book"]
    trade, level = next(trade_rows, None), next(book_rows, None)
    while trade is not None or level is not None:
        if level is None or (trade is not None and trade.time <= level.time):
            assert trade is not None
            position.path, position.line = trade_file.path, trade.line
            yield trade
            trade = next(trade_rows, None)
        else:
            position.path, position.line = book_file.path, level.line
            yield level
            level = next(book_rows, None)
