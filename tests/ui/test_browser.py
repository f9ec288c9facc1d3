"""The web page in headless Chromium against a real ``sandex serve`` (tests/scenario.toml, no
demo flow: the book holds only what these tests put there). What the page shows is compared
with what REST answers, values for values."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from sandex.cli import ADMIN_TOKEN_VARIABLE
from tests.support.browser_kit import why_no_browser
from tests.support.clients_kit import FEE_TAKER, WRONG_SECRET, make_ccxt
from tests.support.rest_kit import ALICE, BOB, SCENARIO, RawClient, Server, start_server
from tests.ui.conftest import Watched, open_page

if (_no_browser := why_no_browser()) is not None:  # one line in the summary, not one a test
    pytest.skip(_no_browser, allow_module_level=True)

TOKEN = "ui-test-admin-token"
ROWS = 14  # levels a side on the page's ladder


def start_with_token() -> Server:
    os.environ[ADMIN_TOKEN_VARIABLE] = TOKEN
    try:
        return start_server()
    finally:
        del os.environ[ADMIN_TOKEN_VARIABLE]


@pytest.fixture(scope="module")
def venue(browser: Any) -> Iterator[Server]:
    running = start_with_token()
    yield running
    running.stop()


@pytest.fixture
def page(browser: Any, venue: Server, request: pytest.FixtureRequest) -> Iterator[Watched]:
    with open_page(browser, request, venue) as watched:
        yield watched


def ladder(page: Any) -> dict[str, list[list[str]]]:
    """The page's ladder rows, best first: [price, size] as shown."""
    return page.evaluate("""() => Object.fromEntries(["bids", "asks"].map((id) => [id,
        [...document.getElementById(id).children].filter((li) => li.dataset.price)
          .map((li) => [li.dataset.price, li.dataset.size])]))""")


def rest_book(client: RawClient, product: str) -> dict[str, list[list[str]]]:
    book = client.get(f"/products/{product}/book?level=2").json()
    return {side: [[p, s] for p, s, _ in book[side][:ROWS]] for side in ("bids", "asks")}


