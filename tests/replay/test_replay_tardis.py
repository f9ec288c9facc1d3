"""A tardis recording (``incremental_book_L2`` + ``trades``) replayed onto a venue product of
another name, rescaled and on coarser increments: after every event the venue's level-2 book
is the recorded book rescaled, floored, merged per venue price and without its dust, and the
recorded trades hit it."""

from __future__ import annotations

import http.client
import json
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from sandex.replay.events import Level, Snapshot, Trade
from sandex.replay.sources import open_source
from tests.replay.test_replay_live import admin
from tests.support.recordings_kit import tardis_book_rows, tardis_trade_rows, write
from tests.support.rest_kit import start_server

PRICE_SCALE, SIZE_SCALE = Decimal("2"), Decimal("0.5")
TICK, LOT = Decimal("0.1"), Decimal("0.1")  # XBT-USD's quote and base increments
Book = dict[Decimal, Decimal]


def floor(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_FLOOR) * step


def venue_price(price: Decimal) -> Decimal:
    return floor(price * PRICE_SCALE, TICK)


def venue_size(size: Decimal) -> Decimal:
    return floor(size * SIZE_SCALE, LOT)


class Model:
    """The book the venue must show: each venue level the sum of the source levels on it
    (dust left out), less what a recorded trade took from it since that level last changed."""

    def __init__(self) -> None:
        self.sources: dict[tuple[str, Decimal], dict[Decimal, Decimal]] = {}
        self.book: dict[str, Book] = {"buy": {}, "sell": {}}
        self.dust = self.merged = self.hits = 0

    def level(self, side: str, price: Decimal, size: Decimal) -> None:
        at = venue_price(price)
        sources = self.sources.setdefault((side, at), {})
        lot = venue_size(size)
        if size and not lot:
            self.dust += 1
        if lot:
            sources[price] = lot
        else:
            sources.pop(price, None)
        if len(sources) > 1:
            self.merged += 1
        total = sum(sources.values(), Decimal(0))
        if total:
            self.book[side][at] = total
        else:
            self.book[side].pop(at, None)

    def apply(self, event: object) -> None:
        if isinstance(event, Snapshot):
            self.sources.clear()
            self.book = {"buy": {}, "sell": {}}
            for side, pairs in (("buy", event.bids), ("sell", event.asks)):
                for price, size in pairs:
                    self.level(side, price, size)
        elif isinstance(event, Level):
            self.level(event.side, event.price, event.size)
        elif isinstance(event, Trade):  # an immediate-or-cancel taker at the recorded price
            price, left = venue_price(event.price), venue_size(event.size)
            book = self.book["sell" if event.side == "buy" else "buy"]
            for level in sorted(book, reverse=event.side == "sell"):
                if not left or (level > price if event.side == "buy" else level < price):
                    break
                taken = min(left, book[level])
                self.hits += 1
                left -= taken
                book[level] -= taken
                if not book[level]:
                    del book[level]

    def shown(self) -> tuple[Book, Book]:
        return dict(self.book["buy"]), dict(self.book["sell"])


def test_a_tardis_pair_replays_rescaled_merged_and_without_dust(tmp_path: Path) -> None:
    book_file = write(tmp_path / "book.csv.gz", tardis_book_rows(250, symbol="BTCUSDT"), "gzip")
    trades_file = write(tmp_path / "trades.csv", tardis_trade_rows(40, symbol="BTCUSDT"))
    with open_source([trades_file, book_file], "tardis") as source:
        events = list(source)
    model, expected = Model(), []
    for event in events:
        model.apply(event)
        expected.append(model.shown())
    trades = sum(isinstance(e, Trade) for e in events)
    assert trades == 40 and model.dust > 0 and model.merged > 0 and model.hits > 0

    data_dir = tmp_path / "data"
    server = start_server("--no-demo", data_dir=data_dir)
    try:
        status, product = admin(server, data_dir, "product.add", {
            "id": "XBT-USD", "base_increment": str(LOT), "quote_increment": str(TICK)})
        assert status == 200, product
        status, loaded = admin(server, data_dir, "replay.load", {
            "source": [str(trades_file), str(book_file)], "format": "tardis",
            "products": {"BTCUSDT": "XBT-USD"}, "price_scale": str(PRICE_SCALE),
            "size_scale": str(SIZE_SCALE)})
        assert status == 200, loaded
        assert loaded["products"] == ["XBT-USD"] and loaded["format"] == "tardis"
        assert loaded["source"] == [str(trades_file), str(book_file)]
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for index, (want_bids, want_asks) in enumerate(expected):
            status, stepped = admin(server, data_dir, "replay.step", {"events": 1})
            assert status == 200 and stepped["events"] == index + 1
            conn.request("GET", "/products/XBT-USD/book?level=2")
            book = json.loads(conn.getresponse().read())
            got = ({Decimal(p): Decimal(s) for p, s, _n in book["bids"]},
                   {Decimal(p): Decimal(s) for p, s, _n in book["asks"]})
            assert got == (want_bids, want_asks), f"after event {index + 1}: {events[index]}"
        status, final = admin(server, data_dir, "replay.step", {"events": 1})
        assert final["state"] == "finished" and final["events"] == len(events)
        assert final["recorded_trades"] == trades
        assert final["reproduced_trades"] >= model.hits > 0
        assert final["user_fills"] == 0 and final["consumed"] == {}
        conn.request("GET", "/products/XBT-USD/trades?limit=100")
        venue_trades = json.loads(conn.getresponse().read())
        assert len(venue_trades) == final["reproduced_trades"]
        assert {Decimal(t["price"]) % TICK for t in venue_trades} == {Decimal(0)}
        assert all(Decimal(t["size"]) > 0 for t in venue_trades)
        conn.request("GET", "/products/BTC-USD/book?level=2")
        assert json.loads(conn.getresponse().read())["bids"] == []  # unmapped: untouched
    finally:
        server.stop()
