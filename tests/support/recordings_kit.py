"""Generated market recordings for the reader tests and ``bench/replay_read.py``.

Seeded and self-consistent: a ``full`` stream keeps a shadow of its resting orders, so every
``match`` names a received maker and taker, every ``done`` an order that was received, and each
product's ``sequence`` goes up by one; a ``level2`` stream starts with a ``snapshot``; tardis
rows start with an ``is_snapshot`` run. ``write`` puts lines in a file with a receive-time
prefix variant and compression.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import zstandard

from sandex.timefmt import iso

START_US = 1_618_677_817_000_000  # 2021-04-17T16:43:37Z
Message = dict[str, Any]


def full_messages(n: int, products: tuple[str, ...] = ("BTC-USD", "ETH-USD"),
                  seed: int = 1) -> Iterator[Message]:
    """``n`` or a few more ``full`` messages: rests, cancels, size changes and takers."""
    rng = random.Random(seed)
    sequences = dict.fromkeys(products, 100)
    resting: dict[str, list[list[Any]]] = {p: [] for p in products}  # [id, side, price, size]
    now, made, trade_id = START_US, 0, 1

    def msg(kind: str, product: str, **fields: Any) -> Message:
        sequences[product] += 1
        return {"type": kind, "product_id": product, "sequence": sequences[product],
                "time": iso(now), **fields}

    def oid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    while made < n:
        now += rng.randint(0, 2000)
        product = rng.choice(products)
        book = resting[product]
        roll = rng.random()
        if roll < 0.5 or len(book) < 4:
            order, side = oid(), rng.choice(("buy", "sell"))
            price = f"{rng.randint(9000, 11000) / 100:.2f}"
            size = f"{rng.randint(1, 500) / 100:.8f}"
            yield msg("received", product, order_id=order, order_type="limit", size=size,
                      price=price, side=side)
            yield msg("open", product, order_id=order, price=price, remaining_size=size,
                      side=side)
            book.append([order, side, price, size])
            made += 2
        elif roll < 0.75:
            order, side, price, size = book.pop(rng.randrange(len(book)))
            yield msg("done", product, order_id=order, reason="canceled", price=price,
                      remaining_size=size, side=side)
            made += 1
        elif roll < 0.85:
            entry = book[rng.randrange(len(book))]
            new = f"{float(entry[3]) / 2:.8f}"
            yield msg("change", product, order_id=entry[0], side=entry[1], price=entry[2],
                      old_size=entry[3], new_size=new, reason="STP")
            entry[3] = new
            made += 1
        else:
            maker = book[rng.randrange(len(book))]
            taker, taker_side = oid(), "sell" if maker[1] == "buy" else "buy"
            size = maker[3]
            yield msg("received", product, order_id=taker, order_type="market", size=size,
                      side=taker_side)
            yield msg("match", product, trade_id=trade_id, maker_order_id=maker[0],
                      taker_order_id=taker, size=size, price=maker[2], side=maker[1])
            yield msg("done", product, order_id=maker[0], reason="filled", price=maker[2],
                      remaining_size="0", side=maker[1])
            yield msg("done", product, order_id=taker, reason="filled", remaining_size="0",
                      side=taker_side)
            book.remove(maker)
            trade_id += 1
            made += 4


def level2_messages(n: int, product: str = "BTC-USD", seed: int = 1) -> Iterator[Message]:
    """A ``snapshot`` then ``l2update`` (1-3 changes) and some ``match`` lines, ``n`` events
    or a few more (a snapshot counts one)."""
    rng = random.Random(seed)
    now = START_US
    bids = {f"{100 - i / 100:.2f}": f"{rng.randint(1, 900) / 100:.8f}" for i in range(1, 21)}
    asks = {f"{100 + i / 100:.2f}": f"{rng.randint(1, 900) / 100:.8f}" for i in range(1, 21)}
    yield {"type": "snapshot", "product_id": product,
           "bids": [[p, s] for p, s in bids.items()], "asks": [[p, s] for p, s in asks.items()]}
    made, sequence = 1, 1000
    while made < n:
        now += rng.randint(0, 2000)
        if rng.random() < 0.1:
            sequence += rng.randint(1, 5)
            yield {"type": "match", "trade_id": sequence, "sequence": sequence,
                   "maker_order_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                   "taker_order_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                   "time": iso(now), "product_id": product, "size": "0.01000000",
                   "price": "100.01", "side": rng.choice(("buy", "sell"))}
            made += 1
            continue
        changes = []
        for _ in range(rng.randint(1, 3)):
            side = rng.choice(("buy", "sell"))
            price = f"{100 + (-1 if side == 'buy' else 1) * rng.randint(1, 30) / 100:.2f}"
            changes.append([side, price, "0" if rng.random() < 0.2
                            else f"{rng.randint(1, 900) / 100:.8f}"])
        yield {"type": "l2update", "product_id": product, "changes": changes, "time": iso(now)}
        made += len(changes)


TARDIS_BOOK_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
TARDIS_TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"


def tardis_book_rows(n: int, symbol: str = "BTC-USD", seed: int = 1) -> Iterator[str]:
    """A 20-row snapshot run, then ``n`` incremental rows (header first)."""
    rng = random.Random(seed)
    now = START_US
    yield TARDIS_BOOK_HEADER
    for i in range(10):
        yield f"coinbase,{symbol},{now},{now + 50},true,bid,{100 - (i + 1) / 100:.2f},{i + 1}"
        yield f"coinbase,{symbol},{now},{now + 50},true,ask,{100 + (i + 1) / 100:.2f},{i + 1}"
    for _ in range(n):
        now += rng.randint(0, 2000)
        side = rng.choice(("bid", "ask"))
        price = 100 + (-1 if side == "bid" else 1) * rng.randint(1, 30) / 100
        amount = 0 if rng.random() < 0.2 else rng.randint(1, 900) / 100
        yield f"coinbase,{symbol},{now},{now + 50},false,{side},{price:.2f},{amount}"


def tardis_trade_rows(n: int, symbol: str = "BTC-USD", seed: int = 2) -> Iterator[str]:
    rng = random.Random(seed)
    now = START_US
    yield TARDIS_TRADES_HEADER
    for i in range(n):
        now += rng.randint(0, 20000)
        yield (f"coinbase,{symbol},{now},{now + 50},{i + 1},{rng.choice(('buy', 'sell'))},"
               f"{100 + rng.randint(-30, 30) / 100:.2f},{rng.randint(1, 900) / 1000}")


def framed(messages: Iterable[Message], prefix: str = "none") -> Iterator[str]:
    """Coinbase lines: ``prefix`` ``none`` (raw JSON), ``cryptofeed`` (``<s>: `` and its
    header lines), ``hftbacktest`` (``<ns> ``) or ``field`` (``receipt_timestamp``)."""
    received = START_US
    if prefix == "cryptofeed":
        yield f"wss://ws-feed.exchange.coinbase.com <-> {received / 1e6:.6f}"
        yield (f'<- {received / 1e6:.6f}: {{"type": "subscribe", "product_ids": ["BTC-USD"], '
               f'"channels": ["full"]}}')
    for message in messages:
        received += 7
        if prefix == "field":
            message = {**message, "receipt_timestamp": received / 1e6}
        text = json.dumps(message, separators=(",", ":"))
        if prefix == "cryptofeed":
            seconds, micros = divmod(received, 1_000_000)
            yield f"{seconds}.{micros:06d}: {text}"
        elif prefix == "hftbacktest":
            yield f"{received * 1000} {text}"
        else:
            yield text


def write(path: Path, lines: Iterable[str], compression: str | None = None) -> Path:
    """``lines`` into ``path`` (streamed), each ending in a newline; ``gzip``/``zstd``."""
    with open(path, "wb") as raw:
        out: Any = (gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1)
                    if compression == "gzip" else
                    zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
                    if compression == "zstd" else raw)
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 4096:
                out.write(("\n".join(batch) + "\n").encode())
                batch.clear()
        if batch:
            out.write(("\n".join(batch) + "\n").encode())
        if out is not raw:
            out.close()
    return path