def eventually(check: Any, timeout: float = 3.0) -> Any:
    """``check()`` until it holds (the feed batches level 2 every 50 ms); its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def sign_in(page: Any, creds: tuple[str, str, str]) -> None:
    page.fill("#key", creds[0])
    page.fill("#secret", creds[1])
    page.fill("#passphrase", creds[2])
    page.click("#signin button[type=submit]")


def usd_hold(client: RawClient) -> Decimal:
    return next(Decimal(a["hold"]) for a in client.get("/accounts").json()
                if a["currency"] == "USD")


def place_from_form(page: Any, **fields: str) -> str:
    """Fill the order form (type, side, price, size, tif, cancel_after), submit, the id."""
    page.select_option("#o-type", fields.get("type", "limit"))
    page.check(f"#order-form input[name=side][value={fields.get('side', 'buy')}]")
    page.fill("#o-price", fields["price"])
    page.fill("#o-size", fields["size"])
    page.select_option("#o-tif", fields.get("tif", "GTC"))
    if "cancel_after" in fields:
        page.select_option("#o-cancel-after", fields["cancel_after"])
    page.click("#o-submit")
    page.wait_for_selector("#order-result[data-order-id]")
    return page.get_attribute("#order-result", "data-order-id")  # type: ignore[no-any-return]


def test_book_on_page_equals_rest_level2_after_updates(page, venue):
    bob = RawClient(venue.port, BOB)
    view = page.page
    view.select_option("#product", "ETH-USD")
    placed = []
    for side, price, size in [("buy", "1500.25", "0.5"), ("buy", "1500.75", "0.25"),
                              ("buy", "1499.10", "1.2"), ("sell", "1600.10", "0.3"),
                              ("sell", "1600.90", "0.7"), ("sell", "1650", "2")]:
        reply = bob.post("/orders", {"product_id": "ETH-USD", "side": side, "price": price,
                                     "size": size})
        assert reply.status == 200, reply.body
        placed.append(reply.json()["id"])
    expected = {"bids": [["1500.75", "0.25"], ["1500.25", "0.5"], ["1499.1", "1.2"]],
                "asks": [["1600.1", "0.3"], ["1600.9", "0.7"], ["1650", "2"]]}
    assert rest_book(bob, "ETH-USD") == expected
    assert eventually(lambda: ladder(view) == expected), ladder(view)
    # updates: a level gone, a level grown, a level partly taken
    assert bob.delete(f"/orders/{placed[2]}").status == 200
    assert bob.post("/orders", {"product_id": "ETH-USD", "side": "buy", "price": "1500.25",
                                "size": "0.125"}).status == 200
    alice = RawClient(venue.port, ALICE)
    assert alice.post("/orders", {"product_id": "ETH-USD", "side": "buy", "type": "market",
                                  "size": "0.1"}).status == 200
    expected = {"bids": [["1500.75", "0.25"], ["1500.25", "0.625"]],
                "asks": [["1600.1", "0.2"], ["1600.9", "0.7"], ["1650", "2"]]}
    assert rest_book(bob, "ETH-USD") == expected
    assert eventually(lambda: ladder(view) == expected), ladder(view)
    assert view.text_content("#spread") == "spread 99.35 (6.408%)"  # of the mid, 1550.425
    # grouped by 1: bids round down, asks up, sizes summed
    view.select_option("#book-tick", "1")
    assert ladder(view) == {"bids": [["1500", "0.87500000"]],
                            "asks": [["1601", "0.90000000"], ["1650", "2.00000000"]]}


def test_ccxt_trade_reaches_tape_and_candle_within_a_second(page, venue):
    bob = RawClient(venue.port, BOB)
    view = page.page
    assert bob.post("/orders", {"product_id": "BTC-USD", "side": "sell", "price": "31000.50",
                                "size": "0.3"}).status == 200
    exchange = make_ccxt(venue, ALICE)
    exchange.create_order("BTC/USD", "market", "buy", 0.1)
    sent = time.monotonic()
    view.wait_for_function("""() => {
        const row = document.querySelector("#tape li");
        const close = document.querySelector("#candle-legend [data-field=C]");
        return row && row.dataset.price === "31000.5" && row.dataset.size === "0.1"
          && close && close.textContent === "31000.5";
      }""", timeout=1000)
    assert time.monotonic() - sent < 1.0
    candle = bob.get("/products/BTC-USD/candles?granularity=60").json()[0]
    legend = view.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        "#candle-legend [data-field]")].map((b) => [b.dataset.field, b.textContent]))""")
    assert legend == {"O": str(candle[3]), "H": str(candle[2]), "L": str(candle[1]),
                      "C": "31000.5", "V": str(candle[5])}
    assert view.get_attribute("#candle-legend", "data-time") == str(candle[0])
    trade = bob.get("/products/BTC-USD/trades?limit=1").json()[0]
    row = view.locator("#tape li").first
    assert row.get_attribute("data-trade-id") == str(trade["trade_id"])
    assert row.get_attribute("class") == "up"  # the maker sold: a buyer lifted the offer
    assert view.text_content("#stat-last") == "31000.5"


def test_form_order_in_open_orders_rest_and_hold_then_cancel_button(page, venue):
    alice = RawClient(venue.port, ALICE)
    view = page.page
    before = usd_hold(alice)
    sign_in(view, ALICE)
    view.wait_for_selector("#account:not([hidden])")
    order_id = place_from_form(view, price="1234.56", size="0.5")
    row = view.locator(f"#orders tr[data-order-id='{order_id}']")
    row.wait_for()
    assert row.locator("[data-field=price]").text_content() == "1234.56"
    assert row.locator("[data-field=size]").text_content() == "0.5"
    order = alice.get(f"/orders/{order_id}").json()
    assert (order["product_id"], order["side"], order["type"], order["price"], order["size"],
            order["time_in_force"], order["status"]) == (
        "BTC-USD", "buy", "limit", "1234.56000000", "0.50000000", "GTC", "open")
    hold = Decimal("1234.56") * Decimal("0.5") * (1 + FEE_TAKER)  # 620.98368
    assert usd_hold(alice) - before == hold == Decimal("620.98368")
    shown = view.locator("#balances tr[data-currency=USD] [data-field=hold]")
    assert eventually(lambda: Decimal(shown.text_content()) == before + hold)
    # a partial fill keeps the order on record once canceled (an unfilled one is purged)
    bob = RawClient(venue.port, BOB)
    assert bob.post("/orders", {"product_id": "BTC-USD", "side": "sell", "price": "1234.56",
                                "size": "0.2"}).status == 200
    row.locator("button.cancel").click()
    row.wait_for(state="detached")
    order = alice.get(f"/orders/{order_id}").json()
    assert (order["status"], order["done_reason"], order["filled_size"]) == (
        "done", "canceled", "0.20000000")
    assert usd_hold(alice) == before
    assert view.locator("#fills tbody tr").first.locator("td").nth(3).text_content() == "1234.56"


