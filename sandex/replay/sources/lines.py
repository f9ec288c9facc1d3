"""Coinbase JSON lines: one WebSocket message a line, with an optional receive time.

A line is one of:

* ``{...}``: the raw message (sandex's own ``sandex record`` writes this);
* ``<epoch seconds>: {...}``: cryptofeed's recorder (``1618677817.123456: {...}``);
* ``<epoch nanoseconds> {...}``: hftbacktest's recorder (``1723161253000000000 {...}``);
* a cryptofeed header (``wss://... <-> <ts>``, ``<- <ts>: {subscribe}``, ``-> ...``) or a
  blank line: skipped.

A JSON message may also carry its receive time as a field, ``receipt_timestamp`` (epoch
seconds, cryptofeed's name) or ``local_timestamp`` (epoch microseconds, tardis' name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import msgspec

from sandex.replay.events import SourceEvent
from sandex.replay.sources.common import LineFile, Position, SourceError
from sandex.timefmt import parse_iso

_SKIPPED_PREFIXES = (b"wss://", b"ws://", b"<-", b"->")


def stamp_us(path: Path, line: int, stamp: bytes) -> int:
    """A receive-time prefix in µs: ``<epoch seconds>:`` or ``<epoch nanoseconds>``."""
    if stamp.endswith(b":"):
        whole, _, fraction = stamp[:-1].partition(b".")
        if whole.isdigit() and (not fraction or fraction.isdigit()):
            return int(whole) * 1_000_000 + int(fraction[:6].ljust(6, b"0") or b"0")
    elif stamp.isdigit():
        return int(stamp) // 1000
    raise SourceError(path, line, f"bad receive-time prefix {_excerpt(stamp)}")


def _excerpt(raw: bytes) -> str:
    raw = raw.rstrip(b"\r\n")
    text = raw[:60].decode("utf-8", "replace")
    return repr(text + ("..." if len(raw) > 60 else ""))


_any = msgspec.json.Decoder()


def diagnose(file: LineFile, line: int, body: bytes, exc: Exception,
             known: frozenset[str]) -> SourceError:
    """The clearest error for a message line the typed decoder refused."""
    try:
        message = _any.decode(body)
    except msgspec.DecodeError:
        return SourceError(file.path, line, f"invalid or truncated JSON: {_excerpt(body)}")
    if not isinstance(message, dict):
        return SourceError(file.path, line, "a message must be a JSON object")
    kind = message.get("type")
    if kind == "error":
        return SourceError(file.path, line, "the recording holds an error message: "
                           f"{message.get('message')!r} ({message.get('reason')!r})")
    if not isinstance(kind, str):
        return SourceError(file.path, line, "message without a \"type\"")
    if kind not in known:
        return SourceError(file.path, line, f"unknown message type {kind!r}")
    text = str(exc)
    where = text.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in text else ""
    if text.startswith("Invalid decimal") and where.isidentifier():
        return SourceError(file.path, line, f"bad decimal {where}: {message.get(where)!r}")
    if text.startswith("Object missing required field"):
        field = text.split("`")[1] if "`" in text else text
        return SourceError(file.path, line, f"{kind} message without \"{field}\"")
    return SourceError(file.path, line, f"bad {kind} message: {text}")


class Message(msgspec.Struct, tag_field="type", kw_only=True):
    """What every typed message has: its product, time and sequence, and a receive time."""

    product_id: str
    time: str | None = None
    sequence: int | None = None
    receipt_timestamp: float | None = None
    local_timestamp: int | None = None


def skipped(*kinds: str) -> list[type]:
    """Empty tagged structs for the message types a reader passes over."""
    return [msgspec.defstruct(f"Skip_{kind}", [], tag=kind, tag_field="type")
            for kind in kinds]


Convert = Callable[[Any, int, int], Sequence[SourceEvent]]


def read_messages(files: list[LineFile], decoder: msgspec.json.Decoder[Any],
                  convert: dict[type, Convert], known: frozenset[str], check_sequence: bool,
                  position: Position) -> Iterator[SourceEvent]:
    """The events of each message line of ``files`` in turn: each message is decoded to its
    typed struct, given its time (its own ``time``, else the line's receive time, else the
    previous event's), checked (time never goes back; with ``check_sequence`` each product's
    ``sequence`` goes up by one) and turned into events by ``convert[type](message, line,
    time)``; a struct type ``convert`` does not name is passed over.

    The hot loop of every Coinbase reader, so written flat: wire times go through
    ``parse_iso`` once per whole second, then a cache."""
    decode = decoder.decode
    previous = 0
    sequences: dict[str, int] = {}
    seconds: dict[str, int] = {}
    last_text, last_us = "", 0
    for file in files:
        position.path = file.path
        line = 0
        for raw in chain.from_iterable(file.chunks()):
            line += 1
            first = raw[:1]
            if first == b"{":  # msgspec allows the trailing line ending
                body, stamp = raw, None
            elif first.isdigit():  # a receive-time prefix, read only if the time is needed
                stamp, _, body = raw.partition(b" ")
            elif not raw.strip() or raw.startswith(_SKIPPED_PREFIXES):
                continue
            else:
                raise SourceError(file.path, line, f"not a JSON message nor a receive-time "
                                                   f"prefix: {_excerpt(raw)}")
            try:
                message = decode(body)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise diagnose(file, line, body, exc, known) from None
            handler = convert.get(type(message))
            if handler is None:
                continue
            text = message.time
            if text is not None and text == last_text:  # one command's messages share it
                us = last_us
            elif text is not None:
                base = seconds.get(text[:19])
                if base is not None and text[-1] == "Z" and text[19:20] == "." and (
                        fraction := text[20:-1]).isdigit():
                    us = base + int(fraction[:6].ljust(6, "0"))
                else:
                    parsed = parse_iso(text)
                    if parsed is None:
                        raise SourceError(file.path, line, f"bad time {text!r}")
                    us = parsed
                    if len(seconds) > 4096:
                        seconds.clear()
                    seconds[text[:19]] = us - us % 1_000_000
                last_text, last_us = text, us
            elif stamp is not None:
                us = stamp_us(file.path, line, stamp)
            elif message.receipt_timestamp is not None:
                us = round(message.receipt_timestamp * 1_000_000)
            elif message.local_timestamp is not None:
                us = message.local_timestamp
            else:
                us = previous
            if us < previous:
                raise SourceError(file.path, line, f"time goes backwards: {text or us} is "
                                                   f"before the previous message's time")
            previous = us
            if check_sequence:
                sequence = message.sequence
                if sequence is not None:
                    product = message.product_id
                    last = sequences.get(product)
                    if last is not None and sequence != last + 1:
                        raise SourceError(file.path, line, (
                            f"sequence gap on {product}: {sequence} after {last}"
                            if sequence > last else
                            f"sequence {sequence} on {product} is not after {last}"))
                    sequences[product] = sequence
            try:
                events = handler(message, line, us)
            except ValueError as exc:
                raise SourceError(file.path, line, str(exc)) from None
            position.line = line
            yield from events