def test_stop_order_from_the_form_and_cancel_all(page, venue):
    """A stop-limit placed with the form is on record as REST has it; Cancel all cancels the
    resting limit orders and, as on Coinbase, leaves the untriggered stop (the page agrees)."""
    alice = RawClient(venue.port, ALICE)
    view = page.page
    sign_in(view, ALICE)
    view.wait_for_selector("#account:not([hidden])")
    view.select_option("#product", "ETH-BTC")
    resting = [alice.post("/orders", {"product_id": "ETH-BTC", "side": "buy", "price": price,
                                      "size": "1"}).json()["id"] for price in ("0.01", "0.02")]
    view.select_option("#o-type", "stop-limit")
    view.select_option("#o-stop", "entry")
    view.fill("#o-stop-price", "0.09")
    stop_id = place_from_form(view, type="stop-limit", price="0.095", size="2")
    stop = alice.get(f"/orders/{stop_id}").json()
    assert (stop["product_id"], stop["type"], stop["stop"], stop["stop_price"], stop["price"],
            stop["size"]) == ("ETH-BTC", "limit", "entry", "0.09000000", "0.09500000",
                              "2.00000000")
    rows = view.locator("#orders tbody tr")
    assert eventually(lambda: {rows.nth(i).get_attribute("data-order-id")
                               for i in range(rows.count())} >= {*resting, stop_id})
    view.click("#cancel-all")
    eventually(lambda: rows.count() == 1)
    assert rows.first.get_attribute("data-order-id") == stop_id
    assert "stop entry 0.09" in rows.first.text_content()  # type: ignore[operator]
    left = alice.get("/orders?product_id=ETH-BTC").json()
    assert [o["id"] for o in left] == [stop_id]
    for order_id in resting:
        assert alice.get(f"/orders/{order_id}").status == 404  # canceled unfilled: purged


def test_credentials_stay_in_the_tab_only_when_asked(page, venue):
    view = page.page
    sign_in(view, ALICE)
    view.wait_for_selector("#account:not([hidden])")
    assert view.evaluate("sessionStorage.length + localStorage.length") == 0
    view.reload()
    view.wait_for_selector("body[data-ready=true]")
    assert view.is_hidden("#account")  # kept in memory only: a reload forgets it
    view.check("#remember")
    sign_in(view, ALICE)
    view.wait_for_selector("#account:not([hidden])")
    assert view.evaluate("localStorage.length") == 0
    view.reload()
    view.wait_for_selector("#account:not([hidden])")
    assert view.text_content("#who") == ALICE[0]
    view.click("#signout")
    assert view.evaluate("sessionStorage.length") == 0
    assert view.is_hidden("#account") and view.is_visible("#signin")
    assert view.context.cookies() == []


def test_wrong_secret_shows_invalid_signature(page, venue):
    page.allow(r"status of 401")  # the browser logs the refused request itself
    sign_in(page.page, (ALICE[0], WRONG_SECRET, ALICE[2]))
    page.page.wait_for_function(
        "() => document.getElementById('signin-error').textContent !== ''")
    assert page.page.text_content("#signin-error") == "invalid signature"
    assert page.page.is_hidden("#account")


def test_form_order_error_is_coinbase_text(page, venue):
    page.allow(r"status of 400")
    view = page.page
    sign_in(view, ALICE)
    view.wait_for_selector("#account:not([hidden])")
    view.select_option("#o-type", "limit")
    view.fill("#o-price", "10")
    view.fill("#o-size", "100000000")
    view.click("#o-submit")
    view.wait_for_function("() => document.getElementById('order-error').textContent !== ''")
    assert view.text_content("#order-error") == "Insufficient funds"


def test_snapshot_saved_and_restored_from_the_page(page, venue):
    """Save a snapshot, rest an order, restore from the page: REST no longer knows the order,
    the feed (closed with 1012 by the restore) is back and the ladder has lost the level."""
    view = page.page
    view.select_option("#product", "ETH-USD")
    view.fill("#admin-token", TOKEN)
    view.click("#admin-signin button")
    view.fill("#snapshot-name", "ui-before")
    view.click("#admin button:text('Save')")
    restore = view.locator("#admin tr[data-snapshot=ui-before] button:text('Restore')")
    restore.wait_for()
    bob = RawClient(venue.port, BOB)
    order = bob.post("/orders", {"product_id": "ETH-USD", "side": "buy", "price": "1111.11",
                                 "size": "0.5"}).json()
    assert eventually(lambda: ["1111.11", "0.5"] in ladder(view)["bids"])
    restore.click()
    view.wait_for_function("() => /venue restored/.test("
                           "document.getElementById('feed-status').textContent)")
    view.wait_for_function("() => document.getElementById('feed-status').textContent"
                           " === 'feed: open'")
    assert bob.get(f"/orders/{order['id']}").status == 404
    assert eventually(lambda: ladder(view) == rest_book(bob, "ETH-USD"))
    assert ["1111.11", "0.5"] not in ladder(view)["bids"]


def venue_clock_server(tmp_path: Any) -> Server:
    """A venue frozen at 2024-01-01 that checks signatures against its own clock."""
    scenario = tmp_path / "venue-clock.toml"
    scenario.write_text(SCENARIO.read_text() + '\n[clock]\nmode = "virtual"\n'
                        'start = "2024-01-01T00:00:00Z"\nrate = 0\nauth_window = "venue"\n')
    return start_server(scenario=scenario)


def test_signing_on_the_venue_clock_when_the_venue_checks_it(browser, request, tmp_path):
    """A venue frozen in 2024 that checks signatures against its own clock: the page's first
    signature (browser time) is refused as expired, so it signs on `GET /time` from then on,
    the user feed's subscription too (the order's `done` refreshes the table)."""
    server = venue_clock_server(tmp_path)
    try:
        with open_page(browser, request, server) as watched:
            watched.allow(r"status of 401")  # the first, expired, signature
            view = watched.page
            sign_in(view, ALICE)
            view.wait_for_selector("#account:not([hidden])")
            order_id = place_from_form(view, price="1000", size="0.25")
            row = view.locator(f"#orders tr[data-order-id='{order_id}']")
            row.wait_for()
            assert row.locator("td").nth(8).text_content() == "00:00:00"  # venue time
            bob = RawClient(server.port, BOB)
            bob.clock = lambda: 1704067200.0  # 2024-01-01T00:00:00Z: the frozen venue's now
            assert bob.post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                        "price": "1000", "size": "0.25"}).status == 200
            row.wait_for(state="detached")  # filled: the user feed told the page
            fills = view.locator("#fills tbody tr")
            fills.first.wait_for()
            assert fills.first.locator("td").nth(4).text_content() == "0.25"
    finally:
        server.stop()


def test_a_refusal_that_arrives_after_the_venue_time_was_fetched_is_signed_again(
        browser, request, tmp_path):
    """Sign-in sends three signed requests at once, and a venue on its own clock refuses
    all three as expired. The one whose refusal arrives after another has already fetched
    the venue's time (held back here, so the order is the same on every run) signs again on
    it too, instead of showing `request timestamp expired` (it did once in CI, by chance)."""
    server = venue_clock_server(tmp_path)
    try:
        with open_page(browser, request, server) as watched:
            watched.allow(r"status of 401")  # the first, expired, signatures
            view = watched.page
            held: list[Any] = []
            answered: list[tuple[str, int]] = []
            view.on("response", lambda r: answered.append((r.url.split("/", 3)[3], r.status)))

            def hold_the_first(route: Any) -> None:
                if held:
                    route.continue_()  # its second signing: through
                else:
                    held.append((route, route.fetch()))  # the venue's refusal, kept back

            view.route("**/accounts", hold_the_first)
            sign_in(view, ALICE)
            signed_again = ("orders?status=open&status=pending&status=active", 200)
            for _ in range(200):  # the other two: refused, the venue's time, signed again
                if held and signed_again in answered and any(
                        url.startswith("fills?") and status == 200 for url, status in answered):
                    break
                view.wait_for_timeout(50)
            assert ("time", 200) in answered and signed_again in answered
            route, refusal = held[0]
            assert refusal.status == 401 and "expired" in refusal.text()
            route.fulfill(response=refusal)  # arrives now, with the venue's time known
            view.wait_for_selector("#account:not([hidden])")
            assert answered.count(("accounts", 401)) == 1 and ("accounts", 200) in answered
            assert view.locator("#signin-error").text_content() in ("", None)
    finally:
        server.stop()


def test_desktop_fits_and_keyboard_reaches_every_control(page, venue):
    view = page.page
    for selector in ["#bids", "#asks", "#candles", "#depth", "#signin button", "#tape"]:
        box = view.locator(selector).bounding_box()
        assert box is not None and box["width"] > 100, selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, selector
    assert view.locator("#candles").bounding_box()["y"] < 800 - 200  # type: ignore[index]
    assert view.evaluate("document.scrollingElement.scrollWidth") <= 1280
    reached = set()
    for _ in range(40):
        view.keyboard.press("Tab")
        reached.add(view.evaluate("document.activeElement.id || "
                                  "document.activeElement.dataset.granularity || ''"))
    assert {"product", "book-tick", "60", "86400", "key", "secret", "passphrase", "remember",
            "admin-token"} <= reached
    sign_in(view, ALICE)  # the order form and the private tables fit too
    view.wait_for_selector("#private:not([hidden])")
    assert view.evaluate("document.scrollingElement.scrollWidth") <= 1280
    box = view.locator("#o-submit").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280 and box["y"] < 800


def test_phone_width_is_usable(browser, venue, request):
    with open_page(browser, request, venue, viewport={"width": 390, "height": 844}) as watched:
        view = watched.page
        assert view.evaluate("document.scrollingElement.scrollWidth") <= 390
        for selector in ["#bids", "#candles", "#signin button", "#tape", "#admin-token"]:
            box = view.locator(selector).bounding_box()
            assert box is not None and box["width"] > 50, selector
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
        sign_in(view, ALICE)
        view.wait_for_selector("#private:not([hidden])")
        assert view.evaluate("document.scrollingElement.scrollWidth") <= 390
        box = view.locator("#o-submit").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        view.click("#granularity button[data-granularity='300']")
        assert view.get_attribute("#granularity button[data-granularity='300']",
                                  "aria-pressed") == "true"


def test_frozen_clock_advanced_from_the_page_expires_a_gtt_order(browser, request):
    server = start_with_token()
    try:
        with open_page(browser, request, server) as watched:
            view = watched.page
            view.fill("#admin-token", TOKEN)
            view.click("#admin-signin button")
            view.wait_for_selector("#admin:not([hidden])")
            view.click("text=Freeze")
            view.wait_for_function("() => document.querySelector("
                                   "'#admin [data-field=frozen]')?.textContent === 'true'")
            sign_in(view, ALICE)
            view.wait_for_selector("#account:not([hidden])")
            order_id = place_from_form(view, price="1000", size="0.4", tif="GTT",
                                       cancel_after="min")
            alice = RawClient(server.port, ALICE)
            order = alice.get(f"/orders/{order_id}").json()
            assert (order["time_in_force"], order["status"]) == ("GTT", "open")
            bob = RawClient(server.port, BOB)  # part of it fills: it stays on record
            assert bob.post("/orders", {"product_id": "BTC-USD", "side": "sell",
                                        "price": "1000", "size": "0.1"}).status == 200
            view.fill("#clock-advance", "59s")
            view.click("#admin button:text('Advance')")
            view.wait_for_function("() => /fired/.test(document.querySelector("
                                   "'#admin section').textContent)")
            assert alice.get(f"/orders/{order_id}").json()["status"] == "open"
            view.fill("#clock-advance", "2s")
            view.click("#admin button:text('Advance')")
            view.wait_for_function("() => /expiries.:1/.test(document.querySelector("
                                   "'#admin section').textContent)")
            order = alice.get(f"/orders/{order_id}").json()
            assert (order["status"], order["done_reason"], order["filled_size"]) == (
                "done", "canceled", "0.10000000")
            assert order["done_at"] == order["expire_time"]
            view.locator(f"#orders tr[data-order-id='{order_id}']").wait_for(state="detached")
            clock = alice.get("/time").json()
            shown = view.locator("#admin [data-field=now]")
            assert eventually(lambda: shown.text_content() == clock["iso"])
    finally:
        server.stop()
